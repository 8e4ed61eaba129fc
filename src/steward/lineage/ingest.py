"""The write path: decode, validate and append OpenLineage events to the raw log.

An event is acknowledged once its raw row and the audit record covering it are durable
(one short transaction); the normaliser (`lineage.normaliser`) builds the graph from the
raw log behind it, in order of arrival.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import record
from steward.errors import Conflict, InvalidEvent
from steward.identity.models import Principal
from steward.lineage.apply import Applier
from steward.lineage.models import (
    DatasetEvent,
    Event,
    Poster,
    RunEvent,
    event_kind,
    parse_event,
)
from steward.store import Store
from steward.store.locks import one_writer_at_a_time
from steward.store.schema import lineage_events
from steward.store.upsert import insert_ignoring_conflicts


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
class ParsedEvent:
    """One validated event with its canonical JSON (sorted keys), the basis of its identity."""

    event: Event
    data: dict[str, Any]
    canonical: bytes
    where: str = ""  # `events[3].` in a batch: how an error names this event

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical).hexdigest()


def decode_events(body: bytes) -> list[Any]:
    """A JSON object, a JSON array of objects, or NDJSON (one object a line), decoded."""
    text = body.strip()
    if not text:
        raise InvalidEvent("body: empty; send a JSON event, a JSON array or NDJSON")
    try:
        decoded = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if text[:1] != b"{":
            raise InvalidEvent(f"body: not valid JSON ({exc})") from None
        decoded = _decode_ndjson(text)
    events = decoded if isinstance(decoded, list) else [decoded]
    if not events:
        raise InvalidEvent("body: no events; send a JSON event, a JSON array or NDJSON")
    return events


def _decode_ndjson(text: bytes) -> list[Any]:
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise InvalidEvent(f"line {number}: not valid JSON ({exc})") from None
    return events


def parse_events(decoded: list[Any], *, batch: bool) -> list[ParsedEvent]:
    """Validate every event before anything is stored; errors name the event and field."""
    parsed = []
    for index, data in enumerate(decoded):
        where = f"events[{index}]." if batch else ""
        event = parse_event(data, where=where)
        canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        if b"\\u0000" in canonical:
            # PostgreSQL text and JSON cannot hold NUL; refuse it on every backend alike.
            raise InvalidEvent(f"{where or 'event'}: NUL characters (\\u0000) are not allowed")
        parsed.append(ParsedEvent(event, data, canonical, where))
    return parsed


def refuse_future_events(
    events: list[ParsedEvent], *, max_future_seconds: float, batch: bool, now: datetime
) -> None:
    """Refuse the call when an event's eventTime is further ahead of `now` than allowed.

    OpenLineage clients stamp events with a real clock; a time far ahead would make the
    event's facts outlive whatever is stated after it (a later run, a catalog sync).
    """
    latest = now + timedelta(seconds=max_future_seconds)
    for index, item in enumerate(events):
        when = item.event.eventTime
        if when > latest:
            where = f"events[{index}].eventTime" if batch else "eventTime"
            raise InvalidEvent(
                f"{where}: {when.isoformat()}Z is more than {max_future_seconds:g} seconds"
                f" ahead of the server's clock ({now.isoformat()}Z); send the time the"
                " event happened"
            )


def raw_rows(events: list[ParsedEvent]) -> list[dict[str, Any]]:
    """The raw log's rows for `events` (the first of identical events only), without the
    arrival time and poster the append adds; `where` names each event in errors."""
    rows: dict[str, dict[str, Any]] = {}
    for item in events:
        digest = item.digest
        if digest not in rows:
            rows[digest] = _event_row(digest, item)
    return list(rows.values())


def prepare_body(
    body: bytes, *, batch: bool, max_future_seconds: float | None, now: datetime
) -> tuple[int, list[dict[str, Any]]]:
    """Decode and validate a request body into raw rows: how many events it held, and them.

    Pure (no store, no shared state), so it runs in a process pool beside the writer.
    With `max_future_seconds`, an event time further ahead of `now` refuses the body.
    """
    decoded = decode_events(body)
    if not batch and len(decoded) != 1:
        raise InvalidEvent(
            "body: one event per request here; send several to /api/v1/lineage/batch"
        )
    events = parse_events(decoded, batch=batch)
    if max_future_seconds is not None:
        refuse_future_events(events, max_future_seconds=max_future_seconds, batch=batch, now=now)
    return len(events), raw_rows(events)


def warm_up() -> None:
    """Nothing: submitted once to the parse processes so they start before the first body."""


def ingest_body(
    store: Store,
    body: bytes,
    *,
    batch: bool,
    actor: Principal | None = None,
    max_future_seconds: float | None = None,
    normalise: bool = True,
) -> IngestResult:
    """Decode, validate and store a request body: one event, or (`batch`) many.

    With `max_future_seconds`, an event time further ahead than that refuses the whole
    body, storing nothing. `normalise` as in `ingest`.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    received, rows = prepare_body(body, batch=batch, max_future_seconds=max_future_seconds, now=now)
    result = append(store, rows, received=received, actor=actor)
    if normalise:
        from steward.lineage.normaliser import normalise_pending

        normalise_pending(store)
    return result


