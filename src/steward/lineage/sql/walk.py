"""How each column inside one expression reaches its top: one linear pass, no recursion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from steward.lineage.sql.models import (
    AGGREGATION,
    CONDITIONAL,
    DIRECT,
    IDENTITY,
    INDIRECT,
    TRANSFORMATION,
    WINDOW,
)

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope

# OpenLineage counts a hash as masking for TRANSFORMATION and a count for AGGREGATION:
# the output does not reveal the input's values.
_MASKING_FUNCTIONS = frozenset(
    {"MD5", "SHA", "SHA1", "SHA2", "SHA256", "SHA512", "HASH", "MD5_HEX", "SHA2_HEX",
     "SHA1_HEX", "FARM_FINGERPRINT", "HASHBYTES", "MASK", "MASK_HASH", "XXHASH64", "CRC32",
     "COUNT", "APPROX_DISTINCT", "COUNT_IF"}
)  # fmt: skip


@dataclass(frozen=True)
class Reached:
    """A column (or nested query) inside an expression, with how its value reaches the top."""

    node: exp.Expr
    type: str
    subtype: str
    masking: bool


def walk_expression(
    top: exp.Expr, scope: Scope
) -> tuple[list[tuple[exp.Column, Reached]], list[tuple[Scope, Reached]]]:
    """The columns of `top` that belong to `scope`, and the subquery scopes inside it, each
    with its transformation: IDENTITY when the column is the value itself (through struct
    field access or parentheses), AGGREGATION under an aggregate, INDIRECT WINDOW in a
    window's PARTITION BY / ORDER BY, INDIRECT CONDITIONAL in a CASE/IF condition,
    TRANSFORMATION otherwise. One pass from the top (no walk back up per column), with
    an explicit stack, so a very long expression costs linear time and no recursion."""
    from sqlglot import exp

    nested_by_node = {id(inner.expression): inner for inner in scope.subquery_scopes}
    columns: list[tuple[exp.Column, Reached]] = []
    nested: list[tuple[Scope, Reached]] = []
    stack: list[Reached] = [Reached(top, DIRECT, IDENTITY, False)]
    while stack:
        item = stack.pop()
        node = item.node
        if isinstance(node, exp.Column):
            columns.append((node, item))
            continue
        parenthesised = isinstance(node, exp.Subquery) and not isinstance(node.this, exp.Query)
        if node is not top and isinstance(node, exp.Query) and not parenthesised:
            # a nested query; `(a JOIN b ON ...)` in FROM is this query's own join
            inner = node.this if isinstance(node, exp.Subquery) else node
            found = nested_by_node.get(id(inner)) or nested_by_node.get(id(node))
            if found is not None:
                nested.append((found, item))
            continue
        masking = item.masking or _function_name(node) in _MASKING_FUNCTIONS
        for child in node.iter_expressions():
            kind, subtype = item.type, item.subtype
            key = child.arg_key
            if isinstance(node, exp.Window) and key in ("partition_by", "order"):
                kind, subtype = INDIRECT, WINDOW
            elif isinstance(node, exp.If | exp.Case) and key == "this" and kind == DIRECT:
                kind, subtype = INDIRECT, CONDITIONAL
            elif isinstance(node, exp.AggFunc) and kind == DIRECT:
                subtype = AGGREGATION
            elif isinstance(node, exp.Dot | exp.Paren) and key == "this":
                pass  # a struct field of the value, or the value in parentheses
            elif kind == DIRECT and subtype == IDENTITY:
                subtype = TRANSFORMATION
            stack.append(Reached(child, kind, subtype, masking))
    columns.reverse()
    return columns, nested


def _function_name(node: exp.Expr) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Anonymous):
        return str(node.this).upper()
    return node.sql_name().upper() if isinstance(node, exp.Func) else ""
