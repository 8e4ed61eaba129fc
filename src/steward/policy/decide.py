"""Deciding what one caller sees of one table, from the policy alone.

Precedence (docs/policies.md says the same):
1. A deny naming the table, or the column, for one of the caller's roles wins over
   everything: the table is refused, or the column is absent.
2. Nothing granted means no access: a table needs a `select` grant to one of the
   caller's roles, on the table (or a pattern matching it) or on some of its columns;
   with only column grants, the other columns are absent.
3. A granted column is masked when a mask selects it (by name or tag) and applies to
   the caller; the first such mask in file order decides, and a caller holding one of
   its `except` roles sees that column clear.
4. Every row filter on the table naming one of the caller's roles (and none of its
   `except` roles) applies; all of them must hold. Another, unfiltered role does not
   lift a filter.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import sqlglot
from sqlglot import exp

from steward.policy.access import Caller, ColumnAccess, TableAccess
from steward.policy.models import Mask, Policy
from steward.policy.parsed import PLACEHOLDER, parse_expression

Columns = Sequence[tuple[str, frozenset[str]]]
# The statement parameter that carries the policy's `hash` key to the engine.
HASH_KEY_PARAMETER = "steward_hash_key"


@functools.lru_cache(maxsize=1024)
def columns_named(sql: str) -> frozenset[str]:
    """The columns (lower case) a policy expression names, lambda parameters left out.

    Each text is parsed once; a decision asks `columns_in` of the parsed rule instead.
    """
    return columns_in(parse_expression(sql))


def columns_in(parsed: exp.Expr) -> frozenset[str]:
    """The columns (lower case) a parsed policy expression names, lambda parameters left out."""
    lambdas = {
        p.name.lower()
        for node in parsed.find_all(exp.Lambda)
        for p in node.expressions
        if isinstance(p, exp.Identifier | exp.Column)
    }
    return frozenset(
        c.name.lower() for c in parsed.find_all(exp.Column) if c.name.lower() not in lambdas
    )


def caller_for(
    policy: Policy,
    user: str,
    groups: Iterable[str] = (),
    attributes: Mapping[str, str] | None = None,
) -> Caller:
    """The caller as the policy sees it: the roles their groups (or user name) hold."""
    group_set = frozenset(groups)
    roles = frozenset(
        name
        for name, role in policy.roles.items()
        if group_set.intersection(role.groups) or user in role.users
    )
    return Caller(user=user, groups=group_set, roles=roles, attributes=dict(attributes or {}))


def matches(pattern: str, name: str) -> bool:
    """Whether a dotted pattern names `name`: `*` within a part, trailing `.*` for all below."""
    if pattern == "*":
        return True
    want = pattern.lower().split(".")
    have = name.lower().split(".")
    if want[-1] == "*" and len(have) >= len(want):
        have = [*have[: len(want) - 1], "*"]
    return len(want) == len(have) and all(
        fnmatch.fnmatchcase(h, w) for w, h in zip(want, have, strict=True)
    )


def selects_column(pattern: str, table: str, column: str, tags: frozenset[str]) -> bool:
    """Whether a mask's or deny's column pattern selects this column of this table."""
    if pattern.startswith("tag:"):
        wanted = pattern[4:].lower()
        return any(fnmatch.fnmatchcase(tag.lower(), wanted) for tag in tags)
    if "." not in pattern:
        return fnmatch.fnmatchcase(column.lower(), pattern.lower())
    return matches(pattern, f"{table}.{column}")


def may_describe(policy: Policy, caller: Caller, table: str) -> bool:
    """Whether the caller may read the table's metadata (a `describe` or `select` grant)."""
    if _denied_table(policy, caller, table) is not None:
        return False
    for grant in policy.grants:
        if caller.roles.intersection(grant.roles):
            for pattern in (*grant.describe, *grant.select):
                if matches(pattern, table) or _names_column_of(pattern, table):
                    return True
    return False


def decide(
    policy: Policy,
    caller: Caller,
    table: str,
    columns: Columns,
    *,
    version: int | None,
) -> TableAccess:
    """What `caller` may see of `table` (its columns with their catalog tags)."""
    decided = _decide(policy, caller, table, columns, version=version)
    return replace(decided, describe=decided.allowed or may_describe(policy, caller, table))


