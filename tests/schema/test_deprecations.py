"""Deprecations: on the dataset page, in search and in `catalog show`, as the policy lets see."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyiceberg.schema import Schema
from pyiceberg.types import DoubleType, LongType, NestedField, StringType

from steward.api import create_app
from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.errors import InvalidInput
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from steward.schema.deprecations import deprecate, deprecations, undeprecate
from steward.schema.history import dataset_target
from tests.cli_run import steward_cli

CUSTOMERS = Schema(
    NestedField(1, "id", LongType(), required=True),
    NestedField(2, "email", StringType()),
    NestedField(3, "salary", DoubleType()),
)


@pytest.fixture
def synced(steward: Steward) -> None:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    catalog.create_table("crm.customers", CUSTOMERS, properties={"comment": "Customers"})
    catalog.close()
    sync(steward.store, steward.source("lake"))


def test_a_second_deprecation_moves_the_date_and_one_may_withdraw_it(
    steward: Steward, synced: None
) -> None:
    with steward.store.write() as conn:
        dataset_id, column, columns = dataset_target(conn, "lake.crm.customers.EMAIL")
        assert (column, columns) == ("EMAIL", ["id", "email", "salary"])
        deprecate(conn, dataset_id, column, sunset=date(2030, 1, 1), replacement=None, author="a")
        deprecate(conn, dataset_id, column, sunset=date(2031, 1, 1), replacement="b", author="a")
        [only] = deprecations(conn, [dataset_id])[dataset_id]
        assert (only.sunset, only.replacement) == (date(2031, 1, 1), "b")
        assert only.covers("email")
        assert not only.covers("email_2")
        with pytest.raises(InvalidInput, match="no column 'phone'"):
            deprecate(
                conn,
                dataset_id,
                "phone",
                sunset=date(2030, 1, 1),
                replacement=None,
                author="a",
                columns=columns,
            )
        assert undeprecate(conn, dataset_id, "EMAIL")
        assert not undeprecate(conn, dataset_id, "EMAIL")


def test_the_page_and_search_show_deprecations_the_caller_may_see(
    steward: Steward, client: TestClient, synced: None
) -> None:
    for target, sunset in [
        ("lake.crm.customers", "2031-06-30"),
        ("lake.crm.customers.salary", "2030-01-01"),
        ("lake.crm.customers.email", "2030-02-01"),
    ]:
        made = client.post(
            "/api/v1/schema/deprecations",
            json={"target": target, "sunset": sunset, "replacement": "lake.crm.people"},
        )
        assert made.status_code == 201, made.text
    page = client.get("/api/v1/datasets/lake.crm.customers").json()
    assert [(d["column"], d["sunset"]) for d in page["deprecations"]] == [
        (None, "2031-06-30"),
        ("email", "2030-02-01"),
        ("salary", "2030-01-01"),
    ]
    hits = client.get("/api/v1/catalog/search", params={"q": "customers"}).json()["results"]
    assert [(h["name"], h["deprecation"]["sunset"]) for h in hits] == [
        ("lake.crm.customers", "2031-06-30")
    ]

    token = create_token(steward.store, user="ann", groups=["analysts"]).secret
    policy = "roles:\n  analyst: {groups: [analysts]}\n"
    policy += "grants:\n  - roles: [analyst]\n    select: ['lake.crm.*']\n"
    policy += "deny:\n  - roles: [analyst]\n    columns: ['lake.crm.customers.salary']\n"
    apply(steward.store, policy, actor=None)
    with TestClient(create_app(steward)) as ann:
        ann.headers["Authorization"] = f"Bearer {token}"
        seen = ann.get("/api/v1/datasets/lake.crm.customers").json()["deprecations"]
        assert [d["column"] for d in seen] == [None, "email"]
        listed = ann.get("/api/v1/schema/deprecations", params={"dataset": "lake.crm.customers"})
        assert [d["column"] for d in listed.json()["deprecations"]] == [None, "email"]


@pytest.mark.slow
def test_catalog_show_and_search_print_deprecations(tmp_path: Path) -> None:
    home = tmp_path / "home"
    catalog = lake_catalog(home)
    catalog.create_namespace("crm")
    catalog.create_table("crm.customers", CUSTOMERS)
    catalog.close()
    assert steward_cli(home, "catalog", "sync", "lake").returncode == 0
    made = steward_cli(
        home,
        "schema",
        "deprecate",
        "lake.crm.customers.email",
        "--sunset",
        "2030-02-01",
        "--replacement",
        "contact",
    )
    assert made.returncode == 0, made.stderr
    assert (
        steward_cli(
            home, "schema", "deprecate", "lake.crm.customers", "--sunset", "2031-01-01"
        ).returncode
        == 0
    )
    shown = steward_cli(home, "catalog", "show", "lake.crm.customers")
    assert "deprecated column email: sunset 2030-02-01; use contact" in shown.stdout
    assert "deprecated dataset: sunset 2031-01-01" in shown.stdout
    found = steward_cli(home, "search", "customers", "--json")
    assert json.loads(found.stdout)[0]["deprecation"]["sunset"] == "2031-01-01"
    bad = steward_cli(home, "schema", "deprecate", "lake.crm.customers", "--sunset", "soon")
    assert bad.returncode == 2
    assert "--sunset" in bad.stderr
