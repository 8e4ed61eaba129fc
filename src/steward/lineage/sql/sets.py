"""The output columns of queries and set operations, by position and by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope


def set_names(scope: Scope) -> list[str] | None:
    """The output names of a set operation that matches its branches' columns by name
    (DuckDB `UNION BY NAME`, BigQuery `CORRESPONDING`/`BY NAME`), else None: the
    `ON (...)` columns; a LEFT one's left names, a RIGHT one's right names; INNER
    (CORRESPONDING) the names both have; otherwise every name, the left's first.
    An unexpanded star is the name `*`."""
    from sqlglot import exp

    expression = scope.expression
    if not isinstance(expression, exp.SetOperation) or not expression.args.get("by_name"):
        return None
    left, right = (names_of(branch) for branch in scope.set_operation_scopes)
    on = expression.args.get("on")
    side = str(expression.args.get("side") or "").upper()
    if on:
        return [column.name for column in on]
    if side in ("LEFT", "RIGHT"):
        return left if side == "LEFT" else right
    if str(expression.args.get("kind") or "").upper() == "INNER":
        return [name for name in left if name in right]
    return left + [name for name in right if name not in left]


def names_of(scope: Scope) -> list[str]:
    """A query scope's output names by position (`*` for an unexpanded star)."""
    names = set_names(scope)
    if names is not None:
        return names
    selects = getattr(scope.expression, "selects", [])
    return ["*" if is_star(select) else select.alias_or_name for select in selects]


def query_selects(scope: Scope) -> list[tuple[Scope, exp.Expr]]:
    """Every select expression of a query scope, with the branch scope it belongs to."""
    from sqlglot import exp

    expression = scope.expression
    if isinstance(expression, exp.SetOperation):
        left, right = scope.set_operation_scopes
        return query_selects(left) + query_selects(right)
    if not isinstance(expression, exp.Select):
        return []
    return [(scope, select) for select in expression.selects]


def is_star(select: exp.Expr) -> bool:
    """`*`, `t.*`, or a DuckDB `COLUMNS(...)` left unexpanded: columns not known."""
    from sqlglot import exp

    return (
        isinstance(select, exp.Star)
        or (isinstance(select, exp.Column) and isinstance(select.this, exp.Star))
        or select.find(exp.Columns) is not None
    )
