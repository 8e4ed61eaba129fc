"""What one principal may see of one table: the contract between deciding and enforcing.

`policy.decide` turns the active policy, a principal and a table's columns (with their
catalog tags) into a `TableAccess`; the query path (`policy.rewrite`) turns a
`TableAccess` into the secure view that replaces every reference to the table, and
`policy explain`, `/api/v1/policy/effective` and the Trino export read the same value,
so what is shown and what is enforced cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sqlglot import exp

ColumnVerdict = Literal["clear", "masked", "denied"]


@dataclass(frozen=True)
class ColumnAccess:
    """One column as the principal sees it.

    `expression` is the SQL (DuckDB dialect, sqlglot-parseable) computing the masked
    value from the column itself, which it names as `{column}` quoted; None when clear
    or denied. `rule` names the policy rule that decided (e.g. `masks[0]`, `deny[1]`,
    `grants[2]`).
    """

    name: str
    verdict: ColumnVerdict
    rule: str
    mask: str | None = (
        None  # built-in mask name (redact, null, hash, email, last4, year, round) or "sql"
    )
    expression: str | None = None
    # The mask as parsed once per policy version (`Policy.parsed_rules`), written over
    # `parsed.PLACEHOLDER` and shared (the secure view binds a copy to the column); None
    # when the decision was not made from a parsed policy, and the text is parsed instead.
    parsed: exp.Expr | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class TableAccess:
    """Everything one principal may see of one table (`lake.crm.customers`)."""

    table: str
    allowed: bool  # may the principal select from the table at all
    rule: str  # the rule that allowed or refused the table
    columns: tuple[ColumnAccess, ...] = ()
    # SQL boolean expressions over the table's columns (DuckDB dialect); all must hold.
    row_filters: tuple[str, ...] = ()
    row_filter_rules: tuple[str, ...] = ()
    policy_version: int | None = None
    reason: str | None = None  # why refused, in words, when not allowed
    # May the principal read the table's metadata (a `describe` or `select` grant): what
    # `information_schema` shows them.
    describe: bool = False
    # `row_filters` as expressions, bound to the caller, from the parsed policy; empty
    # when the decision was not made from one, and the text is parsed instead.
    filter_expressions: tuple[exp.Expr, ...] = field(default=(), compare=False, repr=False)

    @property
    def visible(self) -> tuple[ColumnAccess, ...]:
        """The columns the principal sees (clear or masked), in table order."""
        return tuple(c for c in self.columns if c.verdict != "denied")


@dataclass(frozen=True)
class Caller:
    """The principal as policies see it: user, groups, roles mapped from groups, attributes."""

    user: str
    groups: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    attributes: dict[str, str] = field(default_factory=dict)


Columns = Sequence[tuple[str, frozenset[str]]]


@dataclass(frozen=True)
class CallerAccess:
    """What the query path asks of the policy for one caller.

    `table` decides one table from its columns and their tags; `may_query` says whether
    the policy grants the caller anything at all (no grant, no query, not even one that
    names no table); `hash_key` is the secret `hash` masks mix in, handed to the engine
    as a statement parameter.
    """

    table: Callable[[str, Columns], TableAccess]
    may_query: bool = True
    hash_key: str = ""
