"""Several API processes under load: `steward serve --workers 3` as a real process, on
PostgreSQL and on the embedded SQLite store, 8 producers at once.

Producers post OpenLineage events one at a time and in batches, run governed queries and
post Trino query events (audit appends) for ~20 s, all against the same few jobs and
datasets so that the three processes race on the same rows. Afterwards what a user would
check holds: every acknowledged run is in the graph with its job's latest run right,
every acknowledged call left its one audit record, `steward audit verify` passes, the
sequence numbers run 1..N without a gap, the audit exports of the three processes wrote
each record once, and no request failed or timed out.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.audit.checkpoints import CHECKPOINT_FILE, audit_home
from steward.config import Settings
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from tests.openlineage_events import dataset, run_event
from tests.query.conftest import make_lake

STEWARD = [sys.executable, "-m", "steward.cli"]
WORKERS = 3
PRODUCERS = 8
SECONDS = 20.0
# On a busy machine the load runs on past SECONDS, up to this, until every kind of call
# was acknowledged MIN_CALLS times: the checks need them all to have raced.
MAX_SECONDS = 60.0
MIN_CALLS = 3
JOBS = [f"load_job_{i}" for i in range(4)]
TABLES = [f"warehouse.table_{i}" for i in range(6)]
POLICY = """\
roles:
  analyst: {groups: [analysts-eu]}
grants:
  - roles: [analyst]
    select: ["lake.crm.*"]
masks:
  - columns: [email]
    mask: email
"""
KINDS = ["single", "batch", "query", "trino"]
TRINO_EVENT = Path(__file__).parent / "audit" / "fixtures" / "trino_select_masked.json"


@dataclass
class Server:
    url: str
    admin: str
    env: dict[str, str]
    database_url: str
    home: Path
    jsonl: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["postgresql", "sqlite"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """`steward serve --workers 3` on a fresh database (PostgreSQL, or the home's SQLite
    file), its audit duties every second."""
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    if request.param == "postgresql":
        database_url = str(request.getfixturevalue("empty_database"))
        env["STEWARD_DATABASE_URL"] = database_url
    else:
        database_url = Settings(home=home).sqlalchemy_url
    env.update(
        STEWARD_HOME=str(home),
        # Every process runs the audit duties every second: checkpoints and exports race.
        STEWARD_AUDIT_WORKER_SECONDS="1",
        STEWARD_AUDIT_CHECKPOINT_EVERY="10",
        STEWARD_AUDIT_JSONL_PATH=str(tmp_path / "audit.jsonl"),
    )
    port = _free_port()
    # stderr (the request log) goes to a file: a pipe nobody reads would stall the server.
    with (tmp_path / "serve.log").open("w") as log:
        command = [*STEWARD, "serve", "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(
            [*command, "--workers", str(WORKERS)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdout is not None
    admin = process.stdout.readline().strip()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_workers(url, process, tmp_path / "serve.log")
        yield Server(url, admin, env, database_url, home, tmp_path / "audit.jsonl")
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _wait_for_workers(url: str, process: subprocess.Popen[str], log: Path) -> None:
    """Until /health answers; the workers start one import each, on two shared cores."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"steward serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("steward serve --workers did not answer /health in 90 s")


