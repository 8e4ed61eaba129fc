"""Ingest's group commit: calls written together keep their own answers and audit records."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa

from steward.app import Steward
from steward.audit.checkpoints import Signer
from steward.audit.verify import verify
from steward.errors import Conflict
from steward.identity.models import Principal
from steward.lineage.ingest import prepare_body
from steward.lineage.raw_log import Call, IngestResult, append_calls
from steward.store.schema import audit_records, lineage_events
from tests.openlineage_events import run_event

ANA = Principal(user="ana", groups=frozenset({"etl"}), token_id="tok_ana")
BOB = Principal(user="bob", groups=frozenset({"bi"}), token_id="tok_bob")
NOW = datetime.now(UTC).replace(tzinfo=None)


def call(events: list[dict[str, object]], actor: Principal) -> Call:
    received, rows = prepare_body(
        orjson.dumps(events), batch=True, max_future_seconds=None, now=NOW
    )
    return Call(rows, received, actor)


def ingest_records(steward: Steward) -> list[sa.Row[tuple[int, str | None, str]]]:
    with steward.store.read() as conn:
        query = (
            sa.select(audit_records.c.seq, audit_records.c.actor_user, audit_records.c.details)
            .where(audit_records.c.action == "lineage.ingest")
            .order_by(audit_records.c.seq)
        )
        return list(conn.execute(query))


def raw_rows(steward: Steward) -> list[sa.Row[tuple[int, str | None, int | None]]]:
    with steward.store.read() as conn:
        query = sa.select(
            lineage_events.c.id, lineage_events.c.principal_user, lineage_events.c.audit_seq
        ).order_by(lineage_events.c.id)
        return list(conn.execute(query))


def test_calls_written_together_each_keep_their_answer_and_audit_record(
    steward: Steward,
) -> None:
    first = run_event("load", run_id="00000000-0000-4000-8000-000000000001")
    # The same run id under another job: refused, whoever else is in the group.
    stolen = run_event("other", run_id="00000000-0000-4000-8000-000000000001")
    second = run_event("load", run_id="00000000-0000-4000-8000-000000000002")
    calls = [
        call([first], ANA),
        call([stolen], BOB),
        call([second, second], BOB),
        call([first], BOB),
    ]
    with steward.store.write() as conn:
        outcomes = append_calls(conn, calls)

    stored, refused, repeated, duplicate = outcomes
    assert isinstance(refused, Conflict)
    assert "belongs to job etl/load" in refused.message
    assert isinstance(stored, IngestResult)
    assert (stored.stored, stored.duplicates) == (1, 0)
    assert isinstance(repeated, IngestResult)
    assert (repeated.stored, repeated.duplicates) == (1, 1)
    assert isinstance(duplicate, IngestResult)
    assert (duplicate.stored, duplicate.duplicates) == (
        0,
        1,
    )
    # One record per call that was stored, in call order, by its poster; nothing of the
    # refused call.
    records = ingest_records(steward)
    assert [(r.actor_user, orjson.loads(r.details)["stored"]) for r in records] == [
        ("ana", 1),
        ("bob", 1),
        ("bob", 0),
    ]
    rows = raw_rows(steward)
    assert [(r.id, r.principal_user, r.audit_seq) for r in rows] == [
        (stored.ids[0], "ana", records[0].seq),
        (repeated.ids[0], "bob", records[1].seq),
    ]
    assert duplicate.position == repeated.ids[0]


def test_concurrent_single_events_keep_one_record_each_and_one_chain(steward: Steward) -> None:
    threads, per_thread = 6, 20
    failures: list[BaseException] = []
    results: list[tuple[Principal, IngestResult]] = []

    def send(index: int) -> None:
        actor = ANA if index % 2 else BOB
        try:
            for i in range(per_thread):
                event = run_event(f"job_{index}_{i}", event_time=f"2024-05-01T00:{i:02d}:00Z")
                results.append((actor, steward.lineage_appender.append(call([event], actor))))
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=send, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert failures == []
    assert steward.lineage_appender.calls == threads * per_thread
    records = ingest_records(steward)
    assert len(records) == threads * per_thread
    by_seq = {r.seq: r for r in records}
    rows = raw_rows(steward)
    assert len(rows) == threads * per_thread
    # Each row points at its own call's record, by its poster; arrival order is chain order.
    assert len({r.audit_seq for r in rows}) == len(rows)
    assert [r.audit_seq for r in rows] == sorted(r.audit_seq for r in rows)
    for row in rows:
        assert by_seq[row.audit_seq].actor_user == row.principal_user
    assert sorted(r.ids[0] for _, r in results) == [r.id for r in rows]
    result = verify(steward.store, Signer.load(steward.settings.home), steward.settings.home)
    assert result.ok, result.message