def _decide(
    policy: Policy,
    caller: Caller,
    table: str,
    columns: Columns,
    *,
    version: int | None,
) -> TableAccess:
    denied = _denied_table(policy, caller, table)
    if denied is not None:
        return TableAccess(
            table,
            allowed=False,
            rule=denied,
            policy_version=version,
            reason=f"{denied} denies {table} to {_roles_text(caller)}",
        )
    table_grant, column_grants = _grants(policy, caller, table, columns)
    if table_grant is None and not column_grants:
        return TableAccess(
            table,
            allowed=False,
            rule="default",
            policy_version=version,
            reason=f"nothing grants select on {table} to {_roles_text(caller)}",
        )
    names = [name for name, _ in columns]
    decided = tuple(
        _column(policy, caller, table, name, tags, table_grant or column_grants.get(name), names)
        for name, tags in columns
    )
    filters = _row_filters(policy, caller, table)
    known = {name.lower() for name, _ in columns}
    for named, rule in zip(filters.columns, filters.rules, strict=True):
        missing = sorted(named - known)
        if columns and missing:
            # Unbound, the column would be taken from the caller's query around the view.
            return TableAccess(
                table,
                allowed=False,
                rule=rule,
                columns=decided,
                policy_version=version,
                reason=f"{rule} filters {table} on {', '.join(missing)}, which it does not"
                f" have; the table is refused to {_roles_text(caller)} until the filter is fixed",
            )
    if columns and not any(c.verdict != "denied" for c in decided):
        return TableAccess(
            table,
            allowed=False,
            rule=decided[0].rule,
            columns=decided,
            policy_version=version,
            reason=f"every column of {table} is denied to {_roles_text(caller)}",
        )
    return TableAccess(
        table,
        allowed=True,
        rule=table_grant or sorted(set(column_grants.values()))[0],
        columns=decided,
        row_filters=filters.texts,
        row_filter_rules=filters.rules,
        policy_version=version,
        filter_expressions=filters.expressions,
    )


def _roles_text(caller: Caller) -> str:
    roles = ", ".join(sorted(caller.roles))
    return f"{caller.user} (roles: {roles or 'none'})"


def _names_column_of(pattern: str, table: str) -> bool:
    return pattern.count(".") > table.count(".") and matches(pattern.rpartition(".")[0], table)


def _denied_table(policy: Policy, caller: Caller, table: str) -> str | None:
    for i, deny in enumerate(policy.deny):
        if caller.roles.intersection(deny.roles) and any(matches(p, table) for p in deny.tables):
            return f"deny[{i}]"
    return None


def _grants(
    policy: Policy, caller: Caller, table: str, columns: Columns
) -> tuple[str | None, dict[str, str]]:
    """The first grant of the whole table, and the first grant of each column."""
    by_column: dict[str, str] = {}
    for i, grant in enumerate(policy.grants):
        if not caller.roles.intersection(grant.roles):
            continue
        for pattern in grant.select:
            if matches(pattern, table):
                return f"grants[{i}]", by_column
            for name, _ in columns:
                if "." in pattern and matches(pattern, f"{table}.{name}"):
                    by_column.setdefault(name, f"grants[{i}]")
    return None, by_column


def _column(
    policy: Policy,
    caller: Caller,
    table: str,
    name: str,
    tags: frozenset[str],
    grant: str | None,
    table_columns: Sequence[str],
) -> ColumnAccess:
    for i, deny in enumerate(policy.deny):
        if caller.roles.intersection(deny.roles) and any(
            selects_column(p, table, name, tags) for p in deny.columns
        ):
            return ColumnAccess(name, "denied", f"deny[{i}]")
    if grant is None:
        return ColumnAccess(name, "denied", "default")
    for i, mask in enumerate(policy.masks):
        if mask.roles is not None and not caller.roles.intersection(mask.roles):
            continue
        if not any(selects_column(p, table, name, tags) for p in mask.columns):
            continue
        if caller.roles.intersection(mask.except_):
            return ColumnAccess(name, "clear", f"masks[{i}]")
        expression = mask_sql(mask, name, policy)
        template = policy.parsed_rules().masks[i]
        # The parsed mask names the placeholder where the text names this column.
        named = columns_in(template) if template is not None else columns_named(expression)
        missing = named - {PLACEHOLDER, name.lower(), *(c.lower() for c in table_columns)}
        if missing:
            return ColumnAccess(name, "denied", f"masks[{i}]")
        return ColumnAccess(
            name, "masked", f"masks[{i}]", mask=mask.kind, expression=expression, parsed=template
        )
    return ColumnAccess(name, "clear", grant)


