"""Writers in several threads at once: every event stored once, no half-written batch."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from steward.app import Steward
from steward.errors import StoreBusy
from steward.lineage.ingest import ingest, parse_events
from steward.store.schema import lineage_edges, lineage_events, run_states, runs
from tests.openlineage_events import dataset, run_event


def count(conn: sa.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def write_concurrently(steward: Steward, batches: list[list[dict[str, object]]]) -> None:
    """One thread a batch, each sending its events one by one and retrying a StoreBusy
    (a concurrent writer won a race) as the OpenLineage clients retry a 503."""
    failures: list[BaseException] = []

    def write(events: list[dict[str, object]]) -> None:
        try:
            for event in events:
                parsed = parse_events([event], batch=False)
                for _attempt in range(20):
                    try:
                        ingest(steward.store, parsed)
                        break
                    except StoreBusy:
                        continue
                else:
                    raise AssertionError("still busy after 20 attempts")
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=write, args=(batch,)) for batch in batches]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []


def test_threads_ingesting_shared_datasets_store_every_event_once(steward: Steward) -> None:
    threads, per_thread = 4, 25
    batches = [
        [
            run_event(
                f"job_{t}_{i}",
                inputs=[dataset("wh", "shared_source", ["id"]), dataset("wh", f"src_{i % 5}")],
                outputs=[dataset("wh", f"out_{t}_{i}", ["id"])],
                event_time=f"2024-05-01T00:{i:02d}:00Z",
            )
            for i in range(per_thread)
        ]
        for t in range(threads)
    ]
    write_concurrently(steward, batches)
    with steward.store.read() as conn:
        assert count(conn, lineage_events) == threads * per_thread
        assert count(conn, runs) == threads * per_thread
        assert count(conn, run_states) == threads * per_thread
        # Each job reads two tables and writes one: three open edges per job.
        assert count(conn, lineage_edges) == 3 * threads * per_thread
        shared = conn.execute(
            sa.text(
                "SELECT count(*) FROM lineage_edges e JOIN datasets d ON d.id = e.dataset_id "
                "WHERE d.name = 'shared_source' AND e.valid_to IS NULL"
            )
        ).scalar_one()
    assert shared == threads * per_thread


def test_start_and_complete_of_one_run_racing_are_both_stored(steward: Steward) -> None:
    """Two writers may both see a run as new; the loser gets StoreBusy, and a retry lands."""
    run_ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(30)]
    starts = [
        run_event(
            "racer",
            run_id=r,
            event_type="START",
            inputs=[dataset("wh", "in")],
            event_time="2024-05-01T00:00:00Z",
        )
        for r in run_ids
    ]
    completes = [
        run_event(
            "racer", run_id=r, outputs=[dataset("wh", "out")], event_time="2024-05-01T00:01:00Z"
        )
        for r in run_ids
    ]
    write_concurrently(steward, [starts, completes])
    with steward.store.read() as conn:
        assert count(conn, lineage_events) == 60
        assert count(conn, runs) == 30
        assert count(conn, run_states) == 60
        states = conn.execute(sa.select(runs.c.state).distinct()).scalars().all()
    assert states == ["COMPLETE"]
