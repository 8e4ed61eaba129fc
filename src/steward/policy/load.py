"""Reading a policy from YAML and checking it; every error names its file and line.

A folder holds several `*.yaml` / `*.yml` files, read in name order: their roles are
merged (a role defined twice is an error) and their rule lists concatenated, so
`masks[3]` is the fourth mask counting through the files in that order.

`check` validates what the schema alone cannot: that every role a rule names is
defined, that filter and mask SQL parses (DuckDB dialect) as one expression with no
subquery, and, given `columns_of`, that masks, filters and denies name tables and
columns the catalog knows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from pydantic import ValidationError
from sqlglot import exp

from steward.errors import InvalidInput
from steward.policy.models import Policy
from steward.policy.statement import AllowList
from steward.yaml_lines import NotYaml, compose, find_node, line_of

# (column, tags) of a table, or None when the catalog has no such table.
ColumnsOf = Callable[[str], "Sequence[tuple[str, frozenset[str]]] | None"]
_LISTS = ("grants", "masks", "row_filters", "deny")


class PolicyError(InvalidInput):
    """A policy that cannot be applied; `problems` holds one `file:line: message` each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid policy:\n  " + "\n  ".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class _Part:
    name: str
    node: yaml.Node | None
    offsets: dict[str, int]  # where this file's items start in the merged lists


class Located:
    """A loaded policy with the map from rule places to file lines."""

    def __init__(self, policy: Policy, parts: Sequence[_Part]) -> None:
        self.policy = policy
        self._parts = list(parts)

    def where(self, *loc: str | int) -> str:
        """`file:line` of a place in the merged policy (`"masks", 2, "sql"`)."""
        part = self._parts[-1] if self._parts else None
        local: list[str | int] = list(loc)
        if loc and loc[0] in _LISTS and len(loc) > 1 and isinstance(loc[1], int):
            for candidate in self._parts:
                if candidate.offsets[str(loc[0])] <= loc[1]:
                    part = candidate
            if part is not None:
                local[1] = loc[1] - part.offsets[str(loc[0])]
        elif loc and loc[0] == "roles" and len(loc) > 1:
            for candidate in self._parts:
                if find_node(candidate.node, ("roles", loc[1])) is not None:
                    part = candidate
                    break
        if part is None:
            return "<policy>"
        return f"{part.name}:{line_of(part.node, local)}"


def read_sources(path: str | Path) -> dict[str, str]:
    """The policy text of one file, or of every YAML file in a folder, by file name."""
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.suffix in {".yaml", ".yml"})
        if not files:
            raise InvalidInput(f"policy: no .yaml files in {target}")
        return {p.name: p.read_text(encoding="utf-8") for p in files}
    if not target.is_file():
        raise InvalidInput(f"policy: {target} is neither a file nor a folder")
    return {target.name: target.read_text(encoding="utf-8")}


def load(
    sources: Mapping[str, str],
    *,
    columns_of: ColumnsOf | None = None,
    engine: AllowList | None = None,
) -> Located:
    """Parse, merge and check policy files (name -> YAML text); raises `PolicyError`.

    With `engine`, every mask and row filter must also be expressible on that engine
    (`engine_sql.engine_problems`): written in its dialect, calling only what it allows.
    """
    problems: list[str] = []
    parts: list[_Part] = []
    merged: dict[str, Any] = {"roles": {}, **{name: [] for name in _LISTS}}
    for name, text in sorted(sources.items()):
        try:
            node, data = compose(text, name=name)
        except NotYaml as exc:
            problems.append(exc.message)
            continue
        if data is None:
            data = {}
        if not isinstance(data, dict):
            problems.append(f"{name}:1: a policy is a mapping of roles, grants, masks ...")
            continue
        try:
            Policy.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors():
                loc = tuple(error["loc"])
                problems.append(
                    f"{name}:{line_of(node, list(loc))}: {_dotted(loc)}: {error['msg']}"
                )
            continue
        offsets = {section: len(merged[section]) for section in _LISTS}
        parts.append(_Part(name, node, offsets))
        for role in data.get("roles") or {}:
            if role in merged["roles"]:
                problems.append(
                    f"{name}:{line_of(node, ['roles', role])}: role {role!r} is defined twice"
                )
        merged["roles"].update(data.get("roles") or {})
        for section in _LISTS:
            merged[section].extend(data.get(section) or [])
    if problems:
        raise PolicyError(problems)
    located = Located(Policy.model_validate(merged), parts)
    problems = check(located, columns_of=columns_of)
    if engine is not None and not problems:
        from steward.policy.engine_sql import engine_problems

        problems = engine_problems(located.policy, allowed=engine, where=located.where)
    if problems:
        raise PolicyError(problems)
    return located


