"""`catalog sync` over the embedded Iceberg lake: discovery, versions, deletes, human edits."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.app import Steward
from steward.catalog.edits import DatasetEdit, edit_dataset
from steward.catalog.sync import sync
from steward.catalog.views import dataset_page, resolve_dataset, schema_versions
from steward.connectors.iceberg import lake_catalog
from steward.identity.models import Principal
from steward.lineage.views import dataset_fields_by_version

ADMIN = Principal(user="root", is_admin=True)


def page(steward: Steward, ref: str) -> dict[str, Any]:
    with steward.store.read() as conn:
        return dataset_page(conn, ref)


@pytest.fixture
def lake(steward: Steward) -> Any:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("sales")
    orders = catalog.create_table(
        "sales.orders",
        Schema(
            NestedField(1, "id", LongType(), required=True, doc="Order number"),
            NestedField(2, "email", StringType(), doc="Who ordered"),
        ),
        properties={"comment": "Every order placed", "owner": "ann"},
    )
    orders.append(
        pa.table(
            {"id": pa.array([1, 2], pa.int64()), "email": ["a@example.com", "b@example.org"]},
            schema=orders.schema().as_arrow(),
        )
    )
    catalog.create_table("sales.returns", Schema(NestedField(1, "order_id", LongType())))
    return catalog


def test_first_sync_discovers_tables_columns_descriptions_and_owners(
    steward: Steward, lake: Any
) -> None:
    result = sync(steward.store, steward.source("lake"))
    assert (result.listed, result.added, result.unchanged) == (2, 2, 0)
    orders = page(steward, "lake.sales.orders")
    assert orders["kind"] == "table"
    assert orders["description"] == {"text": "Every order placed", "origin": "source"}
    assert [(c["name"], c["type"]) for c in orders["columns"]] == [
        ("id", "long"),
        ("email", "string"),
    ]
    assert orders["columns"][0]["description"]["text"] == "Order number"
    assert [(o["name"], o["origin"]) for o in orders["owners"]] == [("ann", "source")]
    assert orders["schemaVersions"] == 1
    assert orders["deleted"] is False


def test_an_unchanged_lake_resyncs_without_loading_or_new_versions(
    steward: Steward, lake: Any
) -> None:
    sync(steward.store, steward.source("lake"))
    again = sync(steward.store, steward.source("lake"))
    assert (again.unchanged, again.added, again.changed, again.deleted) == (2, 0, 0, 0)
    assert page(steward, "lake.sales.orders")["schemaVersions"] == 1


def test_rename_add_and_drop_give_schema_versions_and_a_deleted_mark(
    steward: Steward, lake: Any
) -> None:
    sync(steward.store, steward.source("lake"))
    orders = lake.load_table("sales.orders")
    with orders.update_schema() as update:
        update.rename_column("email", "customer_email")
        update.add_column("amount", LongType())
    lake.drop_table("sales.returns")

    result = sync(steward.store, steward.source("lake"))
    assert (result.changed, result.deleted, result.unchanged) == (1, 1, 0)
    now = page(steward, "lake.sales.orders")
    assert [c["name"] for c in now["columns"]] == ["id", "customer_email", "amount"]
    assert now["schemaVersions"] == 2
    assert now["schemaVersion"]["version"] == 2
    returns = page(steward, "lake.sales.returns")
    assert returns["deleted"] is True
    # History stays: the dropped table keeps its schema, and the first version is still there.
    assert [c["name"] for c in returns["columns"]] == ["order_id"]
    with steward.store.read() as conn:
        versions = schema_versions(conn, resolve_dataset(conn, "lake.sales.orders"))
        first = versions[0]["id"]
        fields = dataset_fields_by_version(conn, [first])[first]
    assert [f["name"] for f in fields] == ["id", "email"]


def test_a_table_that_comes_back_is_live_again(steward: Steward, lake: Any) -> None:
    sync(steward.store, steward.source("lake"))
    lake.drop_table("sales.returns")
    sync(steward.store, steward.source("lake"))
    lake.create_table("sales.returns", Schema(NestedField(1, "order_id", LongType())))
    result = sync(steward.store, steward.source("lake"))
    assert result.changed == 1
    assert page(steward, "lake.sales.returns")["deleted"] is False


def test_a_human_description_survives_a_resync_and_keeps_its_origin(
    steward: Steward, lake: Any
) -> None:
    sync(steward.store, steward.source("lake"))
    edit = DatasetEdit(
        description="Orders, **one row per order**.",
        columns={"email": {"description": "The buyer's address"}},  # type: ignore[dict-item]
    )
    edit_dataset(steward.store, "lake.sales.orders", edit, Principal(user="bo", is_admin=True))
    orders = lake.load_table("sales.orders")
    with orders.transaction() as tx:
        tx.set_properties(comment="Changed at the source")
    with orders.update_schema() as update:
        update.add_column("note", StringType())

    assert sync(steward.store, steward.source("lake")).changed == 1
    now = page(steward, "lake.sales.orders")
    assert now["description"]["text"] == "Orders, **one row per order**."
    assert now["description"]["origin"] == "human"
    assert now["description"]["author"] == "bo"
    email = next(c for c in now["columns"] if c["name"] == "email")
    assert email["description"] == {
        "text": "The buyer's address",
        "origin": "human",
        "author": "bo",
        "updatedAt": email["description"]["updatedAt"],
    }
    assert [c["name"] for c in now["columns"]][-1] == "note"
    # Removing the human description shows the source's again.
    edit_dataset(steward.store, "lake.sales.orders", DatasetEdit(description=""), ADMIN)
    assert page(steward, "lake.sales.orders")["description"] == {
        "text": "Changed at the source",
        "origin": "source",
    }


def test_an_openlineage_event_naming_the_table_is_the_same_dataset(
    steward: Steward, lake: Any, client: Any
) -> None:
    from tests.openlineage_events import dataset, run_event

    sync(steward.store, steward.source("lake"))
    orders = page(steward, "lake.sales.orders")
    # Spark's integration names an Iceberg table by its location: namespace + path.
    event = run_event(
        "load_orders",
        namespace="spark",
        outputs=[dataset(orders["namespace"], orders["datasetName"])],
    )
    assert client.post("/api/v1/lineage", json=event).status_code == 201
    with_job = page(steward, "lake.sales.orders")
    assert with_job["nodeId"] == orders["nodeId"]
    with steward.store.read() as conn:
        from steward.lineage.queries import list_datasets

        names = [
            d["name"] for d in list_datasets(conn, namespace=None, limit=100, offset=0)["datasets"]
        ]
    assert names.count(orders["datasetName"]) == 1
