"""What a source reports about its tables: the shapes connectors produce and `sync` consumes.

A connector (Iceberg catalog, SQLAlchemy-inspectable database, dbt target directory)
lists its tables cheaply as `TableRef`s, each with a fingerprint that changes when
the table does, and loads a `DiscoveredTable` only for the ones whose fingerprint
moved. Names are relative to the source: the source `lake` reporting `sales.orders`
gives the catalog dataset `lake.sales.orders`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

OwnerKind = Literal["user", "group"]
TableKind = Literal["table", "view", "model", "source", "seed", "snapshot", "exposure"]


@dataclass(frozen=True)
class Identity:
    """An OpenLineage dataset identity (naming spec): `namespace` + `name`."""

    namespace: str
    name: str


@dataclass(frozen=True)
class Owner:
    """Someone answerable for a dataset, as a source states it."""

    name: str
    kind: OwnerKind = "user"
    role: str = "technical"


@dataclass(frozen=True)
class Column:
    """One column of a discovered table."""

    name: str
    type: str
    description: str | None = None
    nullable: bool = True
    tags: tuple[str, ...] = ()
    # Iceberg field id, when the source has one: it tells a rename from a drop + add.
    field_id: int | None = None
    # The Iceberg field as its spec's JSON (nested fields, required, defaults), as text.
    iceberg: str | None = None


@dataclass(frozen=True)
class Test:
    """A test a source declares on a table or one of its columns (dbt's `not_null`...)."""

    name: str  # the test's kind: not_null, unique, accepted_values, relationships, ...
    column: str | None = None
    unique_id: str | None = None
    status: str | None = None  # pass | fail | warn | error | skipped, from run results


@dataclass(frozen=True)
class TableRef:
    """A table as listed: its name within the source and a cheap change fingerprint.

    A `None` fingerprint means the source cannot tell cheaply; the table is loaded on
    every sync.
    """

    name: str
    fingerprint: str | None = None


@dataclass(frozen=True)
class DiscoveredTable:
    """Everything a source knows of one table (or view, model, exposure...)."""

    name: str  # within the source: "sales.orders"
    kind: TableKind
    identity: Identity  # how OpenLineage producers name it (naming spec)
    columns: tuple[Column, ...] = ()
    description: str | None = None
    owners: tuple[Owner, ...] = ()
    tags: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()
    domain: str | None = None
    tests: tuple[Test, ...] = ()
    # Names (within the same source) of the tables this one is built from: view
    # definitions, dbt `depends_on`. For an exposure, what it consumes.
    upstream: tuple[str, ...] = ()
    # Identities of tables outside this source it is built from (rare; cross-source views).
    upstream_identities: tuple[Identity, ...] = ()
    # Column lineage: output column -> ((upstream table name, column), ...).
    column_upstream: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    # How each of those upstream columns reaches its output column, as OpenLineage
    # transformations (type, subtype): output column -> (table, column) -> ((type,
    # subtype), ...). Missing means DIRECT / TRANSFORMATION, all that is known.
    column_transformations: Mapping[str, Mapping[tuple[str, str], tuple[tuple[str, str], ...]]] = (
        field(default_factory=dict)
    )
    # Columns that decide the rows of every output column rather than a value (filters,
    # join keys, grouping): ((upstream table name, column, ((type, subtype), ...)), ...),
    # the column lineage facet's `dataset` list.
    dataset_upstream: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()
    # Other names OpenLineage producers use for the same table (the symlinks facet).
    symlinks: tuple[Identity, ...] = ()
    definition: str | None = None  # a view's SQL, a dbt model's compiled SQL
    properties: Mapping[str, str] = field(default_factory=dict)
    fingerprint: str | None = None


class Source(Protocol):
    """A system Steward discovers tables from."""

    name: str
    type: str

    def list_tables(self) -> Iterable[TableRef]:
        """Every table the source has now, cheaply (no per-table round trips if avoidable)."""
        ...

    def load_table(self, ref: TableRef) -> DiscoveredTable:
        """Everything about one listed table."""
        ...

    def sample(self, name: str, columns: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """Up to `limit` rows of `columns` of table `name`, for classification.

        Raises `SamplingUnsupported` when the source cannot read rows (dbt artifacts).
        """
        ...

    def close(self) -> None:
        """Release connections and files the source holds open."""
        ...
