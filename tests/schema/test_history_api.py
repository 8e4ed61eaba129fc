"""`/api/v1/schema/...`: history, diff, check and deprecations over HTTP, as the policy lets see."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pyiceberg.schema import Schema
from pyiceberg.types import DoubleType, LongType, NestedField, StringType

from steward.api import create_app
from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.identity.tokens import create_token
from steward.lineage.ingest import ingest, parse_events
from steward.policy.versions import apply
from steward.store.schema import catalog_entries, datasets, namespaces
from tests.openlineage_events import dataset, run_event


def as_user(steward: Steward, user: str, groups: tuple[str, ...] = ()) -> TestClient:
    token = create_token(steward.store, user=user, groups=list(groups)).secret
    http = TestClient(create_app(steward), raise_server_exceptions=True)
    http.headers["Authorization"] = f"Bearer {token}"
    return http


@pytest.fixture
def evolved(steward: Steward, client: TestClient) -> None:
    """`lake.crm.customers` synced twice through the API: `email` renamed, `salary` retyped."""
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    table = catalog.create_table(
        "crm.customers",
        Schema(
            NestedField(1, "id", LongType(), required=True),
            NestedField(2, "email", StringType()),
            NestedField(3, "salary", StringType()),
        ),
    )
    assert client.post("/api/v1/sources/lake/sync").status_code == 200
    with table.update_schema() as update:
        update.rename_column("email", "contact_email")
        update.delete_column("salary")
        update.add_column("salary", DoubleType())
    catalog.close()
    assert client.post("/api/v1/sources/lake/sync").status_code == 200


def test_history_and_diff_through_the_api(client: TestClient, evolved: None) -> None:
    answer = client.get("/api/v1/schema/history", params={"dataset": "lake.crm.customers"})
    assert answer.status_code == 200, answer.text
    versions = answer.json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert [f["name"] for f in versions[1]["fields"]] == ["id", "contact_email", "salary"]
    diff = client.get(
        "/api/v1/schema/diff", params={"dataset": "lake.crm.customers", "v1": 1, "v2": -1}
    ).json()["changes"]
    assert {(c["kind"], c["path"]) for c in diff} == {
        ("renamed", "contact_email"),
        ("dropped", "salary"),
        ("added", "salary"),
    }
    missing = client.get(
        "/api/v1/schema/diff", params={"dataset": "lake.crm.customers", "v1": 1, "v2": 9}
    )
    assert missing.status_code == 404


def test_check_and_deprecations_through_the_api(client: TestClient, evolved: None) -> None:
    proposed: dict[str, Any] = {
        "proposed": {
            "type": "struct",
            "fields": [
                {"id": 1, "name": "id", "required": True, "type": "long"},
                {"id": 4, "name": "salary", "required": False, "type": "double"},
            ],
        }
    }
    url = "/api/v1/schema/check?dataset=lake.crm.customers"
    judged = client.post(url, json=proposed).json()
    assert judged["breaking"] is True
    assert [(c["path"], c["rule"]) for c in judged["changes"]] == [("contact_email", "no-drop")]
    made = client.post(
        "/api/v1/schema/deprecations",
        json={"target": "lake.crm.customers.contact_email", "sunset": "2001-02-03"},
    )
    assert made.status_code == 201, made.text
    assert client.post(url, json=proposed).json()["breaking"] is False
    listed = client.get("/api/v1/schema/deprecations", params={"dataset": "lake.crm.customers"})
    assert [(d["column"], d["sunset"]) for d in listed.json()["deprecations"]] == [
        ("contact_email", "2001-02-03")
    ]
    bad = client.post(url, json={"proposed": {"type": "struct", "fields": [{"name": "x"}]}})
    assert bad.status_code == 400
    assert "fields[0].id" in bad.json()["error"]
    assert client.post(url, json={"proposed": [], "extra": 1}).status_code == 400


def test_schema_routes_follow_the_policy(
    steward: Steward, anonymous: TestClient, evolved: None
) -> None:
    params = {"dataset": "lake.crm.customers"}
    assert anonymous.get("/api/v1/schema/history", params=params).status_code == 401
    ann = as_user(steward, "ann", ("analysts",))
    # Not granted describe: not found, in the same words as a dataset that does not exist.
    assert ann.get("/api/v1/schema/history", params=params).status_code == 404
    policy = "roles:\n  analyst: {groups: [analysts]}\n"
    policy += "grants:\n  - roles: [analyst]\n    select: ['lake.crm.*']\n"
    policy += "deny:\n  - roles: [analyst]\n    columns: ['lake.crm.customers.salary']\n"
    apply(steward.store, policy, actor=None)
    versions = ann.get("/api/v1/schema/history", params=params).json()["versions"]
    assert [f["name"] for f in versions[1]["fields"]] == ["id", "contact_email"]
    assert {c["path"] for c in versions[1]["changes"]} == {"contact_email"}
    refused = ann.post(
        "/api/v1/schema/deprecations",
        json={"target": "lake.crm.customers", "sunset": "2030-01-01"},
    )
    assert refused.status_code == 403


def test_sync_without_the_api_is_still_history(steward: Steward, client: TestClient) -> None:
    """A sync by the domain function alone (as tests and benchmarks run it) is read lazily."""
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    catalog.create_table("crm.people", Schema(NestedField(1, "id", LongType())))
    catalog.close()
    sync(steward.store, steward.source("lake"))
    versions = client.get("/api/v1/schema/history", params={"dataset": "lake.crm.people"})
    assert [v["origin"] for v in versions.json()["versions"]] == ["catalog"]


def test_a_check_names_only_readers_the_caller_may_describe(
    steward: Steward, client: TestClient, evolved: None
) -> None:
    with steward.store.read() as conn:
        namespace, name = conn.execute(
            sa.select(namespaces.c.name, datasets.c.name)
            .join(datasets, datasets.c.namespace_id == namespaces.c.id)
            .join(catalog_entries, catalog_entries.c.dataset_id == datasets.c.id)
            .where(catalog_entries.c.name == "lake.crm.customers")
        ).one()
    # A job outside the catalog copies contact_email into a mailing list.
    event = run_event(
        "mailing",
        inputs=[dataset(namespace, name)],
        outputs=[
            dataset(
                "s3://mail",
                "list",
                ["to"],
                column_lineage={"to": [(namespace, name, "contact_email")]},
            )
        ],
    )
    ingest(steward.store, parse_events([event], batch=False))
    url = "/api/v1/schema/check?dataset=lake.crm.customers"
    proposed = {"proposed": [{"name": "id", "type": "long"}, {"name": "salary", "type": "double"}]}
    [seen_by_admin] = client.post(url, json=proposed).json()["changes"]
    assert [r["dataset"] for r in seen_by_admin["readers"]] == ["s3://mail/list"]
    ann = as_user(steward, "ann", ("analysts",))
    policy = "roles:\n  analyst: {groups: [analysts]}\n"
    policy += "grants:\n  - roles: [analyst]\n    select: ['lake.crm.*']\n"
    apply(steward.store, policy, actor=None)
    [seen_by_ann] = ann.post(url, json=proposed).json()["changes"]
    assert seen_by_ann["path"] == "contact_email"
    assert seen_by_ann["breaking"] is True
    assert seen_by_ann["readers"] == []