def check(located: Located, *, columns_of: ColumnsOf | None = None) -> list[str]:
    """What is wrong with a policy beyond its shape, as `file:line: message` lines."""
    policy, where = located.policy, located.where
    problems: list[str] = []

    def roles(names: Sequence[str] | None, *loc: str | int) -> None:
        for i, role in enumerate(names or ()):
            if role not in policy.roles:
                known = ", ".join(sorted(policy.roles)) or "none defined"
                problems.append(f"{where(*loc, i)}: unknown role {role!r} (roles: {known})")

    for i, grant in enumerate(policy.grants):
        roles(grant.roles, "grants", i, "roles")
    for i, mask in enumerate(policy.masks):
        roles(mask.roles, "masks", i, "roles")
        roles(mask.except_, "masks", i, "except")
        if mask.sql is not None:
            error = sql_problem(mask.sql.replace("{column}", '"value"'))
            if error:
                problems.append(f"{where('masks', i, 'sql')}: bad SQL in mask: {error}")
        for j, column in enumerate(mask.columns):
            error = _missing_column(column, columns_of)
            if error:
                problems.append(f"{where('masks', i, 'columns', j)}: {error}")
    for i, rule in enumerate(policy.row_filters):
        roles(rule.roles, "row_filters", i, "roles")
        roles(rule.except_, "row_filters", i, "except")
        known = columns_of(rule.table) if columns_of and "*" not in rule.table else None
        if columns_of and "*" not in rule.table and known is None:
            problems.append(
                f"{where('row_filters', i, 'table')}: table {rule.table!r} is not in the catalog"
            )
        error = sql_problem(rule.where, columns=[c for c, _ in known] if known else None)
        if error:
            problems.append(f"{where('row_filters', i, 'where')}: bad SQL in filter: {error}")
    for i, deny in enumerate(policy.deny):
        roles(deny.roles, "deny", i, "roles")
        for j, column in enumerate(deny.columns):
            error = _missing_column(column, columns_of)
            if error:
                problems.append(f"{where('deny', i, 'columns', j)}: {error}")
    return problems


CALLER_NAMES = frozenset({"current_user", "current_groups"})
# The engine whose SQL policies are written in (`statement.DIALECT`): every mask and
# filter calls only functions it allows; `load(..., engine=...)` checks another engine.
POLICY_ENGINE = "duckdb"


def sql_problem(sql: str, *, columns: Sequence[str] | None = None) -> str | None:
    """Why `sql` is not one safe DuckDB expression (over `columns`, when given), or None."""
    try:
        parsed = sqlglot.parse(f"SELECT {sql}", read="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        return str(first.get("description") or exc).split("\n")[0]
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Select):
        return "must be one expression, not several statements"
    select = parsed[0]
    if len(select.expressions) != 1 or any(
        select.args.get(arg) for arg in ("from_", "from", "where", "group", "limit")
    ):
        return "must be one expression"
    expression = select.expressions[0]
    if expression.find(exp.Select, exp.Subquery, exp.Table, exp.Query) is not None:
        return "subqueries are not allowed"
    for function in expression.find_all(exp.Func):
        problem = _function_problem(function)
        if problem:
            return problem
    if columns is not None:
        known = {c.lower() for c in columns}
        for column in expression.find_all(exp.Column):
            name = column.name.lower()
            if name not in known and name not in CALLER_NAMES:
                return f"no column {column.name!r} in the table (columns: {', '.join(columns)})"
    return None


def _function_problem(function: exp.Func) -> str | None:
    """Why the query path would refuse this function of policy SQL, or None."""
    from steward.errors import Forbidden
    from steward.policy.statement import refuse_function

    if isinstance(function, exp.CurrentUser) or (
        isinstance(function, exp.Anonymous) and function.name.lower() == "current_attribute"
    ):
        return None  # bound to a literal per caller before the query runs
    try:
        refuse_function(function, allowed=AllowList.named(POLICY_ENGINE))
    except Forbidden as exc:
        return exc.message.removeprefix("sql: ")
    return None


def filter_denials(policy: Policy, *, columns_of: ColumnsOf, names: Sequence[str]) -> list[str]:
    """The tables a row filter will refuse, because it names a column they lack.

    A filter is bound to the table's own columns; one naming a column the table lacks
    cannot be enforced, so the query path refuses that table to the filter's roles.
    """
    from steward.policy.decide import columns_named, matches

    found = []
    for i, rule in enumerate(policy.row_filters):
        named = columns_named(rule.where) - CALLER_NAMES
        for name in names:
            if not matches(rule.table, name):
                continue
            known = {c.lower() for c, _ in columns_of(name) or ()}
            missing = sorted(named - known)
            if missing:
                roles = ", ".join(rule.roles)
                found.append(
                    f"row_filters[{i}] names {', '.join(missing)}, which {name} does not have:"
                    f" {name} will be refused to {roles}"
                )
    return found


def _missing_column(pattern: str, columns_of: ColumnsOf | None) -> str | None:
    if columns_of is None or pattern.startswith("tag:") or "*" in pattern or "." not in pattern:
        return None
    table, _, column = pattern.rpartition(".")
    known = columns_of(table)
    if known is None:
        return f"table {table!r} of column {pattern!r} is not in the catalog"
    if column.lower() not in {name.lower() for name, _ in known}:
        return f"no column {column!r} in {table} (columns: {', '.join(n for n, _ in known)})"
    return None


def _dotted(loc: Sequence[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "policy"
