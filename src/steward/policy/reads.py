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


def columns_read(
    expression: exp.Query,
    *,
    references: Mapping[int, str],
    visible: Mapping[str, Sequence[str]],
) -> ColumnsRead:
    """What `expression` reads of each catalog table it references.

    Args:
        references: each catalog table reference (by node id) -> its catalog name.
        visible: each of those tables -> the columns the caller sees, in table order.
    """
    from steward.lineage.sql import analyze

    names = list(dict.fromkeys(references.values()))
    table_level = ColumnsRead({name: [] for name in names})
    if not names:
        return table_level
    try:
        sql = _named_by_catalog(expression, references)
        schema = {name: {column: "unknown" for column in visible[name]} for name in names}
        script = analyze(sql, dialect=DIALECT, schema=schema)
    except Exception as exc:  # lineage must never fail a query: record tables only
        log.warning("columns read: analysis failed, recording tables only: %s", exc)
        return table_level
    if len(script.statements) != 1:
        log.warning(
            "columns read: %d statements analyzed, recording tables only", len(script.statements)
        )
        return table_level
    statement = script.statements[0]
    catalog = {name.lower(): name for name in names}
    how: dict[str, dict[str, dict[tuple[str, str], None]]] = {name: {} for name in names}

    def note(table: str, column: str, kinds: Transformations) -> None:
        name = catalog.get(table.lower())
        if name is None:
            return
        shown = _visible_path(column, visible[name])
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
    ordered = {name: _in_table_order(how[name], visible[name]) for name in names}
    return ColumnsRead(
        columns=ordered,
        how={name: {c: tuple(how[name][c]) for c in ordered[name]} for name in names},
    )


def _named_by_catalog(expression: exp.Query, references: Mapping[int, str]) -> str:
    """The query as DuckDB SQL with each catalog reference written as its catalog name.

    A reference keeps the name it was written with as its alias, so that the columns
    qualified by it still find it.
    """
    copy = expression.copy()
    for original, table in zip(
        expression.find_all(exp.Table), copy.find_all(exp.Table), strict=True
    ):
        name = references.get(id(original))
        if name is None:
            continue
        parts = name.split(".")
        if len(parts) != 3:
            raise ValueError(f"{name!r} is not source.schema.table")
        table.set("catalog", exp.to_identifier(parts[0], quoted=True))
        table.set("db", exp.to_identifier(parts[1], quoted=True))
        table.set("this", exp.to_identifier(parts[2], quoted=True))
        if not table.alias:
            table.set("alias", exp.TableAlias(this=original.this.copy()))
    return copy.sql(dialect=DIALECT, comments=False)


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
