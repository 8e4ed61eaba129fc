"""The catalog over HTTP: dataset pages, edits by owners and admins, search, sync, classify."""

from __future__ import annotations

from datetime import date
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from pyiceberg.schema import Schema
from pyiceberg.types import BooleanType, DateType, LongType, NestedField, StringType

from steward.api import create_app
from steward.app import Steward
from steward.connectors.iceberg import lake_catalog
from steward.identity.tokens import create_token
from steward.policy.versions import apply


def as_user(steward: Steward, user: str, groups: tuple[str, ...] = ()) -> TestClient:
    token = create_token(steward.store, user=user, groups=list(groups)).secret
    http = TestClient(create_app(steward), raise_server_exceptions=True)
    http.headers["Authorization"] = f"Bearer {token}"
    return http


CUSTOMERS = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "email", StringType()),
    NestedField(3, "email_opt_in", BooleanType()),
    NestedField(4, "phone", StringType()),
    NestedField(5, "birth_date", DateType()),
)


@pytest.fixture
def synced(steward: Steward, client: TestClient) -> None:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    customers = catalog.create_table(
        "crm.customers", CUSTOMERS, properties={"comment": "People who bought something"}
    )
    count = 60
    customers.append(
        pa.table(
            {
                "id": pa.array(range(count), pa.int64()),
                "email": [f"person{i}@example.com" for i in range(count)],
                "email_opt_in": [i % 2 == 0 for i in range(count)],
                "phone": [f"+1 415 555 {1000 + i:04d}" for i in range(count)],
                "birth_date": [date(1960 + i % 40, 1 + i % 12, 1 + i % 28) for i in range(count)],
            },
            schema=CUSTOMERS.as_arrow(),
        )
    )
    catalog.create_table("crm.orders", Schema(NestedField(1, "order_id", LongType())))
    answer = client.post("/api/v1/sources/lake/sync")
    assert answer.status_code == 200, answer.text
    assert answer.json()["added"] == 2


def test_dataset_page_answers_by_catalog_name_and_node_id(client: TestClient, synced: None) -> None:
    page = client.get("/api/v1/datasets/lake.crm.customers").json()
    assert page["description"]["text"] == "People who bought something"
    assert [c["name"] for c in page["columns"]] == [
        "id",
        "email",
        "email_opt_in",
        "phone",
        "birth_date",
    ]
    by_node = client.get(f"/api/v1/datasets/{page['nodeId']}").json()
    assert by_node["id"] == "lake.crm.customers"
    missing = client.get("/api/v1/datasets/lake.crm.nothing")
    assert missing.status_code == 404
    assert "lake.crm.nothing" in missing.json()["error"]


