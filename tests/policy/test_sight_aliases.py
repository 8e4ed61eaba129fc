"""A dataset outside the catalog that is another name of a catalog table (Spark's storage
location, linked by a `symlinks` facet) is seen as that table: column lineage through it
goes on for a caller who may see the table, and stops for one who may not."""

from __future__ import annotations

from typing import Any

from steward.app import Steward
from steward.catalog.views import resolve_dataset
from steward.identity.models import Principal
from steward.lineage.graph import column_lineage_graph
from steward.lineage.ingest import ingest, parse_events
from steward.lineage.nodes import FieldNode, Node, dataset_names
from steward.policy.sight import sight_for
from steward.policy.versions import apply
from tests.openlineage_events import dataset, run_event

ADMIN = Principal(user="admin", is_admin=True)
ANALYST = Principal(user="ann", groups=frozenset({"analysts"}))

# Analysts may read orders; customers only when `customers_too`, and never its salary.
POLICY = """\
roles:
  analyst: {{groups: [analysts]}}
grants:
  - roles: [analyst]
    select: [{tables}]
deny:
  - roles: [analyst]
    columns: ["lake.crm.customers.salary"]
"""


def _identity(steward: Steward, table: str) -> tuple[int, str, str]:
    with steward.store.read() as conn:
        dataset_id = resolve_dataset(conn, table)
        names = dataset_names(conn, [dataset_id])[dataset_id]
    return dataset_id, names["namespace"], names["name"]


def _location(path: str, table: tuple[int, str, str], fields: list[str], **kw: Any) -> Any:
    """A dataset as Spark names it: by location, with a TABLE symlink to the catalog's name."""
    symlinks = {"identifiers": [{"namespace": table[1], "name": table[2], "type": "TABLE"}]}
    return dataset("s3://warehouse", path, fields, symlinks=symlinks, **kw)


def _spark_copies_customers_into_orders(lake: Steward) -> None:
    """Spark reads customers and writes orders, both by location: order_id <- customers.id,
    amount <- customers.salary."""
    customers = _identity(lake, "lake.crm.customers")
    orders = _identity(lake, "lake.crm.orders")
    source = ("s3://warehouse", "/crm/customers")
    event = run_event(
        "copy_customers",
        namespace="spark",
        inputs=[_location(source[1], customers, ["id", "salary"])],
        outputs=[
            _location(
                "/crm/orders",
                orders,
                ["order_id", "amount"],
                column_lineage={
                    "order_id": [(*source, "id")],
                    "amount": [(*source, "salary")],
                },
            )
        ],
    )
    ingest(lake.store, parse_events([event], batch=False), actor=ADMIN)


def _upstream_fields(lake: Steward, principal: Principal, field: str) -> set[str]:
    """The fields the caller sees upstream of `lake.crm.orders.<field>`."""
    orders_id, namespace, name = _identity(lake, "lake.crm.orders")
    start = FieldNode(Node("dataset", orders_id, namespace, name), field)
    sight = sight_for(lake.store, principal)
    with lake.store.read() as conn:
        graph = column_lineage_graph(conn, start, depth=None, direction="upstream", sight=sight)
    return {f"{n['data']['dataset']}:{n['data']['field']}" for n in graph["graph"]}


def test_column_lineage_goes_through_another_name_of_a_table_the_analyst_may_see(
    lake: Steward,
) -> None:
    apply(lake.store, POLICY.format(tables='"lake.crm.*"'), actor=ADMIN)
    _spark_copies_customers_into_orders(lake)
    orders = _identity(lake, "lake.crm.orders")[2]
    expected = {f"{orders}:order_id", "/crm/customers:id"}
    assert _upstream_fields(lake, ADMIN, "order_id") == expected
    assert _upstream_fields(lake, ANALYST, "order_id") == expected
    # The column denied on the catalog table is denied under its other name too.
    assert _upstream_fields(lake, ADMIN, "amount") == {f"{orders}:amount", "/crm/customers:salary"}
    assert _upstream_fields(lake, ANALYST, "amount") == {f"{orders}:amount"}


def test_another_name_of_a_table_the_analyst_may_not_see_stays_hidden(lake: Steward) -> None:
    apply(lake.store, POLICY.format(tables='"lake.crm.orders"'), actor=ADMIN)
    _spark_copies_customers_into_orders(lake)
    orders = _identity(lake, "lake.crm.orders")[2]
    assert _upstream_fields(lake, ANALYST, "order_id") == {f"{orders}:order_id"}
    customers_location = _dataset_id(lake, "s3://warehouse", "/crm/customers")
    with lake.store.read() as conn:
        sight = sight_for(lake.store, ANALYST)
        assert sight is not None
        assert sight.withheld(conn, [customers_location]) == {customers_location: None}


def test_a_name_outside_the_catalog_with_no_other_name_stays_hidden(lake: Steward) -> None:
    apply(lake.store, POLICY.format(tables='"*"'), actor=ADMIN)
    event = run_event("scratch", namespace="spark", outputs=[dataset("s3://tmp", "/x", ["a"])])
    ingest(lake.store, parse_events([event], batch=False), actor=ADMIN)
    scratch = _dataset_id(lake, "s3://tmp", "/x")
    sight = sight_for(lake.store, ANALYST)
    assert sight is not None
    with lake.store.read() as conn:
        assert sight.withheld(conn, [scratch]) == {scratch: None}


def _dataset_id(lake: Steward, namespace: str, name: str) -> int:
    with lake.store.read() as conn:
        return resolve_dataset(conn, f"dataset:{namespace}:{name}")
