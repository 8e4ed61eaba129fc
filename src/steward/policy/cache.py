"""What the query path remembers between queries, and how it knows it is still true.

Three things, each keyed by what it was derived from, never by time:

- the active policy, by its version number (versions are only ever added; a store's
  number names one text for good);
- a catalog table's facts (columns with their effective tags, column types, lineage
  namespace and name), by a probe of the rows they are derived from: the catalog
  entry (what the source states, with its columns), the table's annotations (tags,
  classifications, their status), its dataset row (current schema version, deleted)
  and its lineage tags. The probe is four lookups by key; a change to any of those rows
  (a sync with a new schema, a tag, a classifier's proposal, a rejection) makes a new
  probe, and the facts are read again with `describe_datasets`, as `policy explain` does;
- a decision (`TableAccess`), by (policy version, user, groups, attributes, table, the
  columns and tags it was decided on). A new policy version, new grants, a new tag or a
  new column give a new key; the old entry is never consulted again.

One `QueryCache` lives on each `Steward` (per process); it holds at most `size` of each.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.policy.access import TableAccess
from steward.policy.models import Policy
from steward.store import Store, fast
from steward.store.schema import (
    catalog_annotations,
    catalog_entries,
    dataset_tags,
    datasets,
    policy_versions,
)

V = TypeVar("V")

_ENTRY = sa.select(
    catalog_entries.c.id,
    catalog_entries.c.name,
    catalog_entries.c.deleted_at,
    sa.cast(catalog_entries.c.stated, sa.Text).label("stated"),
).where(catalog_entries.c.dataset_id == sa.bindparam("dataset_id"))
_NOTES = (
    sa.select(
        catalog_annotations.c.id,
        catalog_annotations.c.field,
        catalog_annotations.c.field_id,
        catalog_annotations.c.attribute,
        catalog_annotations.c.value,
        catalog_annotations.c.origin,
        catalog_annotations.c.author,
        catalog_annotations.c.status,
    )
    .where(catalog_annotations.c.dataset_id == sa.bindparam("dataset_id"))
    .order_by(catalog_annotations.c.id)
)
_DATASET = sa.select(
    datasets.c.namespace_id,
    datasets.c.name,
    datasets.c.current_version_id,
    datasets.c.deleted_at,
).where(datasets.c.id == sa.bindparam("dataset_id"))
_TAGS = (
    sa.select(dataset_tags.c.id, dataset_tags.c.field, dataset_tags.c.key, dataset_tags.c.value)
    .where(dataset_tags.c.dataset_id == sa.bindparam("dataset_id"))
    .order_by(dataset_tags.c.id)
)
_LIVE_NAMES = sa.select(catalog_entries.c.name, catalog_entries.c.dataset_id).where(
    catalog_entries.c.deleted_at.is_(None)
)
_LATEST_VERSION = sa.select(sa.func.max(policy_versions.c.version).label("version"))


@dataclass(frozen=True)
class TableFacts:
    """What the query path reads of one catalog table."""

    dataset_id: int
    columns: tuple[tuple[str, frozenset[str]], ...]
    types: tuple[tuple[str, str], ...]
    namespace: str
    dataset_name: str


class _Bounded(Generic[V]):
    """A dict that forgets its least recently used entries past `size`."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class QueryCache:
    """Policies, table facts and decisions the query path has already worked out."""

    def __init__(self, size: int = 4096) -> None:
        self._policies: _Bounded[Policy] = _Bounded(16)
        self._facts: _Bounded[tuple[Hashable, TableFacts]] = _Bounded(size)
        self._decisions: _Bounded[TableAccess] = _Bounded(size)
        # Counts for benchmarks and tests: how often each was worked out afresh.
        self.facts_read = 0
        self.decisions_made = 0

    def active_policy(self, store: Store) -> tuple[int, Policy] | None:
        """The active version and its policy: the newest number, read each time; the
        policy itself read and parsed once per version."""
        from steward.policy.versions import active

        with store.read() as conn:
            latest = fast.one(conn, _LATEST_VERSION, {}).version
        if latest is None:
            return None
        version = int(latest)
        policy = self._policies.get(version)
        if policy is None:
            chosen = active(store)
            if chosen is None:  # pragma: no cover - versions are never deleted
                return None
            version, policy = chosen
            self._policies.put(version, policy)
        return version, policy

    def decision(self, key: Hashable, decide: Callable[[], TableAccess]) -> TableAccess:
        """The decision made for `key` (which must hold everything it depends on)."""
        found = self._decisions.get(key)
        if found is None:
            found = decide()
            self.decisions_made += 1
            self._decisions.put(key, found)
        return found

    def table_facts(self, conn: Connection, ids: Sequence[int]) -> dict[int, TableFacts]:
        """Each dataset's facts, read again only for those whose rows changed."""
        from steward.catalog.views import describe_datasets

        found: dict[int, TableFacts] = {}
        stale: dict[int, Hashable] = {}
        for dataset_id in ids:
            probe = _probe(conn, dataset_id)
            held = self._facts.get(dataset_id)
            if held is not None and held[0] == probe:
                found[dataset_id] = held[1]
            else:
                stale[dataset_id] = probe
        if stale:
            views = describe_datasets(conn, list(stale))
            for dataset_id, probe in stale.items():
                facts = _facts_of(dataset_id, views[dataset_id])
                self.facts_read += 1
                self._facts.put(dataset_id, (probe, facts))
                found[dataset_id] = facts
        return found

    def clear(self) -> None:
        """Forget everything (the store was replaced)."""
        self._policies.clear()
        self._facts.clear()
        self._decisions.clear()


def live_names(conn: Connection) -> dict[str, int]:
    """Every live catalog table's name and dataset id."""
    return {str(name): int(dataset_id) for name, dataset_id in fast.tuples(conn, _LIVE_NAMES, {})}


def _probe(conn: Connection, dataset_id: int) -> Hashable:
    key = {"dataset_id": dataset_id}
    return (
        tuple(fast.rows(conn, _ENTRY, key)),
        tuple(fast.tuples(conn, _NOTES, key)),
        tuple(fast.rows(conn, _DATASET, key)),
        tuple(fast.tuples(conn, _TAGS, key)),
    )


def _facts_of(dataset_id: int, view: dict[str, Any]) -> TableFacts:
    return TableFacts(
        dataset_id=dataset_id,
        columns=tuple(
            (str(c["name"]), frozenset(str(t["tag"]) for t in c["tags"])) for c in view["columns"]
        ),
        types=tuple((str(c["name"]), str(c["type"] or "")) for c in view["columns"]),
        namespace=str(view["namespace"]),
        dataset_name=str(view["datasetName"]),
    )
