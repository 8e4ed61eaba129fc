"""The first two stages of a governed query: parse the caller's SQL, refuse what may not run.

`parse_query` accepts exactly one read-only statement, not nested deeper than a limit;
`refuse_unsafe` checks it against allow-lists: the statement kinds a query may be, the
functions the engine that runs it lets a caller call (`Engine.allowed_functions`, as an
`AllowList` in the engine's dialect), no parameters or variables, no time travel but
`AT (VERSION => ...)` / `AT (TIMESTAMP => ...)`, and no name in the namespace Steward
reserves for itself (`__steward...`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from steward.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from steward.engines.base import Engine

# The dialect callers and policies write SQL in; the engine's own is rendered from it.
DIALECT = "duckdb"
# Written as SQL special forms rather than functions, or parsed by sqlglot as calls: the
# same on every engine, and allowed wherever the engine has them.
SPECIAL_FORMS = frozenset(
    {
        "cast",
        "try_cast",
        "extract",
        "coalesce",
        "ifnull",
        "columns",
        "unnest",
        "explode",
        "grouping",
        "grouping_id",
        "case",
        "exists",
        "in",
        "interval",
        "array",
        "struct",
        "map",
        "list",
    }
)


@dataclass(frozen=True)
class AllowList:
    """The functions an engine lets a caller call: names in `dialect`, lower case."""

    engine: str
    dialect: str
    names: frozenset[str]

    @classmethod
    def of(cls, engine: Engine) -> AllowList:
        """The allow-list `engine` gives."""
        return cls(engine.name, engine.dialect, engine.allowed_functions() | SPECIAL_FORMS)

    @classmethod
    def named(cls, engine: str) -> AllowList:
        """The allow-list of engine `engine` (by name), without starting it."""
        from steward.engines.registry import allowed_functions, engine_dialect

        return cls(engine, engine_dialect(engine), allowed_functions(engine) | SPECIAL_FORMS)

    @functools.cached_property
    def classes(self) -> frozenset[type[exp.Func]]:
        """The typed sqlglot nodes the allowed names parse into (`allowed_function_classes`)."""
        return allowed_function_classes(self.names, self.dialect)

    def allows(self, node: exp.Func) -> bool:
        """Whether `node` is a function this allow-list names (or an operator)."""
        if isinstance(node, _OPERATORS):
            return True
        return function_name(node) in self.names or type(node) in self.classes


RESERVED_PREFIX = "__steward"
# The statement kinds a governed query may be, at the top and in every subquery.
QUERY_KINDS: tuple[type[exp.Expr], ...] = (exp.Select, exp.Union, exp.Intersect, exp.Except)
# Nodes that can only belong to a statement other than a read-only query.
_NOT_READ_ONLY: tuple[type[exp.Expr], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Pragma,
    exp.Set,
    exp.Copy,
    exp.Attach,
    exp.Detach,
    exp.Use,
    exp.Describe,
    exp.Summarize,
    exp.Show,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Into,
    exp.LoadData,
    exp.Placeholder,
    exp.Parameter,
    exp.SessionParameter,
)


# sqlglot models some operators (AND, OR, ...) as functions; they are operators to the engine.
_OPERATORS: tuple[type[exp.Expr], ...] = (exp.Binary, exp.Unary, exp.Connector)


def parse_query(sql: str, *, max_depth: int = 200, dialect: str = DIALECT) -> exp.Query:
    """The one read-only statement `sql` holds; refuses several statements, none, or too deep."""
    if not sql.strip():
        raise InvalidInput("sql: empty; expected one SELECT statement")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise InvalidInput(f"sql: cannot be parsed: {first_line(str(exc))}") from None
    except RecursionError:
        raise InvalidInput(f"sql: nested deeper than {max_depth} levels") from None
    if len(statements) != 1:
        raise Forbidden(
            f"sql: one statement per query, got {len(statements)}; run them one at a time"
        )
    statement = statements[0]
    _refuse_deep(statement, max_depth)
    if not isinstance(statement, exp.Query) or not isinstance(statement, QUERY_KINDS):
        kind = statement.key.upper() if not isinstance(statement, exp.Command) else "command"
        raise Forbidden(
            f"sql: only read-only queries (SELECT, WITH, UNION, INTERSECT, EXCEPT) run here;"
            f" got {kind} {first_line(statement.sql(dialect=dialect))[:60]!r}"
        )
    return statement


def _refuse_deep(statement: exp.Expr, max_depth: int) -> None:
    stack: list[tuple[exp.Expr, int]] = [(statement, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise InvalidInput(f"sql: nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in node.iter_expressions())


def refuse_unsafe(expression: exp.Query, *, allowed: AllowList) -> exp.Query:
    """`expression` unchanged, if every node and function in it is one a query may use."""
    for node in expression.walk():
        if isinstance(node, _NOT_READ_ONLY):
            raise Forbidden(f"sql: {_kind(node)} is not allowed in a read-only query")
        if isinstance(node, exp.Func):
            refuse_function(node, allowed=allowed)
        elif isinstance(node, exp.Table):
            _refuse_table_form(node)
        elif isinstance(node, exp.Identifier) and node.name.lower().startswith(RESERVED_PREFIX):
            raise Forbidden(f"sql: names starting with {RESERVED_PREFIX} are reserved by Steward")
    return expression


def _kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Placeholder | exp.Parameter | exp.SessionParameter):
        return "a parameter or variable"
    return node.key.upper()


def refuse_function(node: exp.Func, *, allowed: AllowList) -> None:
    """Forbidden unless `node` is an operator or a function on the allow-list."""
    if isinstance(node, _OPERATORS):
        return
    name = function_name(node)
    if not allowed.allows(node):
        raise Forbidden(
            f"sql: function {name}() is not allowed here; see docs/security.md for the"
            " functions a governed query may call"
        )
    parent = node.parent
    if isinstance(parent, exp.Dot) and parent.expression is node:
        raise Forbidden(f"sql: {name}() called with a qualifier; call functions by name alone")


def _refuse_table_form(node: exp.Table) -> None:
    if not isinstance(node.this, exp.Identifier):
        raise Forbidden(
            f"sql: table function {node.this.sql(dialect=DIALECT)[:60]!r} is not"
            " allowed; query catalog tables by name"
        )
    when = node.args.get("when")
    if node.args.get("version") is not None or (
        when is not None and not isinstance(when, exp.HistoricalData)
    ):
        raise Forbidden(
            f"sql: time travel on {node.name!r} is only `AT (VERSION => snapshot id)`"
            " or `AT (TIMESTAMP => ...)`"
        )


def function_name(node: exp.Func) -> str:
    """The name a function node is called by, lower case."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


@functools.cache
def allowed_function_classes(names: frozenset[str], dialect: str) -> frozenset[type[exp.Func]]:
    """The typed nodes sqlglot reads allowed engine functions into (`sha256` -> `SHA2`).

    Found by parsing a call of each allowed name, with one to three arguments, as the
    engine's dialect: so a node is allowed exactly when some allowed name produces it.
    """
    found: set[type[exp.Func]] = set()
    for name in names - SPECIAL_FORMS:
        for arguments in ("a", "a, b", "a, b, c"):
            try:
                parsed = sqlglot.parse_one(f"SELECT {name}({arguments})", read=dialect)
            except (ParseError, TokenError):
                continue
            call = parsed.expressions[0] if isinstance(parsed, exp.Select) else None
            if isinstance(call, exp.Func) and not isinstance(call, exp.Anonymous):
                found.add(type(call))
    return frozenset(found)


def first_line(text: str) -> str:
    """The first line of `text`, stripped."""
    return text.strip().splitlines()[0] if text.strip() else text
