"""A policy's masks and row filters parsed once, kept as sqlglot expressions.

The stored YAML stays the source of truth (diff, rollback, sha); what the query path
needs of it is the expressions. `parsed_rules` parses each mask (over a placeholder
column) and each row filter once per `Policy` object, and `versions.active` keeps one
`Policy` per applied version, so a mask is parsed once per version however many queries
run. Deciding a column or binding a filter to a caller copies an expression (sqlglot
transforms change a tree in place); the secure view built from those copies is rendered
in each engine's dialect with the query around it (`rewrite.govern`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from steward.policy.models import Policy
from steward.policy.statement import DIALECT

# The name a mask is written over before it is parsed; `mask_expression` puts the
# column it masks in its place. Text masks get `{column}` replaced by the quoted column,
# so a quoted `"{column}"` identifier is exactly what that replacement would have named.
PLACEHOLDER = "{column}"


def parse_expression(sql: str) -> exp.Expr:
    """One policy expression (`statement.DIALECT`) parsed: the only place rules are parsed."""
    return sqlglot.parse_one(sql, read=DIALECT)


@dataclass(frozen=True)
class ParsedRules:
    """Each mask and row filter of a policy as an expression, in policy order.

    None where the SQL does not parse: a policy read through `load` has none such, and
    the query path refuses a table whose rule cannot be parsed rather than drop the rule.
    Never changed in place: callers copy (`mask_expression`, `filter_expression`).
    """

    masks: tuple[exp.Expr | None, ...]
    filters: tuple[exp.Expr | None, ...]


def parse_policy(policy: Policy) -> ParsedRules:
    """`policy`'s rules parsed: each mask written over `PLACEHOLDER`, each filter as written.

    Call `Policy.parsed_rules`, which keeps the result on the policy.
    """
    from steward.policy.decide import mask_sql  # decide reads the parsed rules

    return ParsedRules(
        masks=tuple(_parsed_or_none(mask_sql(m, PLACEHOLDER, policy)) for m in policy.masks),
        filters=tuple(_parsed_or_none(rule.where) for rule in policy.row_filters),
    )


def mask_expression(template: exp.Expr, column: str) -> exp.Expr:
    """A copy of a mask's expression computing the masked value of `column`."""

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Identifier) and node.quoted and node.this == PLACEHOLDER:
            return exp.to_identifier(column, quoted=True)
        return node

    return template.transform(bind)


def _parsed_or_none(sql: str) -> exp.Expr | None:
    try:
        return parse_expression(sql)
    except (ParseError, TokenError):
        return None
