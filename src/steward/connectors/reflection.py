"""What a database says about its tables and views, in a handful of queries per schema.

SQLAlchemy's multi-table reflection (`get_multi_columns`, `get_multi_pk_constraint`,
`get_multi_table_comment`, with `kind=ObjectKind.ANY`) answers for every table of a
schema at once. DuckDB is read from its own catalog functions (`duckdb_columns()`,
`duckdb_tables()`, `duckdb_views()`) instead: duckdb_engine reflects through
PostgreSQL's `pg_catalog` queries, which DuckDB 1.4+ no longer answers
(`pg_collation`, `regclass` are missing).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import (
    ReflectedColumn,
    ReflectedPrimaryKeyConstraint,
    ReflectedTableComment,
)
from sqlalchemy.engine.reflection import ObjectKind

from steward.catalog.models import Column

V = TypeVar("V")

# Schemas that hold the database's own catalog, never user tables.
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "pg_toast", "sys"})
SYSTEM_SCHEMA_PREFIXES = ("pg_temp_", "pg_toast_temp_")


@dataclass(frozen=True)
class ReflectedTable:
    """One table or view as the database describes it."""

    schema: str
    name: str
    kind: str  # "table" | "view"
    columns: tuple[Column, ...]
    comment: str | None = None
    definition: str | None = None  # a view's SQL as the database returns it
    primary_key: tuple[str, ...] = ()
    error: str | None = None  # why its columns could not be read, if they could not


def user_schemas(conn: sa.Connection) -> list[str]:
    """Every schema of the database that is not a system schema."""
    if conn.dialect.name == "duckdb":
        found: list[str] = list(
            conn.execute(
                sa.text(
                    "SELECT schema_name FROM duckdb_schemas()"
                    " WHERE database_name = current_database() ORDER BY schema_name"
                )
            ).scalars()
        )
    else:
        found = sa.inspect(conn).get_schema_names()
    return [
        schema
        for schema in found
        if schema not in SYSTEM_SCHEMAS and not schema.startswith(SYSTEM_SCHEMA_PREFIXES)
    ]


def reflect_schema(conn: sa.Connection, schema: str) -> list[ReflectedTable]:
    """Every table and view of `schema`, with columns, comments, keys and view definitions."""
    if conn.dialect.name == "duckdb":
        return _reflect_duckdb(conn, schema)
    inspector = sa.inspect(conn)
    views = set(inspector.get_view_names(schema=schema))
    with contextlib.suppress(NotImplementedError):  # only some dialects have them
        views.update(inspector.get_materialized_view_names(schema=schema))
    errors: dict[str, str] = {}
    # Keys are (schema, table); some dialects say None for the default schema.
    try:
        columns: dict[str, list[ReflectedColumn]] = _by_table(
            inspector.get_multi_columns(schema=schema, kind=ObjectKind.ANY)
        )
        keys: dict[str, ReflectedPrimaryKeyConstraint] = _by_table(
            inspector.get_multi_pk_constraint(schema=schema, kind=ObjectKind.ANY)
        )
    except sa.exc.DBAPIError:
        # One broken object (a SQLite view naming a dropped column) fails the whole
        # schema; reflect table by table so only that one goes without columns.
        conn.rollback()
        columns, keys = {}, {}
        names = sorted({*inspector.get_table_names(schema=schema), *views})
        for table in names:
            try:
                columns[table] = inspector.get_columns(table, schema=schema)
                keys[table] = inspector.get_pk_constraint(table, schema=schema)
            except sa.exc.DBAPIError as exc:
                conn.rollback()
                columns[table] = []
                errors[table] = str(exc.orig).splitlines()[0]
    comments: dict[str, ReflectedTableComment] = {}
    with contextlib.suppress(NotImplementedError):  # SQLite has no table comments
        comments = _by_table(inspector.get_multi_table_comment(schema=schema, kind=ObjectKind.ANY))
    found = []
    for table, reflected in sorted(columns.items()):
        definition = None
        if table in views:
            definition = inspector.get_view_definition(table, schema=schema)
        found.append(
            ReflectedTable(
                schema=schema,
                name=table,
                kind="view" if table in views else "table",
                columns=tuple(
                    Column(
                        name=column["name"],
                        type=_type_name(column["type"], conn.dialect),
                        description=column.get("comment"),
                        nullable=bool(column["nullable"]),
                    )
                    for column in reflected
                ),
                comment=comments[table].get("text") if table in comments else None,
                definition=definition,
                primary_key=tuple(keys[table]["constrained_columns"] if table in keys else ()),
                error=errors.get(table),
            )
        )
    return found


def _type_name(column_type: sa.types.TypeEngine[object], dialect: sa.Dialect) -> str:
    """A column's type as the database spells it.

    Trino's dialect parses `timestamp(6) with time zone` or `array(varchar)` into generic
    types whose `str()` drops the precision, the zone and the element type; its own
    compiler renders them whole. Other dialects keep `str()`, the spelling catalogs already
    hold (changing it would mark every synced table as changed).
    """
    if dialect.name == "trino":
        with contextlib.suppress(sa.exc.CompileError):
            return str(column_type.compile(dialect=dialect))
    return str(column_type)


def _by_table(found: Mapping[tuple[str | None, str], V]) -> dict[str, V]:
    return {table: value for (_, table), value in found.items()}


def _reflect_duckdb(conn: sa.Connection, schema: str) -> list[ReflectedTable]:
    where = "database_name = current_database() AND schema_name = :schema"
    columns: dict[str, list[Column]] = {}
    for table, column, data_type, nullable, comment in conn.execute(
        sa.text(
            "SELECT table_name, column_name, data_type, is_nullable, comment"
            f" FROM duckdb_columns() WHERE {where} ORDER BY table_name, column_index"
        ),
        {"schema": schema},
    ):
        columns.setdefault(table, []).append(
            Column(name=column, type=data_type, description=comment, nullable=bool(nullable))
        )
    keys: dict[str, tuple[str, ...]] = {}
    for table, names in conn.execute(
        sa.text(
            "SELECT table_name, constraint_column_names FROM duckdb_constraints()"
            f" WHERE {where} AND constraint_type = 'PRIMARY KEY'"
        ),
        {"schema": schema},
    ):
        keys[table] = tuple(names)
    found = [
        ReflectedTable(
            schema=schema,
            name=table,
            kind="table",
            columns=tuple(columns.get(table, ())),
            comment=comment,
            primary_key=keys.get(table, ()),
        )
        for table, comment in conn.execute(
            sa.text(f"SELECT table_name, comment FROM duckdb_tables() WHERE {where}"),
            {"schema": schema},
        )
    ]
    found.extend(
        ReflectedTable(
            schema=schema,
            name=view,
            kind="view",
            columns=tuple(columns.get(view, ())),
            comment=comment,
            definition=definition,
        )
        for view, definition, comment in conn.execute(
            sa.text(
                f"SELECT view_name, sql, comment FROM duckdb_views() WHERE {where} AND NOT internal"
            ),
            {"schema": schema},
        )
    )
    return sorted(found, key=lambda table: table.name)