def quote(name: str) -> str:
    """A column name as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def mask_sql(mask: Mask, column: str, policy: Policy, *, dialect: str = "duckdb") -> str:
    """The SQL computing the masked value of `column` (DuckDB, or Trino for the export)."""
    kind = mask.kind
    if dialect == "trino" and kind not in ("hash", "year"):
        # hash and year are written for Trino by hand: sqlglot would hash the varchar
        # where Trino's sha256 wants bytes, and has no make_date in Trino.
        duckdb_sql = mask_sql(mask, column, policy)
        return sqlglot.transpile(duckdb_sql, read="duckdb", write="trino")[0]
    col = quote(column)
    trino = dialect == "trino"
    if kind == "sql":
        return str(mask.sql).replace("{column}", col)
    if kind == "redact":
        return "'****'"
    if kind == "null":
        return "NULL"
    if kind == "hash":
        if trino:
            salted = f"{_literal(policy.hash_key)} || CAST({col} AS VARCHAR)"
            return f"lower(to_hex(sha256(to_utf8({salted}))))"
        # The key is a parameter of the statement, never in SQL text a caller could see.
        return f"sha256(${HASH_KEY_PARAMETER} || CAST({col} AS VARCHAR))"
    if kind == "email":
        head = f"substr({col}, 1, 1) || '****' || substr({col}, strpos({col}, '@'))"
        return f"CASE WHEN strpos({col}, '@') > 0 THEN {head} ELSE '****' END"
    if kind == "last4":
        text = f"CAST({col} AS VARCHAR)"
        tail = f"substr({text}, greatest(length({text}) - 3, 1))"
        return f"'****' || {tail}"
    if kind == "year":
        return f"date_trunc('year', {col})" if trino else f"make_date(year({col}), 1, 1)"
    if kind == "round":
        return f"round({col}, {mask.digits})"
    raise ValueError(f"unknown mask {kind!r}")  # the model allows no other


def caller_sql(sql: str, caller: Caller) -> str:
    """A filter with the caller's user, groups and attributes written in as literals."""
    return bind_caller(parse_expression(sql), caller).sql(dialect="duckdb")


def bind_caller(expression: exp.Expr, caller: Caller) -> exp.Expr:
    """A copy of a filter with the caller's user, groups and attributes as literals."""

    def bind(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.CurrentUser) or (
            isinstance(node, exp.Column) and not node.table and node.name.lower() == "current_user"
        ):
            return exp.Literal.string(caller.user)
        if (
            isinstance(node, exp.Column)
            and not node.table
            and node.name.lower() == "current_groups"
        ):
            return exp.Array(expressions=[exp.Literal.string(g) for g in sorted(caller.groups)])
        if isinstance(node, exp.Anonymous) and node.name.lower() == "current_attribute":
            args = node.expressions
            if len(args) == 1 and isinstance(args[0], exp.Literal) and args[0].is_string:
                value = caller.attributes.get(args[0].this)
                return exp.Literal.string(value) if value is not None else exp.Null()
        return node

    return expression.transform(bind)


@dataclass(frozen=True)
class _Filters:
    """The row filters applying to one caller on one table, bound to the caller."""

    texts: tuple[str, ...]
    rules: tuple[str, ...]
    expressions: tuple[exp.Expr, ...]
    columns: tuple[frozenset[str], ...]  # the columns each names


def _row_filters(policy: Policy, caller: Caller, table: str) -> _Filters:
    """Each filter bound from its parsed expression (a copy); the text is rendered from it."""
    texts: list[str] = []
    rules: list[str] = []
    expressions: list[exp.Expr] = []
    parsed = policy.parsed_rules().filters
    for i, rule in enumerate(policy.row_filters):
        if not matches(rule.table, table) or not caller.roles.intersection(rule.roles):
            continue
        if caller.roles.intersection(rule.except_):
            continue
        # None when the SQL does not parse: parsing it again raises what is wrong.
        template = parsed[i]
        if template is None:
            template = parse_expression(rule.where)
        bound = bind_caller(template, caller)
        expressions.append(bound)
        texts.append(bound.sql(dialect="duckdb"))
        rules.append(f"row_filters[{i}]")
    return _Filters(
        tuple(texts), tuple(rules), tuple(expressions), tuple(columns_in(e) for e in expressions)
    )
