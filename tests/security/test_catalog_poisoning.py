"""Catalog poisoning through lineage ingest: events cannot rewrite what a source states.

A real Iceberg table in the embedded lake is synced, its `email` column tagged
`pii.email` by a person, and a policy masks `tag:pii.email`. Then OpenLineage events,
built with the real openlineage-python client's classes and posted over HTTP, try every
way a producer could poison the catalog: case-changed and phantom columns, re-typed
columns, ownership, tags, symlinks and column lineage facets, and far-future event
times. The catalog, the policy's decision and a governed query must not move.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openlineage.client.event_v2 import (
    DatasetEvent,
    Job,
    OutputDataset,
    Run,
    RunEvent,
    RunState,
    StaticDataset,
)
from openlineage.client.facet_v2 import (
    column_lineage_dataset,
    documentation_dataset,
    ownership_dataset,
    schema_dataset,
    symlinks_dataset,
    tags_dataset,
)
from openlineage.client.serde import Serde

from steward.api import create_app
from steward.app import Steward
from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset
from steward.catalog.sync import sync
from steward.identity.models import Principal
from steward.identity.tokens import create_token
from steward.policy.decide import caller_for, decide
from steward.policy.query import run_query
from steward.policy.versions import active, apply, catalog_columns
from steward.policy.wiring import access_for
from steward.store.schema import datasets, jobs, lineage_edges, lineage_events
from tests.query.conftest import EMAILS, make_lake

TABLE = "lake.crm.customers"
COLUMNS = [
    ("id", "long"),
    ("name", "string"),
    ("email", "string"),
    ("ssn", "string"),
    ("region", "string"),
    ("salary", "long"),
]
POLICY = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["lake.crm.*"]
masks:
  - columns: ["tag:pii.email"]
    mask: email
"""
ADMIN = Principal(user="admin", is_admin=True)
ANALYST = Principal(user="ann@example.com", groups=frozenset({"analysts"}))
PRODUCER = "https://example.com/poisoner"


@pytest.fixture
def lake(steward: Steward) -> Steward:
    """The synced lake, `email` tagged `pii.email` by an admin, the masking policy active."""
    make_lake(steward)
    edit = DatasetEdit(columns={"email": ColumnEdit(addTags=["pii.email"])})
    edit_dataset(steward.store, TABLE, edit, ADMIN)
    apply(steward.store, POLICY, actor=ADMIN)
    return steward


@pytest.fixture
def mallory(steward: Steward) -> Iterator[TestClient]:
    """A client holding an ordinary (non-admin) token for the user `mallory`."""
    secret = create_token(steward.store, user="mallory").secret
    with TestClient(create_app(steward), raise_server_exceptions=True) as http:
        http.headers["Authorization"] = f"Bearer {secret}"
        yield http


def _identity(client: TestClient) -> tuple[str, str]:
    page = client.get(f"/api/v1/datasets/{TABLE}").json()
    return page["namespace"], page["datasetName"]


def _time(ahead: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + ahead).isoformat()


def _poison_facets(namespace: str, name: str) -> dict[str, Any]:
    """Every facet a producer could use to rewrite the table's columns, owners and tags."""
    fields = [
        schema_dataset.SchemaDatasetFacetFields(name="id", type="string"),  # re-typed
        schema_dataset.SchemaDatasetFacetFields(name="name", type="string"),
        schema_dataset.SchemaDatasetFacetFields(
            name="EMAIL", type="string", description="contact address"
        ),  # case-changed
        schema_dataset.SchemaDatasetFacetFields(name="region", type="string"),
        schema_dataset.SchemaDatasetFacetFields(name="ghost", type="string"),  # phantom
    ]  # ssn and salary left out: removed
    return {
        "schema": schema_dataset.SchemaDatasetFacet(fields=fields),
        "ownership": ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name="user:mallory", type="technical")]
        ),
        "tags": tags_dataset.TagsDatasetFacet(
            tags=[
                tags_dataset.TagsDatasetFacetFields(key="public", value="true", field="EMAIL"),
                tags_dataset.TagsDatasetFacetFields(key="open-data", value="true"),
            ]
        ),
        "symlinks": symlinks_dataset.SymlinksDatasetFacet(
            identifiers=[
                symlinks_dataset.Identifier(namespace=namespace, name="crm.public", type="TABLE")
            ]
        ),
        "documentation": documentation_dataset.DocumentationDatasetFacet(
            description="Harmless marketing list"
        ),
        "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet(
            fields={
                "EMAIL": column_lineage_dataset.Fields(
                    inputFields=[
                        column_lineage_dataset.InputField(
                            namespace=namespace, name=name, field="ghost"
                        )
                    ],
                    transformationDescription="",
                    transformationType="",
                )
            }
        ),
    }


