"""Group commit: callers in many threads share write transactions (leader and followers).

A caller queues its item and blocks. Whoever finds no group being written becomes the
leader (no thread of its own): it takes the waiting items in arrival order, as many as
the size rule lets one group hold, writes them in one go on a writer connection it keeps
between groups, answers each item with its outcome (a result, or the exception that
failed it), and wakes everyone. Items arriving meanwhile form the next group, so under
load a transaction carries many items, and a lone caller pays one transaction as before.
An item whose leader was interrupted before it knew the outcome is answered with an
error, so no caller waits for ever.

A subclass says how a group is written (`_write_group`), and may hand the interpreter
over before a group is taken (`_before_group`); it reads the outcome its caller gets
from `_commit`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.engine import Connection

from steward.errors import StewardError
from steward.store.database import Store

ItemT = TypeVar("ItemT")
ResultT = TypeVar("ResultT")


class _Waiting(Generic[ItemT, ResultT]):
    __slots__ = ("done", "item", "outcome")

    def __init__(self, item: ItemT) -> None:
        self.item = item
        self.outcome: ResultT | BaseException | None = None
        self.done = False


class GroupCommit(ABC, Generic[ItemT, ResultT]):
    """Leader/follower group commit of items; what a group is and how it is written is the
    subclass's.

    Args:
        name: what the writer is called in the error of an interrupted group.
        most: the most one group holds, counted in items, or in `weight` when given.
        weight: an item's size against `most`; a group holds at least one item.
    """

    def __init__(
        self,
        store: Store,
        *,
        name: str,
        most: int,
        weight: Callable[[ItemT], int] | None = None,
    ) -> None:
        if most < 1:
            raise ValueError(f"a group must be allowed at least one item (most={most})")
        self._store = store
        self._name = name
        self._most = most
        self._weight = weight
        self._turn = threading.Condition(threading.Lock())
        self._pending: list[_Waiting[ItemT, ResultT]] = []
        self._writing = False
        # The leader's connection, kept between groups (only the leader uses it).
        self._conn: Connection | None = None
        # How many items the last group taken held (more than one: callers are concurrent).
        self._last_group = 0

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
        """How many items wait for the next group."""
        with self._turn:
            return len(self._pending)

    def _commit(self, item: ItemT) -> ResultT | BaseException:
        """Queue `item` and block until its group was written; its outcome."""
        mine: _Waiting[ItemT, ResultT] = _Waiting(item)
        with self._turn:
            self._pending.append(mine)
        while True:
            with self._turn:
                while self._writing and not mine.done:
                    self._turn.wait()
                if mine.done:
                    break
                self._writing = True
            group: list[_Waiting[ItemT, ResultT]] = []
            try:
                self._before_group()
                with self._turn:
                    group = self._take()
                    self._last_group = len(group)
                outcomes = self._write_group([waiting.item for waiting in group])
                for waiting, outcome in zip(group, outcomes, strict=True):
                    waiting.outcome = outcome
                self._after_group()
            finally:
                with self._turn:
                    for waiting in group:
                        if waiting.outcome is None:
                            # The leader was interrupted before it knew.
                            waiting.outcome = StewardError(f"the {self._name} was interrupted")
                        waiting.done = True
                    self._writing = False
                    self._turn.notify_all()
        assert mine.outcome is not None
        return mine.outcome

    def _take(self) -> list[_Waiting[ItemT, ResultT]]:
        """The next group off the front of the queue (the caller holds `_turn`)."""
        count = self._most
        if self._weight is not None:
            count, size = 0, 0
            for waiting in self._pending:
                size += self._weight(waiting.item)
                if count and size > self._most:
                    break
                count += 1
        group = self._pending[:count]
        del self._pending[:count]
        return group

    def _kept(self) -> Connection:
        """The leader's writer connection, opened when none is kept."""
        if self._conn is None:
            self._conn = self._store.writer_connection()
        return self._conn

    def _drop_kept(self) -> None:
        """Close the kept connection, whatever state it is in: the next group opens another."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _before_group(self) -> None:
        """Run by the leader before it takes a group (nothing by default)."""

    @abstractmethod
    def _write_group(self, items: list[ItemT]) -> Sequence[ResultT | BaseException]:
        """Write `items` (one group, in arrival order); each one's outcome, in that order."""

    def _after_group(self) -> None:
        """Run by the leader once the group's outcomes are set (nothing by default)."""
