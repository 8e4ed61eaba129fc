"""Datasets that are one table under several names, joined by `symlinks` facets.

Spark names a table by its location (`file`, `/warehouse/db.db/orders`) with a symlink
to its metastore name (`hive://metastore:9083`, `db.orders`); the Hive hook, Trino and
Airflow name it the other way round. Two datasets are the same table when one's symlink
names the other, or both have a symlink naming the same identity; a symlink naming an
identity nobody else uses joins nothing (yet).

The groups are kept in `dataset_aliases`, one row per member of a group of two or more,
`component_id` the smallest member's id. They are maintained at ingest, in the event's
transaction, whatever the order facts arrive in: when a dataset's symlinks change (the
symlinks it names, and the datasets with the same symlinks, join it) and when a dataset
is first seen (the datasets whose symlinks name it join it). A join is one indexed
update; graph walks read a group with one indexed query. Groups only grow: a symlink
dropped later does not split them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.store.schema import (
    catalog_entries,
    dataset_aliases,
    dataset_symlinks,
    datasets,
    namespaces,
)
from steward.store.sets import among_parameter, id_list

Identity = tuple[str, str]  # (namespace, name)


def join_symlinked(conn: Connection, dataset_id: int, symlinks: Iterable[Identity]) -> None:
    """Join `dataset_id` with the datasets its symlinks name or share (call after storing them)."""
    wanted = sorted(set(symlinks))
    if not wanted:
        return
    found: set[int] = set()
    for start in range(0, len(wanted), 200):
        chunk = wanted[start : start + 200]
        named = sa.select(datasets.c.id).join(
            namespaces, namespaces.c.id == datasets.c.namespace_id
        )
        found.update(
            conn.execute(
                named.where(sa.tuple_(namespaces.c.name, datasets.c.name).in_(chunk))
            ).scalars()
        )
        found.update(
            conn.execute(
                sa.select(dataset_symlinks.c.dataset_id).where(
                    sa.tuple_(dataset_symlinks.c.namespace, dataset_symlinks.c.name).in_(chunk)
                )
            ).scalars()
        )
    found.discard(dataset_id)
    if found:
        join(conn, {dataset_id, *found})


def join_named_by_symlinks(conn: Connection, dataset_id: int, identity: Identity) -> None:
    """Join a dataset first seen now with the datasets whose symlinks name it."""
    namespace, name = identity
    found = set(
        conn.execute(
            sa.select(dataset_symlinks.c.dataset_id).where(
                dataset_symlinks.c.namespace == namespace, dataset_symlinks.c.name == name
            )
        ).scalars()
    )
    found.discard(dataset_id)
    if found:
        join(conn, {dataset_id, *found})


def join(conn: Connection, ids: Collection[int]) -> None:
    """Make `ids` (and every dataset already grouped with one of them) one group."""
    a = dataset_aliases.c
    grouped = dict(
        conn.execute(sa.select(a.dataset_id, a.component_id).where(a.dataset_id.in_(ids))).all()
    )
    components = set(grouped.values())
    target = min([*components, *ids])
    moving = sorted(c for c in components if c != target)
    if moving:
        conn.execute(
            dataset_aliases.update().where(a.component_id.in_(moving)).values(component_id=target)
        )
    new = sorted(i for i in ids if i not in grouped)
    if new:
        conn.execute(
            dataset_aliases.insert(), [{"dataset_id": i, "component_id": target} for i in new]
        )


def same_as(conn: Connection, ids: Collection[int]) -> dict[int, list[int]]:
    """For each of `ids` in a group: every member of its group (itself included), by id."""
    if not ids:
        return {}
    dialect = conn.dialect.name
    mine, other = dataset_aliases.alias("mine"), dataset_aliases.alias("other")
    query = (
        sa.select(mine.c.dataset_id, other.c.dataset_id)
        .join(other, other.c.component_id == mine.c.component_id)
        .where(among_parameter(mine.c.dataset_id, "ids", dialect))
        .order_by(mine.c.dataset_id, other.c.dataset_id)
    )
    groups: dict[int, list[int]] = defaultdict(list)
    for start in range(0, len(ids), 50_000):
        chunk = list(ids)[start : start + 50_000]
        for asked, member in conn.execute(query, {"ids": id_list(chunk, dialect)}):
            groups[asked].append(member)
    return dict(groups)


def any_grouped(conn: Connection) -> bool:
    """Whether any dataset has several names (a walk skips group lookups when none has)."""
    return conn.execute(sa.select(dataset_aliases.c.dataset_id).limit(1)).first() is not None


def catalog_entries_of(conn: Connection, ids: list[int]) -> dict[int, tuple[int, str]]:
    """Each dataset's catalog entry (its dataset id and catalog name): its own, else the one
    among its other names (a Spark job's storage location for the metastore table the
    catalog holds). A dataset with none has none; so has one whose names stand for several
    catalog tables (a crafted symlink must not pick the more open one: deny by default)."""
    named = _catalog_names(conn, ids)
    out = {i: (i, named[i]) for i in ids if i in named}
    unnamed = [i for i in ids if i not in named]
    if not unnamed or not any_grouped(conn):
        return out
    groups = same_as(conn, unnamed)
    members = _catalog_names(conn, sorted({m for g in groups.values() for m in g}))
    for dataset_id, group in groups.items():
        found = {(m, members[m]) for m in group if m in members}
        if len({name for _, name in found}) == 1:
            out[dataset_id] = min(found)
    return out


def _catalog_names(conn: Connection, ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(
            sa.select(catalog_entries.c.dataset_id, catalog_entries.c.name).where(
                catalog_entries.c.dataset_id.in_(ids[start : start + 500])
            )
        ).all()
        names.update({int(r.dataset_id): str(r.name) for r in rows})
    return names
