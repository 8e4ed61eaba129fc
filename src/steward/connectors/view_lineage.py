"""Lineage of a view from its SQL: the tables it reads and where each output column comes from.

The definition (a SELECT, or the whole CREATE VIEW statement) goes to Steward's one SQL
lineage engine, `steward.lineage.sql.analyze`, in the database's dialect, with the
reflected tables as its schema (so `*` expands and every column finds its table). What
this module adds is naming: the engine reports names as the dialect compares them (a
case-insensitive name in lower case), and the catalog names tables and columns as the
database spells them, so each reported name is mapped back to the reflected one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from steward.lineage.sql.models import StatementLineage

# SQLAlchemy dialect name -> sqlglot dialect name.
SQLGLOT_DIALECTS = {
    "postgresql": "postgres",
    "duckdb": "duckdb",
    "sqlite": "sqlite",
    "trino": "trino",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mssql": "tsql",
    "oracle": "oracle",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "redshift": "redshift",
    "databricks": "databricks",
    "clickhouse": "clickhouse",
}

Transformations = tuple[tuple[str, str], ...]  # OpenLineage (type, subtype) pairs


class ViewLineageError(Exception):
    """A view definition the engine cannot parse or trace at all; the message says why."""


@dataclass(frozen=True)
class ViewLineage:
    """What a view is built from, with table names as `schema.table`.

    `column_transformations` says how each upstream column reaches its output column;
    `dataset_upstream` the columns that decide which rows every output column has;
    `unresolved` names the output columns (or `*`) the engine could not trace, and why:
    the other columns keep their lineage.
    """

    upstream: tuple[str, ...]
    column_upstream: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    column_transformations: Mapping[str, Mapping[tuple[str, str], Transformations]] = field(
        default_factory=dict
    )
    unresolved: tuple[tuple[str, str], ...] = ()
    # Columns deciding the rows of every output (filters, join keys, grouping), and how.
    dataset_upstream: tuple[tuple[str, str, Transformations], ...] = ()


def view_lineage(
    definition: str,
    *,
    dialect: str | None,
    default_schema: str,
    tables: Mapping[str, Mapping[str, Mapping[str, str]]],
    database: str | None = None,
    columns: tuple[str, ...] = (),
) -> ViewLineage:
    """Trace `definition` (a SELECT, or the whole CREATE VIEW statement).

    Args:
        dialect: the sqlglot dialect (see `SQLGLOT_DIALECTS`).
        default_schema: the schema unqualified names resolve to (the view's own).
        tables: schema -> table -> column -> type of the tables the view may read.
        database: the database's own name (a PostgreSQL database, a DuckDB file's
            catalog), so `database.schema.table` names a table of `tables`.
        columns: the view's columns as the database names them, for the output names.

    Raises:
        ViewLineageError: the SQL does not parse, or nothing of it can be traced.
    """
    from steward.errors import InvalidInput
    from steward.lineage.sql import analyze

    schema: dict[str, object] = {name: dict(found) for name, found in tables.items()}
    try:
        script = analyze(
            definition,
            dialect=dialect,
            schema={database: schema} if database else schema,
            default_catalog=database,
            default_schema=default_schema,
        )
    except InvalidInput as exc:
        raise ViewLineageError(str(exc)) from exc
    queries = [s for s in script.statements if s.kind in ("SELECT", "CREATE_VIEW")]
    if not queries:
        kinds = ", ".join(s.kind for s in script.statements) or "nothing"
        raise ViewLineageError(f"not a query: {kinds}")
    statement = queries[0]
    if not statement.inputs and not statement.columns and statement.unresolved:
        raise ViewLineageError(statement.unresolved[0].reason)
    return _named(statement, _Names(tables, database, default_schema), columns)


class _Names:
    """Maps the names the engine reports to the reflected tables' and columns' own."""

    def __init__(
        self,
        tables: Mapping[str, Mapping[str, Mapping[str, str]]],
        database: str | None,
        default_schema: str,
    ) -> None:
        self.database = database
        self.default_schema = default_schema
        self.tables: dict[str, str] = {}
        self.columns: dict[str, dict[str, str]] = {}
        for schema, found in tables.items():
            for table, columns in found.items():
                name = f"{schema}.{table}"
                self.tables.setdefault(name, name)
                self.tables.setdefault(name.lower(), name)
                self.columns[name] = {}
                for column in columns:
                    self.columns[name].setdefault(column, column)
                    self.columns[name].setdefault(column.lower(), column)

    def table(self, reported: str) -> str | None:
        """`schema.table` of a reported name; None for a table of another database."""
        parts = reported.split(".")
        if len(parts) == 3:
            if self.database is None or parts[0].lower() != self.database.lower():
                return None
            parts = parts[1:]
        if len(parts) == 1:
            parts = [self.default_schema, *parts]
        name = ".".join(parts)
        return self.tables.get(name) or self.tables.get(name.lower()) or name

    def column(self, table: str, reported: str) -> str:
        known = self.columns.get(table, {})
        return known.get(reported) or known.get(reported.lower()) or reported


def _named(statement: StatementLineage, names: _Names, columns: tuple[str, ...]) -> ViewLineage:
    outputs = {c: c for c in columns} | {c.lower(): c for c in columns}
    upstream = {found for name in statement.inputs if (found := names.table(name)) is not None}
    column_upstream: dict[str, tuple[tuple[str, str], ...]] = {}
    transformations: dict[str, dict[tuple[str, str], Transformations]] = {}
    for traced in statement.columns:
        output = outputs.get(traced.column) or outputs.get(traced.column.lower()) or traced.column
        origins: dict[tuple[str, str], Transformations] = {}
        for up in traced.upstreams:
            table = names.table(up.table)
            if table is None:
                continue
            origin = (table, names.column(table, up.column))
            kinds = tuple((t.type, t.subtype) for t in up.transformations)
            origins[origin] = tuple(dict.fromkeys((*origins.get(origin, ()), *kinds)))
        column_upstream[output] = tuple(sorted(origins))
        transformations[output] = origins
    unresolved = tuple(
        (
            outputs.get(item.column or "*")
            or outputs.get((item.column or "*").lower())
            or item.column
            or "*",
            item.reason,
        )
        for item in statement.unresolved
    )
    whole: dict[tuple[str, str], Transformations] = {}
    for up in statement.dataset:
        table = names.table(up.table)
        if table is not None:
            origin = (table, names.column(table, up.column))
            kinds = tuple((t.type, t.subtype) for t in up.transformations)
            whole[origin] = tuple(dict.fromkeys((*whole.get(origin, ()), *kinds)))
    return ViewLineage(
        upstream=tuple(sorted(upstream)),
        column_upstream=column_upstream,
        column_transformations=transformations,
        unresolved=unresolved,
        dataset_upstream=tuple((t, c, kinds) for (t, c), kinds in sorted(whole.items())),
    )
