"""The search page's batched neighbour counts agree with `views.neighbours` dataset by
dataset: symlinked names count as one dataset, a dataset's own names do not count, and
hidden nodes are left out."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.catalog.neighbour_counts import NeighbourCount, neighbour_counts
from steward.catalog.views import neighbours
from steward.lineage.scope import Hidden
from steward.store.schema import datasets, jobs
from tests.lineage.test_same_table import hive_reads_orders, send, spark_writes_orders
from tests.openlineage_events import dataset, run_event


def test_counts_match_the_one_by_one_neighbours(steward: Steward, client: TestClient) -> None:
    # raw -> load_orders -> orders (by location, symlinked to its metastore name)
    # orders (metastore name) -> hive job -> its outputs; and a fan-in job.
    send(client, spark_writes_orders(), hive_reads_orders())
    send(
        client,
        run_event(
            "fan_in",
            inputs=[dataset("pg", "a"), dataset("pg", "b"), dataset("pg", "c")],
            outputs=[dataset("pg", "ab"), dataset("pg", "ac")],
        ),
        run_event("next", inputs=[dataset("pg", "ab")], outputs=[dataset("pg", "abc")]),
    )
    with steward.store.read() as conn:
        ids = list(conn.execute(sa.select(datasets.c.id).order_by(datasets.c.id)).scalars())
        fan_in = conn.execute(sa.select(jobs.c.id).where(jobs.c.name == "fan_in")).scalar_one()
        names = dict(conn.execute(sa.select(datasets.c.name, datasets.c.id)).all())
        for hidden in (Hidden(), Hidden(datasets=frozenset({names["b"]}), jobs=frozenset())):
            for shown in (hidden, Hidden(datasets=hidden.datasets, jobs=frozenset({fan_in}))):
                counts = neighbour_counts(conn, ids, shown)
                one_by_one = {
                    i: (len(n["upstream"]), len(n["downstream"]))
                    for i in ids
                    for n in [neighbours(conn, i, shown)]
                }
                assert {i: (c.upstream, c.downstream) for i, c in counts.items()} == one_by_one
        plain = neighbour_counts(conn, ids)
        assert neighbour_counts(conn, []) == {}
        assert len(ids) >= 8
    # Not vacuous: the fan-in's outputs each have three datasets upstream.
    assert plain[names["ab"]] == NeighbourCount(upstream=3, downstream=1)
    assert plain[names["a"]] == NeighbourCount(upstream=0, downstream=2)
