"""Lineage of a view from its SQL: the tables it reads and where each output column comes from.

The definition is parsed with sqlglot in the database's dialect, qualified against
the reflected schema (so `*` expands and every column names its table), then each
output column is traced with `sqlglot.lineage` through CTEs and subqueries down to
the tables it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

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


class ViewLineageError(Exception):
    """A view definition sqlglot cannot parse or trace; the message says why."""


@dataclass(frozen=True)
class ViewLineage:
    """What a view is built from, with table names as `schema.table`."""

    upstream: tuple[str, ...]
    column_upstream: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def view_lineage(
    definition: str,
    *,
    dialect: str | None,
    default_schema: str,
    tables: Mapping[str, Mapping[str, Mapping[str, str]]],
) -> ViewLineage:
    """Trace `definition` (a SELECT, or the whole CREATE VIEW statement).

    Args:
        dialect: the sqlglot dialect (see `SQLGLOT_DIALECTS`).
        default_schema: the schema unqualified names resolve to (the view's own).
        tables: schema -> table -> column -> type of the tables the view may read.

    Raises:
        ViewLineageError: the SQL does not parse, or names tables or columns that
            cannot be resolved.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.lineage import lineage
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope

    try:
        statement = sqlglot.parse_one(definition, dialect=dialect)
        if isinstance(statement, exp.Create):
            statement = statement.expression
        if not isinstance(statement, exp.Query):
            raise ViewLineageError(f"not a query: {type(statement).__name__}")
        mapping: dict[str, object] = {schema: dict(found) for schema, found in tables.items()}
        qualified = qualify(
            statement,
            schema=mapping,
            db=default_schema,
            dialect=dialect,
            validate_qualify_columns=True,
        )
        root = build_scope(qualified)
        if root is None:
            raise ViewLineageError("no query scope found")
        upstream = {
            _table_name(source, default_schema)
            for scope in root.traverse()
            for source in scope.sources.values()
            if isinstance(source, exp.Table)
        }
        column_upstream: dict[str, tuple[tuple[str, str], ...]] = {}
        for select in qualified.selects:
            output = select.alias_or_name
            if output == "*":  # a star over a table the source does not list: no columns known
                continue
            node = lineage(output, qualified, schema=mapping, dialect=dialect, scope=root)
            origins = {
                (
                    _table_name(step.expression, default_schema),
                    exp.to_column(step.name, dialect=dialect).name,
                )
                for step in node.walk()
                if isinstance(step.expression, exp.Table)
            }
            column_upstream[output] = tuple(sorted(origins))
    except SqlglotError as exc:
        raise ViewLineageError(f"{type(exc).__name__}: {exc}") from exc
    return ViewLineage(upstream=tuple(sorted(upstream)), column_upstream=column_upstream)


def _table_name(table: exp.Table, default_schema: str) -> str:
    return f"{table.db or default_schema}.{table.name}"
