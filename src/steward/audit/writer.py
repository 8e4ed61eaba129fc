"""Group commit for records that are not part of another change: queries, refusals, reads.

Callers in many threads call `AuditWriter.append(...)` (or `submit` a `Draft`) and
block until their record is durable. Whoever finds no group being written becomes the
writer for everything waiting (leader and followers, no thread of its own): it chains
them in arrival order, writes them in ONE transaction (one multi-row insert for the
records, one for their access rows, the head moved once), commits, and wakes each
caller with its sequence number. Records arriving while a group is being written form
the next group, so under load a commit carries many records, and a lone caller pays
one transaction as before. Nothing is acknowledged before its commit.

The group takes the chain's head row exactly as `log.record(conn, ...)` does inside
another change's transaction (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite), so
both kinds interleave into one gap-free chain, across threads and across processes
(`serve --workers N`: each process has its own writer; the head row orders them).

A record may bring writes of its own (`before`: the query's lineage), run in the
group's transaction before the records, so the head stays locked only for the end of
the transaction, as `record`'s "call it last" rule asks. If anything in a group fails,
the transaction rolls back, every caller of that group gets `AuditNotWritten` naming
the cause, and the chain continues from the unchanged head with the next group.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from steward.audit.log import Draft, append_after, append_to_head, draft
from steward.audit.models import Resource
from steward.errors import StewardError, StoreBusy
from steward.identity.models import Principal
from steward.store import Store

# Extra writes for a record, in the group's transaction; what they return (if anything)
# runs once the group has committed.
Before = Callable[[Connection], Callable[[], None] | None]

# The most records one transaction carries; the rest wait for the next group.
MAX_GROUP = 1_000


class AuditNotWritten(StoreBusy):
    """The group a record was written with failed: nothing of it was recorded."""


class _Waiting:
    __slots__ = ("before", "done", "draft", "error", "seq")

    def __init__(self, item: Draft, before: Before | None) -> None:
        self.draft = item
        self.before = before
        self.seq = 0
        self.error: BaseException | None = None
        self.done = False


class AuditWriter:
    """Appends records to the chain with group commit; one per `Steward` (per process)."""

    def __init__(self, store: Store, *, max_group: int = MAX_GROUP) -> None:
        self._store = store
        self._max_group = max_group
        self._turn = threading.Condition(threading.Lock())
        self._pending: list[_Waiting] = []
        self._writing = False
        # The leader's connection, kept between groups (only the leader uses it).
        self._conn: Connection | None = None
        # The chain's head as the last group left it (seq, hash): a guess the next group
        # checks as it moves the head (`append_after`); None when not known.
        self._head: tuple[int, str] | None = None
        # How many records the last group carried (more than one: callers are concurrent).
        self._last_group = 0
        # How many groups and records were committed (benchmarks, /metrics).
        self.groups = 0
        self.records = 0

    def close(self) -> None:
        """Return the kept connection to the pool (before the store is disposed)."""
        with self._turn:
            if self._conn is not None and not self._writing:
                self._conn.close()
                self._conn = None

    @property
    def writing(self) -> bool:
        """Whether a group is being written now."""
        return self._writing

    @property
    def waiting(self) -> int:
        """How many records wait for the next group."""
        with self._turn:
            return len(self._pending)

    def append(
        self,
        *,
        actor: Principal | None,
        action: str,
        resource: Resource | None = None,
        decision: str = "allowed",
        policy: str | None = None,
        details: Mapping[str, Any] | None = None,
        before: Before | None = None,
    ) -> int:
        """Append one record (see `log.record` for the fields); its seq, once committed."""
        made = draft(
            actor=actor,
            action=action,
            resource=resource,
            decision=decision,
            policy=policy,
            details=details,
        )
        return self.submit(made, before=before)

    def submit(self, item: Draft, *, before: Before | None = None) -> int:
        """Append a checked record; blocks until its group committed, then its seq."""
        mine = _Waiting(item, before)
        with self._turn:
            self._pending.append(mine)
        while True:
            with self._turn:
                while self._writing and not mine.done:
                    self._turn.wait()
                if mine.done:
                    break
                self._writing = True
            group: list[_Waiting] = []
            try:
                if self._last_group > 1:
                    # Others append too: hand the interpreter over once, so that callers
                    # about to submit (just woken by the last commit) join this group
                    # rather than wait for the next. A lone caller does not wait.
                    time.sleep(0)
                with self._turn:
                    group = self._pending[: self._max_group]
                    del self._pending[: self._max_group]
                    self._last_group = len(group)
                self._write(group)
            finally:
                with self._turn:
                    for waiting in group:
                        if not waiting.seq and waiting.error is None:
                            # The writing thread was interrupted before it knew.
                            waiting.error = StewardError("the audit writer was interrupted")
                        waiting.done = True
                    self._writing = False
                    self._turn.notify_all()
        if mine.error is not None:
            raise AuditNotWritten(
                f"the audit record could not be written ({mine.error}); nothing was"
                " recorded and the request was not answered; send it again"
            ) from mine.error
        return mine.seq

    def _write(self, group: list[_Waiting]) -> None:
        after: list[Callable[[], None]] = []
        held = self._conn
        if held is None:
            held = self._conn = self._store.writer_connection()
        try:
            drafts = [waiting.draft for waiting in group]
            if any(waiting.before is not None for waiting in group):
                self._head = None
                with self._store.write(held=held) as conn:
                    for waiting in group:
                        if waiting.before is not None:
                            hook = waiting.before(conn)
                            if hook is not None:
                                after.append(hook)
                    moved = append_to_head(conn, drafts)
                self._head = moved
            else:
                moved = self._append_on_driver(held, drafts)
            seqs = range(moved[0] - len(drafts) + 1, moved[0] + 1)
        except Exception as exc:
            # Start the next group on a fresh connection, whatever state this one is in.
            held.close()
            self._conn = None
            cause: BaseException = exc
            if not isinstance(exc, StewardError):
                cause = StewardError(f"{type(exc).__name__}: {_first_line(exc)}")
            for waiting in group:
                waiting.error = cause
            return
        for waiting, seq in zip(group, seqs, strict=True):
            waiting.seq = seq
        self.groups += 1
        self.records += len(group)
        for hook in after:
            hook()

    def _append_on_driver(self, held: Connection, drafts: list[Draft]) -> tuple[int, str]:
        """`drafts` chained in a transaction begun and committed on the driver's
        connection; the new head.

        A group of records alone is a few statements, and SQLAlchemy's begin and commit
        (events, a statement for BEGIN) cost as much again as they do; the locks and the
        BEGIN IMMEDIATE are the ones `store.write` takes.

        On PostgreSQL, where each statement is a round trip, the head as this writer last
        left it is tried first: `append_after` sends the head's move and the records in
        one pipeline (one round trip before the commit's); if another writer moved the head
        since, that attempt is rolled back and the group chained after the head as read.
        SQLite has no round trips to save, and its UPDATE ... RETURNING costs more than
        the read it would spare, so it reads the head each time.
        """
        driver: Any = held.connection.driver_connection
        sqlite = self._store.dialect == "sqlite"
        with self._store.writer_turn():
            guess, self._head = self._head, None
            if guess is not None and not sqlite:
                try:
                    with driver.pipeline():
                        moved = append_after(held, drafts, guess)
                except Exception:
                    moved = None
                if moved is not None:
                    driver.commit()
                    self._head = moved
                    return moved
                driver.rollback()
            if sqlite:
                driver.execute("BEGIN IMMEDIATE")
            try:
                moved = append_to_head(held, drafts)
            except BaseException:
                driver.rollback()
                raise
            driver.commit()
            self._head = moved
        return moved


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
