"""`information_schema` for one caller: only what the policy lets them describe.

`information_schema.tables` and `information_schema.columns` are not the engine's (which
would list every table set up in it, under internal names); each reference is replaced
by a constant table built from the catalog and the caller's decisions: the tables they
may select or describe, and of those only the columns not denied to them, with the
catalog's names and types. Other `information_schema` views and other metadata stay
refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from steward.errors import Forbidden
from steward.policy.access import TableAccess

TABLES_COLUMNS = ("table_catalog", "table_schema", "table_name", "table_type")
COLUMNS_COLUMNS = (
    "table_catalog",
    "table_schema",
    "table_name",
    "column_name",
    "ordinal_position",
    "data_type",
    "is_nullable",
)
SUPPORTED = ("tables", "columns")


def information_schema_references(expression: exp.Expr) -> list[exp.Table]:
    """The `information_schema.tables|columns` references in `expression`."""
    found = []
    for table in expression.find_all(exp.Table):
        parts = [p.name.lower() for p in table.parts]
        if len(parts) >= 2 and parts[-2] == "information_schema":
            if parts[-1] not in SUPPORTED:
                raise Forbidden(
                    f"sql: information_schema.{parts[-1]} is not available here; "
                    "information_schema.tables and information_schema.columns are"
                )
            found.append(table)
    return found


def expand_information_schema(
    expression: exp.Query,
    *,
    tables: Mapping[str, Sequence[tuple[str, str]]],
    access: Mapping[str, TableAccess],
) -> exp.Query:
    """`expression` with each `information_schema` reference made a constant table.

    `tables` maps catalog names to their (column, type) pairs; `access` holds the
    caller's decision for each of them.
    """
    shown = [name for name in sorted(tables) if access[name].describe]
    table_rows: list[tuple[object, ...]] = []
    column_rows: list[tuple[object, ...]] = []
    for name in shown:
        source, schema, table = _split(name)
        table_rows.append((source, schema, table, "BASE TABLE"))
        denied = {c.name for c in access[name].columns if c.verdict == "denied"}
        position = 0
        for column, kind in tables[name]:
            if column in denied:
                continue
            position += 1
            column_rows.append((source, schema, table, column, position, kind, "YES"))
    for reference in information_schema_references(expression):
        which = reference.name.lower()
        rows, names = (
            (table_rows, TABLES_COLUMNS) if which == "tables" else (column_rows, COLUMNS_COLUMNS)
        )
        alias = reference.args.get("alias")
        alias_name = alias.name if alias is not None and alias.name else which
        reference.replace(_constant_table(rows, names, alias_name))
    return expression


def _split(name: str) -> tuple[str, str, str]:
    source, _, rest = name.partition(".")
    schema, _, table = rest.rpartition(".")
    return source, schema, table


def _literal(value: object) -> exp.Expr:
    if isinstance(value, int):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _constant_table(
    rows: Sequence[tuple[object, ...]], names: Sequence[str], alias: str
) -> exp.Expr:
    columns = [exp.to_identifier(n, quoted=True) for n in names]
    if not rows:
        # No row: a typed empty relation with the same columns.
        nulls = [exp.alias_(exp.cast(exp.null(), "VARCHAR"), n, quoted=True) for n in names]
        empty = exp.select(*nulls).where(exp.false())
        return exp.Subquery(this=empty, alias=exp.TableAlias(this=exp.to_identifier(alias)))
    values = exp.Values(
        expressions=[exp.Tuple(expressions=[_literal(v) for v in row]) for row in rows],
        alias=exp.TableAlias(this=exp.to_identifier(alias), columns=columns),
    )
    return values
