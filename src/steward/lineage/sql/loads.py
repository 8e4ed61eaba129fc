"""Statements that load or unload whole tables: COPY, and MySQL's REPLACE INTO.

`COPY INTO t FROM @stage` / `COPY t FROM 'file'` (a load) writes `t` from files, which
are not tables: `t` is the output, with no column lineage. `COPY (SELECT ...) TO 'file'`,
`COPY t TO STDOUT` and Snowflake's `COPY INTO @stage FROM (SELECT ...)` (an unload)
read a query: its tables are the inputs and its columns the result's, as a SELECT's.
MySQL's `REPLACE INTO` (which sqlglot leaves as a command) deletes the rows whose key
the new rows have and inserts them: the lineage of the same INSERT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp

    from steward.lineage.sql.analyze import Context, Plan


def copy_plan(copy: exp.Copy) -> Plan:
    from sqlglot import exp

    from steward.lineage.sql.analyze import Plan

    this = copy.this
    table = this.this if isinstance(this, exp.Schema) else this
    stored = isinstance(table, exp.Table) and isinstance(table.this, exp.Identifier)
    files = list(copy.args.get("files") or [])
    if copy.args.get("kind") and stored:  # COPY [INTO] t FROM files
        return Plan("COPY", targets=[table])
    source: exp.Expr | None = None
    if not copy.args.get("kind"):  # PostgreSQL COPY (query) | t [(cols)] TO ...
        source = this
    elif files:  # Snowflake COPY INTO @stage FROM (query) | t
        source = files[0]
    if isinstance(source, exp.Subquery):
        return Plan("COPY", query=source.unnest())
    if isinstance(source, exp.Schema) and isinstance(source.this, exp.Table):
        columns = [exp.column(c.name) for c in source.expressions]
        return Plan("COPY", query=exp.select(*columns).from_(source.this.copy()))
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
        return Plan("COPY", query=exp.select(exp.Star()).from_(source.copy()))
    return Plan("COPY")


def replace_plan(command: exp.Command, context: Context) -> Plan | None:
    """`REPLACE INTO t ...` as the INSERT it amounts to, or None for another command."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    from steward.lineage.sql.statements import plan_statement

    rest = command.expression
    if str(command.this).upper() != "REPLACE" or not isinstance(rest, exp.Literal | str):
        return None
    text = rest if isinstance(rest, str) else rest.this
    try:
        insert = sqlglot.parse_one(f"INSERT {text}", dialect=context.dialect)
    except SqlglotError:
        return None
    return plan_statement(insert, context) if isinstance(insert, exp.Insert) else None
