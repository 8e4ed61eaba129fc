"""Who states a dataset's columns, owners and tags, and which column a value binds to."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.app import Steward
from steward.catalog.authority import ColumnIdentity, Label, labels_on
from steward.catalog.edits import ColumnEdit, DatasetEdit, OwnerSpec, can_edit, edit_dataset
from steward.catalog.sync import sync
from steward.catalog.views import dataset_page
from steward.connectors.iceberg import lake_catalog
from steward.errors import Forbidden
from steward.identity.models import Principal
from steward.lineage.ingest import ingest, parse_events
from steward.store.schema import catalog_annotations, catalog_entries, catalog_entry_sources

ADMIN = Principal(user="root", is_admin=True)
EMAIL = ColumnIdentity("email", 2)


def test_a_value_binds_by_field_id_where_both_have_one() -> None:
    assert ColumnIdentity("email", 2).binds(ColumnIdentity("contact", 2))
    assert not ColumnIdentity("email", 2).binds(ColumnIdentity("email", 7))


def test_a_value_binds_by_name_case_insensitively_otherwise() -> None:
    assert ColumnIdentity("EMAIL").binds(EMAIL)
    assert ColumnIdentity("email", 9).binds(ColumnIdentity("Email"))
    assert not ColumnIdentity("e_mail").binds(EMAIL)


def test_a_dataset_value_never_binds_to_a_column() -> None:
    assert not ColumnIdentity("").binds(EMAIL)
    assert ColumnIdentity("").binds(ColumnIdentity(""))


def test_a_human_rejection_keeps_a_tag_off_whoever_states_it() -> None:
    labels = [
        Label(ColumnIdentity("EMAIL"), "pii.email", "lineage"),
        Label(ColumnIdentity("email", 2), "pii.email", "classifier", "proposed"),
        Label(ColumnIdentity("Email"), "pii.email", "human", "rejected", author="ann"),
        Label(ColumnIdentity("email"), "gold", "source"),
    ]
    assert labels_on(EMAIL, labels) == [{"tag": "gold", "origin": "source", "status": "active"}]


def test_the_highest_ranked_origin_shows_a_tag() -> None:
    labels = [
        Label(ColumnIdentity("email"), "pii.email", "lineage"),
        Label(ColumnIdentity("email"), "pii.email", "source"),
        Label(ColumnIdentity("EMAIL", 2), "pii.email", "human", author="ann"),
    ]
    assert labels_on(EMAIL, labels) == [
        {"tag": "pii.email", "origin": "human", "status": "active", "author": "ann"}
    ]


def _page(steward: Steward, ref: str) -> dict[str, Any]:
    with steward.store.read() as conn:
        return dataset_page(conn, ref)


@pytest.fixture
def lake(steward: Steward) -> Steward:
    """`lake.sales.orders` (owner ann) synced from the embedded Iceberg lake."""
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("sales")
    catalog.create_table(
        "sales.orders",
        Schema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(2, "email", StringType(), doc="Who ordered"),
        ),
        properties={"owner": "ann"},
    )
    catalog.close()
    sync(steward.store, steward.source("lake"))
    return steward


def _post(steward: Steward, dataset: dict[str, Any], facets: dict[str, Any]) -> None:
    event = {
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": "https://example.com/test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": {
            "namespace": dataset["namespace"],
            "name": dataset["datasetName"],
            "facets": facets,
        },
    }
    ingest(steward.store, parse_events([event], batch=False))


def test_sync_records_field_ids_and_the_source_owner(lake: Steward) -> None:
    page = _page(lake, "lake.sales.orders")
    assert [(c["name"], c["fieldId"]) for c in page["columns"]] == [("id", 1), ("email", 2)]
    assert [(o["name"], o["origin"]) for o in page["owners"]] == [("ann", "source")]


def test_events_add_descriptions_only_where_none_is_given(lake: Steward) -> None:
    page = _page(lake, "lake.sales.orders")
    fields = [
        {"name": "ID", "type": "string", "description": "the key"},
        {"name": "EMAIL", "type": "string", "description": "overwritten?"},
    ]
    _post(lake, page, {"schema": {"fields": fields}})
    columns = {c["name"]: c for c in _page(lake, "lake.sales.orders")["columns"]}
    assert columns["id"]["type"] == "long"
    assert columns["id"]["description"] == {"text": "the key", "origin": "lineage"}
    assert columns["email"]["description"] == {"text": "Who ordered", "origin": "source"}


def test_a_human_edit_naming_another_case_binds_to_the_column(lake: Steward) -> None:
    edit = DatasetEdit(columns={"EMAIL": ColumnEdit(addTags=["pii.email"], description="x")})
    edit_dataset(lake.store, "lake.sales.orders", edit, ADMIN)
    email = _page(lake, "lake.sales.orders")["columns"][1]
    assert [t["tag"] for t in email["tags"]] == ["pii.email"]
    assert email["description"]["origin"] == "human"
    removal = DatasetEdit(columns={"Email": ColumnEdit(removeTags=["pii.email"])})
    edit_dataset(lake.store, "lake.sales.orders", removal, ADMIN)
    assert _page(lake, "lake.sales.orders")["columns"][1]["tags"] == []


def test_a_removed_source_owner_stays_off_after_the_next_sync(lake: Steward) -> None:
    edit = DatasetEdit(removeOwners=[OwnerSpec(name="ann")], addOwners=[OwnerSpec(name="bo")])
    edit_dataset(lake.store, "lake.sales.orders", edit, ADMIN)
    with lake.store.write() as conn:
        conn.execute(catalog_entry_sources.update().values(fingerprint=None))
    sync(lake.store, lake.source("lake"))
    owners = _page(lake, "lake.sales.orders")["owners"]
    assert [(o["name"], o["origin"]) for o in owners] == [("bo", "human")]


def test_an_entry_synced_before_0008_reads_from_lineage_without_edit_powers(
    lake: Steward,
) -> None:
    with lake.store.write() as conn:  # as a sync before migration 0008 left it
        conn.execute(catalog_entries.update().values(stated=sa.null()))
        conn.execute(catalog_entry_sources.update().values(stated=sa.null()))
        conn.execute(catalog_annotations.delete().where(catalog_annotations.c.attribute == "owner"))
    page = _page(lake, "lake.sales.orders")
    assert [c["name"] for c in page["columns"]] == ["id", "email"]
    assert [(o["name"], o["origin"]) for o in page["owners"]] == [("ann", "lineage")]
    assert not can_edit(page, Principal(user="ann"))
    with pytest.raises(Forbidden):
        edit_dataset(lake.store, "lake.sales.orders", DatasetEdit(), Principal(user="ann"))
    # The next sync records what the source states again.
    with lake.store.write() as conn:
        conn.execute(catalog_entry_sources.update().values(fingerprint=None))
    sync(lake.store, lake.source("lake"))
    assert can_edit(_page(lake, "lake.sales.orders"), Principal(user="ann"))
