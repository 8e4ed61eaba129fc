"""Ingesting OpenLineage events through POST /api/v1/lineage and /api/v1/lineage/batch."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.lineage.ingest import raw_event
from steward.store.schema import (
    dataset_fields,
    dataset_versions,
    datasets,
    lineage_events,
    metadata,
    run_states,
    runs,
)
from tests.openlineage_events import FACET, PRODUCER, dataset, run_event


def table_counts(steward: Steward) -> dict[str, int]:
    """Rows of every lineage table; the audit log records each request, duplicate or not."""
    with steward.store.read() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
            if not t.name.startswith("audit_")
        }


def send(client: TestClient, event: Any, **kwargs: Any) -> Any:
    return client.post("/api/v1/lineage", content=orjson.dumps(event), **kwargs)


def test_run_event_is_stored_with_its_raw_json(client: TestClient, steward: Steward) -> None:
    event = run_event("load", inputs=[dataset("pg://h:5432", "db.s.src", ["id"])])
    response = send(client, event)
    assert response.status_code == 201
    assert response.json() == {"stored": 1, "duplicates": 0, "position": 1}
    assert response.headers["Steward-Lineage-Position"] == "1"
    with steward.store.read() as conn:
        payload = conn.execute(sa.select(lineage_events.c.payload)).scalar_one()
    assert raw_event(payload) == event


def test_same_event_delivered_twice_is_stored_once(client: TestClient, steward: Steward) -> None:
    event = run_event("load", outputs=[dataset("warehouse", "orders", ["id", "total"])])
    assert send(client, event).json() == {"stored": 1, "duplicates": 0, "position": 1}
    before = table_counts(steward)
    assert send(client, event).json() == {"stored": 0, "duplicates": 1, "position": 1}
    # Key order does not make it another event either.
    reordered = dict(reversed(list(event.items())))
    assert send(client, reordered).json() == {"stored": 0, "duplicates": 1, "position": 1}
    assert table_counts(steward) == before


def test_gzip_body_is_accepted(client: TestClient) -> None:
    event = run_event("zipped", outputs=[dataset("warehouse", "zipped_out", ["a"])])
    response = client.post(
        "/api/v1/lineage",
        content=gzip.compress(orjson.dumps(event)),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    assert client.get("/api/v1/datasets").json()["datasets"][0]["name"] == "zipped_out"


def test_broken_gzip_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/v1/lineage", content=b"not gzip", headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 400
    assert "gzip" in response.json()["error"]


def test_unicode_names_round_trip(client: TestClient) -> None:
    name = "ventes.commandes_été_売上"
    send(client, run_event("chargement_données", outputs=[dataset("entrepôt", name, ["prix_€"])]))
    graph = client.get("/api/v1/lineage", params={"nodeId": f"dataset:entrepôt:{name}"}).json()
    node = graph["graph"][0]
    assert node["data"]["name"] == name
    assert node["data"]["fields"][0]["name"] == "prix_€"
    assert node["inEdges"] == [
        {"origin": "job:etl:chargement_données", "destination": f"dataset:entrepôt:{name}"}
    ]


def test_nanosecond_and_zoneless_timestamps(client: TestClient, steward: Steward) -> None:
    run_id = str(uuid.uuid4())
    start = run_event(
        "t", run_id=run_id, event_type="START", event_time="2024-05-01T10:00:00.123456789Z"
    )
    end = run_event("t", run_id=run_id, event_type="COMPLETE", event_time="2024-05-01T12:00:00.5")
    shifted = run_event("t", event_type="START", event_time="2024-05-01T14:00:00+02:00")
    for event in (start, end, shifted):
        assert send(client, event).status_code == 201
    with steward.store.read() as conn:
        run = conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).one()
        times = sorted(conn.execute(sa.select(run_states.c.event_time)).scalars())
    assert run.started_at.isoformat() == "2024-05-01T10:00:00.123456"
    assert run.ended_at.isoformat() == "2024-05-01T12:00:00.500000"
    assert run.state == "COMPLETE"
    # 14:00+02:00 is noon UTC.
    assert "2024-05-01T12:00:00" in [t.isoformat() for t in times]


def test_huge_facet_of_one_megabyte(client: TestClient, steward: Steward) -> None:
    blob = "x" * (1024 * 1024)
    event = run_event("big", outputs=[dataset("warehouse", "big_out", ["a"], custom={"sql": blob})])
    response = send(client, event)
    assert response.status_code == 201
    with steward.store.read() as conn:
        facets = conn.execute(sa.select(datasets.c.facets)).scalar_one()
    assert facets["custom"]["sql"] == blob


def test_dataset_event_creates_dataset_with_schema(client: TestClient) -> None:
    event = {
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": dataset(
            "warehouse",
            "customers",
            ["id", "email"],
            documentation={"description": "Every customer"},
        ),
    }
    assert send(client, event).status_code == 201
    node = client.get("/api/v1/lineage", params={"nodeId": "dataset:warehouse:customers"}).json()
    data = node["graph"][0]["data"]
    assert [f["name"] for f in data["fields"]] == ["id", "email"]
    assert data["description"] == "Every customer"


def test_job_event_sets_static_lineage(client: TestClient) -> None:
    event = {
        "eventTime": "2024-05-01T10:00:00Z",
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent",
        "job": {"namespace": "airflow", "name": "dag.task", "facets": {}},
        "inputs": [dataset("warehouse", "a")],
        "outputs": [dataset("warehouse", "b")],
    }
    assert send(client, event).status_code == 201
    graph = client.get(
        "/api/v1/lineage", params={"nodeId": "dataset:warehouse:b", "direction": "upstream"}
    ).json()
    assert {n["id"] for n in graph["graph"]} == {
        "dataset:warehouse:b",
        "job:airflow:dag.task",
        "dataset:warehouse:a",
    }


def test_schema_version_recorded_only_when_schema_changes(
    client: TestClient, steward: Steward
) -> None:
    for i, fields in enumerate((["id"], ["id"], ["id", "name"], ["id", "name"])):
        send(
            client,
            run_event(
                "w", outputs=[dataset("wh", "t", fields)], event_time=f"2024-05-0{i + 1}T00:00:00Z"
            ),
        )
    with steward.store.read() as conn:
        versions = conn.execute(
            sa.select(sa.func.count()).select_from(dataset_versions)
        ).scalar_one()
        current = (
            conn.execute(
                sa.select(dataset_fields.c.name)
                .join(datasets, datasets.c.current_version_id == dataset_fields.c.version_id)
                .order_by(dataset_fields.c.ordinal)
            )
            .scalars()
            .all()
        )
    assert versions == 2
    assert current == ["id", "name"]


def test_catalog_facets_are_queryable(client: TestClient) -> None:
    out = dataset(
        "postgres://db:5432",
        "shop.public.orders",
        ["id"],
        documentation={"description": "All orders"},
        ownership={"owners": [{"name": "team:sales", "type": "MAINTAINER"}]},
        tags={"tags": [{"key": "pii", "value": "false", "source": "manual"}]},
        dataSource={"name": "postgres://db:5432", "uri": "postgres://db:5432/shop"},
        symlinks={
            "identifiers": [{"namespace": "hive://meta", "name": "shop.orders", "type": "TABLE"}]
        },
    )
    send(client, run_event("w", outputs=[out]))
    data = client.get(
        "/api/v1/lineage", params={"nodeId": "dataset:postgres://db:5432:shop.public.orders"}
    ).json()["graph"][0]["data"]
    assert data["description"] == "All orders"
    assert data["owners"] == [{"name": "team:sales", "type": "MAINTAINER"}]
    assert data["tags"] == [{"key": "pii", "value": "false", "field": None}]
    assert data["sourceName"] == "postgres://db:5432"
    assert data["symlinks"] == [
        {"namespace": "hive://meta", "name": "shop.orders", "type": "TABLE"}
    ]
    assert client.get("/api/v1/search", params={"q": "All orders"}).json()["results"][0][
        "name"
    ] == ("shop.public.orders")


def test_drop_marks_dataset_deleted_not_lost(client: TestClient) -> None:
    send(
        client,
        run_event("w", outputs=[dataset("wh", "tmp", ["a"])], event_time="2024-05-01T00:00:00Z"),
    )
    drop = dataset("wh", "tmp", lifecycleStateChange={"lifecycleStateChange": "DROP"})
    send(client, run_event("dropper", outputs=[drop], event_time="2024-05-02T00:00:00Z"))
    data = client.get("/api/v1/lineage", params={"nodeId": "dataset:wh:tmp"}).json()["graph"][0][
        "data"
    ]
    assert data["deleted"] is True
    assert [f["name"] for f in data["fields"]] == ["a"]
    before = client.get(
        "/api/v1/lineage", params={"nodeId": "dataset:wh:tmp", "asOf": "2024-05-01T12:00:00Z"}
    ).json()["graph"][0]["data"]
    assert before["deleted"] is False


def test_batch_accepts_json_array_and_ndjson(client: TestClient) -> None:
    events = [run_event(f"job{i}", outputs=[dataset("wh", f"t{i}")]) for i in range(4)]
    response = client.post("/api/v1/lineage/batch", content=orjson.dumps(events[:2]))
    assert response.json() == {"received": 2, "stored": 2, "duplicates": 0, "position": 2}
    ndjson = b"\n".join(orjson.dumps(e) for e in events[1:]) + b"\n"
    response = client.post("/api/v1/lineage/batch", content=ndjson)
    answer = response.json()
    # The position is the newest raw id: PostgreSQL's sequence also counts the duplicate.
    assert answer.pop("position") > 2
    assert answer == {"received": 3, "stored": 2, "duplicates": 1}
    assert client.get("/api/v1/datasets").json()["totalCount"] == 4


def test_bad_event_in_batch_stores_none_of_the_batch(client: TestClient, steward: Steward) -> None:
    good = run_event("ok", outputs=[dataset("wh", "ok")])
    bad = run_event("bad")
    bad["run"]["runId"] = "not-a-uuid"
    before = table_counts(steward)
    response = client.post("/api/v1/lineage/batch", content=orjson.dumps([good, bad]))
    assert response.status_code == 400
    assert response.json()["error"].startswith("events[1].run.runId:")
    assert table_counts(steward) == before


def _without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    target = event
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return event


MALFORMED = [
    ("missing runId", _without(run_event("j"), "run", "runId"), "run.runId"),
    ("missing job", _without(run_event("j"), "job"), "job"),
    ("bad eventTime", {**run_event("j"), "eventTime": "yesterday"}, "eventTime"),
    ("runId not a uuid", {**run_event("j"), "run": {"runId": "42"}}, "run.runId"),
    ("eventType unknown", {**run_event("j"), "eventType": "DONE"}, "eventType"),
    ("inputs not a list", {**run_event("j"), "inputs": {"a": 1}}, "inputs"),
    (
        "dataset without name",
        {**run_event("j"), "outputs": [{"namespace": "n"}]},
        "outputs[0].name",
    ),
    ("job name a number", {**run_event("j"), "job": {"namespace": "n", "name": 7}}, "job.name"),
    ("empty namespace", {**run_event("j"), "job": {"namespace": "", "name": "x"}}, "job.namespace"),
    (
        "schema fields not a list",
        {**run_event("j"), "outputs": [dataset("n", "t", schema={"fields": "id"})]},
        "outputs[0].facets.schema.fields",
    ),
    (
        "column lineage without inputFields",
        {**run_event("j"), "outputs": [dataset("n", "t", columnLineage={"fields": {"a": {}}})]},
        "outputs[0].facets.columnLineage.fields.a.inputFields",
    ),
    ("not an object", [1, 2], "body"),
    ("nothing identifies the kind", {"eventTime": "2024-01-01T00:00:00Z", "producer": "p"}, "run"),
]


@pytest.mark.parametrize(
    ("event", "field"), [(e, f) for _, e, f in MALFORMED], ids=[name for name, _, _ in MALFORMED]
)
def test_malformed_event_is_refused_naming_the_field(
    client: TestClient, steward: Steward, event: Any, field: str
) -> None:
    before = table_counts(steward)
    response = send(client, event)
    assert response.status_code == 400
    assert response.json()["error"].startswith(field), response.json()
    assert table_counts(steward) == before


@pytest.mark.parametrize(
    "body", [b"", b"{", b"null", b"\xff\xfe", b'"a string"', b"[]", b"{}\n{", b"1e999999"]
)
def test_garbage_bodies_get_400(client: TestClient, steward: Steward, body: bytes) -> None:
    before = table_counts(steward)
    for path in ("/api/v1/lineage", "/api/v1/lineage/batch"):
        response = client.post(path, content=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
        assert "error" in response.json()
    assert table_counts(steward) == before


def test_facet_deleted_marker_removes_facet(client: TestClient) -> None:
    send(
        client,
        run_event(
            "w",
            outputs=[dataset("wh", "t", documentation={"description": "old"})],
            event_time="2024-05-01T00:00:00Z",
        ),
    )
    removal = dataset("wh", "t")
    removal["facets"]["documentation"] = {**FACET, "_deleted": True}
    send(client, run_event("w", outputs=[removal], event_time="2024-05-02T00:00:00Z"))
    data = client.get("/api/v1/lineage", params={"nodeId": "dataset:wh:t"}).json()["graph"][0][
        "data"
    ]
    assert data["description"] is None


def test_nul_characters_are_refused_on_every_backend(client: TestClient, steward: Steward) -> None:
    before = table_counts(steward)
    event = run_event("j", outputs=[dataset("wh", "bad\x00name")])
    response = send(client, event)
    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
    assert table_counts(steward) == before
