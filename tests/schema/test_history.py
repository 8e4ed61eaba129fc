"""Schema history: versions from OpenLineage schema facets and catalog syncs, and diffs."""

from __future__ import annotations

from typing import Any

import pytest
from pyiceberg.schema import Schema as IcebergSchema
from pyiceberg.types import LongType, NestedField, StringType

from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.errors import NotFound
from steward.lineage.ingest import ingest, parse_events
from steward.schema.diff import ChangeKind
from steward.schema.history import capture, dataset_id_of, diff_versions, history
from tests.openlineage_events import FACET, run_event

NS = "postgres://db:5432"


def _orders(fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "namespace": NS,
        "name": "shop.public.orders",
        "facets": {"schema": {**FACET, "fields": fields}},
    }


def _send(steward: Steward, *events: dict[str, Any]) -> None:
    ingest(steward.store, parse_events(list(events), batch=True))


ADDRESS_V1 = {
    "name": "address",
    "type": "STRUCT",
    "fields": [{"name": "city", "type": "VARCHAR"}],
}
ADDRESS_V2 = {
    "name": "address",
    "type": "STRUCT",
    "fields": [{"name": "city", "type": "VARCHAR"}, {"name": "zip", "type": "VARCHAR"}],
}


def _history(steward: Steward, ref: str) -> list[Any]:
    with steward.store.write() as conn:
        dataset_id = dataset_id_of(conn, ref)
        capture(conn, [dataset_id])
        return history(conn, dataset_id)


def test_each_schema_a_run_writes_is_a_version_with_nested_fields(steward: Steward) -> None:
    v1 = [{"name": "id", "type": "INTEGER"}, {"name": "total", "type": "INTEGER"}, ADDRESS_V1]
    v2 = [ADDRESS_V2, {"name": "id", "type": "BIGINT"}, {"name": "placed_at", "type": "DATE"}]
    _send(
        steward,
        run_event("load_orders", outputs=[_orders(v1)], event_time="2024-05-01T10:00:00Z"),
        run_event("load_orders", outputs=[_orders(v1)], event_time="2024-05-02T10:00:00Z"),
        run_event("load_orders", outputs=[_orders(v2)], event_time="2024-05-03T10:00:00Z"),
    )
    entries = _history(steward, f"{NS}/shop.public.orders")
    assert [(e.version.version, e.version.origin) for e in entries] == [
        (1, "openlineage"),
        (2, "openlineage"),
    ]
    first = entries[0].version.fields
    assert [f.name for f in first] == ["id", "total", "address"]
    assert [f.name for f in first[2].fields] == ["city"]
    assert entries[0].changes is None
    changes = {(c.kind, c.path) for c in entries[1].changes or []}
    assert changes == {
        (ChangeKind.DROPPED, "total"),
        (ChangeKind.ADDED, "placed_at"),
        (ChangeKind.ADDED, "address.zip"),
        (ChangeKind.REORDERED, "address"),
        (ChangeKind.REORDERED, "id"),
        (ChangeKind.TYPE_CHANGED, "id"),
    }
    # Reading again records nothing new.
    assert len(_history(steward, f"{NS}/shop.public.orders")) == 2


def test_diff_names_two_versions_and_refuses_a_missing_one(steward: Steward) -> None:
    _send(
        steward,
        run_event("j", outputs=[_orders([{"name": "a", "type": "INT"}])]),
        run_event(
            "j",
            outputs=[_orders([{"name": "a", "type": "BIGINT"}])],
            event_time="2024-05-02T10:00:00Z",
        ),
    )
    with steward.store.write() as conn:
        dataset_id = dataset_id_of(conn, f"{NS}/shop.public.orders")
        capture(conn)
        changes = diff_versions(conn, dataset_id, 1, 2)
        assert [c.describe() for c in changes] == ["type_changed a: INT -> BIGINT"]
        assert diff_versions(conn, dataset_id, 2, 1)[0].new == "INT"
        with pytest.raises(NotFound, match="no schema version 3"):
            diff_versions(conn, dataset_id, 1, 3)


def test_an_iceberg_rename_between_syncs_is_a_rename_by_field_id(steward: Steward) -> None:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("sales")
    table = catalog.create_table(
        "sales.orders",
        IcebergSchema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(2, "email", StringType()),
        ),
    )
    sync(steward.store, steward.source("lake"))
    assert len(_history(steward, "lake.sales.orders")) == 1
    with table.update_schema() as update:
        update.rename_column("email", "contact_email")
        update.add_column("note", StringType())
    catalog.close()
    sync(steward.store, steward.source("lake"))
    entries = _history(steward, "lake.sales.orders")
    # The sync's own DatasetEvents are not a second origin of the same versions.
    assert [(e.version.version, e.version.origin) for e in entries] == [
        (1, "catalog"),
        (2, "catalog"),
    ]
    assert [(f.name, f.field_id) for f in entries[1].version.fields] == [
        ("id", 1),
        ("contact_email", 2),
        ("note", 3),
    ]
    assert [c.describe() for c in entries[1].changes or []] == [
        "added note (string)",
        "renamed contact_email: email -> contact_email",
    ]


def test_an_unknown_dataset_is_not_found(steward: Steward) -> None:
    with steward.store.read() as conn, pytest.raises(NotFound):
        dataset_id_of(conn, "lake.nowhere")


def test_an_iceberg_sync_records_nested_fields_nullability_and_defaults(steward: Steward) -> None:
    from pyiceberg.types import StructType

    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    table = catalog.create_table(
        "crm.people",
        IcebergSchema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(
                2, "address", StructType(NestedField(3, "city", StringType(), required=False))
            ),
        ),
    )
    sync(steward.store, steward.source("lake"))
    first = _history(steward, "lake.crm.people")[0].version.fields
    assert [(f.name, f.required) for f in first] == [("id", True), ("address", False)]
    assert [(f.name, f.field_id) for f in first[1].fields] == [("city", 3)]
    with table.update_schema() as update:
        update.add_column(("address", "zip"), StringType())
        update.make_column_optional("id")
    catalog.close()
    sync(steward.store, steward.source("lake"))
    changes = _history(steward, "lake.crm.people")[-1].changes or []
    described = sorted(c.describe() for c in changes)
    assert any(c.kind == ChangeKind.ADDED and c.path == "address.zip" for c in changes), described
    assert any(c.kind == ChangeKind.NULLABILITY_CHANGED and c.path == "id" for c in changes), (
        described
    )
