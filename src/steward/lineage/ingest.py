"""The write path: decode, validate and append OpenLineage events to the raw log.

An event is acknowledged once its raw row and the audit record covering it are durable
(one short transaction); the normaliser (`lineage.normaliser`) builds the graph from the
raw log behind it, in order of arrival.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from steward.errors import InvalidEvent, StewardError
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
from steward.lineage.payload import pack, unpack
from steward.lineage.raw_log import Call, IngestResult, append_calls, mark_audited
from steward.store import Store

# Defined with the raw log's writes; callers import them from here.
__all__ = ["IngestResult", "mark_audited"]


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
    """The acknowledged path: raw rows and their audit record, in one short transaction.

    `steward serve` goes through its `Appender` instead (group commit, the same writes).
    """
    with store.write() as conn:
        outcome = append_calls(conn, [Call(rows, received, actor, source)])[0]
    if isinstance(outcome, StewardError):
        raise outcome
    return outcome


def append_rows(
    conn: Connection, rows: list[dict[str, Any]], *, received: int, poster: Poster | None = None
) -> IngestResult:
    """Insert raw rows inside the caller's transaction, without an audit record (the
    caller's change records itself); duplicates (by hash) are skipped.

    Refuses (409, storing nothing) an event naming a run that the raw log, or an earlier
    event of the same call, gives to another job: a run has one job.
    """
    if not rows:
        return IngestResult(received=received, stored=0, duplicates=received)
    outcome = append_calls(conn, [Call(rows, received, poster=poster, audited=False)])[0]
    if isinstance(outcome, StewardError):
        raise outcome
    return outcome


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
        "payload": pack(item.canonical),
        "where": item.where,
    }


def raw_event(payload: bytes) -> Any:
    """A stored event's JSON, decompressed and decoded."""
    return orjson.loads(unpack(payload))
