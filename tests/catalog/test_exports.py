"""Exports: Backstage entities that validate against Backstage's schemas; a data dictionary."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType
from referencing import Registry, Resource

from steward.app import Steward
from steward.catalog.edits import DatasetEdit, edit_dataset
from steward.catalog.sync import sync
from steward.connectors.backstage import backstage_entities, write_backstage
from steward.connectors.datadict import write_docs
from steward.connectors.iceberg import lake_catalog
from steward.identity.models import Principal
from tests.openlineage_events import dataset, run_event

SCHEMAS = Path(__file__).parent / "fixtures" / "backstage"
# Backstage's own validators (catalog-model's KubernetesValidatorFunctions and
# DefaultNamespaceEntityPolicy) check names and tags beyond the JSON schemas.
NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")
TAG = re.compile(r"^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$")
REF = re.compile(r"^(user|group|resource|system):default/[A-Za-z0-9._-]+$")


def validator(kind: str) -> Draft7Validator:
    registry: Registry[Any] = Registry()
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        registry = registry.with_resource(schema["$id"], Resource.from_contents(schema))
    root = json.loads((SCHEMAS / f"{kind}.v1alpha1.schema.json").read_text())
    return Draft7Validator(root, registry=registry)


@pytest.fixture
def shop(steward: Steward, client: Any) -> None:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("shop")
    catalog.create_table(
        "shop.customers",
        Schema(NestedField(1, "id", LongType()), NestedField(2, "email", StringType())),
        properties={"comment": "People", "owner": "ann@example.com"},
    )
    catalog.create_table("shop.orders", Schema(NestedField(1, "customer_id", LongType())))
    sync(steward.store, steward.source("lake"))
    admin = Principal(user="root", is_admin=True)
    edit_dataset(
        steward.store,
        "lake.shop.customers",
        DatasetEdit(
            domain="Sales & Marketing",
            addTags=["gold"],
            addOwners=[{"name": "crm team", "kind": "group"}],  # type: ignore[list-item]
            columns={"email": {"addTags": ["pii.email"]}},  # type: ignore[dict-item]
        ),
        admin,
    )
    # A job reading customers and writing orders: orders depends on customers.
    customers = client.get("/api/v1/datasets/lake.shop.customers").json()
    orders = client.get("/api/v1/datasets/lake.shop.orders").json()
    event = run_event(
        "build_orders",
        inputs=[dataset(customers["namespace"], customers["datasetName"])],
        outputs=[dataset(orders["namespace"], orders["datasetName"])],
    )
    assert client.post("/api/v1/lineage", json=event).status_code == 201


def test_backstage_export_validates_against_backstage_schemas(
    steward: Steward, shop: None, tmp_path: Path
) -> None:
    path = tmp_path / "catalog-info.yaml"
    count = write_backstage(
        backstage_entities(steward.store, default_owner="group:default/data-platform"), path
    )
    entities = list(yaml.safe_load_all(path.read_text()))
    assert len(entities) == count == 3
    for entity in entities:
        errors = list(validator(entity["kind"]).iter_errors(entity))
        assert errors == [], [e.message for e in errors]
        assert NAME.match(entity["metadata"]["name"]), entity["metadata"]["name"]
        for tag in entity["metadata"].get("tags", []):
            assert TAG.match(tag), tag
            assert len(tag) <= 63
        assert REF.match(entity["spec"]["owner"])
    by_title = {e["metadata"]["title"]: e for e in entities}
    customers = by_title["lake.shop.customers"]
    assert customers["spec"]["type"] == "dataset"
    assert customers["spec"]["owner"] == "group:default/crm-team"
    assert customers["spec"]["system"] == "Sales-Marketing"
    assert customers["metadata"]["tags"] == ["gold", "pii-email"]
    assert customers["metadata"]["annotations"]["steward.io/pii-columns"] == "email"
    orders = by_title["lake.shop.orders"]
    assert orders["spec"]["owner"] == "group:default/data-platform"
    assert orders["spec"]["dependsOn"] == [f"resource:default/{customers['metadata']['name']}"]
    system = by_title["Sales & Marketing"]
    assert system["kind"] == "System"
    assert system["metadata"]["name"] == "Sales-Marketing"


def test_docs_export_writes_a_page_per_dataset_with_owner_columns_pii_and_lineage(
    steward: Steward, shop: None, tmp_path: Path
) -> None:
    out = tmp_path / "dictionary"
    assert write_docs(steward.store, out) == 2
    index = (out / "index.html").read_text()
    assert "lake.shop.customers" in index
    assert "lake.shop.orders" in index
    page = (out / "lake.shop.customers.md").read_text()
    assert "People" in page
    assert "crm team (technical)" in page
    assert "ann@example.com (technical)" in page
    assert "| email | string |  | pii.email |" in page
    assert "[lake.shop.orders](lake.shop.orders.md)" in page  # downstream
    html_page = (out / "lake.shop.orders.html").read_text()
    assert "<a href='lake.shop.customers.html'>lake.shop.customers</a>" in html_page


def test_a_description_cannot_inject_html_into_the_dictionary(
    steward: Steward, shop: None, tmp_path: Path
) -> None:
    edit_dataset(
        steward.store,
        "lake.shop.orders",
        DatasetEdit(description="Orders <script>alert(1)</script> **bold**"),
        Principal(user="root", is_admin=True),
    )
    write_docs(steward.store, tmp_path / "d")
    page = (tmp_path / "d" / "lake.shop.orders.html").read_text()
    assert "<script>" not in page
    assert "<strong>bold</strong>" in page