def ingest(
    store: Store,
    events: list[ParsedEvent],
    *,
    actor: Principal | None = None,
    source: str = "openlineage",
    normalise: bool = True,
) -> IngestResult:
    """Store `events` in the raw log in one transaction; an event already stored changes nothing.

    The raw event is kept (compressed) with who posted it, and one `lineage.ingest` audit
    record sums up the call (not one per event). With `normalise` (library and CLI
    callers, which have no normaliser behind them) the graph is then built up to these
    events before returning; `steward serve` passes False and its normaliser builds it.
    """
    result = append(store, raw_rows(events), received=len(events), actor=actor, source=source)
    if normalise:
        from steward.lineage.normaliser import normalise_pending

        normalise_pending(store)
    return result


def append(
    store: Store,
    rows: list[dict[str, Any]],
    *,
    received: int,
    actor: Principal | None = None,
    source: str = "openlineage",
) -> IngestResult:
    """The acknowledged path: raw rows and their audit record, in one short transaction."""
    with store.write() as conn:
        result = append_rows(conn, rows, received=received, poster=Poster.of(actor))
        if result.received:
            jobs = sorted({f"{r['job_namespace']}:{r['job_name']}" for r in rows if r["job_name"]})
            # Last in the transaction: the audit head stays locked only until commit.
            seq = record(
                conn,
                actor=actor,
                action="lineage.ingest",
                details={
                    "source": source,
                    "received": result.received,
                    "stored": result.stored,
                    "duplicates": result.duplicates,
                    "jobs": jobs[:100],
                },
            )
            mark_audited(conn, result, seq)
    return result


def mark_audited(conn: Connection, result: IngestResult, seq: int) -> None:
    """Note on the raw rows `result` stored the audit record (`seq`) that covers them."""
    if result.ids:
        # Appends are one at a time: every id between a call's first and last is its own.
        first, last = result.ids[0], result.ids[-1]
        conn.execute(_SET_AUDIT_SEQ, {"seq": seq, "first": first, "last": last})


def append_rows(
    conn: Connection, rows: list[dict[str, Any]], *, received: int, poster: Poster | None = None
) -> IngestResult:
    """Insert raw rows inside the caller's transaction; duplicates (by hash) are skipped.

    Refuses (409, storing nothing) an event naming a run that the raw log, or an earlier
    event of the same call, gives to another job: a run has one job.
    """
    if not rows:
        return IngestResult(received=received, stored=0, duplicates=received)
    # Appends one at a time, so raw ids commit in the order they are given: the normaliser
    # reads past its cursor and must never find a smaller id committing after a larger one.
    one_writer_at_a_time(conn, "lineage.append")
    _refuse_runs_of_other_jobs(conn, rows)
    poster = poster or Poster()
    received_at = datetime.now(UTC).replace(tzinfo=None)
    extra = {
        "received_at": received_at,
        "principal_user": poster.user,
        "principal_groups": poster.groups,
        "principal_token": poster.token_id,
    }
    params = [{k: v for k, v in row.items() if k != "where"} | extra for row in rows]
    insert = insert_ignoring_conflicts(conn, lineage_events, ["event_hash"])
    ids = sorted(
        int(i) for i in conn.execute(insert.returning(lineage_events.c.id), params).scalars()
    )
    # Appends are one at a time: the ids just stored are the newest (no query for them).
    head = ids[-1] if ids else int(conn.execute(_HEAD_ID).scalar() or 0)
    return IngestResult(
        received=received,
        stored=len(ids),
        duplicates=received - len(ids),
        ids=tuple(ids),
        position=head,
    )


