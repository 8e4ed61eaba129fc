"""Which source a column reference names: a table, a CTE, a derived table, a table
function, or (a column alone) the one source that can have it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.lineage.sql.pivots import with_pivot_alias
from steward.lineage.sql.sets import names_of

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope

    from steward.lineage.sql.trace import Tracer


def reference(
    tracer: Tracer, scope: Scope, column: exp.Column
) -> tuple[exp.Table | Scope | None, str, str]:
    """(source, column name, struct path) of a reference such as `t.c`, `c`,
    `db.t.c`, `t.c.field`, or `c.field` (a struct field of a column, not a table)."""

    _, dotted = column_path(column)
    parts = [part.name for part in column.parts]
    current: Scope | None = scope
    while current is not None:
        for index, alias in enumerate(parts[:-1]):
            source = (
                current.sources.get(alias)
                or _named_table(current, alias)
                or with_pivot_alias(current, alias)
            )
            if source is None or not _prefix_matches(source, parts[:index]):
                continue
            rest = parts[index + 1 :]
            return source, rest[0], "".join("." + p for p in rest[1:]) + dotted
        current = current.parent
    # no table named: the column (with any struct path) of the one source that has it
    name, path = parts[0], "".join("." + p for p in parts[1:]) + dotted
    current, below = scope, None
    while current is not None:
        sources = {
            key: value
            for key, value in current.sources.items()
            if (key in current.selected_sources or not current.selected_sources)
            and value is not below  # a table function's arguments are not its output
        }
        if len(sources) == 1:
            return next(iter(sources.values())), name, path
        if sources:
            # the one source known to have it; else the one whose columns are not
            # known when every other is known not to have it (a valid query is not
            # ambiguous)
            known = {id(s): _names_known(tracer, s) for s in sources.values()}
            owners = [s for s in sources.values() if name.lower() in (known[id(s)] or ())]
            if not owners:
                owners = [s for s in sources.values() if known[id(s)] is None]
            if len(owners) == 1:
                return owners[0], name, path
            return None, name, path
        current, below = current.parent, current
    return None, name, path


def _names_known(tracer: Tracer, source: exp.Table | Scope) -> set[str] | None:
    """Every column name a source has, lower-cased, or None when they are not known:
    a table's from the schema; a table function's or derived table's from its
    alias's column list (`UNNEST(arr) AS x` in BigQuery, `AS u(x)`), else a
    subquery's select list without a star."""
    from sqlglot import exp

    if isinstance(source, exp.Table):
        return {c.lower() for c in tracer.columns_of(source)} or None
    node = source.expression
    alias = node.args.get("alias")
    if not isinstance(alias, exp.TableAlias):
        parent = node.parent  # a derived table's alias is on its Subquery
        alias = parent.args.get("alias") if isinstance(parent, exp.Subquery) else None
    if isinstance(alias, exp.TableAlias) and alias.columns:
        return {column.name.lower() for column in alias.columns}
    if isinstance(node, exp.Select | exp.SetOperation):
        names = names_of(source)
        return None if "*" in names else {n.lower() for n in names}
    return None


def _named_table(scope: Scope, name: str) -> exp.Table | None:
    """The one table of the scope whose own name is `name`: `"Accounts".x` over
    `FROM s."Accounts"`, which sqlglot's qualify aliases `accounts`."""
    from sqlglot import exp

    found = [
        source
        for source in scope.sources.values()
        if isinstance(source, exp.Table) and source.name == name
    ]
    return found[0] if len(found) == 1 else None


def _prefix_matches(source: object, prefix: list[str]) -> bool:
    """`db.t.c`: the parts before the table alias must be the table's own db/catalog."""
    from sqlglot import exp

    if not prefix:
        return True
    if not isinstance(source, exp.Table):
        return False
    qualifiers = [part.name for part in source.parts[:-1]]
    return qualifiers[-len(prefix) :] == prefix


def column_path(column: exp.Column) -> tuple[str, str]:
    """(name, struct suffix): `t.col.field.sub` -> ('col', '.field.sub')."""
    from sqlglot import exp

    suffix = ""
    node: exp.Expr = column
    while isinstance(node.parent, exp.Dot) and node.arg_key == "this":
        node = node.parent
        suffix += "." + node.expression.name
    return column.name, suffix
