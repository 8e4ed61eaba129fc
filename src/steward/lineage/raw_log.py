"""The raw log's acknowledged write: calls' raw rows and their audit records, and group commit.

Every ingest call (a request, a library call) appends its raw rows and one
`lineage.ingest` audit record covering them, in one transaction. `append_calls` writes
several calls in ONE transaction with a handful of statements whatever their number
(one run-ownership check, one multi-row insert, one chain append, one update of the
rows' audit seqs), each call still with its own audit record and its own answer; a call
refused (a run of another job) stores nothing and leaves the others be.

`Appender` is the group commit over it (`store.group_commit`: leader and followers, no
thread of its own, as the audit log's `AuditWriter`): whoever finds no group being
written writes everything waiting, in arrival order, and wakes each caller with its
answer once committed.
Nothing is acknowledged before its commit; under load a commit carries many calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import append as chain_append
from steward.audit.log import draft
from steward.errors import Conflict, StewardError
from steward.identity.models import Principal
from steward.lineage.models import Poster
from steward.lineage.normaliser import refusal_when_behind
from steward.store import Store, fast
from steward.store.group_commit import GroupCommit
from steward.store.locks import one_writer_at_a_time
from steward.store.schema import lineage_events
from steward.store.upsert import insert_ignoring_conflicts

# The most raw rows one group transaction carries; later calls wait for the next group.
MAX_GROUP_ROWS = 5_000


@dataclass(frozen=True)
class IngestResult:
    """What one call stored: `duplicates` were already there, byte for byte in meaning."""

    received: int
    stored: int
    duplicates: int
    # The raw ids of the events stored (their order of arrival).
    ids: tuple[int, ...] = ()
    # The newest raw id when they were stored: a read that waits for it sees them.
    position: int = 0


@dataclass(frozen=True)
class Call:
    """One ingest call: its raw rows (`raw_rows`), how many events it held, who sent it."""

    rows: list[dict[str, Any]]
    received: int
    actor: Principal | None = None
    source: str = "openlineage"
    # Who posted the rows, when not `actor` (a poster kept from an earlier write).
    poster: Poster | None = None
    # Refuse (503, storing nothing) when more events than this wait for the normaliser.
    max_backlog: int | None = None
    # False for writes that record the change in an audit record of their own.
    audited: bool = True


def append_calls(conn: Connection, calls: list[Call]) -> list[IngestResult | StewardError]:
    """Append `calls` inside the caller's transaction, in order; each call's answer.

    A call refused (409: it names a run the raw log, or an earlier call or event, gives
    to another job) stores nothing and is answered with the error; the others are stored.
    """
    # Appends one at a time, so raw ids commit in the order they are given: the normaliser
    # reads past its cursor and must never find a smaller id committing after a larger one.
    one_writer_at_a_time(conn, "lineage.append")
    before = int(fast.one(conn, _HEAD_ID, {}).head or 0)
    limits = [call.max_backlog for call in calls if call.max_backlog is not None]
    behind = refusal_when_behind(conn, min(limits), head=before) if limits else None
    if behind is not None:
        return [behind] * len(calls)
    refusals = _refusals(conn, calls)
    received_at = datetime.now(UTC).replace(tzinfo=None)
    params: list[dict[str, Any]] = []
    owner: dict[str, int] = {}  # event hash -> the index of the call that stores it
    for index, call in enumerate(calls):
        if index in refusals:
            continue
        poster = call.poster or Poster.of(call.actor)
        extra = {"received_at": received_at, **poster.run_columns()}
        for row in call.rows:
            if row["event_hash"] not in owner:
                owner[row["event_hash"]] = index
                params.append({k: v for k, v in row.items() if k != "where"} | extra)
    ids_of: dict[int, list[int]] = {}
    head = before
    if params:
        # Plain statements on the driver's cursor (an executemany for many rows); under the
        # append lock the rows past the head before the insert are exactly this insert's.
        fast.run(conn, insert_ignoring_conflicts(conn, lineage_events, ["event_hash"]), params)
        for raw_id, digest in fast.tuples(conn, _STORED_AFTER, {"after": before}):
            ids_of.setdefault(owner[digest], []).append(int(raw_id))
            head = max(head, int(raw_id))
    outcomes: list[IngestResult | StewardError] = []
    for index, call in enumerate(calls):
        if index in refusals:
            outcomes.append(refusals[index])
            continue
        ids = tuple(sorted(ids_of.get(index, ())))
        outcomes.append(
            IngestResult(
                received=call.received,
                stored=len(ids),
                duplicates=call.received - len(ids),
                ids=ids,
                position=ids[-1] if ids else head,
            )
        )
    _audit(conn, calls, outcomes)
    return outcomes


def _audit(
    conn: Connection, calls: list[Call], outcomes: list[IngestResult | StewardError]
) -> None:
    """One `lineage.ingest` record per audited call, chained in call order; noted on its rows.

    Last in the transaction: the audit head stays locked only until commit.
    """
    audited = [
        (call, outcome)
        for call, outcome in zip(calls, outcomes, strict=True)
        if call.audited and isinstance(outcome, IngestResult) and outcome.received
    ]
    if not audited:
        return
    drafts = []
    for call, result in audited:
        jobs = sorted({f"{r['job_namespace']}:{r['job_name']}" for r in call.rows if r["job_name"]})
        details = {
            "source": call.source,
            "received": result.received,
            "stored": result.stored,
            "duplicates": result.duplicates,
            "jobs": jobs[:100],
        }
        drafts.append(draft(actor=call.actor, action="lineage.ingest", details=details))
    seqs = chain_append(conn, drafts)
    marks = [
        {"seq": seq, "first": result.ids[0], "last": result.ids[-1]}
        for (_call, result), seq in zip(audited, seqs, strict=True)
        if result.ids
    ]
    if marks:
        # A call's ids are the consecutive new ids of its rows (one insert, in call order).
        fast.run(conn, _SET_AUDIT_SEQ, marks)


def mark_audited(conn: Connection, result: IngestResult, seq: int) -> None:
    """Note on the raw rows `result` stored the audit record (`seq`) that covers them."""
    if result.ids:
        # Appends are one at a time: every id between a call's first and last is its own.
        first, last = result.ids[0], result.ids[-1]
        fast.run(conn, _SET_AUDIT_SEQ, {"seq": seq, "first": first, "last": last})


def _refusals(conn: Connection, calls: list[Call]) -> dict[int, StewardError]:
    """The calls naming a run that belongs to another job, by index, with their 409."""
    runs = sorted({r["run_id"] for call in calls for r in call.rows if r["run_id"] is not None})
    if not runs:
        return {}
    stored: dict[str, tuple[str, str]] = {}
    if len(runs) <= _FEW_RUNS:
        # A lookup by key each on the driver's cursor: cheaper than one IN for a few.
        found = [row for run in runs for row in fast.tuples(conn, _RUN_JOB, {"run": run})]
    else:
        found = list(conn.execute(_RUN_JOBS, {"runs": runs}))
    for run_id, namespace, name in found:
        stored.setdefault(run_id, (namespace, name))
    refusals: dict[int, StewardError] = {}
    claimed = dict(stored)  # run -> job, growing with each call accepted
    for index, call in enumerate(calls):
        mine: dict[str, tuple[str, str]] = {}
        for row in call.rows:
            run_id = row["run_id"]
            if run_id is None:
                continue
            job = (row["job_namespace"], row["job_name"])
            owner = claimed.get(run_id) or mine.setdefault(run_id, job)
            if owner != job:
                refusals[index] = run_of_another_job(row, owner)
                break
        else:
            claimed.update(mine)
    return refusals


def run_of_another_job(row: dict[str, Any], owner: tuple[str, str]) -> Conflict:
    """The 409 for an event naming a run that belongs to another job."""
    return Conflict(
        f"{row['where']}run.runId: run {row['run_id']} belongs to job {owner[0]}/{owner[1]};"
        f" this event names job {row['job_namespace']}/{row['job_name']}"
        " (a run id may not be reused by another job; send a new runId)"
    )


_SET_AUDIT_SEQ = (
    lineage_events.update()
    .where(lineage_events.c.id.between(sa.bindparam("first"), sa.bindparam("last")))
    .values(audit_seq=sa.bindparam("seq"))
)
_HEAD_ID = sa.select(sa.func.max(lineage_events.c.id).label("head"))
_STORED_AFTER = (
    sa.select(lineage_events.c.id, lineage_events.c.event_hash)
    .where(lineage_events.c.id > sa.bindparam("after"))
    .order_by(lineage_events.c.id)
)
_FEW_RUNS = 16
_RUN_JOB = (
    sa.select(lineage_events.c.run_id, lineage_events.c.job_namespace, lineage_events.c.job_name)
    .where(lineage_events.c.run_id == sa.bindparam("run"))
    .limit(1)
)
_RUN_JOBS = (
    sa.select(lineage_events.c.run_id, lineage_events.c.job_namespace, lineage_events.c.job_name)
    .where(lineage_events.c.run_id.in_(sa.bindparam("runs", expanding=True)))
    .distinct()
)


class Appender(GroupCommit[Call, IngestResult]):
    """Group commit of ingest calls; one per `Steward` (per process)."""

    def __init__(self, store: Store, *, max_rows: int = MAX_GROUP_ROWS) -> None:
        super().__init__(
            store, name="lineage appender", most=max_rows, weight=lambda call: len(call.rows)
        )
        # How many groups and calls were written (benchmarks, tests).
        self.groups = 0
        self.calls = 0

    def append(self, call: Call) -> IngestResult:
        """Store `call` (raw rows and audit record) and return once it is committed.

        Raises what refused it (409), or what failed its group's transaction (nothing of
        it stored).
        """
        outcome = self._commit(call)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def append_async(self, make: Callable[[], Call]) -> IngestResult:
        """`append` from a coroutine: the courier thread makes the call (`make()`, the
        request's decoding and validation; what it raises is raised here) and appends it
        with the others that arrived together, so the caller makes no thread hop of its
        own and the event loop does none of the work."""
        outcome = await self._commit_async(make)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def _write_group(self, items: list[Call]) -> list[IngestResult | BaseException]:
        try:
            outcomes = self._write(items)
        except BaseException as exc:
            outcomes = [exc] * len(items)
        self.groups += 1
        self.calls += len(items)
        return outcomes

    def _write(self, calls: list[Call]) -> list[IngestResult | BaseException]:
        held = self._kept()
        try:
            with self._store.write(held=held) as conn:
                return list(append_calls(conn, calls))
        except BaseException as exc:
            # Start the next group on a fresh connection, whatever state this one is in.
            self._drop_kept()
            if len(calls) == 1 or not isinstance(exc, StewardError):
                raise
        # The group's transaction failed (nothing of it stored): each call alone, so one
        # call's failure is its own.
        outcomes: list[IngestResult | BaseException] = []
        for call in calls:
            try:
                with self._store.write() as conn:
                    outcomes.append(append_calls(conn, [call])[0])
            except StewardError as exc:
                outcomes.append(exc)
        return outcomes
