"""The write path: decode, validate and store OpenLineage events, one transaction per call."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.engine import Connection

from steward.audit.log import record
from steward.errors import Conflict, InvalidEvent, WriteConflict
from steward.identity.models import Principal
from steward.lineage.apply import Applier, RunOfAnotherJob
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


# How often an ingest that lost a race to a concurrent writer of the same rows tries again.
_RACE_ATTEMPTS = 5


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


def ingest_body(
    store: Store,
    body: bytes,
    *,
    batch: bool,
    actor: Principal | None = None,
    max_future_seconds: float | None = None,
) -> IngestResult:
    """Decode, validate and store a request body: one event, or (`batch`) many.

    With `max_future_seconds`, an event time further ahead than that refuses the whole
    body, storing nothing.
    """
    decoded = decode_events(body)
    if not batch and len(decoded) != 1:
        raise InvalidEvent(
            "body: one event per request here; send several to /api/v1/lineage/batch"
        )
    events = parse_events(decoded, batch=batch)
    if max_future_seconds is not None:
        now = datetime.now(UTC).replace(tzinfo=None)
        refuse_future_events(events, max_future_seconds=max_future_seconds, batch=batch, now=now)
    return ingest(store, events, actor=actor)


def ingest(
    store: Store,
    events: list[ParsedEvent],
    *,
    actor: Principal | None = None,
    source: str = "openlineage",
) -> IngestResult:
    """Store `events` in one transaction; an event already stored changes nothing.

    The raw event is kept (compressed); namespaces, datasets, schema versions, jobs,
    versions, runs, edges and column edges are derived from it in the same transaction,
    with one `lineage.ingest` audit record summing up the call (not one per event).
    """
    for attempt in range(_RACE_ATTEMPTS):
        try:
            return _ingest_once(store, events, actor=actor, source=source)
        except WriteConflict:
            # Two writers both saw a run or a dataset as new and the other stored it
            # first; this transaction left nothing behind, and now finds the row.
            if attempt == _RACE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _ingest_once(
    store: Store, events: list[ParsedEvent], *, actor: Principal | None, source: str
) -> IngestResult:
    with store.write() as conn:
        result, applier = store_events(conn, events, poster=Poster.of(actor))
        if result.received:
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
                    "jobs": sorted({job for item in events if (job := _job_name(item.event))})[
                        :100
                    ],
                },
            )
            if result.ids:
                conn.execute(
                    lineage_events.update()
                    .where(lineage_events.c.id.in_(result.ids))
                    .values(audit_seq=seq)
                )
    if applier is not None:
        applier.commit_learned()
    return result


def store_events(
    conn: Connection, events: list[ParsedEvent], *, poster: Poster | None = None
) -> tuple[IngestResult, Applier | None]:
    """Store `events` inside the caller's transaction (see `ingest`).

    The caller calls `commit_learned()` on the returned applier once its transaction
    committed, so that ids learned here are remembered only if they exist.
    """
    # The applier reads jobs, runs and datasets, merges in memory and writes them back:
    # concurrent writers (PostgreSQL, several workers) would overwrite each other's
    # merges, and row locks taken in event order can deadlock; so one at a time, as on SQLite.
    one_writer_at_a_time(conn, "lineage")
    unique: dict[str, ParsedEvent] = {}
    for item in events:
        unique.setdefault(item.digest, item)
    received_at = datetime.now(UTC).replace(tzinfo=None)
    poster = poster or Poster()
    rows = [_event_row(digest, item, received_at, poster) for digest, item in unique.items()]
    if not rows:
        return IngestResult(received=len(events), stored=0, duplicates=0), None
    insert = insert_ignoring_conflicts(conn, lineage_events, ["event_hash"])
    result = conn.execute(insert.returning(lineage_events.c.id, lineage_events.c.event_hash), rows)
    new = {row.event_hash: int(row.id) for row in result}
    fresh = [item for digest, item in unique.items() if digest in new]
    # Applying in event time order lets a later run replace an earlier run's edges.
    fresh.sort(key=lambda item: item.event.eventTime)
    applier = Applier(conn)
    for item in fresh:
        try:
            applier.apply(item.event, item.data, poster)
        except RunOfAnotherJob as exc:
            if not item.where:
                raise
            raise Conflict(f"{item.where}{exc.message}") from None
    applier.flush()
    stored = IngestResult(
        received=len(events),
        stored=len(fresh),
        duplicates=len(events) - len(fresh),
        ids=tuple(sorted(new.values())),
    )
    return stored, applier


def _job_name(event: Event) -> str | None:
    job = None if isinstance(event, DatasetEvent) else event.job
    return f"{job.namespace}:{job.name}" if job else None


def _event_row(
    digest: str, item: ParsedEvent, received_at: datetime, poster: Poster
) -> dict[str, Any]:
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
        "received_at": received_at,
        "size": len(item.canonical),
        "payload": zlib.compress(item.canonical, 1),
        "principal_user": poster.user,
        "principal_groups": poster.groups,
        "principal_token": poster.token_id,
    }


def raw_event(payload: bytes) -> Any:
    """A stored event's JSON, decompressed and decoded."""
    return orjson.loads(zlib.decompress(payload))
