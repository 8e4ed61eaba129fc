"""A script's lineage as a whole: its external inputs, its outputs, and each output
column traced through the tables the script itself wrote on the way."""

from __future__ import annotations

from steward.lineage.sql.models import (
    ColumnLineage,
    ScriptLineage,
    StatementLineage,
    Transformation,
    Upstream,
    chain,
)

# statements after which a table holds only what they wrote
_REPLACING = ("CREATE", "SELECT_INTO", "INSERT_OVERWRITE")


def script_lineage(statements: tuple[StatementLineage, ...]) -> ScriptLineage:
    """External inputs: tables read before the script writes them. Outputs: tables
    written, except scratch tables the script both creates and drops. Columns: each
    output column with its inputs among the external tables, followed through every
    table the script wrote before reading it (`CREATE TEMP TABLE t AS SELECT a FROM s;
    INSERT INTO x SELECT a FROM t` gives x.a <- s.a)."""
    written: dict[str, None] = {}
    inputs: dict[str, None] = {}
    created: set[str] = set()
    dropped: set[str] = set()
    columns: dict[tuple[str, str], dict[Upstream, None]] = {}
    for statement in statements:
        for table in statement.inputs:
            if table not in written:
                inputs.setdefault(table)
        _follow(statement, columns, written)
        for table in statement.outputs:
            written.setdefault(table)
            if statement.kind.startswith("CREATE") or statement.kind == "SELECT_INTO":
                created.add(table)
                dropped.discard(table)
            elif statement.kind == "DROP" and table in created:
                dropped.add(table)
    outputs = tuple(table for table in written if table not in dropped)
    traced = tuple(
        ColumnLineage(table, column, _merged(list(ups)))
        for (table, column), ups in columns.items()
        if table in outputs
    )
    return ScriptLineage(statements, tuple(sorted(inputs)), outputs, traced)


def _follow(
    statement: StatementLineage,
    columns: dict[tuple[str, str], dict[Upstream, None]],
    written: dict[str, None],
) -> None:
    """Add what `statement` writes to `columns`, its inputs traced through earlier writes."""
    new: dict[tuple[str, str], dict[Upstream, None]] = {}
    for column in statement.columns:
        if column.table is None:
            continue
        ups = new.setdefault((column.table, column.column), {})
        for upstream in column.upstreams:
            earlier = columns.get((upstream.table, upstream.column))
            if upstream.table in written and earlier:
                ups.update(dict.fromkeys(_through(upstream, list(earlier))))
            else:
                ups.setdefault(upstream)
    replacing = statement.kind.startswith(_REPLACING)
    for key, ups in new.items():
        if replacing or key not in columns:
            columns[key] = ups
        else:
            columns[key].update(ups)


def _through(upstream: Upstream, earlier: list[Upstream]) -> list[Upstream]:
    """`upstream` read a column the script wrote earlier: its inputs, each transformation
    chained with the way the written column reaches this one."""
    return [
        Upstream(
            inner.table,
            inner.column,
            tuple(
                dict.fromkeys(
                    chain(outer, first)
                    for outer in upstream.transformations
                    for first in inner.transformations
                )
            ),
        )
        for inner in earlier
    ]


def _merged(ups: list[Upstream]) -> tuple[Upstream, ...]:
    grouped: dict[tuple[str, str], dict[Transformation, None]] = {}
    for up in ups:
        grouped.setdefault((up.table, up.column), {}).update(dict.fromkeys(up.transformations))
    return tuple(
        Upstream(table, column, tuple(sorted(ts, key=lambda t: (t.type != "DIRECT", t.subtype))))
        for (table, column), ts in sorted(grouped.items())
    )
