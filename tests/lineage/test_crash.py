"""kill -9 of the normaliser and of the server under load, on loopback: nothing acknowledged
is lost, nothing is applied twice, and the audit chain verifies."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.config import Settings
from steward.lineage.ingest import ingest, parse_events, raw_event
from steward.store.schema import lineage_events
from tests.cli_run import steward_cli
from tests.lineage.graph_dump import graph_dump, workload
from tests.lineage.live import live_server


def digest(event: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(event, option=orjson.OPT_SORT_KEYS)).hexdigest()


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_normaliser_and_server_lose_nothing_and_apply_everything_once(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    live = live_server(home)
    live.start()
    events = workload(jobs_count=8, runs_per_job=5)
    # Single events and batches of three, sent by four producers that retry until a 201.
    sends: list[list[dict[str, Any]]] = []
    at = 0
    while at < len(events):
        size = 3 if len(sends) % 4 == 3 else 1
        sends.append(events[at : at + size])
        at += size
    acknowledged: list[dict[str, Any]] = []
    lock = threading.Lock()
    failures: list[BaseException] = []

    def produce(share: list[list[dict[str, Any]]]) -> None:
        try:
            with httpx.Client(timeout=30) as http:
                for chunk in share:
                    deadline = time.monotonic() + 240
                    while True:
                        try:
                            answer = http.post(
                                f"{live.url}/api/v1/lineage" + ("/batch" if len(chunk) > 1 else ""),
                                content=orjson.dumps(chunk if len(chunk) > 1 else chunk[0]),
                                headers={"Authorization": f"Bearer {live.token}"},
                            )
                            if answer.status_code == 201:
                                break
                            assert answer.status_code == 503, answer.text
                        except httpx.TransportError:
                            pass  # the server is down: send again, as the clients do
                        assert time.monotonic() < deadline, "no 201 in 240 s"
                        time.sleep(0.1)
                    with lock:
                        acknowledged.extend(chunk)
        except BaseException as exc:
            failures.append(exc)

    producers = [threading.Thread(target=produce, args=(sends[i::4],)) for i in range(4)]
    for producer in producers:
        producer.start()
    rng = random.Random(17)
    for round_ in range(4):
        time.sleep(rng.uniform(0.3, 1.5))
        if round_ % 2 == 0:
            os.kill(live.normaliser_pid(), signal.SIGKILL)
        else:
            live.kill()
            live.start()
    for producer in producers:
        producer.join()
    assert failures == []
    live.wait_caught_up()
    live.stop()

    steward = Steward(Settings(home=home))
    fresh = Steward(Settings(home=tmp_path / "fresh"))
    fresh.upgrade()
    try:
        with steward.store.read() as conn:
            rows = conn.execute(
                sa.select(lineage_events.c.payload, lineage_events.c.apply_error).order_by(
                    lineage_events.c.id
                )
            ).all()
        stored = [raw_event(row.payload) for row in rows]
        assert {row.apply_error for row in rows} == {None}
        # Every acknowledged event is in the raw log (and nothing twice).
        assert {digest(e) for e in acknowledged} <= {digest(e) for e in stored}
        assert len({digest(e) for e in stored}) == len(stored) == len(events)
        # The graph is the one the raw log's events make one by one, in arrival order.
        for event in stored:
            ingest(fresh.store, parse_events([event], batch=False))
        assert graph_dump(steward.store) == graph_dump(fresh.store)
    finally:
        steward.close()
        fresh.close()
    verified = steward_cli(home, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
