"""Group commit: callers in many threads share write transactions (leader and followers).

A caller queues its item and blocks. Whoever finds no group being written becomes the
leader (no thread of its own): it takes the waiting items in arrival order, as many as
the size rule lets one group hold, writes them in one go on a writer connection it keeps
between groups, answers each item with its outcome (a result, or the exception that
failed it), and wakes everyone. Items arriving meanwhile form the next group, so under
load a transaction carries many items, and a lone caller pays one transaction as before.
An item whose leader was interrupted before it knew the outcome is answered with an
error, so no caller waits for ever.

A coroutine hands the courier, a thread of the group commit's own started on first use
(`_commit_async`), a function making its item: the courier makes everything that arrived
together (the callers' CPU work, off the event loop), waits for it as one caller, and
wakes the event loop once per group. So a request that appends makes no thread hop of
its own (a hop costs ~0.2 ms of CPU, more than a small append).

A subclass says how a group is written (`_write_group`), and may hand the interpreter
over before a group is taken (`_before_group`); it reads the outcome its caller gets
from `_commit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

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

    def answer(self) -> ResultT | BaseException:
        """The outcome, once done."""
        assert self.outcome is not None
        return self.outcome


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
        # Coroutines' items and their futures, for the courier thread (`_commit_async`).
        self._inbox: queue.SimpleQueue[tuple[Callable[[], ItemT], asyncio.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._courier: threading.Thread | None = None

    def close(self) -> None:
        """Stop the courier once what it carries is written, and return the kept
        connection to the pool (before the store is disposed)."""
        courier = self._courier
        if courier is not None:
            self._inbox.put(None)
            courier.join(timeout=30)
            self._courier = None
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
        return self._commit_all([item])[0]

    def _commit_all(self, items: Sequence[ItemT]) -> list[ResultT | BaseException]:
        """Queue `items` (in order) and block until every one was written; their outcomes."""
        mine: list[_Waiting[ItemT, ResultT]] = [_Waiting(item) for item in items]
        self._wait_for(mine)
        return [waiting.answer() for waiting in mine]

    def _wait_for(
        self, mine: list[_Waiting[ItemT, ResultT]], *, leader_raises: bool = True
    ) -> None:
        """Queue `mine` and lead or follow until each has its outcome. A group this caller
        led that raised out of its write is answered as interrupted; the exception goes on
        to the caller, unless not `leader_raises` (the courier: it writes the rest).
        """
        with self._turn:
            self._pending.extend(mine)
        while True:
            with self._turn:
                while self._writing and not all(waiting.done for waiting in mine):
                    self._turn.wait()
                if all(waiting.done for waiting in mine):
                    break
                self._writing = True
            group: list[_Waiting[ItemT, ResultT]] = []
            try:
                self._lead_one(group)
            except BaseException:
                if leader_raises:
                    raise
            finally:
                with self._turn:
                    for waiting in group:
                        if waiting.outcome is None:
                            # The leader was interrupted before it knew.
                            waiting.outcome = StewardError(f"the {self._name} was interrupted")
                        waiting.done = True
                    self._writing = False
                    self._turn.notify_all()

    def _lead_one(self, group: list[_Waiting[ItemT, ResultT]]) -> None:
        """As the leader: take one group (into `group`), write it, set its outcomes."""
        self._before_group()
        with self._turn:
            group.extend(self._take())
            self._last_group = len(group)
        outcomes = self._write_group([waiting.item for waiting in group])
        for waiting, outcome in zip(group, outcomes, strict=True):
            waiting.outcome = outcome
        self._after_group()

    async def _commit_async(self, make: Callable[[], ItemT]) -> ResultT | BaseException:
        """`_commit` for a coroutine, without a thread of its own: the courier thread makes
        the item (`make()`: where a caller's CPU work goes, off the event loop; what it
        raises is the outcome), waits for everything that arrived together as one caller,
        and wakes the event loop once per group, not once per item."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ResultT | BaseException] = loop.create_future()
        with self._turn:
            if self._courier is None:
                self._courier = threading.Thread(
                    target=self._carry, name=f"{self._name} courier", daemon=True
                )
                self._courier.start()
        self._inbox.put((make, future))
        return await future

    def _carry(self) -> None:
        """The courier: take what waits in the inbox, make and commit it, settle its
        futures."""
        while True:
            first = self._inbox.get()
            if first is None:
                return
            parcels = [first]
            while True:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._inbox.put(None)  # stop once these are written
                    break
                parcels.append(more)
            outcomes: list[ResultT | BaseException | None] = []
            mine: list[_Waiting[ItemT, ResultT]] = []
            for make, _ in parcels:
                try:
                    waiting: _Waiting[ItemT, ResultT] = _Waiting(make())
                except Exception as exc:  # the caller's own error (a bad body): its answer
                    outcomes.append(exc)
                    continue
                outcomes.append(None)
                mine.append(waiting)
            self._wait_for(mine, leader_raises=False)
            written = iter(mine)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, Any]]] = {}
            for (_, future), outcome in zip(parcels, outcomes, strict=True):
                answer = outcome if outcome is not None else next(written).answer()
                by_loop.setdefault(future.get_loop(), []).append((future, answer))
            for loop, settled in by_loop.items():
                with contextlib.suppress(RuntimeError):  # a loop already closed
                    loop.call_soon_threadsafe(_settle, settled)

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


def _settle(settled: list[tuple[asyncio.Future[Any], Any]]) -> None:
    """On the futures' loop: each future its outcome (a caller gone meanwhile is skipped)."""
    for future, outcome in settled:
        if not future.done():
            future.set_result(outcome)
