"""What each table reference of a query means, decided by scope, never by alias.

A table reference is a CTE reference when it is unqualified and a CTE of that name is
in scope where it stands: the body of a query sees every CTE of its `WITH`; a CTE sees
the ones defined before it (and itself under `WITH RECURSIVE`); a subquery sees what
its enclosing queries see. That is the engine's rule, and names compare without case
as DuckDB's do. Every other reference is a catalog table, qualified against the
catalog, or refused. A CTE may not take the name of a table the caller could name (a
catalog table, or a table the engine knows), so that no reading of the query can
confuse the two.

`columns_read` walks sqlglot's scopes to tell which columns of which tables a query
reads: a column is attributed to the source its scope binds it to, `*` to the sources
of its own scope, and `count(*)` reads none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from steward.errors import Forbidden, InvalidInput
from steward.policy.statement import DIALECT, first_line

_METADATA_SCHEMAS = {"information_schema", "pg_catalog", "system", "temp", "main"}


def visible_ctes(table: exp.Table) -> Iterator[str]:
    """The names (lower case) of the CTEs in scope where `table` stands."""
    child: exp.Expr = table
    parent = table.parent
    while parent is not None:
        if isinstance(parent, exp.Query):
            with_ = parent.args.get("with_")
            if isinstance(with_, exp.With):
                ctes = list(with_.expressions)
                inside = next((i for i, cte in enumerate(ctes) if cte is child), None)
                if child is with_:
                    inside = _cte_index_of(with_, table)
                if inside is None:
                    yield from (cte.alias_or_name.lower() for cte in ctes)
                else:
                    end = inside + 1 if with_.args.get("recursive") else inside
                    yield from (cte.alias_or_name.lower() for cte in ctes[:end])
        child, parent = parent, parent.parent


def _cte_index_of(with_: exp.With, node: exp.Expr) -> int | None:
    current: exp.Expr | None = node
    while current is not None and current.parent is not with_:
        current = current.parent
    for i, cte in enumerate(with_.expressions):
        if cte is current:
            return i
    return None


def is_cte_reference(table: exp.Table) -> bool:
    """Whether `table` names a CTE in scope (unqualified, and such a CTE exists)."""
    if table.args.get("db") is not None or table.args.get("catalog") is not None:
        return False
    return table.name.lower() in set(visible_ctes(table))


def refuse_shadowing(
    expression: exp.Query, *, catalog: Collection[str], engine_names: Collection[str]
) -> None:
    """Refuse a CTE named like a table the caller could name, or an alias named like the
    engine's own tables."""
    short = {name.rsplit(".", 1)[-1].lower() for name in catalog}
    engine = {name.lower() for name in engine_names}
    for cte in expression.find_all(exp.CTE):
        name = cte.alias_or_name.lower()
        if name in short or name in engine:
            raise Forbidden(
                f"sql: CTE {cte.alias_or_name!r} has the name of a table; give it another name"
            )
    for alias in expression.find_all(exp.TableAlias):
        if alias.name.lower() in engine:
            raise Forbidden(f"sql: alias {alias.name!r} is the name of an engine table")


def referenced_tables(
    expression: exp.Query, *, catalog: Mapping[str, Sequence[str]] | Collection[str]
) -> dict[int, str]:
    """Each catalog table reference (by node id) mapped to the catalog name it means.

    A reference is `source.schema.table`, `schema.table` or `table` when unambiguous,
    compared without case as DuckDB does, quoted or not. CTE references are left out;
    anything else that is not a catalog table is refused.
    """
    found: dict[int, str] = {}
    for table in expression.find_all(exp.Table):
        if is_cte_reference(table):
            continue
        found[id(table)] = qualify_table(table, catalog)
    return found


