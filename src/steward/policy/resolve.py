"""What each table reference of a query means, decided by scope, never by alias.

A table reference is a CTE reference when it is unqualified and a CTE of that name is
in scope where it stands: the body of a query sees every CTE of its `WITH`; a CTE sees
the ones defined before it (and itself under `WITH RECURSIVE`); a subquery sees what
its enclosing queries see. That is the engine's rule, and names compare without case
as DuckDB's do. Every other reference is a catalog table, qualified against the
catalog, or refused. A CTE may not take the name of a table the caller could name (a
catalog table, or a table the engine knows), so that no reading of the query can
confuse the two.

(What columns a query reads, for its record, is `policy.reads`.)
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence

from sqlglot import exp

from steward.errors import Forbidden, InvalidInput
from steward.policy.statement import DIALECT

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


def render(expression: exp.Expr, *, dialect: str = DIALECT) -> str:
    """`expression` as SQL of `dialect` (the engine's), without comments (the generator may
    change it: the last use of an expression)."""
    return expression.sql(dialect=dialect, comments=False, copy=False)