def _poison_events(namespace: str, name: str, ahead: timedelta) -> list[dict[str, Any]]:
    """A DatasetEvent and a RunEvent carrying the poison, as the client serializes them."""
    dataset_event = DatasetEvent(
        eventTime=_time(ahead),
        producer=PRODUCER,
        dataset=StaticDataset(namespace, name, facets=_poison_facets(namespace, name)),
    )
    run_event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=_time(ahead),
        producer=PRODUCER,
        run=Run(runId=str(uuid.uuid4())),
        job=Job(namespace="poison", name="rewrite_customers"),
        outputs=[OutputDataset(namespace, name, facets=_poison_facets(namespace, name))],
    )
    return [Serde.to_dict(dataset_event), Serde.to_dict(run_event)]


def _snapshot(client: TestClient) -> dict[str, Any]:
    page = client.get(f"/api/v1/datasets/{TABLE}").json()
    return {
        "columns": [
            (c["name"], c["type"], c["fieldId"], [t["tag"] for t in c["tags"]])
            for c in page["columns"]
        ],
        "owners": page["owners"],
        "tags": page["tags"],
        "symlinks": page["symlinks"],
    }


def _assert_email_still_masked(steward: Steward) -> None:
    with steward.store.read() as conn:
        columns = catalog_columns(conn)(TABLE)
    assert columns is not None
    assert [name for name, _ in columns] == [name for name, _ in COLUMNS]
    assert dict(columns)["email"] == frozenset({"pii.email"})
    chosen = active(steward.store)
    assert chosen is not None
    version, policy = chosen
    caller = caller_for(policy, ANALYST.user, ANALYST.groups)
    verdict = decide(policy, caller, TABLE, columns, version=version)
    email = next(c for c in verdict.columns if c.name == "email")
    assert email.verdict == "masked"
    result = run_query(
        steward, f"SELECT email FROM {TABLE}", ANALYST, access_for=access_for(steward, ANALYST)
    )
    values = [row[0] for row in result.rows]
    assert len(values) == len(EMAILS)
    assert not set(values) & EMAILS
    assert all("****@" in value for value in values)


def test_lineage_events_cannot_rewrite_a_source_stated_table(
    lake: Steward, client: TestClient
) -> None:
    before = _snapshot(client)
    assert before["columns"][2] == ("email", "string", 3, ["pii.email"])
    namespace, name = _identity(client)
    # Within the allowed clock skew, so these are stored and newer than the sync.
    events = _poison_events(namespace, name, timedelta(seconds=120))
    assert client.post("/api/v1/lineage", json=events[0]).status_code == 201
    assert client.post("/api/v1/lineage/batch", json=[events[1]]).status_code == 201

    assert _snapshot(client) == before
    page = client.get(f"/api/v1/datasets/{TABLE}").json()
    # The description an event gives is shown only where nobody else gave one.
    assert page["description"] == {"text": "Harmless marketing list", "origin": "lineage"}
    email = next(c for c in page["columns"] if c["name"] == "email")
    assert email["description"] == {"text": "contact address", "origin": "lineage"}
    # Lineage edges still land: the poisoning job is recorded as writing the table.
    with lake.store.read() as conn:
        writers = conn.execute(
            sa.select(jobs.c.name)
            .join(lineage_edges, lineage_edges.c.job_id == jobs.c.id)
            .join(datasets, datasets.c.id == lineage_edges.c.dataset_id)
            .where(datasets.c.name == name, lineage_edges.c.direction == "output")
        ).scalars()
        assert "rewrite_customers" in set(writers)
    _assert_email_still_masked(lake)
    # Every reader sees the same: search neither finds the phantom column nor the owner.
    ghost = client.get("/api/v1/catalog/search", params={"q": "ghost"}).json()["results"]
    assert TABLE not in [r["name"] for r in ghost]
    owned = client.get("/api/v1/catalog/search", params={"q": "customers", "owner": "mallory"})
    assert owned.json()["results"] == []


