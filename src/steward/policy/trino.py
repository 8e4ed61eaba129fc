"""The policy compiled to Trino's file-based access control rules (`rules.json`).

Trino reads its table rules top to bottom and applies the first one whose `group`
(any of the user's groups matches the regex) or `user` matches; it has no notion of
roles, tags or wildcard names over a catalog it has not seen. So the export works
from the tables the catalog knows now:

- every (role, table) pair gets one table rule holding what `decide()` gives a
  caller with that one role: privileges, `columns` with `allow: false` (denied) or
  `mask` (Trino SQL, translated with sqlglot), and the ANDed row `filter`;
- per table, roles with the table denied come first (Steward's deny wins), then the
  roles that see least, so a caller holding several roles gets the most restrictive
  single-role view where Trino cannot express the combination;
- a last rule refuses everything else, as Steward does.

What Trino cannot express is returned as `unsupported` lines: tag masks and name
patterns expanded to today's columns and tables, describe-only grants, filters using
`current_attribute`, and each role combination whose first match differs from
Steward's answer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from steward.policy.access import Caller, TableAccess
from steward.policy.decide import Columns, decide, mask_sql, selects_column
from steward.policy.models import Policy

Rules = dict[str, Any]
_MAX_COMBINATIONS = 256  # role combinations checked per table (all of them up to 8 roles)


_SPECIAL = re.compile(r"([.^$*+?()\[\]{}|\\])")


def _escape(name: str) -> str:
    """A name as a Java regex matching exactly it (Trino matches the whole name)."""
    return _SPECIAL.sub(r"\\\1", name)


def _regex(names: Sequence[str]) -> str:
    return "|".join(_escape(name) for name in sorted(set(names)))


def filter_to_trino(sql: str) -> str | None:
    """A DuckDB row filter as Trino SQL; None when it uses what Trino cannot see."""

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            if node.name.lower() == "current_groups":
                return exp.Anonymous(this="current_groups", expressions=[])
            if node.name.lower() == "current_user":
                return exp.CurrentUser()
        return node

    parsed = sqlglot.parse_one(sql, read="duckdb")
    if any(f.name.lower() == "current_attribute" for f in parsed.find_all(exp.Anonymous)):
        return None
    return parsed.transform(bind).sql(dialect="trino")


def _as_trino(policy: Policy, access: TableAccess, problems: list[str]) -> dict[str, Any]:
    """What one TableAccess looks like in a Trino table rule (privileges, columns, filter)."""
    if not access.allowed:
        return {"privileges": []}
    columns: list[dict[str, Any]] = []
    for column in access.columns:
        if column.verdict == "denied":
            columns.append({"name": column.name, "allow": False})
        elif column.verdict == "masked":
            index = int(column.rule.removeprefix("masks[").rstrip("]"))
            mask = mask_sql(policy.masks[index], column.name, policy, dialect="trino")
            columns.append({"name": column.name, "mask": mask})
    out: dict[str, Any] = {"privileges": ["SELECT"]}
    if columns:
        out["columns"] = columns
    filters: list[str] = []
    for rule in access.row_filter_rules:
        index = int(rule.removeprefix("row_filters[").rstrip("]"))
        translated = filter_to_trino(policy.row_filters[index].where)
        if translated is None:
            problems.append(
                f"{rule}: current_attribute() has no Trino equivalent; "
                f"exported as filter 'false' (no rows) on {access.table}"
            )
            translated = "false"
        filters.append(translated)
    if filters:
        out["filter"] = " AND ".join(f"({f})" for f in filters) if len(filters) > 1 else filters[0]
    return out


def _openness(answer: dict[str, Any]) -> tuple[int, int, int]:
    """How much a rule shows: refused < filtered < fewer clear columns."""
    if not answer["privileges"]:
        return (0, 0, 0)
    hidden = len(answer.get("columns", []))
    return (1, 0 if "filter" in answer else 1, -hidden)


def _matchers(policy: Policy, *roles: str) -> list[dict[str, str]]:
    groups = [g for role in roles for g in policy.roles[role].groups]
    users = [u for role in roles for u in policy.roles[role].users]
    found: list[dict[str, str]] = []
    if groups:
        found.append({"group": _regex(groups)})
    if users:
        found.append({"user": _regex(users)})
    return found


def export_trino(policy: Policy, tables: Mapping[str, Columns]) -> tuple[Rules, list[str]]:
    """Trino rules JSON for `tables` (catalog name -> columns with tags), and what it cannot say."""
    problems: list[str] = []
    table_rules: list[dict[str, Any]] = []
    catalog_roles: dict[str, set[str]] = {}
    roles = list(policy.roles)
    for name in sorted(tables):
        parts = name.split(".")
        if len(parts) != 3:
            problems.append(f"{name}: not a catalog.schema.table name; no Trino rule written")
            continue
        where = {"catalog": _escape(parts[0]), "schema": _escape(parts[1])}
        where["table"] = _escape(parts[2])
        answers: dict[str, dict[str, Any]] = {}
        for role in roles:
            caller = Caller(user="", roles=frozenset({role}))
            access = decide(policy, caller, name, tables[name], version=None)
            if not access.allowed and not access.rule.startswith("deny"):
                continue  # nothing granted: no rule, Trino refuses by default as well
            answers[role] = _as_trino(policy, access, problems)
            if access.allowed:
                catalog_roles.setdefault(parts[0], set()).add(role)
        order = sorted(answers, key=lambda r: (_openness(answers[r]), roles.index(r)))
        # Roles next to each other with the same answer share one rule.
        for _, same in itertools.groupby(order, key=lambda r: repr(answers[r])):
            held = list(same)
            for matcher in _matchers(policy, *held):
                table_rules.append({**matcher, **where, **answers[held[0]]})
        problems += _combinations(policy, name, tables[name], order, answers)
    table_rules.append({"privileges": []})
    catalogs = [
        {"group": _regex(groups), "catalog": _escape(catalog), "allow": "read-only"}
        for catalog, holders in sorted(catalog_roles.items())
        if (groups := [g for r in holders for g in policy.roles[r].groups])
    ]
    catalogs += [
        {"user": _regex(users), "catalog": _escape(catalog), "allow": "read-only"}
        for catalog, holders in sorted(catalog_roles.items())
        if (users := [u for r in holders for u in policy.roles[r].users])
    ]
    problems += _expansions(policy, tables)
    rules: Rules = {"catalogs": catalogs, "schemas": [{"owner": False}], "tables": table_rules}
    return rules, problems


def _combinations(
    policy: Policy,
    table: str,
    columns: Columns,
    order: Sequence[str],
    answers: Mapping[str, dict[str, Any]],
) -> list[str]:
    """Role combinations for which Trino's first match is not Steward's answer."""
    problems = []
    relevant = list(order)
    combos = (
        combo
        for size in range(2, len(relevant) + 1)
        for combo in itertools.combinations(relevant, size)
    )
    for combo in itertools.islice(combos, _MAX_COMBINATIONS):
        held = frozenset(combo)
        first = next(r for r in order if r in held)
        steward = decide(policy, Caller(user="", roles=held), table, columns, version=None)
        if not steward.allowed and not answers[first]["privileges"]:
            continue
        scratch: list[str] = []
        if _as_trino(policy, steward, scratch) != answers[first]:
            problems.append(
                f"{table}: a caller holding roles {', '.join(sorted(held))} gets role "
                f"{first}'s rule in Trino (first match), which differs from Steward's answer"
            )
    return problems


def _expansions(policy: Policy, tables: Mapping[str, Columns]) -> list[str]:
    """Notes on rules Trino only gets as today's concrete tables and columns."""
    notes = []
    for i, mask in enumerate(policy.masks):
        for pattern in mask.columns:
            if pattern.startswith("tag:") or "*" in pattern or "." not in pattern:
                hits = sorted(
                    f"{table}.{column}"
                    for table, columns in tables.items()
                    for column, tags in columns
                    if selects_column(pattern, table, column, tags)
                )
                notes.append(
                    f"masks[{i}]: {pattern} expanded to {', '.join(hits) or 'no column'} "
                    "(Trino has no tags or patterns; export again after tagging)"
                )
    for i, grant in enumerate(policy.grants):
        if grant.describe:
            notes.append(
                f"grants[{i}]: describe without select has no Trino privilege; not exported"
            )
        if any("*" in p for p in grant.select):
            notes.append(f"grants[{i}]: name patterns expanded to the tables the catalog knows")
    return notes
