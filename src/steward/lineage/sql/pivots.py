"""Columns read through a PIVOT or UNPIVOT of a stored table.

`FROM t PIVOT (sum(v) FOR k IN (1, 2)) AS p`: a pivoted column (`p."1"`) is the
aggregate of `v` over the rows whose `k` matches (`v` DIRECT AGGREGATION, `k` INDIRECT
CONDITIONAL, as `sum(CASE WHEN k = 1 THEN v END)` would be); every other column of `t`
passes through unchanged. `FROM t UNPIVOT (val FOR name IN (a, b)) AS u`: `val` holds
the values of `a` and `b`; `name` holds their names (no column's value); the other
columns pass through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.lineage.sql.models import CONDITIONAL, INDIRECT
from steward.lineage.sql.walk import walk_expression

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope

    from steward.lineage.sql.trace import Found, Tracer


def pivot_of(table: exp.Table) -> exp.Pivot | None:
    pivots = table.args.get("pivots") or []
    return pivots[0] if len(pivots) == 1 else None


def with_pivot_alias(scope: Scope, alias: str) -> exp.Table | None:
    """The table of the scope whose PIVOT/UNPIVOT is named `alias` (`AS p`)."""
    from sqlglot import exp

    for source in scope.sources.values():
        if isinstance(source, exp.Table):
            pivot = pivot_of(source)
            if pivot is not None and pivot.alias == alias:
                return source
    return None


def pivoted(
    tracer: Tracer, scope: Scope, table: exp.Table, pivot: exp.Pivot, name: str
) -> list[Found] | None:
    """The inputs of output column `name` of the pivot, or None for a column of the table
    that passes through."""
    from sqlglot import exp

    from steward.lineage.sql.trace import combine

    fields = [field for field in pivot.args.get("fields") or [] if isinstance(field, exp.In)]
    known = {column.lower() for column in tracer.columns_of(table)}
    lower = name.lower()
    if pivot.args.get("unpivot"):
        values = {e.alias_or_name.lower() for e in pivot.expressions}
        names = {field.this.name.lower() for field in fields}
        if lower in names:
            return []
        if lower not in values:
            return None
        found: list[Found] = []
        for field in fields:
            for item in field.expressions:
                for column in item.find_all(exp.Column):
                    found += tracer.stored(table, column.name, column)
        return found
    used = {column.name.lower() for column in pivot.find_all(exp.Column)}
    if (known and lower in known and lower not in used) or (not known and lower in used):
        return None
    if not known and not _is_pivot_column(pivot, name):
        return None
    found = []
    for aggregate in pivot.expressions:
        top = aggregate.this if isinstance(aggregate, exp.Alias) else aggregate
        for column, reached in walk_expression(top, scope)[0]:
            for origin in tracer.stored(table, column.name, column):
                found.append(combine(reached.type, reached.subtype, reached.masking, origin))
    for field in fields:
        for column in field.this.find_all(exp.Column):
            for origin in tracer.stored(table, column.name, column):
                found.append(combine(INDIRECT, CONDITIONAL, False, origin))
    return found


def _is_pivot_column(pivot: exp.Pivot, name: str) -> bool:
    """Without the table's columns: `name` is one the pivot makes (its named columns,
    or a name built from an IN value)."""
    from sqlglot import exp

    made = {identifier.name.lower() for identifier in pivot.args.get("columns") or []}
    for field in pivot.args.get("fields") or []:
        for value in field.expressions if isinstance(field, exp.In) else []:
            made.add(value.alias_or_name.lower())
            made.add(value.name.lower())
    return name.lower() in made or any(name.lower().startswith(m) for m in made if m)