def test_a_later_sync_and_a_case_changed_name_keep_the_tag_and_mask(
    lake: Steward, client: TestClient
) -> None:
    from steward.connectors.iceberg import lake_catalog

    catalog = lake_catalog(lake.settings.home)
    table = catalog.load_table("crm.customers")
    with table.update_schema() as update:
        update.rename_column("email", "EMAIL")
    catalog.close()
    source = lake.source("lake")
    try:
        sync(lake.store, source)
    finally:
        source.close()
    page = client.get(f"/api/v1/datasets/{TABLE}").json()
    email = next(c for c in page["columns"] if c["fieldId"] == 3)
    assert email["name"] == "EMAIL"
    assert [t["tag"] for t in email["tags"]] == ["pii.email"]
    with lake.store.read() as conn:
        columns = catalog_columns(conn)(TABLE)
    assert columns is not None
    assert dict(columns)["EMAIL"] == frozenset({"pii.email"})
    # DuckDB resolves the unquoted name either way; the value stays masked.
    result = run_query(
        lake, f"SELECT email FROM {TABLE}", ANALYST, access_for=access_for(lake, ANALYST)
    )
    assert result.rows
    assert not {row[0] for row in result.rows} & EMAILS


def test_an_event_naming_a_poster_owner_grants_no_power_to_remove_pii_tags(
    lake: Steward, client: TestClient, mallory: TestClient
) -> None:
    namespace, name = _identity(client)
    for event in _poison_events(namespace, name, timedelta()):
        assert client.post("/api/v1/lineage", json=event).status_code == 201
    owners = client.get(f"/api/v1/datasets/{TABLE}").json()["owners"]
    assert "mallory" not in [o["name"] for o in owners]
    removal = {"columns": {"email": {"removeTags": ["pii.email"]}}}
    refused = mallory.patch(f"/api/v1/datasets/{TABLE}", json=removal)
    assert refused.status_code == 403
    _assert_email_still_masked(lake)


@pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
def test_an_owner_named_only_by_events_cannot_edit_a_lineage_only_dataset(
    steward: Steward, client: TestClient, mallory: TestClient
) -> None:
    facets = {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name="email", type="VARCHAR")]
        ),
        "ownership": ownership_dataset.OwnershipDatasetFacet(
            owners=[ownership_dataset.Owner(name="user:mallory")]
        ),
    }
    event = DatasetEvent(
        eventTime=_time(),
        producer=PRODUCER,
        dataset=StaticDataset("postgres://db:5432", "shop.public.leads", facets=facets),
    )
    assert client.post("/api/v1/lineage", json=Serde.to_dict(event)).status_code == 201
    ref = "dataset:postgres://db:5432:shop.public.leads"
    client.patch(f"/api/v1/datasets/{ref}", json={"columns": {"EMAIL": {"addTags": ["pii.email"]}}})
    page = client.get(f"/api/v1/datasets/{ref}").json()
    # Events still state a lineage-only dataset's columns and owners, as before...
    assert [(o["name"], o["origin"]) for o in page["owners"]] == [("mallory", "lineage")]
    # ...and the tag an admin put on `EMAIL` binds to `email`, case-insensitively.
    assert [t["tag"] for t in page["columns"][0]["tags"]] == ["pii.email"]
    removal = {"columns": {"email": {"removeTags": ["pii.email"]}}}
    assert mallory.patch(f"/api/v1/datasets/{ref}", json=removal).status_code == 403


@pytest.mark.parametrize("database_url", [None], ids=["sqlite"])
def test_far_future_event_times_are_refused_and_nothing_is_stored(
    lake: Steward, client: TestClient
) -> None:
    namespace, name = _identity(client)
    with lake.store.read() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(lineage_events)).scalar()
    future = _poison_events(namespace, name, timedelta(days=3650))
    one = client.post("/api/v1/lineage", json=future[0])
    assert one.status_code == 400
    assert one.json()["error"].startswith("eventTime:")
    now = _poison_events(namespace, name, timedelta())
    batch = client.post("/api/v1/lineage/batch", json=[now[0], future[1]])
    assert batch.status_code == 400
    assert batch.json()["error"].startswith("events[1].eventTime:")
    with lake.store.read() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(lineage_events)).scalar()
    assert after == stored
    _assert_email_still_masked(lake)
