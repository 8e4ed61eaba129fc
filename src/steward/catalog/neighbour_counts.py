"""How many datasets are one job upstream and downstream of each of a page of datasets,
in two queries for the whole page (search results), where `views.neighbours` lists one
dataset's neighbours by name."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.lineage.aliases import same_as
from steward.lineage.scope import Hidden
from steward.store.schema import lineage_edges


@dataclass(frozen=True)
class NeighbourCount:
    """Distinct datasets one job away in the current graph."""

    upstream: int = 0
    downstream: int = 0


def neighbour_counts(
    conn: Connection, ids: Collection[int], hidden: Hidden = Hidden()
) -> dict[int, NeighbourCount]:
    """For each dataset id, what `len(views.neighbours(...)[direction])` would give: edges
    stated under any of its names count, its own names and `hidden` nodes do not."""
    if not ids:
        return {}
    groups = same_as(conn, ids)
    group_of = {i: set(groups.get(i, [i])) for i in ids}
    members = sorted({m for group in group_of.values() for m in group})
    asking: dict[int, list[int]] = defaultdict(list)  # member -> page datasets it names
    for dataset_id, group in group_of.items():
        for member in group:
            asking[member].append(dataset_id)
    mine, other = lineage_edges.alias("mine"), lineage_edges.alias("other")
    found: dict[tuple[int, str], set[int]] = defaultdict(set)
    for direction, mine_dir, other_dir in (
        ("upstream", "output", "input"),
        ("downstream", "input", "output"),
    ):
        rows = conn.execute(
            sa.select(mine.c.dataset_id, other.c.dataset_id, other.c.job_id)
            .select_from(mine)
            .join(other, sa.and_(other.c.job_id == mine.c.job_id, other.c.valid_to.is_(None)))
            .where(
                mine.c.dataset_id.in_(members),
                mine.c.direction == mine_dir,
                mine.c.valid_to.is_(None),
                other.c.direction == other_dir,
            )
            .distinct()
        )
        for member, neighbour, job in rows:
            if neighbour in hidden.datasets or job in hidden.jobs:
                continue
            for dataset_id in asking[member]:
                if neighbour not in group_of[dataset_id]:
                    found[(dataset_id, direction)].add(neighbour)
    return {
        i: NeighbourCount(len(found[(i, "upstream")]), len(found[(i, "downstream")])) for i in ids
    }
