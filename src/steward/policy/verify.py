"""The invariant every governed query holds, checked on the SQL that will run.

The rewritten SQL is parsed again from its text, as the engine will read it, and must
hold: every table reference is either an engine table this query's secure views read
(named by Steward, unguessable, and standing as the only source of a view whose every
output is named) or a CTE in scope where it stands; every function is on the engine's
allow-list; the only parameters are Steward's own. Anything else is refused: the query
does not run. This is the last line, independent of how the rewrite got there.
"""

from __future__ import annotations

from collections.abc import Collection

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from steward.errors import Forbidden
from steward.policy.resolve import visible_ctes
from steward.policy.statement import DIALECT, RESERVED_PREFIX, AllowList, refuse_unsafe

PARAMETERS = frozenset({"steward_hash_key"})


class Unsafe(Forbidden):
    """The rewritten query does not hold the invariant; it is not run."""


def verify(sql: str, *, internal: Collection[str], allowed: AllowList) -> None:
    """Refuse `sql` unless it reads engine tables only through secure views.

    `internal` holds the engine tables this query's secure views read; `sql` is read as
    the engine reads it (`allowed.dialect`) and its functions checked against the
    engine's allow-list.
    """
    try:
        parsed = sqlglot.parse(sql, read=allowed.dialect)
    except (ParseError, TokenError, RecursionError):
        raise Unsafe("sql: the rewritten query could not be checked; it was not run") from None
    if len(parsed) != 1 or parsed[0] is None:
        raise Unsafe("sql: the rewritten query is not one statement; it was not run")
    statement = parsed[0]
    engine_tables = {name.lower() for name in internal}
    views = {name + "_v" for name in engine_tables}
    for table in statement.find_all(exp.Table):
        _check_table(table, engine_tables, views)
    ours = [p for p in statement.find_all(exp.Placeholder) if p.name in PARAMETERS]
    for placeholder in ours:
        placeholder.replace(exp.Literal.string(""))
    for identifier in list(statement.find_all(exp.Identifier)):
        if identifier.name.lower().startswith(RESERVED_PREFIX):
            identifier.replace(exp.to_identifier("steward_internal"))
    if not isinstance(statement, exp.Query):
        raise Unsafe("sql: the rewritten query is not a query; it was not run")
    refuse_unsafe(statement, allowed=allowed)


def _check_table(table: exp.Table, engine_tables: set[str], views: set[str]) -> None:
    qualified = table.args.get("db") is not None or table.args.get("catalog") is not None
    name = table.name.lower()
    if not qualified and name in views and name in set(visible_ctes(table)):
        return
    if not qualified and name in engine_tables and _is_view_source(table):
        return
    if not qualified and name not in engine_tables and name in set(visible_ctes(table)):
        return
    raise Unsafe(
        f"sql: the rewritten query would read {table.sql(dialect=DIALECT)!r} outside a secure"
        " view; it was not run"
    )


def _is_view_source(table: exp.Table) -> bool:
    """Whether `table` is the only source of a SELECT whose every output is named."""
    from_ = table.parent
    select = from_.parent if isinstance(from_, exp.From) else None
    if not isinstance(select, exp.Select) or select.args.get("joins"):
        return False
    if table.args.get("alias") is not None or select.args.get("with_") is not None:
        return False
    return all(isinstance(p, exp.Alias) for p in select.expressions)