class Clock:
    """Event times that increase across every producer, so 'latest' has one answer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next = datetime(2024, 5, 1, tzinfo=UTC)

    def tick(self) -> str:
        with self._lock:
            self._next += timedelta(milliseconds=1)
            return self._next.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Acknowledged:
    """What the server said it took, and every failure seen, across all producers."""

    runs: dict[str, str] = field(default_factory=dict)  # run id -> job
    latest: dict[str, tuple[str, str]] = field(default_factory=dict)  # job -> (time, run id)
    calls: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def took(self, kind: str, events: list[dict[str, Any]]) -> None:
        with self.lock:
            self.calls[kind] += 1
            for event in events:
                job, run_id, when = event["job"]["name"], event["run"]["runId"], event["eventTime"]
                self.runs[run_id] = job
                if job not in self.latest or when > self.latest[job][0]:
                    self.latest[job] = (when, run_id)

    def enough(self) -> bool:
        with self.lock:
            return min(self.calls[kind] for kind in KINDS) >= MIN_CALLS

    def failed(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


def _run_events(clock: Clock, rng: random.Random) -> list[dict[str, Any]]:
    """A run's START and COMPLETE, of a job shared by every producer, on shared tables."""
    job, run_id = rng.choice(JOBS), str(uuid.uuid4())
    read, written = rng.sample(TABLES, 2)
    inputs = [dataset("postgres://db:5432", read, ["id", "amount"])]
    outputs = [
        dataset(
            "s3://lake",
            written,
            ["id", "amount"],
            column_lineage={"amount": [("postgres://db:5432", read, "amount")]},
        )
    ]
    return [
        run_event(
            job,
            event_type=state,
            run_id=run_id,
            inputs=inputs,
            outputs=outputs,
            event_time=clock.tick(),
        )
        for state in ("START", "COMPLETE")
    ]


def _produce(index: int, server: Server, analyst: str, clock: Clock, acked: Acknowledged) -> None:
    """One producer: single events, batches, governed queries and Trino events in turn."""
    rng = random.Random(index)
    trino = json.loads(TRINO_EVENT.read_text())
    admin = {"Authorization": f"Bearer {server.admin}"}
    kinds = itertools.cycle(KINDS[index % 4 :] + KINDS[: index % 4])
    with httpx.Client(base_url=server.url, timeout=30) as client:
        started = time.monotonic()
        while _going_on(time.monotonic() - started, acked):
            kind = next(kinds)
            try:
                if kind == "single":
                    events = _run_events(clock, rng)
                    for event in events:
                        answer = client.post("/api/v1/lineage", json=event, headers=admin)
                        _check(answer, 201, kind, acked)
                        if answer.status_code == 201:
                            acked.took(kind, [event])
                elif kind == "batch":
                    events = [e for _ in range(5) for e in _run_events(clock, rng)]
                    rng.shuffle(events)
                    answer = client.post("/api/v1/lineage/batch", json=events, headers=admin)
                    if _check(answer, 201, kind, acked):
                        acked.took(kind, events)
                elif kind == "query":
                    answer = client.post(
                        "/api/v1/query",
                        json={"sql": "SELECT id, email FROM lake.crm.customers"},
                        headers={"Authorization": f"Bearer {analyst}"},
                    )
                    if _check(answer, 200, kind, acked):
                        acked.took(kind, [])
                else:
                    trino["metadata"]["queryId"] = f"load_{index}_{uuid.uuid4().hex}"
                    answer = client.post("/api/v1/audit/trino", json=trino, headers=admin)
                    if _check(answer, 201, kind, acked):
                        acked.took(kind, [])
            except httpx.HTTPError as exc:
                acked.failed(f"{kind}: {type(exc).__name__} {exc}")


def _going_on(elapsed: float, acked: Acknowledged) -> bool:
    return elapsed < SECONDS or (elapsed < MAX_SECONDS and not acked.enough())


def _check(answer: httpx.Response, expected: int, kind: str, acked: Acknowledged) -> bool:
    if answer.status_code == expected:
        return True
    acked.failed(f"{kind}: {answer.status_code} {answer.text[:300]}")
    return False


def _load(server: Server, analyst: str) -> Acknowledged:
    acked, clock = Acknowledged(), Clock()
    producers = [
        threading.Thread(target=_produce, args=(i, server, analyst, clock, acked))
        for i in range(PRODUCERS)
    ]
    for producer in producers:
        producer.start()
    for producer in producers:
        producer.join()
    return acked


