"""Trace output columns of a qualified query through its scopes down to stored tables.

sqlglot's `qualify` gives every column its source and `build_scope` the tree of
CTEs, derived tables, unions and subqueries. This module walks that tree the
way `sqlglot.lineage` does, and in the same walk records how each input reaches
the output (the OpenLineage transformation) and which columns each table had
read; `sqlglot.lineage` follows one column per call and records neither.
One column that cannot be traced is reported and never stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from steward.lineage.sql.models import (
    DIRECT,
    FILTER,
    GROUP_BY,
    IDENTITY,
    INDIRECT,
    JOIN,
    SORT,
    TRANSFORMATION,
    Transformation,
    chain,
)
from steward.lineage.sql.names import is_table_function, report_identifier, report_table
from steward.lineage.sql.walk import walk_expression as _walk

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.optimizer.scope import Scope
    from sqlglot.schema import Schema


@dataclass(frozen=True)
class Found:
    """One stored-table column reached from an output, with the way it gets there."""

    table: str
    column: str
    type: str
    subtype: str
    masking: bool = False


@dataclass
class Trace:
    """What one walk collected: tables read, columns read per table, reasons for gaps."""

    dialect: Dialect
    schema: Schema
    tables: dict[str, None] = field(default_factory=dict)
    reads: dict[str, dict[str, None]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    known: tuple[tuple[str, ...], ...] = ()

    def table_name(self, table: exp.Table) -> str:
        return report_table(table, self.dialect, self.known)


def combine(outer_type: str, outer_subtype: str, outer_mask: bool, found: Found) -> Found:
    """The transformation of an input seen through one more hop (outer applied last)."""
    outer = Transformation(outer_type, outer_subtype, masking=outer_mask)
    inner = Transformation(found.type, found.subtype, masking=found.masking)
    both = chain(outer, inner)
    return Found(found.table, found.column, both.type, both.subtype, both.masking)


def column_path(column: exp.Column) -> tuple[str, str]:
    """(name, struct suffix): `t.col.field.sub` -> ('col', '.field.sub')."""
    from sqlglot import exp

    suffix = ""
    node: exp.Expr = column
    while isinstance(node.parent, exp.Dot) and node.arg_key == "this":
        node = node.parent
        suffix += "." + node.expression.name
    return column.name, suffix


class Tracer:
    """Walks one scope tree; every method adds to `trace` what it reads."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self._memo: dict[tuple[int, str], tuple[list[Found], list[str]]] = {}
        self._clauses: dict[int, list[Found]] = {}
        self._names: dict[int, dict[str, int]] = {}

    def _index_of(self, scope: Scope, name: str) -> int | None:
        """The position of the output column `name` of a query scope."""
        from sqlglot import exp

        expression = scope.expression
        if not isinstance(expression, exp.Select | exp.SetOperation):
            return None
        names = self._names.get(id(scope))
        if names is None:
            names = {}
            for position, select in enumerate(expression.selects):
                names.setdefault(select.alias_or_name, position)
            self._names[id(scope)] = names
        return names.get(name)

    def output(self, scope: Scope, index: int, *, with_clauses: bool = False) -> list[Found]:
        """Inputs of the query's output column at `index`: each UNION/INTERSECT branch's
        select there; the right side of an EXCEPT only filters (INDIRECT FILTER)."""
        from sqlglot import exp

        expression = scope.expression
        if isinstance(expression, exp.SetOperation):
            left, right = scope.set_operation_scopes
            found = self.output(left, index, with_clauses=with_clauses)
            other = self.output(right, index, with_clauses=with_clauses)
            if isinstance(expression, exp.Except):
                other = [combine(INDIRECT, FILTER, False, origin) for origin in other]
            return found + other
        if not isinstance(expression, exp.Select) or index >= len(expression.selects):
            return []
        found = self.select(scope, expression.selects[index])
        return found + self.clauses(scope) if with_clauses else found

    def report_column(self, name: str, column: exp.Column | None = None) -> str:
        from sqlglot import exp

        quoted = column is not None and isinstance(column.this, exp.Identifier)
        quoted = quoted and bool(column.this.quoted)  # type: ignore[union-attr]
        return report_identifier(name, self.trace.dialect, quoted=quoted)

    # -- tables -------------------------------------------------------------------------
    def note_tables(self, root: Scope) -> None:
        """Every stored table the query reads (CTEs, derived tables, functions are not)."""
        from sqlglot import exp

        for scope in root.traverse():
            for source in scope.sources.values():
                if not isinstance(source, exp.Table):
                    continue
                if not is_table_function(source):
                    self.trace.tables.setdefault(self.trace.table_name(source))
                    continue
                # a table passed to a table function (`ML.PREDICT(MODEL m, TABLE t)`) is read
                for inner in source.this.find_all(exp.Table):
                    if not is_table_function(inner) and inner.name not in scope.cte_sources:
                        self.trace.tables.setdefault(self.trace.table_name(inner))

    def note_reads(self, root: Scope) -> None:
        """Every column any query reads from a stored table counts as read, whether or not
        it reaches an output (`SELECT a FROM (SELECT a, b FROM t)` reads t.a and t.b)."""
        from sqlglot import exp

        before = len(self.trace.problems)
        for scope in root.traverse():
            expression = scope.expression
            if not isinstance(expression, exp.Select):
                continue
            aliases = {s.alias for s in expression.selects if isinstance(s, exp.Alias)}
            for column, _ in _walk(expression, scope)[0]:
                if not column.table and column.name in aliases:
                    clause = column.find_ancestor(exp.Group, exp.Order, exp.Having, exp.Qualify)
                    if clause is not None and clause.parent is expression:
                        continue  # `GROUP BY total`: the output column, not a table's
                source, _, _ = self._reference(scope, column)
                if isinstance(source, exp.Table):
                    self.column(scope, column)
        del self.trace.problems[before:]  # gaps are reported for the outputs they affect

    # -- select expressions ---------------------------------------------------------------
    def select(self, scope: Scope, expression: exp.Expr) -> list[Found]:
        """Inputs of one select expression of `scope` (alias or not)."""
        from sqlglot import exp

        top = expression.this if isinstance(expression, exp.Alias) else expression
        found: list[Found] = []
        columns, nested = _walk(top, scope)
        for column, reached in columns:
            for origin in self.column(scope, column):
                found.append(combine(reached.type, reached.subtype, reached.masking, origin))
        for inner_scope, reached in nested:
            subtype = TRANSFORMATION if reached.subtype == IDENTITY else reached.subtype
            for branch, select in _query_selects(inner_scope):
                for origin in self.select(branch, select):
                    found.append(combine(reached.type, subtype, reached.masking, origin))
            found.extend(self.clauses(inner_scope))
        return found

    def column(self, scope: Scope, column: exp.Column) -> list[Found]:
        """The stored columns one column reference stands for."""
        from sqlglot import exp
        from sqlglot.optimizer.scope import Scope as ScopeType

        if isinstance(column.this, exp.Star):  # `t.*` left unexpanded: no column to name
            return []
        source, name, suffix = self._reference(scope, column)
        if source is None:
            self.trace.problems.append(
                f"column {column.sql(dialect=self.trace.dialect)} has no known source"
            )
            return []
        if isinstance(source, exp.Table):
            if is_table_function(source):
                return []
            table = self.trace.table_name(source)
            known = self._columns_of(source)
            if known and name not in known and name != "*":
                # a name that matches one column only when case is ignored (MySQL columns,
                # a schema listed in another case) is that column
                same = [k for k in known if k.lower() == name.lower()]
                if len(same) != 1:
                    self.trace.problems.append(f"column {name} is not in table {table}")
                    return []
                name = same[0]
            reported = self.report_column(name, column) + self._suffix(suffix)
            self.trace.reads.setdefault(table, {}).setdefault(reported)
            return [Found(table, reported, DIRECT, IDENTITY)]
        if isinstance(source, ScopeType):
            return self._through(source, name, suffix)
        return []

    def _columns_of(self, table: exp.Table) -> list[str]:
        try:
            return list(self.trace.schema.column_names(table))
        except Exception:  # a table the schema cannot look up: columns not known
            return []

    def _reference(
        self, scope: Scope, column: exp.Column
    ) -> tuple[exp.Table | Scope | None, str, str]:
        """(source, column name, struct path) of a reference such as `t.c`, `c`,
        `db.t.c`, `t.c.field`, or `c.field` (a struct field of a column, not a table)."""
        from sqlglot import exp

        _, dotted = column_path(column)
        parts = [part.name for part in column.parts]
        current: Scope | None = scope
        while current is not None:
            for index, alias in enumerate(parts[:-1]):
                source = current.sources.get(alias) or _named_table(current, alias)
                if source is None or not _prefix_matches(source, parts[:index]):
                    continue
                rest = parts[index + 1 :]
                return source, rest[0], "".join("." + p for p in rest[1:]) + dotted
            current = current.parent
        # no table named: the column (with any struct path) of the one source that has it
        name, path = parts[0], "".join("." + p for p in parts[1:]) + dotted
        current = scope
        while current is not None:
            sources = {
                key: value
                for key, value in current.sources.items()
                if key in current.selected_sources or not current.selected_sources
            }
            if len(sources) == 1:
                return next(iter(sources.values())), name, path
            if sources:
                owners = [
                    s
                    for s in sources.values()
                    if isinstance(s, exp.Table)
                    and name.lower() in {c.lower() for c in self._columns_of(s)}
                ]
                if len(owners) == 1:
                    return owners[0], name, path
                return None, name, path
            current = current.parent
        return None, name, path

    def _through(self, source: Scope, name: str, suffix: str) -> list[Found]:
        """A column read from a CTE, derived table, union or table function scope."""

        key = (id(source), name + suffix)
        if key in self._memo:  # each subquery column is traced once, its gaps re-reported
            found, problems = self._memo[key]
            self.trace.problems.extend(problems)
            return found
        self._memo[key] = ([], [])  # a recursive CTE reaching itself adds nothing
        before = len(self.trace.problems)
        found = list(dict.fromkeys(self._through_once(source, name, suffix)))
        self._memo[key] = (found, self.trace.problems[before:])
        return found

    def _through_once(self, source: Scope, name: str, suffix: str) -> list[Found]:
        from sqlglot import exp

        expression = source.expression
        found: list[Found] = []
        if isinstance(expression, exp.Query):
            index = self._index_of(source, name)
            if index is None:
                return self._through_star(source, name, suffix)
            for origin in self.output(source, index, with_clauses=True):
                if suffix and origin.subtype == IDENTITY:
                    origin = Found(
                        origin.table,
                        origin.column + self._suffix(suffix),
                        origin.type,
                        origin.subtype,
                        origin.masking,
                    )
                found.append(origin)
        elif queries := [q for q in source.subquery_scopes if isinstance(q.expression, exp.Query)]:
            # LATERAL (SELECT ...): the columns are the subquery's
            for inner in queries:
                found.extend(self._through(inner, name, suffix))
        else:
            # UNNEST(arr), a lateral view, a table function over columns: every column it
            # reads feeds every column it produces.
            for column, _ in _walk(expression, source)[0]:
                for origin in self.column(source, column):
                    found.append(combine(DIRECT, TRANSFORMATION, False, origin))
        return found

    def _suffix(self, suffix: str) -> str:
        return "".join(
            "." + report_identifier(part, self.trace.dialect, quoted=True)
            for part in suffix.split(".")[1:]
        )

    def _through_star(self, source: Scope, name: str, suffix: str) -> list[Found]:
        """A column a subquery does not name: it passes through its `*` (or `t.*`) when
        that star covers exactly one source; otherwise its origin is unknown."""
        from sqlglot import exp

        expression = source.expression
        aliases: set[str] = set()
        if isinstance(expression, exp.Select):
            for select in expression.selects:
                if isinstance(select, exp.Star):
                    aliases.update(source.selected_sources or source.sources)
                elif isinstance(select, exp.Column) and isinstance(select.this, exp.Star):
                    aliases.add(select.table)
        if len(aliases) != 1:
            self.trace.problems.append(f"column {name} is not produced by its subquery")
            return []
        column = exp.column(name, table=aliases.pop())
        found = self.column(source, column)
        if suffix:
            found = [
                Found(f.table, f.column + self._suffix(suffix), f.type, f.subtype, f.masking)
                if f.subtype == IDENTITY
                else f
                for f in found
            ]
        return found + self.clauses(source)

    # -- clauses that decide rows -----------------------------------------------------------
    def clauses(self, scope: Scope) -> list[Found]:
        """INDIRECT inputs of one scope: WHERE, JOIN, GROUP BY, HAVING, ORDER BY, QUALIFY."""
        key = id(scope)
        if key not in self._clauses:
            self._clauses[key] = []  # a clause reaching its own scope adds nothing
            self._clauses[key] = list(dict.fromkeys(self._clauses_once(scope)))
        return self._clauses[key]

    def _clauses_once(self, scope: Scope) -> list[Found]:
        from sqlglot import exp

        expression = scope.expression
        if not isinstance(expression, exp.Select):
            return []
        parts: list[tuple[str, exp.Expr | None]] = [
            (FILTER, expression.args.get("where")),
            (GROUP_BY, expression.args.get("group")),
            (FILTER, expression.args.get("having")),
            (SORT, expression.args.get("order")),
            (FILTER, expression.args.get("qualify")),
        ]
        for join in _joins_of(expression):
            parts.append((JOIN, join.args.get("on")))
            for using in join.args.get("using") or []:
                parts.append((JOIN, using))
        # ORDER BY total / GROUP BY / HAVING / QUALIFY may name an output column
        aliases = {
            select.alias: select for select in expression.selects if isinstance(select, exp.Alias)
        }
        where = expression.args.get("where")
        found: list[Found] = []
        for subtype, node in parts:
            if node is None:
                continue
            columns, nested = _walk(node, scope)
            for column, _ in columns:
                alias = aliases.get(column.name) if not column.table and node is not where else None
                origins = (
                    self.select(scope, alias) if alias is not None else self.column(scope, column)
                )
                for origin in origins:
                    found.append(combine(INDIRECT, subtype, False, origin))
            for inner, _ in nested:
                for inner_scope, select in _query_selects(inner):
                    for origin in self.select(inner_scope, select):
                        found.append(combine(INDIRECT, subtype, False, origin))
                found.extend(
                    combine(INDIRECT, subtype, False, origin) for origin in self.clauses(inner)
                )
        return found


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