_SET_AUDIT_SEQ = (
    lineage_events.update()
    .where(lineage_events.c.id.between(sa.bindparam("first"), sa.bindparam("last")))
    .values(audit_seq=sa.bindparam("seq"))
)
_HEAD_ID = sa.select(sa.func.max(lineage_events.c.id))
_RUN_JOBS = (
    sa.select(lineage_events.c.run_id, lineage_events.c.job_namespace, lineage_events.c.job_name)
    .where(lineage_events.c.run_id.in_(sa.bindparam("runs", expanding=True)))
    .distinct()
)


def _refuse_runs_of_other_jobs(conn: Connection, rows: list[dict[str, Any]]) -> None:
    claimed: dict[str, tuple[str, str]] = {}
    for row in rows:
        run_id = row["run_id"]
        if run_id is None:
            continue
        job = (row["job_namespace"], row["job_name"])
        owner = claimed.setdefault(run_id, job)
        if owner != job:
            raise run_of_another_job(row, owner)
    if not claimed:
        return
    for run_id, namespace, name in conn.execute(_RUN_JOBS, {"runs": list(claimed)}):
        if (namespace, name) != claimed[run_id]:
            row = next(r for r in rows if r["run_id"] == run_id and r["job_name"] != name)
            raise run_of_another_job(row, (namespace, name))


def run_of_another_job(row: dict[str, Any], owner: tuple[str, str]) -> Conflict:
    """The 409 for an event naming a run that belongs to another job."""
    return Conflict(
        f"{row['where']}run.runId: run {row['run_id']} belongs to job {owner[0]}/{owner[1]};"
        f" this event names job {row['job_namespace']}/{row['job_name']}"
        " (a run id may not be reused by another job; send a new runId)"
    )


def store_events(
    conn: Connection, events: list[ParsedEvent], *, poster: Poster | None = None
) -> tuple[IngestResult, Learned]:
    """Store `events` and build the graph up to them, inside the caller's transaction.

    For writes that state lineage as part of another change (a catalog sync, a schema
    registration). The caller calls `commit_learned()` on the returned value once its
    transaction committed, so that ids learned here are remembered only if they exist.
    """
    from steward.lineage.normaliser import apply_pending

    result = append_rows(conn, raw_rows(events), received=len(events), poster=poster)
    learned = Learned()
    while True:
        applied = apply_pending(conn, limit=5000)
        learned.appliers.extend(applied.appliers)
        if not applied.count:
            return result, learned


@dataclass
class Learned:
    """The appliers of a transaction, whose learned ids are kept once it commits."""

    appliers: list[Applier] = field(default_factory=list)

    def commit_learned(self) -> None:
        """Remember the ids the transaction stored; call only after it committed."""
        for applier in self.appliers:
            applier.commit_learned()


def _event_row(digest: str, item: ParsedEvent) -> dict[str, Any]:
    event = item.event
    run_id = str(event.run.runId) if isinstance(event, RunEvent) else None
    job = None if isinstance(event, DatasetEvent) else event.job
    return {
        "event_hash": digest,
        "event_kind": event_kind(event),
        "event_type": event.eventType if isinstance(event, RunEvent) else None,
        "event_time": event.eventTime,
        "run_id": run_id,
        "job_namespace": job.namespace if job else None,
        "job_name": job.name if job else None,
        "producer": event.producer,
        "size": len(item.canonical),
        "payload": zlib.compress(item.canonical, 1),
        "where": item.where,
    }


def raw_event(payload: bytes) -> Any:
    """A stored event's JSON, decompressed and decoded."""
    return orjson.loads(zlib.decompress(payload))
