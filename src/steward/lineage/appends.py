"""Group commit for lineage appends: single events from many producers share a commit.

Callers in many threads call `AppendGroup.append(...)` and block until their rows are
durable. Whoever finds no group being written becomes the writer for everything waiting
(leader and followers, no thread of its own, as `audit.writer.AuditWriter`): it appends
each caller's rows and audit record in arrival order, each in a savepoint of ONE
transaction, commits, and wakes each caller with its result. A caller whose append is
refused (a run of another job: 409) gets that error and nothing of it is stored; the
others are unaffected. If the commit itself fails, every caller of that group gets the
error and nothing of the group was stored. Nothing is acknowledged before its commit.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import sqlalchemy as sa

from steward.errors import StewardError, WriteConflict
from steward.identity.models import Principal
from steward.lineage.ingest import IngestResult, append_in
from steward.store import Store
from steward.store.database import conflict_detail

# The most appends one transaction carries; the rest wait for the next group.
MAX_GROUP = 256


class _Waiting:
    __slots__ = ("actor", "done", "error", "received", "result", "rows")

    def __init__(self, rows: list[dict[str, Any]], received: int, actor: Principal | None):
        self.rows = rows
        self.received = received
        self.actor = actor
        self.result: IngestResult | None = None
        self.error: BaseException | None = None
        self.done = False


class AppendGroup:
    """The group committer of one store, shared by the threads of one process."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._changed = threading.Condition()
        self._queue: list[_Waiting] = []
        self._writing = False
        driver: Any = store.engine.dialect.dbapi
        self._refused = (StewardError, sa.exc.IntegrityError, driver.IntegrityError)

    def append(
        self, rows: list[dict[str, Any]], *, received: int, actor: Principal | None = None
    ) -> IngestResult:
        """As `ingest.append`, in a group: returns once the rows are durable."""
        mine = _Waiting(rows, received, actor)
        with self._changed:
            self._queue.append(mine)
            while not mine.done and self._writing:
                self._changed.wait()
            if not mine.done:
                self._writing = True
                group, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
        if not mine.done:
            try:
                self._write(group)
            finally:
                with self._changed:
                    for item in group:
                        item.done = True
                    self._writing = False
                    self._changed.notify_all()
        if mine.error is not None:
            raise mine.error
        assert mine.result is not None
        return mine.result

    def _write(self, group: list[_Waiting]) -> None:
        try:
            with self._store.write() as conn:
                for item in group:
                    try:
                        with conn.begin_nested():
                            item.result = append_in(
                                conn, item.rows, received=item.received, actor=item.actor
                            )
                    except self._refused as exc:
                        item.error = _refusal(exc)
        except BaseException as exc:  # the commit failed: nothing of the group is stored
            for item in group:
                item.result = None
                item.error = exc
            if not isinstance(exc, Exception):
                raise


def _refusal(exc: BaseException) -> BaseException:
    """A user-facing error for one refused append (as `Store.write` words it alone)."""
    if isinstance(exc, StewardError):
        return exc
    return WriteConflict(
        f"the write conflicts with what is stored ({conflict_detail(exc)}); nothing was written"
    )


_GROUPS: weakref.WeakKeyDictionary[Store, AppendGroup] = weakref.WeakKeyDictionary()
_GROUPS_LOCK = threading.Lock()


def append_grouped(
    store: Store, rows: list[dict[str, Any]], *, received: int, actor: Principal | None = None
) -> IngestResult:
    """`ingest.append` through the store's group committer (the HTTP ingest path)."""
    with _GROUPS_LOCK:
        group = _GROUPS.get(store)
        if group is None:
            group = _GROUPS[store] = AppendGroup(store)
    return group.append(rows, received=received, actor=actor)
