"""Rewriting a caller's SQL so that it can only ever see what the policy lets it see.

Each step is a pure function over sqlglot expressions (`expression -> expression`, with
keyword-only context); `govern` composes them:

1. `parse_query`: exactly one statement, parsed with the DuckDB dialect;
2. `refuse_unsafe`: only a read-only query (SELECT, WITH, UNION, INTERSECT, EXCEPT);
   no table functions, file readers, metadata tables or functions, time travel;
3. `referenced_tables`: every table reference qualified against the catalog;
4. `secure_tables`: every reference to a catalog table replaced by a secure subquery
   `(SELECT <mask> AS col, ... FROM <internal name> WHERE <row filters>) AS <alias>`,
   holding only the visible columns, so that everything else in the query (predicates,
   joins, grouping, ordering, windows, functions, `SELECT *`) sees masked values and
   filtered rows only.

The engine is given only the internal names, which no caller can write (they are not in
the catalog, and step 3 refuses what is not): a reference the rewrite missed fails to
bind instead of reading raw data.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope

from steward.errors import Forbidden, InvalidInput
from steward.policy.access import TableAccess

DIALECT = "duckdb"
# Nodes that are not part of a read-only query, wherever they appear.
_NOT_READ_ONLY: tuple[type[exp.Expression], ...] = (
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
)
# Functions that read files, URLs, settings, the engine's own metadata or run SQL text.
_REFUSED_FUNCTIONS = (
    "read_",
    "parquet_",
    "iceberg_",
    "delta_",
    "duckdb_",
    "pragma_",
    "glob",
    "query",
    "sniff_csv",
    "current_setting",
    "getenv",
    "which_secret",
    "sqlite_",
    "postgres_",
    "mysql_",
    "json_execute",
    "icu_",
    "test_",
    "checkpoint",
    "force_checkpoint",
    "enable_",
    "disable_",
    "export_",
    "import_",
    "load_",
    "install_",
    "repository",
    "current_database",
    "current_schema",
)
_METADATA_SCHEMAS = {"information_schema", "pg_catalog", "system", "temp", "main"}


@dataclass(frozen=True)
class Governed:
    """A query rewritten for one caller: the SQL to run and the tables it reads."""

    sql: str
    tables: tuple[str, ...]  # catalog names, in order of first reference
    internal: dict[str, str]  # catalog name -> internal name the SQL reads


def parse_query(sql: str, *, dialect: str = DIALECT) -> exp.Query:
    """The one read-only statement `sql` holds; refuses several statements or none."""
    if not sql.strip():
        raise InvalidInput("sql: empty; expected one SELECT statement")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise InvalidInput(f"sql: cannot be parsed: {_first_line(str(exc))}") from None
    if len(statements) != 1:
        raise Forbidden(
            f"sql: one statement per query, got {len(statements)}; run them one at a time"
        )
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        kind = statement.key.upper() if not isinstance(statement, exp.Command) else "command"
        raise Forbidden(
            f"sql: only read-only queries (SELECT, WITH, UNION, INTERSECT, EXCEPT) run here;"
            f" got {kind} {_first_line(statement.sql(dialect=dialect))[:60]!r}"
        )
    return statement


def refuse_unsafe(expression: exp.Query) -> exp.Query:
    """`expression` unchanged, if nothing in it writes, reads files or reads metadata."""
    for node in expression.walk():
        if isinstance(node, _NOT_READ_ONLY):
            raise Forbidden(f"sql: {node.key.upper()} is not allowed in a read-only query")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name.startswith(_REFUSED_FUNCTIONS):
                raise Forbidden(
                    f"sql: function {name}() reads files, settings or engine metadata and is"
                    " not allowed; query catalog tables by name"
                )
        if isinstance(node, exp.Table):
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
    return expression


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def referenced_tables(
    expression: exp.Query, *, catalog: Mapping[str, Sequence[str]]
) -> dict[int, str]:
    """Each table reference (by node id) mapped to the catalog name it means.

    `catalog` maps catalog names (`lake.crm.customers`) to their columns. A
    reference is `source.schema.table` or `schema.table` or `table` when unambiguous,
    compared without case as DuckDB does, quoted or not. References to a CTE are left
    out; anything else that is not a catalog table is refused.
    """
    cte_references = _cte_references(expression)
    found: dict[int, str] = {}
    for table in expression.find_all(exp.Table):
        if id(table) in cte_references:
            continue
        found[id(table)] = _qualify(table, catalog)
    return found


def _cte_references(expression: exp.Query) -> set[int]:
    refs: set[int] = set()
    for scope in traverse_scope(expression):
        for table in scope.tables:
            if table.args.get("db") is None and table.args.get("catalog") is None:
                source = scope.sources.get(table.alias_or_name)
                is_cte = source is not None and not isinstance(source, exp.Table)
                if is_cte or table.name.lower() in {n.lower() for n in scope.cte_sources}:
                    refs.add(id(table))
    return refs


def _qualify(table: exp.Table, catalog: Mapping[str, Sequence[str]]) -> str:
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


def secure_tables(
    expression: exp.Query,
    *,
    references: Mapping[int, str],
    access: Mapping[str, TableAccess],
    internal: Mapping[str, str],
    copy: bool = True,
    materialize: bool = False,
    snapshots: Mapping[int, str] | None = None,
) -> exp.Query:
    """`expression` with every catalog table replaced by its secure subquery.

    A copy unless `copy` is False, when the caller hands over an expression it owns
    (copying a large query costs about as much as parsing it). With `materialize`, the
    secure views become `MATERIALIZED` CTEs ahead of the query's own, so the engine
    computes each one (row filter applied, masks computed) before any of the caller's
    expressions runs: the caller's predicates cannot be evaluated on rows outside the
    filter, not even to raise an error. `snapshots` maps a time-travelling reference (by
    node id) to the internal name of the snapshot it reads (see `time_travel`).
    """
    views = {name: _secure_view(access[name], internal[name]) for name in set(references.values())}
    at = snapshots or {}
    _refuse_denied_columns(expression, references=references, access=access)
    rewritten = expression.copy() if copy else expression
    # A copy has new node ids: pair references up by walk order, which copy keeps.
    originals = list(expression.find_all(exp.Table))
    copies = originals if rewritten is expression else list(rewritten.find_all(exp.Table))
    for original, table in zip(originals, copies, strict=True):
        name = references.get(id(original))
        if name is None:
            continue
        alias = table.args.get("alias")
        if alias is None:
            alias = exp.TableAlias(this=exp.to_identifier(table.name, quoted=True))
        snapshot = at.get(id(original))
        if snapshot is not None:
            # Time travel is allowed only where no mask or filter applies (`time_travel`):
            # the view is the snapshot's internal table, with the visible columns.
            view = _secure_view(access[name], snapshot)
            table.replace(exp.Subquery(this=view.copy(), alias=alias.copy()))
        elif materialize:
            view_name = exp.to_identifier(internal[name] + "_v", quoted=True)
            table.replace(exp.Table(this=view_name, alias=alias.copy()))
        else:
            table.replace(exp.Subquery(this=views[name].copy(), alias=alias.copy()))
    if materialize:
        ctes = [
            exp.CTE(
                this=views[name].copy(),
                alias=exp.TableAlias(this=exp.to_identifier(internal[name] + "_v", quoted=True)),
                materialized=True,
            )
            for name in sorted(views)
        ]
        existing = rewritten.args.get("with_")
        if existing is not None:
            existing.set("expressions", [*ctes, *existing.expressions])
        else:
            rewritten.set("with_", exp.With(expressions=ctes))
    for column in rewritten.find_all(exp.Column):
        # `crm.customers.email` -> `customers.email`: the secure view keeps the table's name.
        if column.args.get("db") is not None or column.args.get("catalog") is not None:
            column.set("db", None)
            column.set("catalog", None)
    return rewritten


def time_travel(
    expression: exp.Query, *, references: Mapping[int, str], access: Mapping[str, TableAccess]
) -> dict[int, tuple[str, str, exp.Expr]]:
    """Each time-travelling reference: (catalog name, VERSION or TIMESTAMP, the value).

    Refused on a table with masks or row filters: they are decided on the current
    snapshot, and an older one may hold rows or values they would not cover.
    """
    found: dict[int, tuple[str, str, exp.Expr]] = {}
    for table in expression.find_all(exp.Table):
        when = table.args.get("when")
        name = references.get(id(table))
        if when is None or name is None:
            continue
        decided = access[name]
        if decided.row_filters or any(c.verdict == "masked" for c in decided.columns):
            raise Forbidden(
                f"sql: time travel on {name} is not allowed: masks and row filters apply to"
                " its current snapshot only"
            )
        kind = str(when.args.get("kind") or "").upper()
        if str(when.this).upper() != "AT" or kind not in ("VERSION", "TIMESTAMP"):
            raise Forbidden("sql: time travel is `AT (VERSION => id)` or `AT (TIMESTAMP => t)`")
        found[id(table)] = (name, kind, when.expression)
    return found


@functools.lru_cache(maxsize=512)
def _secure_view(access: TableAccess, internal: str) -> exp.Select:
    """The secure subquery of one table for one decision (cached: callers copy it)."""
    if not access.allowed:
        raise Forbidden(access.reason or f"{access.table}: not granted ({access.rule})")
    visible = access.visible
    if not visible:
        raise Forbidden(f"{access.table}: no column of it is visible to you")
    projections = [
        exp.alias_(_mask(column.name, column.expression), column.name, quoted=True)
        for column in visible
    ]
    view = exp.select(*projections).from_(exp.to_table(internal, quoted=True))
    for condition in access.row_filters:
        view = view.where(_parse_expression(condition, f"{access.table} row filter"), copy=False)
    return view


def _mask(column: str, expression: str | None) -> exp.Expr:
    quoted = exp.column(column, quoted=True)
    if expression is None:
        return quoted
    text = expression.replace("{column}", quoted.sql(dialect=DIALECT))
    return _parse_expression(text, f"mask on {column}")


def _parse_expression(text: str, what: str) -> exp.Expr:
    try:
        return sqlglot.parse_one(text, read=DIALECT)
    except (ParseError, TokenError) as exc:
        # A policy error, not the caller's: refuse rather than run without the rule.
        problem = _first_line(str(exc))
        raise Forbidden(f"{what}: the policy's SQL cannot be parsed ({problem})") from None


def _refuse_denied_columns(
    expression: exp.Query, *, references: Mapping[int, str], access: Mapping[str, TableAccess]
) -> None:
    tables = set(references.values())
    denied: dict[str, str] = {}
    visible: set[str] = set()
    for name in tables:
        for column in access[name].columns:
            if column.verdict == "denied":
                denied.setdefault(column.name.lower(), name)
            else:
                visible.add(column.name.lower())
    if not denied:
        return
    defined = {a.alias.lower() for a in expression.find_all(exp.Alias)}
    defined |= {
        c.name.lower() for alias in expression.find_all(exp.TableAlias) for c in alias.columns
    }
    for reference in expression.find_all(exp.Column):
        name = reference.name.lower()
        if name in denied and name not in visible and name not in defined:
            raise Forbidden(f"sql: column {denied[name]}.{reference.name} is denied to you")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def govern(
    sql: str,
    *,
    catalog: Mapping[str, Sequence[str]],
    access_for: Callable[[str], TableAccess],
    internal_prefix: str,
) -> Governed:
    """`sql` parsed, checked and rewritten for one caller (`access_for` decides per table)."""
    query = refuse_unsafe(parse_query(sql))
    references = referenced_tables(query, catalog=catalog)
    names = tuple(dict.fromkeys(references.values()))
    access = {name: access_for(name) for name in names}
    internal = {name: f"{internal_prefix}{i}" for i, name in enumerate(names)}
    secured = secure_tables(
        query, references=references, access=access, internal=internal, copy=False
    )
    return Governed(
        sql=secured.sql(dialect=DIALECT, comments=False), tables=names, internal=internal
    )
