"""PostgreSQL data-modifying CTEs: `WITH moved AS (DELETE FROM t ... RETURNING a, b)`.

Such a CTE writes its table, and the rows it returns are read like a query's: a
DELETE's or UPDATE's `RETURNING` reads the rows of its target (and its USING/FROM
tables, under its WHERE), an INSERT's the rows it inserts. Each is replaced by that
query (`SELECT a, b FROM t ... WHERE ...`), and its table is one more output of the
statement.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlglot import exp


def returning_ctes(statement: exp.Expr) -> tuple[exp.Expr, list[exp.Table]]:
    """The statement with each data-modifying CTE replaced by the query of the rows it
    returns, and the tables those CTEs write."""
    from sqlglot import exp

    with_ = statement.args.get("with_")
    ctes = with_.expressions if isinstance(with_, exp.With) else []
    if not any(isinstance(cte.this, exp.Delete | exp.Update | exp.Insert) for cte in ctes):
        return statement, []
    statement = statement.copy()
    written: list[exp.Table] = []
    for cte in statement.args["with_"].expressions:
        body = cte.this
        if not isinstance(body, exp.Delete | exp.Update | exp.Insert):
            continue
        target = body.this.this if isinstance(body.this, exp.Schema) else body.this
        if isinstance(target, exp.Table):
            written.append(target.copy())
        cte.set("this", _returned(body))
    return statement, written


def _returned(body: exp.Delete | exp.Update | exp.Insert) -> exp.Select:
    """The rows a data-modifying statement returns, as a query."""
    from sqlglot import exp

    returning = body.args.get("returning")
    items = [
        exp.alias_(e.copy(), e.name) if isinstance(e, exp.Column) and e.name else e.copy()
        for e in (returning.expressions if returning is not None else [])
    ]  # a column keeps its name when an UPDATE's SET expression replaces it
    select = exp.select(*(items or [exp.Literal.number(1)]))
    if isinstance(body, exp.Insert):
        table = body.this.this if isinstance(body.this, exp.Schema) else body.this
        columns = body.this.expressions if isinstance(body.this, exp.Schema) else []
        rows = body.expression
        if isinstance(rows, exp.Query | exp.Values) and isinstance(table, exp.Table):
            alias = exp.TableAlias(
                this=exp.to_identifier(table.name), columns=[c.copy() for c in columns]
            )
            return select.from_(exp.Subquery(this=rows.copy(), alias=alias), copy=False)
        return select
    select = select.from_(body.this.copy(), copy=False)
    extra = body.args.get("using") if isinstance(body, exp.Delete) else None
    from_ = body.args.get("from_") if isinstance(body, exp.Update) else None
    for table in [*(extra or []), *([from_.this] if from_ is not None else [])]:
        select = select.join(table.copy(), join_type="cross", copy=False)
    where = body.args.get("where")
    if isinstance(where, exp.Where):
        select = select.where(where.this.copy(), copy=False)
    if isinstance(body, exp.Update):  # RETURNING names the new values of what SET writes
        assigned = {
            pair.this.name: pair.expression
            for pair in body.expressions
            if isinstance(pair, exp.EQ) and isinstance(pair.this, exp.Column)
        }
        for column in list(select.find_all(exp.Column)):
            if column.parent_select is select and column.find_ancestor(exp.Where) is None:
                value = assigned.get(column.name)
                if value is not None and column.table in ("", body.this.alias_or_name):
                    column.replace(exp.paren(value.copy()))
    return select
