"""Group commit itself: callers in many threads each get their own item written exactly once,
in order of arrival, in groups the size rule allows; a leader interrupted in its write
leaves none of its group's callers waiting."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward.errors import StewardError
from steward.store import Store, open_store
from steward.store.group_commit import GroupCommit

ITEMS = sa.table("items", sa.column("id", sa.Integer), sa.column("item", sa.Text))


class Items(GroupCommit[str, int]):
    """Writes each group's items as rows, one transaction per group on the kept connection;
    an item's result is its row id. A group holding an item named `crash...` raises out
    of the write (a leader interrupted). The first leader may be held before it takes
    its group, so that others queue behind it."""

    def __init__(
        self, store: Store, *, most: int, weight: Callable[[str], int] | None = None
    ) -> None:
        super().__init__(store, name="test writer", most=most, weight=weight)
        self.groups: list[list[str]] = []
        self.leading = threading.Event()
        self.hold = threading.Event()
        self.hold.set()

    def _before_group(self) -> None:
        self.leading.set()
        self.hold.wait(timeout=30)

    def _write_group(self, items: list[str]) -> list[int | BaseException]:
        self.groups.append(list(items))
        if any(item.startswith("crash") for item in items):
            raise KeyboardInterrupt
        with self._store.write(held=self._kept()) as conn:
            conn.execute(ITEMS.insert(), [{"item": item} for item in items])
            ids = dict(
                conn.execute(
                    sa.select(ITEMS.c.item, ITEMS.c.id).where(ITEMS.c.item.in_(items))
                ).all()
            )
        return [ids[item] for item in items]

    def commit(self, item: str) -> int | BaseException:
        return self._commit(item)

    async def commit_async(self, item: str) -> int | BaseException:
        return await self._commit_async(lambda: item)

    async def commit_made(self, make: Callable[[], str]) -> int | BaseException:
        return await self._commit_async(make)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(f"sqlite:///{tmp_path / 'items.db'}")
    with store.write() as conn:
        conn.execute(
            sa.text("CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT UNIQUE)")
        )
    yield store
    store.dispose()


def stored(store: Store) -> list[str]:
    with store.read() as conn:
        return list(conn.execute(sa.select(ITEMS.c.item).order_by(ITEMS.c.id)).scalars())


class Callers:
    """Callers in threads, started one at a time: each is queued before the next starts."""

    def __init__(self, writer: Items) -> None:
        self.writer = writer
        self.outcomes: dict[str, int | BaseException] = {}
        self.threads: list[threading.Thread] = []

    def _call(self, item: str) -> None:
        try:
            self.outcomes[item] = self.writer.commit(item)
        except BaseException as exc:  # the leader's own interruption
            self.outcomes[item] = exc

    def start_leader(self, item: str) -> None:
        self.writer.hold.clear()
        self._start(item)
        assert self.writer.leading.wait(timeout=30)

    def queue(self, item: str) -> None:
        queued = self.writer.waiting
        self._start(item)
        for _ in range(3000):
            if self.writer.waiting > queued:
                return
            threading.Event().wait(0.01)
        raise AssertionError(f"{item} was never queued")

    def _start(self, item: str) -> None:
        thread = threading.Thread(target=self._call, args=(item,))
        thread.start()
        self.threads.append(thread)

    @classmethod
    def run(cls, writer: Items, leader: str, followers: list[str]) -> Callers:
        """`leader` leads; `followers` queue behind it, in this order; all are answered."""
        callers = cls(writer)
        callers.start_leader(leader)
        for item in followers:
            callers.queue(item)
        callers.finish()
        return callers

    def finish(self) -> None:
        self.writer.hold.set()
        for thread in self.threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a caller was left waiting"


def test_many_threads_each_item_written_exactly_once_and_answered_with_its_own(
    store: Store,
) -> None:
    writer = Items(store, most=7)
    threads, each = 8, 40

    def call(thread: int) -> dict[str, int | BaseException]:
        items = [f"t{thread}-{i:03d}" for i in range(each)]
        return {item: writer.commit(item) for item in items}

    with ThreadPoolExecutor(max_workers=threads) as pool:
        answers = {
            item: a for answered in pool.map(call, range(threads)) for item, a in answered.items()
        }
    rows = stored(store)
    assert sorted(rows) == sorted(answers)
    assert len(rows) == threads * each
    with store.read() as conn:
        ids = dict(conn.execute(sa.select(ITEMS.c.item, ITEMS.c.id)).all())
    assert answers == ids
    for t in range(threads):
        # One caller's items are written in the order it sent them.
        mine = [row for row in rows if row.startswith(f"t{t}-")]
        assert mine == sorted(mine)
    assert all(1 <= len(group) <= 7 for group in writer.groups)
    assert sum(len(group) for group in writer.groups) == threads * each


def test_callers_queued_behind_a_leader_are_written_in_order_of_arrival_by_count(
    store: Store,
) -> None:
    writer = Items(store, most=3)
    Callers.run(writer, "a", ["b", "c", "d", "e", "f"])
    assert writer.groups == [["a", "b", "c"], ["d", "e", "f"]]
    assert stored(store) == ["a", "b", "c", "d", "e", "f"]
    assert writer.waiting == 0
    assert not writer.writing


def test_a_group_holds_at_most_its_weight_and_an_item_heavier_than_that_alone(
    store: Store,
) -> None:
    writer = Items(store, most=4, weight=len)
    Callers.run(writer, "aa", ["bb", "c", "dddd", "eeeeee", "f", "g"])
    assert writer.groups == [["aa", "bb"], ["c"], ["dddd"], ["eeeeee"], ["f", "g"]]
    assert stored(store) == ["aa", "bb", "c", "dddd", "eeeeee", "f", "g"]


def test_an_interrupted_leader_answers_its_group_with_an_error_and_the_next_group_is_written(
    store: Store,
) -> None:
    writer = Items(store, most=3)
    callers = Callers.run(writer, "crash", ["b", "c", "d", "e"])
    assert writer.groups == [["crash", "b", "c"], ["d", "e"]]
    # The leader's own interruption reaches the leader; its group's other callers get an
    # error saying so; the next group's callers are written.
    assert isinstance(callers.outcomes["crash"], KeyboardInterrupt)
    for item in ["b", "c"]:
        outcome = callers.outcomes[item]
        assert isinstance(outcome, StewardError)
        assert str(outcome) == "the test writer was interrupted"
    assert isinstance(callers.outcomes["d"], int)
    assert isinstance(callers.outcomes["e"], int)
    assert stored(store) == ["d", "e"]


def test_the_kept_connection_is_reused_between_groups_and_returned_by_close(
    store: Store,
) -> None:
    writer = Items(store, most=10)
    for item in ["a", "b", "c"]:
        writer.commit(item)
    pool = store.engine.pool
    assert isinstance(pool, sa.QueuePool)
    assert pool.checkedout() == 1
    writer.close()
    assert pool.checkedout() == 0
    # Closing leaves the writer usable: the next group opens a connection again.
    assert isinstance(writer.commit("d"), int)
    assert stored(store) == ["a", "b", "c", "d"]
    writer.close()


def test_a_group_must_be_allowed_at_least_one_item(store: Store) -> None:
    with pytest.raises(ValueError, match="at least one item"):
        Items(store, most=0)


def test_coroutines_items_are_written_once_each_in_shared_groups_and_answered_with_their_own(
    store: Store,
) -> None:
    writer = Items(store, most=1000)
    names = [f"item-{i}" for i in range(200)]

    async def everyone() -> list[int | BaseException]:
        return await asyncio.gather(*(writer.commit_async(name) for name in names))

    outcomes = asyncio.run(everyone())
    writer.close()
    with store.read() as conn:
        ids = dict(conn.execute(sa.select(ITEMS.c.item, ITEMS.c.id)).all())
    assert sorted(stored(store)) == sorted(names)
    assert outcomes == [ids[name] for name in names]
    # The courier carries what arrived together: far fewer groups than items.
    assert sum(len(group) for group in writer.groups) == len(names)
    assert len(writer.groups) < len(names) / 10


def test_a_coroutine_whose_group_failed_gets_the_failure_and_later_items_are_written(
    store: Store,
) -> None:
    writer = Items(store, most=1)

    async def three() -> list[int | BaseException]:
        return await asyncio.gather(*(writer.commit_async(item) for item in ["a", "crash", "b"]))

    first, crashed, last = asyncio.run(three())
    writer.close()
    # The item whose group was interrupted is answered so; the courier goes on, and the
    # items written before and after it are answered with their own ids.
    assert isinstance(first, int)
    assert isinstance(crashed, StewardError)
    assert str(crashed) == "the test writer was interrupted"
    assert isinstance(last, int)
    assert stored(store) == ["a", "b"]


def test_close_stops_the_courier_after_what_it_carries_and_the_writer_stays_usable(
    store: Store,
) -> None:
    writer = Items(store, most=10)

    async def one(item: str) -> int | BaseException:
        return await writer.commit_async(item)

    assert isinstance(asyncio.run(one("a")), int)
    courier = writer._courier
    assert courier is not None
    assert courier.is_alive()
    writer.close()
    assert not courier.is_alive()
    # A coroutine after close starts a courier again; a thread's call needs none.
    assert isinstance(asyncio.run(one("b")), int)
    assert isinstance(writer.commit("c"), int)
    writer.close()
    assert stored(store) == ["a", "b", "c"]


def test_the_courier_makes_each_item_off_the_loop_and_what_making_raises_is_that_callers_alone(
    store: Store,
) -> None:
    writer = Items(store, most=100)
    makers: list[str] = []

    def made(item: str) -> Callable[[], str]:
        def make() -> str:
            makers.append(threading.current_thread().name)
            if item == "bad":
                raise ValueError("bad: not an item")
            return item

        return make

    async def three() -> list[int | BaseException]:
        return await asyncio.gather(*(writer.commit_made(made(i)) for i in ["a", "bad", "b"]))

    first, refused, last = asyncio.run(three())
    writer.close()
    assert isinstance(first, int)
    assert isinstance(refused, ValueError)
    assert str(refused) == "bad: not an item"
    assert isinstance(last, int)
    assert stored(store) == ["a", "b"]
    assert makers == ["test writer courier"] * 3