def test_owners_and_admins_edit_and_those_the_policy_lets_describe_read(
    steward: Steward, client: TestClient, synced: None
) -> None:
    ann = as_user(steward, "ann")
    team = as_user(steward, "cy", ("crm-team",))
    assert ann.get("/api/v1/datasets/lake.crm.customers").status_code == 404
    readers = "roles:\n  readers: {users: [ann], groups: [crm-team]}\n"
    readers += "grants:\n  - roles: [readers]\n    describe: ['lake.crm.*']\n"
    apply(steward.store, readers, actor=None)
    assert ann.get("/api/v1/datasets/lake.crm.customers").status_code == 200
    refused = ann.patch("/api/v1/datasets/lake.crm.customers", json={"description": "mine"})
    assert refused.status_code == 403
    assert "owners and admins" in refused.json()["error"]

    made_owner = client.patch(
        "/api/v1/datasets/lake.crm.customers",
        json={
            "addOwners": [
                {"name": "ann", "role": "business"},
                {"name": "crm-team", "kind": "group"},
            ],
            "domain": "crm",
        },
    )
    assert made_owner.status_code == 200, made_owner.text
    edited = ann.patch(
        "/api/v1/datasets/lake.crm.customers",
        json={
            "description": "Customers, *one per person*",
            "addTags": ["gold"],
            "columns": {"email": {"addTerms": ["contact-point"]}},
        },
    )
    assert edited.status_code == 200, edited.text
    page = edited.json()
    assert page["description"] == {
        "text": "Customers, *one per person*",
        "origin": "human",
        "author": "ann",
        "updatedAt": page["description"]["updatedAt"],
    }
    assert {(o["name"], o["kind"], o["role"]) for o in page["owners"]} == {
        ("ann", "user", "business"),
        ("crm-team", "group", "technical"),
    }
    assert page["domain"] == "crm"
    assert [t["tag"] for t in page["tags"]] == ["gold"]
    email = next(c for c in page["columns"] if c["name"] == "email")
    assert email["terms"] == ["contact-point"]
    # A member of an owning group may edit too; a stranger still may not.
    assert (
        team.patch("/api/v1/datasets/lake.crm.customers", json={"removeTags": ["gold"]}).status_code
        == 200
    )
    assert (
        as_user(steward, "eve")
        .patch("/api/v1/datasets/lake.crm.customers", json={"addTags": ["x"]})
        .status_code
        == 403
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"columns": {"nope": {"description": "x"}}}, "columns.nope"),
        ({"addTags": ["has space"]}, "addTags"),
        ({"addOwners": [{"name": "x", "kind": "robot"}]}, "addOwners"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_edit_is_a_400_naming_the_field_and_changes_nothing(
    client: TestClient, synced: None, body: dict[str, Any], named: str
) -> None:
    before = client.get("/api/v1/datasets/lake.crm.customers").json()
    answer = client.patch(
        "/api/v1/datasets/lake.crm.customers", json={"description": "new", **body}
    )
    assert answer.status_code == 400
    assert named in answer.json()["error"]
    assert client.get("/api/v1/datasets/lake.crm.customers").json() == before


def test_classification_tags_pii_and_respects_a_human_rejection(
    client: TestClient, synced: None
) -> None:
    answer = client.post("/api/v1/catalog/classify", params={"dataset": "lake.crm.customers"})
    assert answer.status_code == 200, answer.text
    findings = {(f["column"], f["tag"]) for f in answer.json()["results"][0]["findings"]}
    assert findings == {
        ("email", "pii.email"),
        ("phone", "pii.phone"),
        ("birth_date", "pii.date_of_birth"),
    }
    page = client.get("/api/v1/datasets/lake.crm.customers").json()
    tags = {c["name"]: [t["tag"] for t in c["tags"]] for c in page["columns"]}
    assert tags["email"] == ["pii.email"]
    assert tags["email_opt_in"] == []
    proposed = next(c for c in page["columns"] if c["name"] == "email")["tags"][0]
    assert proposed["origin"] == "classifier"
    assert proposed["status"] == "proposed"
    assert 0.5 < proposed["confidence"] <= 1
    assert "person0@example.com" not in proposed["reason"]

    rejected = client.patch(
        "/api/v1/datasets/lake.crm.customers",
        json={"columns": {"phone": {"removeTags": ["pii.phone"]}}},
    )
    assert rejected.status_code == 200
    again = client.post("/api/v1/catalog/classify", params={"dataset": "lake.crm.customers"})
    phone = [f for f in again.json()["results"][0]["findings"] if f["column"] == "phone"]
    assert phone[0]["rejectedByHuman"] is True
    page = client.get("/api/v1/datasets/lake.crm.customers").json()
    assert next(c for c in page["columns"] if c["name"] == "phone")["tags"] == []


def test_search_ranks_exact_names_first_and_filters(client: TestClient, synced: None) -> None:
    client.patch(
        "/api/v1/datasets/lake.crm.orders",
        json={
            "description": "Each order a customer placed",
            "addTags": ["gold"],
            "addOwners": [{"name": "ops"}],
            "domain": "sales",
        },
    )
    found = client.get("/api/v1/catalog/search", params={"q": "customer"}).json()["results"]
    assert [r["name"] for r in found] == ["lake.crm.customers", "lake.crm.orders"]
    exact = client.get("/api/v1/catalog/search", params={"q": "lake.crm.orders"}).json()
    assert exact["results"][0]["name"] == "lake.crm.orders"
    by_column = client.get("/api/v1/catalog/search", params={"q": "opt"}).json()["results"]
    assert [r["name"] for r in by_column] == ["lake.crm.customers"]
    for key, value in (("tag", "gold"), ("owner", "ops"), ("domain", "sales")):
        narrowed = client.get("/api/v1/catalog/search", params={"q": "customer", key: value})
        assert [r["name"] for r in narrowed.json()["results"]] == ["lake.crm.orders"], key
    assert (
        client.get(
            "/api/v1/catalog/search", params={"q": "customer", "source": "elsewhere"}
        ).json()["results"]
        == []
    )


def test_only_admins_sync_and_unknown_sources_are_named(
    steward: Steward, client: TestClient
) -> None:
    assert as_user(steward, "ann").post("/api/v1/sources/lake/sync").status_code == 403
    missing = client.post("/api/v1/sources/warehouse/sync")
    assert missing.status_code == 404
    assert "warehouse" in missing.json()["error"]
    sources = client.get("/api/v1/sources").json()["sources"]
    assert [s["name"] for s in sources] == ["lake"]


def test_datasets_known_only_from_lineage_events_are_searchable(client: TestClient) -> None:
    from tests.openlineage_events import dataset, run_event

    event = run_event(
        "nightly", outputs=[dataset("postgres://db:5432", "shop.public.invoices", ["amount"])]
    )
    assert client.post("/api/v1/lineage", json=event).status_code == 201
    found = client.get("/api/v1/catalog/search", params={"q": "invoices"}).json()["results"]
    assert [r["name"] for r in found] == ["postgres://db:5432/shop.public.invoices"]
    later = run_event(
        "nightly",
        outputs=[dataset("postgres://db:5432", "shop.public.invoices", ["amount", "vat"])],
        event_time="2024-05-02T10:00:00.000Z",
    )
    assert client.post("/api/v1/lineage", json=later).status_code == 201
    by_column = client.get("/api/v1/catalog/search", params={"q": "vat"}).json()["results"]
    assert [r["name"] for r in by_column] == ["postgres://db:5432/shop.public.invoices"]


def test_catalog_changes_are_audited_with_the_change_and_bad_edits_are_not(
    client: TestClient, synced: None
) -> None:
    def records(action: str) -> list[dict[str, Any]]:
        answer = client.get("/api/v1/audit", params={"action": action})
        assert answer.status_code == 200, answer.text
        found: list[dict[str, Any]] = answer.json()["records"]
        return found

    (sync_record,) = records("catalog.sync")
    assert sync_record["resource"]["dataset"] == "lake"
    assert sync_record["details"]["added"] == 2
    assert (
        client.patch(
            "/api/v1/datasets/lake.crm.customers",
            json={"columns": {"email": {"description": "Where we write"}}},
        ).status_code
        == 200
    )
    assert (
        client.patch(
            "/api/v1/datasets/lake.crm.customers", json={"columns": {"nope": {}}}
        ).status_code
        == 400
    )
    (edit,) = records("catalog.edit")
    assert edit["actor"]["user"] == "admin"
    assert edit["resource"] == {"dataset": "lake.crm.customers", "columns": ["email"]}
    assert edit["details"] == {"columns": {"email": {"description": "Where we write"}}}
    client.post("/api/v1/catalog/classify", params={"dataset": "lake.crm.customers"})
    (classified,) = records("catalog.classify")
    assert "email" in classified["resource"]["columns"]
    assert client.get("/api/v1/audit/verify").json()["ok"] is True