def _stored_runs(client: httpx.Client) -> dict[str, set[str]]:
    """Every job's runs as the API lists them."""
    found: dict[str, set[str]] = defaultdict(set)
    for job in JOBS:
        offset = 0
        while True:
            answer = client.get(
                f"/api/v1/jobs/etl/{quote(job, safe='')}/runs",
                params={"limit": 1000, "offset": offset, "consistent": "true"},
            )
            assert answer.status_code == 200, answer.text
            runs = answer.json()["runs"]
            found[job] |= {run["id"] for run in runs}
            if len(runs) < 1000:
                break
            offset += 1000
    return found


@pytest.mark.slow  # three server processes under eight producers
def test_three_workers_under_eight_producers_lose_nothing_and_keep_one_chain(
    server: Server,
) -> None:
    steward = Steward(Settings(home=server.home, database_url=server.database_url))
    try:
        make_lake(steward)
        apply(steward.store, POLICY, actor=None)
        analyst = create_token(steward.store, user="ann", groups=["analysts-eu"]).secret
    finally:
        steward.close()

    acked = _load(server, analyst)

    assert acked.failures == [], f"{len(acked.failures)} failures, first: {acked.failures[:5]}"
    assert acked.enough(), acked.calls
    admin = {"Authorization": f"Bearer {server.admin}"}
    with httpx.Client(base_url=server.url, timeout=60, headers=admin) as client:
        stored = _stored_runs(client)
        for run_id, job in acked.runs.items():
            assert run_id in stored[job], f"acknowledged run {run_id} of {job} is not stored"
        for job, (_, run_id) in acked.latest.items():
            answer = client.get(f"/api/v1/jobs/etl/{quote(job, safe='')}")
            assert answer.json()["latestRun"]["id"] == run_id, f"{job}'s latest run was lost"
        records = _audit_counts(client)

    ingests = acked.calls["single"] + acked.calls["batch"]
    assert records["lineage.ingest openlineage"] == ingests
    assert records["query"] == acked.calls["query"] + acked.calls["trino"]

    verify = subprocess.run(
        [*STEWARD, "audit", "verify"], env=server.env, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    engine = sa.create_engine(server.database_url)
    with engine.connect() as conn:
        seqs = conn.execute(sa.text("SELECT seq FROM audit_records ORDER BY seq")).scalars().all()
        head = conn.execute(sa.text("SELECT seq FROM audit_head")).scalar_one()
    engine.dispose()
    assert seqs == list(range(1, len(seqs) + 1))
    assert head == len(seqs)
    # The background duties ran in turn, never twice at once: once the export caught up,
    # it holds each record once, in order; checkpoints are signed in the chain's order.
    exported = _exported_when_caught_up(server, head)
    assert len(exported) >= head
    assert exported == list(range(1, len(exported) + 1))
    signed = [json.loads(line)["seq"] for line in _checkpoint_file(server).read_text().splitlines()]
    assert len(signed) >= 2
    assert signed == sorted(set(signed))


def _audit_counts(client: httpx.Client) -> Counter[str]:
    """How many records of each action the log holds (by the API, every page)."""
    counts: Counter[str] = Counter()
    offset = 0
    while True:
        page = client.get("/api/v1/audit", params={"limit": 1000, "offset": offset}).json()
        counts.update(_kind(record) for record in page["records"])
        if len(page["records"]) < 1000:
            return counts
        offset += 1000


def _kind(record: dict[str, Any]) -> str:
    """A record's action, and for ingests where the events came from (producers, queries)."""
    if record["action"] == "lineage.ingest":
        return f"lineage.ingest {record['details']['source']}"
    return str(record["action"])


def _checkpoint_file(server: Server) -> Path:
    return audit_home(server.home) / CHECKPOINT_FILE


def _exported_when_caught_up(server: Server, head: int) -> list[int]:
    """The sequence numbers in the JSON lines export, once it reached `head` (or 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        text = server.jsonl.read_text() if server.jsonl.exists() else ""
        exported = [json.loads(line)["seq"] for line in text.splitlines()]
        if len(exported) >= head or time.monotonic() > deadline:
            return exported
        time.sleep(0.5)
