"""What graph reads wait for, and when ingest refuses: the edge of `lineage.normaliser`.

A 201 from ingest carries the raw log position of its events (`Steward-Lineage-Position`
header, `position` in the JSON, and a cookie). A graph read waits until the graph holds
that position when the request echoes it (the header, or the cookie a client keeps), and
until it holds everything stored so far with `?consistent=true`; for at most
`lineage_consistency_wait_seconds`, then 503 with `Retry-After`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from steward.api.auth import steward_of
from steward.errors import InvalidInput, TryLater
from steward.lineage.normaliser import (
    normalise_pending,
    position,
    refusal_when_behind,
    wait_until,
)
from steward.store import Store

if TYPE_CHECKING:
    from steward.app import Steward

POSITION_HEADER = "Steward-Lineage-Position"
POSITION_COOKIE = "steward_lineage_position"
_INGEST = frozenset({"/api/v1/lineage", "/api/v1/lineage/batch"})
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def _position(request: Request) -> int | None:
    """The position the request echoes (header first, then cookie), or None."""
    header = request.headers.get(POSITION_HEADER)
    if header is not None:
        if not header.strip().isdigit():
            raise InvalidInput(f"{POSITION_HEADER}: {header!r} is not a raw log position")
        return int(header)
    cookie = request.cookies.get(POSITION_COOKIE, "")
    # A cookie is the client's own memory; one that is not a number is ignored, not refused.
    return int(cookie) if cookie.isdigit() else None


async def consistent_read(request: Request) -> None:
    """Before any request but ingest, wait for the graph to hold what the request asks:
    the position it echoes (read-your-writes), or with `?consistent=true` everything
    stored so far. Ingest never waits (a producer keeping the cookie would queue each
    event behind the normaliser), nor `/metrics` (it reports the backlog).

    Deciding whether to wait runs on the event loop; only a read of the store (when the
    request asks for a position) goes to a worker thread, so most requests make no hop.
    """
    path = request.url.path.rstrip("/")
    if (request.method == "POST" and path in _INGEST) or path == "/metrics":
        return
    asked = request.query_params.get("consistent", "").strip().lower()
    if asked not in _TRUE | _FALSE:
        raise InvalidInput(f"consistent: {asked!r} is not true or false")
    echoed = _position(request)
    if asked not in _TRUE and echoed is None:
        return
    await run_in_threadpool(_wait_for, steward_of(request), echoed, everything=asked in _TRUE)


def _wait_for(steward: Steward, echoed: int | None, *, everything: bool) -> None:
    """Wait until the graph holds `echoed` (or, with `everything`, all stored so far)."""
    store = steward.store
    with store.read() as conn:
        at = position(conn)
    # A position past the head is from another store (an old cookie): wait for the head.
    target = at.head_id if everything or echoed is None else min(echoed, at.head_id)
    if at.applied_id >= target:
        return
    if steward.settings.lineage_normaliser == "inline":
        normalise_pending(store)
    wait = steward.settings.lineage_consistency_wait_seconds
    if not wait_until(store, target, timeout=wait):
        raise TryLater(
            f"lineage: the graph has not yet caught up to position {target} after"
            f" {wait:g} s (the normaliser is behind); read again shortly, or without"
            " consistent=true and the position header to read what is built",
            retry_after=max(1, math.ceil(wait)),
        )


def refuse_when_behind(store: Store, max_backlog: int) -> None:
    """503 with Retry-After when more than `max_backlog` events wait for the normaliser."""
    with store.read() as conn:
        refusal = refusal_when_behind(conn, max_backlog)
    if refusal is not None:
        raise refusal
