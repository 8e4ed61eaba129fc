"""Appends from many threads share commits; one refused append leaves the others stored."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa

from steward.app import Steward
from steward.errors import Conflict
from steward.lineage.appends import append_grouped
from steward.lineage.ingest import prepare_body
from steward.store.schema import audit_records, lineage_events
from tests.openlineage_events import run_event

RUN = "0190f5e2-0000-7000-8000-00000000abcd"


def rows_of(event: dict[str, object]) -> tuple[int, list[dict[str, object]]]:
    now = datetime.now(UTC).replace(tzinfo=None)
    return prepare_body(orjson.dumps(event), batch=False, max_future_seconds=None, now=now)


def test_concurrent_appends_each_get_their_own_answer(steward: Steward) -> None:
    store = steward.store
    received, rows = rows_of(run_event("owner", run_id=RUN))
    append_grouped(store, rows, received=received)
    events = [run_event(f"job_{i}", event_time=f"2024-05-01T00:{i:02d}:00Z") for i in range(7)]
    # The fourth names the run of another job: refused (409), alone.
    events.insert(3, run_event("thief", run_id=RUN, event_type="START"))
    bodies = [rows_of(event) for event in events]
    start = threading.Barrier(len(bodies))
    answers: dict[int, object] = {}

    def post(index: int) -> None:
        start.wait()
        received, rows = bodies[index]
        try:
            answers[index] = append_grouped(store, rows, received=received)
        except Exception as exc:
            answers[index] = exc

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert isinstance(answers[3], Conflict)
    assert "belongs to job etl/owner" in str(answers[3])
    stored = [answers[i] for i in range(len(bodies)) if i != 3]
    assert all(getattr(answer, "stored", None) == 1 for answer in stored)
    with store.read() as conn:
        raw = conn.execute(
            sa.select(lineage_events.c.job_name, lineage_events.c.audit_seq, lineage_events.c.id)
        ).all()
        audited = conn.execute(
            sa.select(audit_records.c.seq).where(audit_records.c.action == "lineage.ingest")
        ).scalars()
        seqs = set(audited)
    names = sorted(row.job_name for row in raw)
    assert names == sorted(["owner", *(f"job_{i}" for i in range(7))])
    # Every stored event names its own audit record; nothing of the refused one is recorded.
    assert len({row.audit_seq for row in raw}) == len(raw) == len(seqs)
    assert {row.audit_seq for row in raw} == seqs
    positions = sorted(getattr(answer, "position", 0) for answer in stored)
    assert positions == sorted({row.id for row in raw if row.job_name != "owner"})


def test_a_duplicate_in_a_group_is_a_duplicate(steward: Steward) -> None:
    repeat = 2
    received, rows = rows_of(run_event("again", event_time="2024-05-01T01:00:00Z"))
    start = threading.Barrier(repeat)
    answers = []

    def post() -> None:
        start.wait()
        answers.append(append_grouped(steward.store, rows, received=received))

    threads = [threading.Thread(target=post) for _ in range(repeat)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((a.stored, a.duplicates) for a in answers) == [(0, 1), (1, 0)]
