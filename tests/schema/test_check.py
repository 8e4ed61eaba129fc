"""Who breaks? A proposed schema judged against a dataset's latest version, with its readers.

The dbt models' events are shaped as dbt-ol (openlineage-dbt 1.x) emits them: a job per
model in the `dbt` namespace with the `jobType` facet (integration DBT), and a
`columnLineage` facet on the model's output. A real `dbt-ol build` runs in
tests/e2e/test_dbt_ol.py; here the events are written out so the check runs in
milliseconds on both stores.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from pyiceberg.schema import Schema as IcebergSchema
from pyiceberg.types import LongType, NestedField, StringType

from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.errors import InvalidInput
from steward.lineage.ingest import ingest, parse_events
from steward.schema.check import check, is_promotion, readers, type_rule
from steward.schema.deprecations import deprecate
from steward.schema.fields import Field, parse_proposed
from steward.schema.history import dataset_id_of, versions
from steward.store.schema import datasets, namespaces
from tests.openlineage_events import FACET, dataset, run_event

NS = "duckdb:///srv/shop.duckdb"
RAW = "shop.main.raw_orders"
DBT_JOB = {
    "jobType": {**FACET, "processingType": "BATCH", "integration": "DBT", "jobType": "MODEL"}
}


def _model(name: str, columns: dict[str, list[tuple[str, str, str]]], owner: str) -> dict[str, Any]:
    out = dataset(NS, f"shop.main.{name}", list(columns), column_lineage=columns)
    out["facets"]["ownership"] = {**FACET, "owners": [{"name": owner, "type": "TEAM"}]}
    return out


def _shop(steward: Steward) -> int:
    """raw_orders (id, customer_id, amount) read by dbt models stg_orders and order_totals;
    a Spark job reads stg_orders.amount into a dashboard's extract."""
    raw = dataset(NS, RAW, ["id", "customer_id", "amount"])
    events = [
        run_event(
            "shop.main.shop.stg_orders.build.run",
            namespace="dbt",
            job_facets=DBT_JOB,
            inputs=[raw],
            outputs=[
                _model(
                    "stg_orders",
                    {"order_id": [(NS, RAW, "id")], "amount": [(NS, RAW, "amount")]},
                    "team:analytics",
                )
            ],
        ),
        run_event(
            "shop.main.shop.order_totals.build.run",
            namespace="dbt",
            job_facets=DBT_JOB,
            inputs=[raw],
            outputs=[
                _model(
                    "order_totals",
                    {"customer_id": [(NS, RAW, "customer_id")], "total": [(NS, RAW, "amount")]},
                    "team:finance",
                )
            ],
        ),
        run_event(
            "revenue_extract",
            namespace="spark",
            inputs=[dataset(NS, "shop.main.stg_orders")],
            outputs=[
                dataset(
                    "s3://bi",
                    "revenue",
                    ["revenue"],
                    column_lineage={"revenue": [(NS, "shop.main.stg_orders", "amount")]},
                )
            ],
        ),
    ]
    ingest(steward.store, parse_events(events, batch=True))
    with steward.store.read() as conn:
        return dataset_id_of(conn, f"{NS}/{RAW}")


PROPOSED_WITHOUT_AMOUNT = [
    {"name": "id", "type": "VARCHAR"},
    {"name": "customer_id", "type": "VARCHAR"},
]


def test_dropping_a_column_read_by_two_dbt_models_names_both_and_their_columns(
    steward: Steward,
) -> None:
    raw = _shop(steward)
    with steward.store.write() as conn:
        result = check(conn, raw, parse_proposed(PROPOSED_WITHOUT_AMOUNT))
    [finding] = result.breaking
    assert finding.rule == "no-drop"
    assert finding.change.path == "amount"
    direct = {(r.kind, r.dataset, r.column, r.owners) for r in finding.readers if r.depth == 1}
    assert direct == {
        ("dbt_model", f"{NS}/shop.main.stg_orders", "amount", ("team:analytics",)),
        ("dbt_model", f"{NS}/shop.main.order_totals", "total", ("team:finance",)),
    }
    # And what reads those columns in turn.
    assert {(r.dataset, r.column, r.job, r.depth) for r in finding.readers if r.depth == 2} == {
        ("s3://bi/revenue", "revenue", "spark/revenue_extract", 2)
    }
    assert "shop.main.stg_orders" in finding.message
    assert "shop.main.order_totals" in finding.message


def test_a_promotion_and_an_added_column_are_safe(steward: Steward) -> None:
    raw = _shop(steward)
    proposed = [
        {"name": "id", "type": "VARCHAR"},
        {"name": "customer_id", "type": "VARCHAR"},
        {"name": "amount", "type": "VARCHAR"},
        {"name": "currency", "type": "VARCHAR"},
    ]
    with steward.store.write() as conn:
        result = check(conn, raw, parse_proposed(proposed))
    assert result.breaking == []
    assert [f.change.path for f in result.findings] == ["currency"]


def test_type_rules_follow_iceberg_promotions() -> None:
    assert is_promotion("int", "long")
    assert is_promotion("INTEGER", "BIGINT")
    assert is_promotion("decimal(9, 2)", "decimal(12, 2)")
    assert not is_promotion("decimal(9, 2)", "decimal(12, 3)")
    assert not is_promotion("long", "int")
    assert not is_promotion("string", "int")


