"""What a governed query reads, column by column, for its audit record and its lineage.

The query as parsed goes to Steward's one SQL lineage engine
(`steward.lineage.sql.analyze`, DuckDB dialect) with each table reference named by the
catalog table it was resolved to and, as the schema, the columns the caller sees: so
`*` expands to the visible columns only, `count(*)` reads none, and a struct path
(`address.city`) is kept where the engine gives one.

This is for the record only: the access decision has been made before, on the
references and the policy, and never looks at it. So it may not fail a query: when the
engine cannot analyze it, the tables are recorded without columns and a warning is
logged; and it never records a column the caller cannot see.

`govern` takes the query's text for the analysis (`read_query`, before the query is
rewritten: +0.05 ms); `run_query` analyzes it when it records the answer (about 1 ms
for a simple query, `bench/policy_overhead.py` prints it). Running the analysis on a
thread beside the engine was measured and is slower: the two contend for the
interpreter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from steward.policy.statement import DIALECT

log = logging.getLogger(__name__)

Transformations = tuple[tuple[str, str], ...]  # OpenLineage (type, subtype) pairs


@dataclass(frozen=True)
class ColumnsRead:
    """Per catalog table, the visible columns read in table order, and how each is used.

    `how[table][column]` holds the OpenLineage transformations the engine found: DIRECT
    when the column's value reaches the result, INDIRECT (FILTER, JOIN, GROUP_BY ...)
    when it only decides which rows do.
    """

    columns: dict[str, list[str]]
    how: dict[str, dict[str, Transformations]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReadQuery:
    """A governed query as the analysis takes it, fixed before the pipeline rewrites it.

    `sql` is the query as parsed, in DuckDB SQL, with every catalog reference written as
    its catalog table (None when one cannot be: see `read_query`); `visible` maps each
    of those tables to the columns the caller sees, in table order.
    """

    sql: str | None
    visible: dict[str, list[str]]


def read_query(
    expression: exp.Query,
    *,
    references: Mapping[int, str],
    visible: Mapping[str, Sequence[str]],
) -> ReadQuery:
    """What `columns_read` needs of `expression`, taken before it is rewritten.

    Args:
        references: each catalog table reference (by node id) -> its catalog name.
        visible: each of those tables -> the columns the caller sees, in table order.
    """
    names = list(dict.fromkeys(references.values()))
    shown = {name: list(visible[name]) for name in names}
    if not names:
        return ReadQuery(None, shown)
    try:
        return ReadQuery(_named_by_catalog(expression, references), shown)
    except Exception as exc:  # never fail a query for its record: tables only
        log.warning("columns read: recording tables only: %s", exc)
        return ReadQuery(None, shown)


def columns_read(query: ReadQuery) -> ColumnsRead:
    """What the query reads of each catalog table; tables only if it cannot be told."""
    from steward.lineage.sql import analyze

    names = list(query.visible)
    table_level = ColumnsRead({name: [] for name in names})
    if query.sql is None:
        return table_level
    try:
        schema = {name: {column: "unknown" for column in query.visible[name]} for name in names}
        script = analyze(query.sql, dialect=DIALECT, schema=schema)
    except Exception as exc:  # lineage must never fail a query: record tables only
        log.warning("columns read: analysis failed, recording tables only: %s", exc)
        return table_level
    if len(script.statements) != 1:
        count = len(script.statements)
        log.warning("columns read: %d statements analyzed, recording tables only", count)
        return table_level
    statement = script.statements[0]
    catalog = {name.lower(): name for name in names}
    how: dict[str, dict[str, dict[tuple[str, str], None]]] = {name: {} for name in names}

    def note(table: str, column: str, kinds: Transformations) -> None:
        name = catalog.get(table.lower())
        if name is None:
            return
        shown = _visible_path(column, query.visible[name])
        if shown is not None:
            how[name].setdefault(shown, {}).update(dict.fromkeys(kinds))

    for table, columns in statement.reads.items():
        for column in columns:
            note(table, column, ())
    for traced in statement.columns:
        for up in traced.upstreams:
            note(up.table, up.column, tuple((t.type, t.subtype) for t in up.transformations))
    for up in statement.dataset:
        note(up.table, up.column, tuple((t.type, t.subtype) for t in up.transformations))
    ordered = {name: _in_table_order(how[name], query.visible[name]) for name in names}
    return ColumnsRead(
        columns=ordered,
        how={name: {c: tuple(how[name][c]) for c in ordered[name]} for name in names},
    )


def _named_by_catalog(expression: exp.Query, references: Mapping[int, str]) -> str:
    """The query as DuckDB SQL with each catalog reference written as its catalog name.

    A reference keeps the name it was written with as its alias, so that the columns
    qualified by it still find it. The names are set on the query itself while it is
    written out, then put back: copying the whole tree would cost more than writing it.
    """
    saved: list[tuple[exp.Table, dict[str, exp.Expr | None]]] = []
    try:
        for table in expression.find_all(exp.Table):
            name = references.get(id(table))
            if name is None:
                continue
            parts = name.split(".")
            if len(parts) != 3:
                raise ValueError(f"{name!r} has no SQL name (catalog.schema.table)")
            keys = ("catalog", "db", "this", "alias")
            saved.append((table, {key: table.args.get(key) for key in keys}))
            alias = table.args.get("alias") or exp.TableAlias(this=table.this.copy())
            table.set("catalog", exp.to_identifier(parts[0], quoted=True))
            table.set("db", exp.to_identifier(parts[1], quoted=True))
            table.set("this", exp.to_identifier(parts[2], quoted=True))
            table.set("alias", alias)
        return expression.sql(dialect=DIALECT, comments=False)
    finally:
        for table, args in saved:
            for key, value in args.items():
                table.set(key, value)


def _visible_path(column: str, visible: Sequence[str]) -> str | None:
    """`column` (or struct path `column.field...`) as the caller sees it; None if hidden."""
    by_name = {name.lower(): name for name in visible}
    if column.lower() in by_name:
        return by_name[column.lower()]
    root, dot, rest = column.partition(".")
    if dot and root.lower() in by_name:
        return f"{by_name[root.lower()]}.{rest}"
    return None


def _in_table_order(read: Mapping[str, object], visible: Sequence[str]) -> list[str]:
    order = {name: index for index, name in enumerate(visible)}

    def position(path: str) -> int:
        return order[path] if path in order else order.get(path.partition(".")[0], len(order))

    return sorted(read, key=lambda path: (position(path), path))
