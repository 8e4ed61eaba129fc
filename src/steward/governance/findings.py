"""Judging what a run read of one table against the policy's decision for its principal.

The decision is the query path's own (`policy.decide`): the same `TableAccess` that
would have shaped the principal's query says what it may read clear, masked, filtered
or not at all. What the run read comes from its column lineage (`governance.reads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from steward.governance.models import FindingKind
from steward.governance.reads import ColumnRead
from steward.policy.access import TableAccess
from steward.policy.decide import columns_named


@dataclass(frozen=True)
class Breach:
    """One thing the read did that the decision does not allow (a finding without its run)."""

    kind: FindingKind
    column: str | None
    rule: str
    message: str


def judge_table(
    access: TableAccess, reads: Sequence[ColumnRead], *, principal: str
) -> tuple[list[Breach], list[str]]:
    """What a run's reads of one table break under `access`, and notes on what it cannot tell.

    A refused table is one breach whatever was read. Otherwise each column read clear
    that the decision masks, and each column it denies, is one; and each row filter the
    principal is under is one unless the run's column lineage shows it filtering on every
    column the filter names. Without column lineage from the table, only the table is judged.
    """
    table = access.table
    who = principal
    if not access.allowed:
        reason = access.reason or f"{access.rule} refuses {table}"
        return [Breach("denied-table", None, access.rule, f"read {table}: {reason}")], []
    breaches: list[Breach] = []
    notes: list[str] = []
    verdicts = {c.name.lower(): c for c in access.columns}
    columns: dict[str, list[ColumnRead]] = {}
    for read in reads:
        columns.setdefault(read.column, []).append(read)
    for column, uses in sorted(columns.items()):
        decided = verdicts.get(column.lower())
        if decided is None:
            continue  # not a column the catalog knows: nothing decides it
        if decided.verdict == "denied":
            breaches.append(
                Breach(
                    "denied-column",
                    column,
                    decided.rule,
                    f"read {table}.{column}, which {decided.rule} denies to {who}",
                )
            )
        elif decided.verdict == "masked" and not all(use.masked for use in uses):
            breaches.append(
                Breach(
                    "masked-read-clear",
                    column,
                    decided.rule,
                    f"read {table}.{column} clear; {decided.rule} masks it ({decided.mask})"
                    f" for {who}",
                )
            )
    if access.row_filters:
        if not reads:
            notes.append(
                f"{table}: no column lineage from it, so whether the run applied"
                f" {', '.join(access.row_filter_rules)} cannot be told"
            )
        filtered = {read.column.lower() for read in reads if read.filtering}
        for where, rule in zip(access.row_filters, access.row_filter_rules, strict=True):
            if not reads:
                continue
            needed = columns_named(where)
            missing = sorted(needed - filtered)
            if missing:
                breaches.append(
                    Breach(
                        "unfiltered-read",
                        None,
                        rule,
                        f"read {table} without filtering on {', '.join(missing)};"
                        f" {rule} lets {who} read only rows where {where}",
                    )
                )
    return breaches, notes
