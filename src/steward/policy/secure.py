"""The secure view: what replaces every reference to a catalog table in a governed query.

`secure_view` is `SELECT <mask> AS col, ... FROM <internal> WHERE <row filters>`, holding
only the visible columns the engine's table physically has, with every column of a mask
or a filter qualified by the internal table's own name, so that nothing of the caller's
query (a LATERAL or correlated subquery around it) can supply a column the table lacks.
`secure_tables` puts one in place of each catalog reference, and `name_outputs` gives
every unnamed output of the caller's query the name the caller wrote, so that no column
name can carry the rewritten SQL back.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from steward.errors import Forbidden
from steward.policy.access import ColumnAccess, TableAccess
from steward.policy.parsed import mask_expression, parse_expression
from steward.policy.statement import DIALECT, first_line


def secure_view(access: TableAccess, internal: str, physical: Collection[str]) -> exp.Select:
    """The secure subquery of one table for one decision, over the engine table `internal`.

    The same decision over the same table gives the same view, built once (callers copy).
    """
    return _secure_view(access, internal, tuple(physical))


@functools.lru_cache(maxsize=512)
def _secure_view(access: TableAccess, internal: str, physical: tuple[str, ...]) -> exp.Select:
    if not access.allowed:
        raise Forbidden(access.reason or f"{access.table}: not granted ({access.rule})")
    present = {c.lower() for c in physical}
    visible = [c for c in access.visible if c.name.lower() in present]
    if not visible:
        raise Forbidden(f"{access.table}: no column of it is visible to you")
    source = exp.to_identifier(internal, quoted=True)
    projections = [exp.alias_(_qualified(_mask(c), source), c.name, quoted=True) for c in visible]
    view = exp.select(*projections).from_(exp.Table(this=source.copy()))
    for where in _filters(access):
        view = view.where(_qualified(where, source), copy=False)
    return view


def _mask(column: ColumnAccess) -> exp.Expr:
    """The value the view shows of a column: its parsed mask over it (a copy), or itself."""
    if column.expression is None:
        return exp.column(column.name, quoted=True)
    if column.parsed is not None:
        return mask_expression(column.parsed, column.name)
    quoted = exp.column(column.name, quoted=True).sql(dialect=DIALECT)
    return _parse(column.expression.replace("{column}", quoted), f"mask on {column.name}")


def _filters(access: TableAccess) -> list[exp.Expr]:
    """Copies of the row filters as parsed with the policy, or parsed from their text."""
    if len(access.filter_expressions) == len(access.row_filters):
        return [where.copy() for where in access.filter_expressions]
    return [_parse(text, f"{access.table} row filter") for text in access.row_filters]


def _qualified(expression: exp.Expr, source: exp.Identifier) -> exp.Expr:
    """Every column of a policy expression bound to the secure view's own table."""
    lambdas = {
        p.name.lower()
        for node in expression.find_all(exp.Lambda)
        for p in node.expressions
        if isinstance(p, exp.Identifier | exp.Column)
    }
    for column in expression.find_all(exp.Column):
        if column.name.lower() in lambdas and not column.table:
            continue
        column.set("table", source.copy())
        column.set("db", None)
        column.set("catalog", None)
    return expression


def _parse(text: str, what: str) -> exp.Expr:
    try:
        return parse_expression(text)
    except (ParseError, TokenError) as exc:
        # A policy error, not the caller's: refuse rather than run without the rule.
        problem = first_line(str(exc))
        raise Forbidden(f"{what}: the policy's SQL cannot be parsed ({problem})") from None


def secure_tables(
    expression: exp.Query,
    *,
    references: Mapping[int, str],
    views: Mapping[int, tuple[str, exp.Select]],
    materialize: bool = False,
) -> exp.Query:
    """`expression` (changed in place) with each catalog reference replaced by its view.

    `views` maps a reference (node id) to the internal name of its view and the view.
    With `materialize`, the views become `MATERIALIZED` CTEs ahead of the query's own,
    so the engine computes each one (row filter applied, masks computed) before any of
    the caller's expressions runs: the caller's predicates cannot be evaluated on rows
    outside the filter, not even to raise an error.
    """
    ctes: dict[str, exp.Select] = {}
    for table in list(expression.find_all(exp.Table)):
        if id(table) not in references:
            continue
        internal, view = views[id(table)]
        alias = table.args.get("alias")
        if alias is None:
            alias = exp.TableAlias(this=exp.to_identifier(table.name, quoted=True))
        if materialize:
            name = internal + "_v"
            ctes.setdefault(name, view)
            table.replace(exp.Table(this=exp.to_identifier(name, quoted=True), alias=alias))
        else:
            table.replace(exp.Subquery(this=view.copy(), alias=alias))
    if ctes:
        materialized = [
            exp.CTE(
                this=view.copy(),
                alias=exp.TableAlias(this=exp.to_identifier(name, quoted=True)),
                materialized=True,
            )
            for name, view in sorted(ctes.items())
        ]
        existing = expression.args.get("with_")
        if existing is not None:
            existing.set("expressions", [*materialized, *existing.expressions])
        else:
            expression.set("with_", exp.With(expressions=materialized))
    for column in expression.find_all(exp.Column):
        # `crm.customers.email` -> `customers.email`: the secure view keeps the table's name.
        if column.args.get("db") is not None or column.args.get("catalog") is not None:
            column.set("db", None)
            column.set("catalog", None)
    return expression


def name_outputs(expression: exp.Query) -> exp.Query:
    """Every unnamed output of every SELECT named as the caller wrote it (in place).

    The engine names an unaliased expression after its text; after the rewrite that text
    would hold secure views, masks and internal names. A plain column keeps its name, and
    `*` / `COLUMNS(...)` expand to the names of the secure view's columns.
    """
    for select in expression.find_all(exp.Select):
        named = []
        for projection in select.expressions:
            if isinstance(projection, exp.Alias | exp.Column | exp.Star) or _expands(projection):
                named.append(projection)
                continue
            text = projection.sql(dialect=DIALECT, comments=False)
            named.append(exp.alias_(projection, text, quoted=True, copy=False))
        select.set("expressions", named)
    return expression


def _expands(projection: exp.Expr) -> bool:
    """Whether a projection expands to several columns (`COLUMNS(*)`, `min(COLUMNS(*))`)."""
    for node in projection.walk(prune=lambda n: isinstance(n, exp.Query | exp.Subquery)):
        if isinstance(node, exp.Columns):
            return True
    return False
