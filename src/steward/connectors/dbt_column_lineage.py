"""Column lineage of dbt models, from their compiled SQL parsed by sqlglot.

Each model's compiled SQL is traced with `sqlglot.lineage` against the warehouse
schema that catalog.json describes (so `select *` expands); each output column maps to
the columns of the project's tables it is computed from. It is best effort: SQL that
sqlglot cannot trace gives no column lineage for that model, never a failed sync.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from steward.catalog.models import DiscoveredTable
from steward.connectors.dbt_artifacts import Artifacts

log = logging.getLogger(__name__)

# dbt adapter -> sqlglot dialect, where their names differ.
DIALECTS = {"sqlserver": "tsql", "fabric": "tsql", "watsonx_presto": "presto", "glue": "spark"}

ColumnUpstream = dict[str, tuple[tuple[str, str], ...]]


class ColumnLineage:
    """Traces the columns of one project's models; built once per parse of the artifacts."""

    def __init__(self, artifacts: Artifacts, tables: Mapping[str, DiscoveredTable]) -> None:
        adapter = artifacts.adapter_type
        self.dialect = DIALECTS.get(adapter or "", adapter)
        self._tables = _warehouse_schema(artifacts.catalog_nodes)
        self._schema: Any = None
        # The relation a traced column comes from (database, schema, table) -> its name here.
        self.names: dict[tuple[str, ...], str] = {}
        for table in tables.values():
            for identity in (table.identity, *table.symlinks):
                if identity.namespace != table.identity.namespace:
                    continue  # the dbt:// symlink names no relation
                self.names.setdefault(_key(identity.name.split(".")), table.name)

    def column_upstream(self, table: DiscoveredTable) -> ColumnUpstream:
        """Each output column of `table` -> ((upstream table name, column), ...)."""
        if table.kind not in ("model", "snapshot") or not table.definition:
            return {}
        from sqlglot import exp
        from sqlglot.lineage import lineage

        if self._schema is None:
            self._schema = self._mapping_schema()
        try:
            traced = lineage(None, table.definition, schema=self._schema, dialect=self.dialect)
        except Exception as exc:  # sqlglot raises many kinds; lineage is best effort
            log.debug("dbt: no column lineage for %s: %s", table.name, exc)
            return {}
        if not isinstance(traced, dict):
            return {}
        found: ColumnUpstream = {}
        for column, node in traced.items():
            sources: list[tuple[str, str]] = []
            for step in node.walk():
                if step.downstream or not isinstance(step.source, exp.Table):
                    continue
                relation = (step.source.catalog, step.source.db, step.source.name)
                name = self.names.get(_key(part for part in relation if part))
                if name is not None:
                    sources.append((name, step.name.split(".")[-1]))
            if sources:
                found[column] = tuple(dict.fromkeys(sources))
        return found

    def _mapping_schema(self) -> Any:
        """sqlglot's schema, built once: it normalises every table it holds when built."""
        from sqlglot.schema import MappingSchema

        try:
            return MappingSchema(self._tables, dialect=self.dialect)
        except Exception as exc:  # an odd catalog.json: trace without types rather than fail
            log.debug("dbt: catalog.json gives sqlglot no schema: %s", exc)
            return MappingSchema(dialect=self.dialect)


def _warehouse_schema(catalog_nodes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """`{database: {schema: {table: {column: type}}}}` from catalog.json, for sqlglot."""
    schema: dict[str, Any] = {}
    for entry in catalog_nodes.values():
        metadata = entry.get("metadata")
        if not isinstance(metadata, dict) or not all(
            metadata.get(key) for key in ("database", "schema", "name")
        ):
            continue  # sqlglot needs every table at the same depth
        columns = {
            str(column.get("name") or name): str(column.get("type") or "UNKNOWN")
            for name, column in (entry.get("columns") or {}).items()
            if isinstance(column, dict)
        }
        tables = schema.setdefault(str(metadata["database"]), {})
        tables.setdefault(str(metadata["schema"]), {})[str(metadata["name"])] = columns
    return schema


def _key(parts: Any) -> tuple[str, ...]:
    """A relation's name parts, case-folded: warehouses and sqlglot differ in case rules."""
    return tuple(str(part).lower() for part in parts)