def test_a_column_nobody_reads_breaks_with_no_known_reader(steward: Steward) -> None:
    raw = _shop(steward)
    with steward.store.read() as conn:
        assert readers(conn, raw, "nothing") == []
    with steward.store.write() as conn:
        result = check(conn, raw, parse_proposed([{"name": "id", "type": "VARCHAR"}]))
    messages = sorted(f.message for f in result.breaking)
    assert messages[0].startswith("dropped amount")
    assert messages[1] == "dropped customer_id (VARCHAR): breaks no-drop; read by " + (
        f"{NS}/shop.main.order_totals"
    )


def test_a_deprecated_column_may_go_after_its_sunset_and_not_before(steward: Steward) -> None:
    raw = _shop(steward)
    with steward.store.write() as conn:
        deprecate(
            conn, raw, "amount", sunset=date(2030, 1, 1), replacement="amount_eur", author="ann"
        )
        before = check(conn, raw, parse_proposed(PROPOSED_WITHOUT_AMOUNT), today=date(2029, 12, 31))
        after = check(conn, raw, parse_proposed(PROPOSED_WITHOUT_AMOUNT), today=date(2030, 1, 1))
    [refused] = before.breaking
    assert "sunset is 2030-01-01" in refused.message
    assert "shop.main.stg_orders" in refused.message
    assert after.breaking == []
    [allowed] = after.findings
    assert allowed.message.startswith("dropped amount (VARCHAR): allowed, deprecated with sunset")
    assert "shop.main.order_totals" in allowed.message


@pytest.mark.parametrize(
    ("proposed", "dbt", "expected"),
    [
        (
            {
                "type": "struct",
                "schema-id": 1,
                "fields": [
                    {"id": 1, "name": "id", "required": True, "type": "long"},
                    {
                        "id": 2,
                        "name": "address",
                        "required": False,
                        "type": {
                            "type": "struct",
                            "fields": [
                                {"id": 3, "name": "city", "required": False, "type": "string"}
                            ],
                        },
                    },
                ],
            },
            False,
            Field(
                "address",
                "struct<city: string>",
                2,
                False,
                fields=(Field("city", "string", 3, False),),
            ),
        ),
        (
            {
                "type": "record",
                "name": "orders",
                "fields": [
                    {"name": "id", "type": "long"},
                    {"name": "address", "type": ["null", "string"], "default": None},
                ],
            },
            False,
            Field("address", "string", None, False, "null"),
        ),
        (
            {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "address": {"type": "string"}},
                "required": ["id", "address"],
            },
            False,
            Field("address", "string", None, True),
        ),
        (
            {
                "models": [
                    {
                        "name": "orders",
                        "config": {"contract": {"enforced": True}},
                        "columns": [
                            {"name": "id", "data_type": "bigint"},
                            {
                                "name": "address",
                                "data_type": "varchar",
                                "constraints": [{"type": "not_null"}],
                            },
                        ],
                    }
                ]
            },
            True,
            Field("address", "varchar", None, True),
        ),
    ],
    ids=["iceberg", "avro", "json-schema", "dbt-contract"],
)
def test_each_proposed_format_reads_as_fields(proposed: Any, dbt: bool, expected: Field) -> None:
    fields = parse_proposed(proposed, dbt_contract=dbt)
    assert [f.name for f in fields] == ["id", "address"]
    assert fields[1] == expected


def test_a_proposed_schema_of_no_known_format_is_refused() -> None:
    with pytest.raises(InvalidInput, match="not a schema"):
        parse_proposed({"columns": "nope"})
    with pytest.raises(InvalidInput, match=r"fields\[0\].id"):
        parse_proposed({"type": "struct", "fields": [{"name": "a", "type": "int"}]})


def test_iceberg_type_changes_are_judged_by_the_iceberg_rules() -> None:
    assert type_rule("int", "long") is None
    assert type_rule("long", "int") == "iceberg.type-narrowing"
    assert type_rule("string", "binary") == "iceberg.type-change-not-allowed"
    assert type_rule("date", "timestamp", format_version=2) == "iceberg.type-change-not-allowed"
    assert type_rule("date", "timestamp", format_version=3) is None
    # SQL names, as OpenLineage producers report them, by the promotion table.
    assert type_rule("INTEGER", "BIGINT") is None
    assert type_rule("BIGINT", "INTEGER") == "promotion-only"


def test_events_cannot_move_the_baseline_of_a_dataset_a_source_states(steward: Steward) -> None:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("sales")
    catalog.create_table(
        "sales.orders",
        IcebergSchema(NestedField(1, "id", LongType()), NestedField(2, "email", StringType())),
    )
    catalog.close()
    sync(steward.store, steward.source("lake"))
    with steward.store.read() as conn:
        orders = dataset_id_of(conn, "lake.sales.orders")
        namespace, name = conn.execute(
            sa.select(namespaces.c.name, datasets.c.name)
            .join(datasets, datasets.c.namespace_id == namespaces.c.id)
            .where(datasets.c.id == orders)
        ).one()
    # A producer reports the table without `email`: history keeps it, labelled.
    event = run_event("rogue", outputs=[dataset(namespace, name, ["id"])])
    ingest(steward.store, parse_events([event], batch=False))
    with steward.store.write() as conn:
        result = check(conn, orders, parse_proposed([{"name": "id", "type": "long"}]))
        origins = {v.version: v.origin for v in versions(conn, orders)}
    assert sorted(origins.values()) == ["catalog", "openlineage"]
    assert origins[result.against_version] == "catalog"
    assert [(f.change.path, f.rule) for f in result.breaking] == [("email", "no-drop")]
