"""The raw events, as received, read back through GET /api/v1/events/lineage."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from tests.openlineage_events import dataset, run_event

RUN = "3d9f8a52-8a4e-4f0b-9a43-1c2b3d4e5f60"


def test_raw_events_come_back_as_sent_newest_first(client: TestClient) -> None:
    sent = [
        run_event("j", run_id=RUN, event_type="START", event_time="2024-05-01T00:00:00Z"),
        run_event(
            "j", run_id=RUN, outputs=[dataset("wh", "t", ["a"])], event_time="2024-05-01T00:10:00Z"
        ),
        run_event("other", event_time="2024-05-02T00:00:00Z"),
    ]
    client.post("/api/v1/lineage/batch", content=orjson.dumps(sent))

    everything = client.get("/api/v1/events/lineage").json()
    assert everything["totalCount"] == 3
    assert everything["events"] == [sent[2], sent[1], sent[0]]

    of_run = client.get("/api/v1/events/lineage", params={"runId": RUN}).json()
    assert [e["eventType"] for e in of_run["events"]] == ["COMPLETE", "START"]

    window = client.get(
        "/api/v1/events/lineage",
        params={"after": "2024-05-01T00:05:00Z", "before": "2024-05-02T00:00:00Z"},
    ).json()
    assert window["events"] == [sent[1]]

    page = client.get("/api/v1/events/lineage", params={"limit": 1, "offset": 1}).json()
    assert page["events"] == [sent[1]]


def test_bad_time_bound_names_the_parameter(client: TestClient) -> None:
    response = client.get("/api/v1/events/lineage", params={"after": "soon"})
    assert response.status_code == 400
    assert response.json()["error"].startswith("after:")
