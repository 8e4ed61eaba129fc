"""Column lineage of dbt models, from their compiled SQL traced by the SQL lineage engine.

Each model's compiled SQL goes to `steward.lineage.sql.analyze` in the adapter's dialect
with the warehouse schema that catalog.json describes (so `select *` expands); each
output column maps to the columns of the project's tables it is computed from, with how
(OpenLineage transformation type and subtype). The engine reports names as the dialect
compares them (Snowflake's `ORDERS` as `orders`); relations are matched to the
project's tables without case, and columns are given the warehouse's spelling. It is
best effort: SQL the engine cannot parse gives no column lineage for that model, a
column it cannot trace gives none for that column, never a failed sync.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.catalog.models import DiscoveredTable
from steward.connectors.dbt_artifacts import Artifacts
from steward.errors import InvalidInput

if TYPE_CHECKING:
    from steward.lineage.sql import Upstream

log = logging.getLogger(__name__)

# dbt adapter -> sqlglot dialect, where their names differ.
DIALECTS = {"sqlserver": "tsql", "fabric": "tsql", "watsonx_presto": "presto", "glue": "spark"}

ColumnUpstream = dict[str, tuple[tuple[str, str], ...]]
Transformations = dict[str, dict[tuple[str, str], tuple[tuple[str, str], ...]]]


@dataclass(frozen=True)
class Traced:
    """A model's column lineage: output column -> upstream (table, column)s, and how."""

    column_upstream: ColumnUpstream = field(default_factory=dict)
    transformations: Transformations = field(default_factory=dict)
    # Columns deciding the rows of every output column (filters, join keys, grouping).
    dataset: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = ()


class ColumnLineage:
    """Traces the columns of one project's models; built once per parse of the artifacts."""

    def __init__(self, artifacts: Artifacts, tables: Mapping[str, DiscoveredTable]) -> None:
        adapter = artifacts.adapter_type
        self.dialect = DIALECTS.get(adapter or "", adapter)
        self._warehouse = _warehouse_schema(artifacts.catalog_nodes)
        # The relation a traced column comes from (database, schema, table) -> its name here.
        self.names: dict[tuple[str, ...], str] = {}
        # Each table's columns as the warehouse spells them, by their case-folded name.
        self._columns: dict[str, dict[str, str]] = {}
        # Where each table is in the warehouse schema, to give the engine only what a model reads.
        self._paths: dict[str, tuple[str, str, str]] = {}
        for table in tables.values():
            self._columns[table.name] = {c.name.lower(): c.name for c in table.columns}
            for identity in (table.identity, *table.symlinks):
                if identity.namespace != table.identity.namespace:
                    continue  # the dbt:// symlink names no relation
                key = _key(identity.name.split("."))
                self.names.setdefault(key, table.name)
        for path in _paths(self._warehouse):
            name = self.names.get(_key(path))
            if name is not None:
                self._paths.setdefault(name, path)

    def trace(self, table: DiscoveredTable) -> Traced:
        """The column lineage of a model or snapshot; empty for anything else."""
        if table.kind not in ("model", "snapshot") or not table.definition:
            return Traced()
        from steward.lineage.sql import analyze

        try:
            script = analyze(
                table.definition, dialect=self.dialect, schema=self._schema_for(table.upstream)
            )
        except InvalidInput as exc:
            log.debug("dbt: no column lineage for %s: %s", table.name, exc)
            return Traced()
        except Exception as exc:  # an engine bug must not fail the sync; say so
            log.warning("dbt: lineage engine failed on %s: %s", table.name, exc)
            return Traced()
        queries = [s for s in script.statements if s.columns]
        if not queries:
            return Traced()
        outputs = {c.name.lower(): c.name for c in table.columns}
        found: ColumnUpstream = {}
        how: Transformations = {}
        statement = queries[-1]
        for column in statement.columns:
            origins = self._origins(column.upstreams)
            if origins:
                output = outputs.get(column.column.lower(), column.column)
                found[output] = tuple(origins)
                how[output] = origins
        whole = self._origins(statement.dataset)
        return Traced(found, how, tuple((t, c, kinds) for (t, c), kinds in whole.items()))

    def _origins(
        self, upstreams: Iterable[Upstream]
    ) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
        """(project table, column as the warehouse spells it) -> how, for each upstream."""
        origins: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        for up in upstreams:
            name = self.names.get(_key(up.table.split(".")))
            if name is None:
                continue  # not a table of this project
            origin = (name, self._columns.get(name, {}).get(up.column.lower(), up.column))
            kinds = tuple((t.type, t.subtype) for t in up.transformations)
            origins[origin] = tuple(dict.fromkeys((*origins.get(origin, ()), *kinds)))
        return origins

    def _schema_for(self, upstream: Iterable[str]) -> dict[str, Any]:
        """The warehouse schema of the tables a model is built from (all, if none known).

        The engine builds its schema per call, normalising every table it holds, so a
        model is given only the tables dbt says it depends on.
        """
        paths = [self._paths[name] for name in upstream if name in self._paths]
        if not paths:
            return self._warehouse
        schema: dict[str, Any] = {}
        for database, db, name in paths:
            schema.setdefault(database, {}).setdefault(db, {})[name] = self._warehouse[database][
                db
            ][name]
        return schema


def _warehouse_schema(catalog_nodes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`{database: {schema: {table: {column: type}}}}` from catalog.json, for the engine."""
    schema: dict[str, Any] = {}
    for entry in catalog_nodes.values():
        metadata = entry.get("metadata")
        if not isinstance(metadata, dict) or not all(
            metadata.get(key) for key in ("database", "schema", "name")
        ):
            continue  # the engine needs every table at the same depth
        columns = {
            str(column.get("name") or name): str(column.get("type") or "UNKNOWN")
            for name, column in (entry.get("columns") or {}).items()
            if isinstance(column, dict)
        }
        tables = schema.setdefault(str(metadata["database"]), {})
        tables.setdefault(str(metadata["schema"]), {})[str(metadata["name"])] = columns
    return schema


def _paths(schema: Mapping[str, Any]) -> Iterable[tuple[str, str, str]]:
    for database, schemas in schema.items():
        for db, tables in schemas.items():
            for name in tables:
                yield database, db, name


def _key(parts: Any) -> tuple[str, ...]:
    """A relation's name parts, case-folded: warehouses and the engine differ in case rules."""
    return tuple(str(part).lower() for part in parts if part)
