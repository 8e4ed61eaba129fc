"""The graph built behind ingest from the raw log: in batches and replayed, it is the graph
the same events make one by one; from duplicates and out-of-order delivery, the current
graph is the one in-order delivery makes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from steward.app import Steward
from steward.config import Settings
from steward.lineage.ingest import ingest, parse_events
from steward.lineage.normaliser import backlog, normalise_pending, position
from steward.lineage.replay import replay
from steward.store.schema import lineage_events, runs
from tests.lineage.graph_dump import current_graph, graph_dump, workload


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Steward]:
    """A second store, on SQLite, to build the same events into one by one."""
    other = Steward(Settings(home=tmp_path / "fresh"))
    other.upgrade()
    yield other
    other.close()


def one_by_one(steward: Steward, events: list[dict[str, Any]]) -> dict[str, Any]:
    for event in events:
        ingest(steward.store, parse_events([event], batch=False))
    return graph_dump(steward.store)


def test_graph_built_behind_in_batches_equals_one_by_one(steward: Steward, fresh: Steward) -> None:
    events = workload()
    for start in range(0, len(events), 5):
        ingest(steward.store, parse_events(events[start : start + 5], batch=True), normalise=False)
    with steward.store.read() as conn:
        assert backlog(conn).events == len(events)
        assert graph_dump(steward.store)["runs"] == []
    # Batches of 7 cross the boundaries of the appends of 5.
    assert normalise_pending(steward.store, limit=7) == len(events)
    with steward.store.read() as conn:
        assert backlog(conn).events == 0
        at = position(conn)
    assert at.applied_id == at.head_id
    assert graph_dump(steward.store) == one_by_one(fresh, events)


def test_replay_rebuilds_the_same_graph(steward: Steward) -> None:
    events = workload()
    ingest(steward.store, parse_events(events, batch=True))
    built = graph_dump(steward.store)
    assert built["column_edges"]
    assert built["edges"]
    assert built["runs"]
    assert replay(steward.store, limit=11) == len(events)
    assert graph_dump(steward.store) == built


def test_duplicates_and_out_of_order_delivery_give_the_in_order_graph(
    steward: Steward, fresh: Steward
) -> None:
    events = workload()
    shuffled = events + random.Random(3).sample(events, len(events) // 2)
    random.Random(5).shuffle(shuffled)
    for start in range(0, len(shuffled), 9):
        chunk = shuffled[start : start + 9]
        ingest(steward.store, parse_events(chunk, batch=True), normalise=False)
    normalise_pending(steward.store, limit=13)
    with steward.store.read() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(lineage_events)).scalar()
    assert stored == len(events)
    in_order = one_by_one(fresh, events)
    assert current_graph(graph_dump(steward.store)) == current_graph(in_order)


def test_runs_keep_the_poster_through_replay(steward: Steward) -> None:
    from steward.identity.models import Principal

    poster = Principal(user="spark", groups=frozenset({"etl"}), token_id="t1")
    ingest(steward.store, parse_events(workload(2, 1), batch=True), actor=poster)
    replay(steward.store)
    with steward.store.read() as conn:
        posters = set(conn.execute(sa.select(runs.c.principal_user, runs.c.principal_token)))
    assert posters == {("spark", "t1")}
