"""Ingest acknowledges once the raw event is durable; graph reads see it when they must.

In-process, with no normaliser running (`lineage_normaliser = "worker"` and no worker):
the backlog limit and the bounded consistent read. Over real HTTP against `steward serve`
and its normaliser process: read-your-writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.config import Settings
from steward.lineage.normaliser import normalise_pending
from steward.store.schema import lineage_events
from tests.lineage.live import live_server
from tests.openlineage_events import dataset, run_event


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    """Graph built by a worker that is not running: the backlog only grows."""
    return Settings(
        home=tmp_path / "home",
        database_url=database_url,
        lineage_normaliser="worker",
        lineage_max_backlog=3,
        lineage_consistency_wait_seconds=0.2,
        lineage_parse_processes=0,
    )


def event(job: str) -> bytes:
    return orjson.dumps(run_event(job, outputs=[dataset("wh", f"{job}_out", ["id"])]))


def raw_count(steward: Steward) -> int:
    with steward.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(lineage_events)).scalar())


def metric(client: TestClient, name: str) -> float:
    text = client.get("/metrics").text
    line = next(line for line in text.splitlines() if line.startswith(f"{name} "))
    return float(line.split()[1])


def test_past_the_backlog_limit_ingest_answers_503_with_retry_after_and_stores_nothing(
    steward: Steward, client: TestClient
) -> None:
    for job in ("a", "b", "c"):
        assert client.post("/api/v1/lineage", content=event(job)).status_code == 201
    assert metric(client, "steward_lineage_backlog_events") == 3
    assert metric(client, "steward_lineage_lag_seconds") >= 0

    refused = client.post("/api/v1/lineage", content=event("d"))
    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 1
    assert "lineage_max_backlog" in refused.json()["error"]
    assert "nothing was stored" in refused.json()["error"]
    batch = client.post("/api/v1/lineage/batch", content=b"[" + event("e") + b"]")
    assert batch.status_code == 503
    assert raw_count(steward) == 3

    normalise_pending(steward.store)  # the normaliser catches up
    assert metric(client, "steward_lineage_backlog_events") == 0
    assert metric(client, "steward_lineage_lag_seconds") == 0
    assert client.post("/api/v1/lineage", content=event("d")).status_code == 201


def test_a_consistent_read_waits_for_the_normaliser_then_answers_503(
    steward: Steward, client: TestClient
) -> None:
    posted = client.post("/api/v1/lineage", content=event("late"))
    assert posted.status_code == 201
    position = posted.json()["position"]
    assert posted.headers["Steward-Lineage-Position"] == str(position)

    fresh = TestClient(client.app)  # no cookie: a client that did not post
    fresh.headers["Authorization"] = client.headers["Authorization"]
    assert fresh.get("/api/v1/jobs").json()["totalCount"] == 0  # not built yet
    for answer in (
        fresh.get("/api/v1/jobs", params={"consistent": "true"}),
        fresh.get("/api/v1/jobs", headers={"Steward-Lineage-Position": str(position)}),
        client.get("/api/v1/jobs"),  # the poster's own cookie
    ):
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
        assert f"position {position}" in answer.json()["error"]

    normalise_pending(steward.store)
    assert client.get("/api/v1/jobs").json()["totalCount"] == 1
    assert fresh.get("/api/v1/jobs", params={"consistent": "true"}).json()["totalCount"] == 1
    bad = fresh.get("/api/v1/jobs", params={"consistent": "maybe"})
    assert bad.status_code == 400
    assert bad.json()["error"].startswith("consistent:")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    live = live_server(tmp_path / "home")
    live.start()
    # The normaliser process has started once it has built a first event.
    first = httpx.post(
        f"{live.url}/api/v1/lineage",
        content=event("warm_up"),
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=60,
    )
    assert first.status_code == 201, first.text
    live.wait_caught_up()
    yield live.url, live.token
    live.stop()


def test_an_event_posted_is_in_the_lineage_read_at_once(server: tuple[str, str]) -> None:
    url, token = server
    auth = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=url, headers=auth) as poster,
        httpx.Client(base_url=url, headers=auth) as other,
    ):
        for n in range(10):
            job = f"job_{n}"
            posted = poster.post("/api/v1/lineage", content=event(job))
            assert posted.status_code == 201, posted.text
            node = f"dataset:wh:{job}_out"
            # The poster's cookie, the echoed header, and consistent=true each see it.
            echoed = {"Steward-Lineage-Position": posted.headers["Steward-Lineage-Position"]}
            seen = [
                poster.get("/api/v1/lineage", params={"nodeId": node}),
                other.get("/api/v1/lineage", params={"nodeId": node}, headers=echoed),
                other.get("/api/v1/lineage", params={"nodeId": node, "consistent": "true"}),
            ]
            for answer in seen:
                assert answer.status_code == 200, answer.text
                assert f"job:etl:{job}" in {n["id"] for n in answer.json()["graph"]}
