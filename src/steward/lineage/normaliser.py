"""The normaliser: builds the lineage graph from the raw log, in large batches, behind ingest.

Raw events are applied in order of arrival (their id). `lineage_cursor` holds the last id
applied and is written in the transaction of the batch that applied it: a crash re-applies
nothing and loses nothing. An event the graph cannot take (it contradicts what is stored)
keeps the reason in `lineage_events.apply_error` and the cursor moves past it.

`steward serve` runs `follow` in a process of its own (the second core); library and CLI
callers call `normalise_pending` inline; `wait_until` gives reads their consistency.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import StewardError, TryLater
from steward.lineage.apply import Applier
from steward.lineage.models import Event, Poster, parse_event
from steward.lineage.payload import unpack
from steward.store import Store, fast
from steward.store.locks import exclusive
from steward.store.schema import lineage_cursor, lineage_events

log = logging.getLogger("steward.lineage.normaliser")

# Events applied per transaction at most: large enough that a commit serves many events.
BATCH = 1000
# What the worker aims a batch's write transaction at: SQLite has one write lock, and an
# append waiting behind a batch waits this long (plus SQLite's busy-wait step) at most.
BATCH_SECONDS = 0.08
# The fewest events a batch of the worker takes, however slow applying them is.
MIN_BATCH = 16

_CURSOR = sa.select(lineage_cursor.c.applied_id).where(lineage_cursor.c.id == 1)
_PENDING = (
    sa.select(
        lineage_events.c.id,
        lineage_events.c.payload,
        lineage_events.c.principal_user,
        lineage_events.c.principal_groups,
        lineage_events.c.principal_token,
    )
    .where(lineage_events.c.id > sa.bindparam("after"))
    .order_by(lineage_events.c.id)
    .limit(sa.bindparam("limit"))
)
_HEAD = sa.select(sa.func.max(lineage_events.c.id))
_CURSOR_ROW = sa.select(lineage_cursor.c.applied_id).where(lineage_cursor.c.id == 1)
_HEAD_ROW = sa.select(sa.func.max(lineage_events.c.id).label("head"))


@dataclass
class Applied:
    """What one batch applied: how many raw events, up to which id, with which appliers."""

    count: int = 0
    applied_id: int = 0
    appliers: list[Applier] = field(default_factory=list)
    failed: int = 0
    # How long the write transaction applying it took (normalise_once only).
    seconds: float = 0.0


@dataclass(frozen=True)
class _Pending:
    raw_id: int
    event: Event | None
    data: dict[str, Any]
    poster: Poster
    error: str | None


def _pending(row: Any) -> _Pending:
    poster = Poster(row.principal_user, row.principal_groups, row.principal_token)
    try:
        data = orjson.loads(unpack(row.payload))
        return _Pending(int(row.id), parse_event(data), data, poster, None)
    except (StewardError, ValueError) as exc:  # PayloadError is a ValueError
        message = exc.message if isinstance(exc, StewardError) else str(exc)
        return _Pending(int(row.id), None, {}, poster, f"cannot be read: {message}")


def _apply(conn: Connection, items: list[_Pending]) -> Applier:
    applier = Applier(conn)
    applier.prefetch([item.event for item in items if item.event is not None])
    for item in items:
        assert item.event is not None
        applier.apply(item.event, item.data, item.poster)
    applier.flush()
    return applier


def read_pending(conn: Connection, *, limit: int = BATCH) -> tuple[int, list[_Pending]]:
    """The cursor and up to `limit` raw events past it, decompressed, decoded and validated.

    Needs no write lock: the worker prepares a batch in a read snapshot, then applies it in
    a short write transaction (`apply_pending(prepared=...)`). Appends commit raw ids in
    order, so the events past a cursor never gain a smaller id later.
    """
    after = int(conn.execute(_CURSOR).scalar_one())
    rows = conn.execute(_PENDING, {"after": after, "limit": limit}).all()
    return after, [_pending(row) for row in rows]


def apply_pending(
    conn: Connection,
    *,
    limit: int = BATCH,
    prepared: tuple[int, list[_Pending]] | None = None,
) -> Applied:
    """Apply up to `limit` raw events past the cursor inside the caller's transaction.

    The cursor row is locked (PostgreSQL) or the write lock held (SQLite) until the caller
    commits: two appliers never build the graph at once. `prepared` is what `read_pending`
    read before the transaction; it is used only if the cursor has not moved since.
    """
    after = int(conn.execute(_CURSOR.with_for_update()).scalar_one())
    if prepared is not None and prepared[0] == after:
        items = prepared[1]
    else:
        rows = conn.execute(_PENDING, {"after": after, "limit": limit}).all()
        items = [_pending(row) for row in rows]
    if not items:
        return Applied(applied_id=after)
    readable = [item for item in items if item.event is not None]
    errors = {item.raw_id: item.error for item in items if item.error is not None}
    appliers: list[Applier] = []
    driver: Any = conn.dialect.dbapi
    refused = (StewardError, sa.exc.IntegrityError, driver.IntegrityError)
    try:
        with conn.begin_nested():
            appliers.append(_apply(conn, readable))
    except refused:
        # One event contradicts the graph: apply them one at a time and set that one aside.
        for item in readable:
            try:
                with conn.begin_nested():
                    appliers.append(_apply(conn, [item]))
            except refused as exc:
                message = exc.message if isinstance(exc, StewardError) else str(exc)
                errors[item.raw_id] = message
    if errors:
        log.warning("lineage: %d raw events could not be applied: %s", len(errors), errors)
        conn.execute(
            lineage_events.update().where(lineage_events.c.id == sa.bindparam("raw_id")),
            [{"raw_id": raw_id, "apply_error": message} for raw_id, message in errors.items()],
        )
    last = items[-1].raw_id
    conn.execute(
        lineage_cursor.update()
        .where(lineage_cursor.c.id == 1)
        .values(applied_id=last, applied_at=_now())
    )
    return Applied(count=len(items), applied_id=last, appliers=appliers, failed=len(errors))


def normalise_once(store: Store, *, limit: int = BATCH) -> Applied:
    """One batch in one transaction; ids it learned are remembered once it committed.

    The batch is read, decoded and validated first, in a read snapshot, so the write
    transaction (SQLite's one write lock) holds only the applying and the cursor's move.
    """
    with store.read() as conn:
        prepared = read_pending(conn, limit=limit)
    if not prepared[1]:
        return Applied(applied_id=prepared[0])
    began = time.perf_counter()
    with store.write() as conn:
        applied = apply_pending(conn, limit=limit, prepared=prepared)
    applied.seconds = time.perf_counter() - began
    for applier in applied.appliers:
        applier.commit_learned()
    return applied


def normalise_pending(store: Store, *, limit: int = BATCH) -> int:
    """Build the graph up to the raw head as it is now; how many raw events were applied."""
    with store.read() as conn:
        head = int(conn.execute(_HEAD).scalar() or 0)
    total = 0
    while True:
        applied = normalise_once(store, limit=limit)
        total += applied.count
        if not applied.count or applied.applied_id >= head:
            return total


@dataclass(frozen=True)
class Position:
    """How far the graph is built: the last raw id applied, and the newest raw id."""

    applied_id: int
    head_id: int


def position(conn: Connection) -> Position:
    """The cursor and the raw head, read in one snapshot."""
    applied = int(conn.execute(_CURSOR).scalar_one())
    head = int(conn.execute(_HEAD).scalar() or 0)
    return Position(applied, max(head, applied))


@dataclass(frozen=True)
class Backlog:
    """Raw events not yet applied, and how long the oldest of them has waited."""

    events: int
    lag_seconds: float


def backlog(conn: Connection, *, at_most: int | None = None) -> Backlog:
    """The normaliser's backlog; with `at_most`, counting stops past that many events."""
    applied = int(conn.execute(_CURSOR).scalar_one())
    pending = sa.select(lineage_events.c.id).where(lineage_events.c.id > applied)
    if at_most is not None:
        pending = pending.limit(at_most + 1)
    events = int(
        conn.execute(sa.select(sa.func.count()).select_from(pending.subquery())).scalar_one()
    )
    oldest = conn.execute(
        sa.select(lineage_events.c.received_at)
        .where(lineage_events.c.id > applied)
        .order_by(lineage_events.c.id)
        .limit(1)
    ).scalar()
    lag = max(0.0, (_now() - oldest).total_seconds()) if oldest is not None else 0.0
    return Backlog(events, lag)


def refusal_when_behind(
    conn: Connection, max_backlog: int, *, head: int | None = None
) -> TryLater | None:
    """The 503 (with Retry-After) for ingest when more than `max_backlog` events wait for
    the normaliser, else None; `head` is the newest raw id when the caller knows it."""
    applied = int(fast.one(conn, _CURSOR_ROW, {}).applied_id)
    if head is None:
        head = int(fast.one(conn, _HEAD_ROW, {}).head or 0)
    # Raw ids past the cursor bound the backlog from above (PostgreSQL skips ids a
    # duplicate took): below the limit, nothing to count, two index lookups a call.
    if head - applied < max_backlog:
        return None
    behind = backlog(conn, at_most=max_backlog)
    if behind.events < max_backlog:
        return None
    return TryLater(
        f"lineage: {behind.events} events wait to be built into the graph (the limit,"
        f" lineage_max_backlog, is {max_backlog}; the oldest waits"
        f" {behind.lag_seconds:.0f} s); nothing was stored, send the events again later",
        retry_after=max(1, min(60, math.ceil(behind.lag_seconds / 4) or 1)),
    )


def wait_until(store: Store, raw_id: int, *, timeout: float, poll: float = 0.01) -> bool:
    """Wait until the graph holds raw event `raw_id` (and all before it); False on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        with store.read() as conn:
            if int(conn.execute(_CURSOR).scalar_one()) >= raw_id:
                return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)


def head_id(store: Store) -> int:
    """The newest raw id: what a `?consistent=true` read waits for."""
    with store.read() as conn:
        return int(conn.execute(_HEAD).scalar() or 0)


def follow(
    store: Store,
    *,
    stopping: Callable[[], bool] = lambda: False,
    limit: int = BATCH,
    idle: float = 0.05,
    gather: float = 0.05,
    batch_seconds: float = BATCH_SECONDS,
) -> None:
    """The normaliser worker: apply batches as raw events arrive, until `stopping()`.

    A batch is sized by time, not count: as many events (up to `limit`) as the last
    batches applied in `batch_seconds`, so an append never waits long for the write lock.
    On PostgreSQL one process holds the normaliser lock; any other waits for it, so with
    several servers exactly one normalises at a time.
    """
    size = min(limit, 100)
    while not stopping():
        with exclusive(store, "lineage.normaliser") as mine:
            if not mine:
                time.sleep(1.0)
                continue
            while not stopping():
                try:
                    # A read first: the write lock (SQLite's only one) is taken only when
                    # there is something to apply, never to find out that there is not.
                    with store.read() as conn:
                        at = position(conn)
                    if at.applied_id >= at.head_id:
                        time.sleep(idle)
                        continue
                    asked = size
                    applied = normalise_once(store, limit=asked)
                    if applied.count and applied.seconds > 0:
                        fits = int(applied.count * batch_seconds / applied.seconds)
                        # Grow gently (a cold batch is slow), shrink at once.
                        size = max(MIN_BATCH, min(limit, fits, size * 2))
                    if applied.count < asked:
                        # Caught up: let appends take the write lock and events gather
                        # into the next batch, rather than take it for every few events.
                        time.sleep(gather)
                except (StewardError, sa.exc.OperationalError) as exc:
                    # The store is busy or unreachable for now: nothing was applied; retry.
                    log.warning("lineage normaliser: %s; retrying", exc)
                    time.sleep(1.0)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