def _joins_of(select: exp.Select) -> list[exp.Join]:
    """The select's joins, with those written inside parentheses in its FROM
    (`FROM (a JOIN b ON ...)`, as PostgreSQL and DuckDB print a view's joins)."""
    from sqlglot import exp

    joins = list(select.args.get("joins") or [])
    stack = [node for node in (select.args.get("from_"), *joins) if node is not None]
    while stack:
        node = stack.pop()
        for child in node.iter_expressions():
            if isinstance(child, exp.Select | exp.SetOperation):
                continue  # a nested query's joins are its own
            if isinstance(child, exp.Join) and child not in joins:
                joins.append(child)
            stack.append(child)
    return joins


def _prefix_matches(source: object, prefix: list[str]) -> bool:
    """`db.t.c`: the parts before the table alias must be the table's own db/catalog."""
    from sqlglot import exp

    if not prefix:
        return True
    if not isinstance(source, exp.Table):
        return False
    qualifiers = [part.name for part in source.parts[:-1]]
    return qualifiers[-len(prefix) :] == prefix


def _query_selects(scope: Scope) -> list[tuple[Scope, exp.Expr]]:
    """Every select expression of a query scope, with the branch scope it belongs to."""
    from sqlglot import exp

    expression = scope.expression
    if isinstance(expression, exp.SetOperation):
        left, right = scope.set_operation_scopes
        return _query_selects(left) + _query_selects(right)
    if not isinstance(expression, exp.Select):
        return []
    return [(scope, select) for select in expression.selects]
