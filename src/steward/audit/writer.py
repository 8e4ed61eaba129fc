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

import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection

from steward.audit.log import Draft, append_after, append_to_head, draft
from steward.audit.models import Resource
from steward.errors import StewardError, StoreBusy
from steward.identity.models import Principal
from steward.store import Store
from steward.store.group_commit import GroupCommit

# Extra writes for a record, in the group's transaction; what they return (if anything)
# runs once the group has committed.
Before = Callable[[Connection], Callable[[], None] | None]

# The most records one transaction carries; the rest wait for the next group.
MAX_GROUP = 1_000


class AuditNotWritten(StoreBusy):
    """The group a record was written with failed: nothing of it was recorded."""


class _Queued(NamedTuple):
    draft: Draft
    before: Before | None


class AuditWriter(GroupCommit[_Queued, int]):
    """Appends records to the chain with group commit; one per `Steward` (per process)."""

    def __init__(self, store: Store, *, max_group: int = MAX_GROUP) -> None:
        super().__init__(store, name="audit writer", most=max_group)
        # The chain's head as the last group left it (seq, hash): a guess the next group
        # checks as it moves the head (`append_after`); None when not known.
        self._head: tuple[int, str] | None = None
        # What the records' `before` returned, run once their group has committed.
        self._after: list[Callable[[], None]] = []
        # How many groups and records were committed (benchmarks, /metrics).
        self.groups = 0
        self.records = 0

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
        outcome = self._commit(_Queued(item, before))
        if isinstance(outcome, BaseException):
            raise AuditNotWritten(
                f"the audit record could not be written ({outcome}); nothing was"
                " recorded and the request was not answered; send it again"
            ) from outcome
        return outcome

    def _before_group(self) -> None:
        if self._last_group > 1:
            # Others append too: hand the interpreter over once, so that callers about to
            # submit (just woken by the last commit) join this group rather than wait for
            # the next. A lone caller does not wait.
            time.sleep(0)

    def _write_group(self, items: list[_Queued]) -> list[int | BaseException]:
        after: list[Callable[[], None]] = []
        self._after = []
        held = self._kept()
        try:
            drafts = [queued.draft for queued in items]
            if any(queued.before is not None for queued in items):
                self._head = None
                with self._store.write(held=held) as conn:
                    for queued in items:
                        if queued.before is not None:
                            hook = queued.before(conn)
                            if hook is not None:
                                after.append(hook)
                    moved = append_to_head(conn, drafts)
                self._head = moved
            else:
                moved = self._append_on_driver(held, drafts)
            seqs = range(moved[0] - len(drafts) + 1, moved[0] + 1)
        except Exception as exc:
            # Start the next group on a fresh connection, whatever state this one is in.
            self._drop_kept()
            cause: BaseException = exc
            if not isinstance(exc, StewardError):
                cause = StewardError(f"{type(exc).__name__}: {_first_line(exc)}")
            return [cause] * len(items)
        self.groups += 1
        self.records += len(items)
        self._after = after
        return list(seqs)

    def _after_group(self) -> None:
        after, self._after = self._after, []
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
