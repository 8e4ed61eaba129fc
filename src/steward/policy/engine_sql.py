"""Policy SQL on any engine: masks and row filters written once, rendered per engine.

A policy's masks and row filters are written in one dialect (`statement.DIALECT`,
DuckDB's), parsed with sqlglot into an expression, and rendered in the dialect of the
engine a query runs on (the secure view is built as an expression and the governed
query rendered as a whole, `rewrite.govern`). Not every expression can be rendered for
every engine: sqlglot may have no spelling for a function there, or the engine may not
allow it. `engine_problems` finds those before a policy is applied, naming the rule, the
function and the engine, so that a policy that validates for an engine never refuses a
table on it at query time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

from steward.policy.decide import bind_caller, caller_for, mask_sql
from steward.policy.models import Policy
from steward.policy.parsed import mask_expression, parse_expression
from steward.policy.statement import AllowList, first_line, function_name

# Where a rule sits in the policy, as `file:line` (`Located.where`).
Where = Callable[..., str]
_SAMPLE_COLUMN = "value"
# Dialects whose regexp_replace writes a group in the replacement as `$1` (Java, Trino),
# where DuckDB writes `\1`; sqlglot keeps the text as it is, which would change meaning.
_DOLLAR_GROUPS = frozenset({"spark", "databricks", "hive", "trino", "presto", "athena"})


def render_expression(sql: str, *, dialect: str) -> str:
    """Policy SQL (`statement.DIALECT`) written in `dialect`; `UnsupportedError` when sqlglot
    has no spelling for part of it there."""
    parsed = parse_expression(sql)
    return parsed.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE)


def engine_problems(policy: Policy, *, allowed: AllowList, where: Where) -> list[str]:
    """What of `policy`'s masks and row filters the engine of `allowed` cannot run.

    Each problem is `file:line: rule: ...`, naming the function and the engine. The rules
    are checked as the query path renders them: from the policy's parsed expressions.
    """
    problems = []
    for rule, place, parsed in _expressions(policy):
        problem = expression_problem(parsed, allowed=allowed)
        if problem is not None:
            problems.append(f"{where(*place)}: {rule}: {problem}")
    return problems


def expression_problem(parsed: exp.Expr | str, *, allowed: AllowList) -> str | None:
    """Why a policy expression (parsed, or its SQL) cannot run on the engine of `allowed`."""
    if isinstance(parsed, str):
        try:
            parsed = parse_expression(parsed)
        except (ParseError, TokenError) as exc:
            return f"cannot be parsed ({first_line(str(exc))})"
    for node in parsed.find_all(exp.Func):
        problem = _function_problem(node, allowed)
        if problem is not None:
            return problem
    return None


def _function_problem(node: exp.Func, allowed: AllowList) -> str | None:
    """Why one function call cannot run on the engine: no spelling there, or not allowed."""
    written = function_name(node)
    if isinstance(node, exp.RegexpReplace) and allowed.dialect in _DOLLAR_GROUPS:
        replacement = node.args.get("replacement")
        if isinstance(replacement, exp.Literal) and re.search(r"\\\d", replacement.name):
            return (
                f"function {written}() refers to a group as \\N in its replacement, which"
                f" means a literal character on the {allowed.engine} engine"
            )
    try:
        spelled = node.sql(dialect=allowed.dialect, unsupported_level=ErrorLevel.RAISE)
        rendered = sqlglot.parse_one(spelled, read=allowed.dialect)
    except (UnsupportedError, ParseError, TokenError) as exc:
        return (
            f"function {written}() cannot be written for {allowed.engine} ({first_line(str(exc))})"
        )
    call = rendered if isinstance(rendered, exp.Func) else rendered.find(exp.Func)
    if call is None or allowed.allows(call):
        return None
    there = function_name(call)
    also = "" if there == written else f" (written {there}() there)"
    return f"function {written}(){also} is not allowed on the {allowed.engine} engine"


def _expressions(policy: Policy) -> Iterator[tuple[str, tuple[str | int, ...], exp.Expr | str]]:
    """(rule, its place, its expression as it runs) for each mask and row filter of `policy`.

    A filter's caller functions are bound to literals before it runs, as at query time.
    A rule whose SQL does not parse is given as its text, for `expression_problem` to name.
    """
    caller = caller_for(policy, "someone@example.com")
    parsed = policy.parsed_rules()
    for i, (mask, template) in enumerate(zip(policy.masks, parsed.masks, strict=True)):
        place: tuple[str | int, ...] = ("masks", i, "sql") if mask.sql else ("masks", i)
        if template is None:
            yield f"masks[{i}]", place, mask_sql(mask, _SAMPLE_COLUMN, policy)
        else:
            yield f"masks[{i}]", place, mask_expression(template, _SAMPLE_COLUMN)
    for i, (rule, where) in enumerate(zip(policy.row_filters, parsed.filters, strict=True)):
        bound = rule.where if where is None else bind_caller(where, caller)
        yield f"row_filters[{i}]", ("row_filters", i, "where"), bound