def qualify_table(table: exp.Table, catalog: Collection[str]) -> str:
    """The catalog name `table` means, or Forbidden."""
    parts = [p.name.lower() for p in table.parts]
    written = ".".join(p.name for p in table.parts)
    if "$" in parts[-1] or (len(parts) >= 2 and parts[-2] in _METADATA_SCHEMAS):
        raise Forbidden(f"sql: {written!r} is a metadata table; it is not queryable here")
    if len(parts) > 3:
        raise Forbidden(f"sql: {written!r} is not a catalog table (source.schema.table)")
    joined = ".".join(parts)
    matches = [n for n in catalog if n.lower() == joined or n.lower().endswith("." + joined)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InvalidInput(
            f"sql: {written!r} is ambiguous ({', '.join(sorted(matches))}); qualify it"
        )
    raise Forbidden(f"sql: {written!r} is not a catalog table you may query")


def columns_read(
    expression: exp.Query,
    *,
    references: Mapping[int, str],
    visible: Mapping[str, Sequence[str]],
) -> dict[str, list[str]]:
    """Per catalog table, the visible columns the query reads, in table order.

    `visible` maps each table to the columns the caller sees. Attribution follows the
    scopes: a qualified column belongs to the source its qualifier names in its scope
    (or an enclosing one, for a correlated reference); an unqualified one to the
    catalog sources of its scope that have it; `*` and `t.*` to the sources they expand.
    """
    read: dict[str, set[str]] = {name: set() for name in set(references.values())}
    lower = {name: {c.lower(): c for c in columns} for name, columns in visible.items()}
    try:
        for scope in traverse_scope(expression):
            tables = _catalog_sources(scope, references)
            for column in scope.columns:
                _attribute(column, scope, tables, lower, read, references)
            for star in _stars(scope):
                owner = star.table if isinstance(star, exp.Column) else ""
                for alias, name in tables.items():
                    if not owner or alias == owner.lower():
                        read[name].update(lower[name].values())
    except OptimizeError as exc:  # e.g. two sources of one scope with the same alias
        raise InvalidInput(f"sql: {first_line(str(exc))}") from None
    return {
        name: [c for c in visible[name] if c in read.get(name, set())]
        for name in dict.fromkeys(references.values())
    }


def _catalog_sources(scope: Scope, references: Mapping[int, str]) -> dict[str, str]:
    """The scope's sources that are catalog tables: alias (lower case) -> catalog name."""
    found = {}
    for alias, source in scope.selected_sources.items():
        node = source[1] if isinstance(source, tuple) else source
        if isinstance(node, exp.Table) and id(node) in references:
            found[alias.lower()] = references[id(node)]
    return found


def _stars(scope: Scope) -> Iterator[exp.Expr]:
    if not isinstance(scope.expression, exp.Select):
        return
    for projection in scope.expression.expressions:
        for node in projection.walk():
            if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Column | exp.Count):
                if isinstance(node.parent, exp.Columns) or node.parent is scope.expression:
                    yield node
            elif isinstance(node, exp.Column) and isinstance(node.this, exp.Star):
                yield node
            elif isinstance(node, exp.Columns) and not isinstance(node.this, exp.Star):
                yield node  # COLUMNS('regex'): any column may match


def _attribute(
    column: exp.Column,
    scope: Scope,
    tables: Mapping[str, str],
    lower: Mapping[str, Mapping[str, str]],
    read: dict[str, set[str]],
    references: Mapping[int, str],
) -> None:
    if isinstance(column.this, exp.Star):
        return
    name = column.name.lower()
    qualifier = column.table.lower()
    current: Scope | None = scope
    current_tables = tables
    while current is not None:
        if qualifier:
            if qualifier in current_tables:
                table = current_tables[qualifier]
                if name in lower[table]:
                    read[table].add(lower[table][name])
                return
            if qualifier in {a.lower() for a in current.selected_sources}:
                return  # a derived table or CTE of this scope: its own scope reads
        else:
            owners = [t for t in current_tables.values() if name in lower[t]]
            for table in owners:
                read[table].add(lower[table][name])
            if owners or _has_other_sources(current, current_tables):
                return
        current = current.parent
        current_tables = _catalog_sources(current, references) if current is not None else {}


def _has_other_sources(scope: Scope, tables: Mapping[str, str]) -> bool:
    """Whether the scope selects from a derived table or CTE, which may hold the column."""
    return any(alias.lower() not in tables for alias in scope.selected_sources)


def render(expression: exp.Expr) -> str:
    """`expression` as DuckDB SQL, without comments (the generator may change it: the last
    use of an expression)."""
    return expression.sql(dialect=DIALECT, comments=False, copy=False)
