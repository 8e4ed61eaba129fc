"""`analyze`: the table- and column-level lineage of a SQL script, one statement at a time.

Every statement is turned into a query to trace plus the tables it writes:
a SELECT is traced as is; CREATE TABLE AS / CREATE VIEW / INSERT trace their
query and name its columns after the target's column list when there is one;
UPDATE and MERGE become a SELECT of their assigned expressions over the target
joined to the source (DELETE a SELECT over its target and USING tables, for its
WHERE), so one tracer (`trace.py`) serves every kind.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.errors import InvalidInput
from steward.lineage.sql.models import (
    DIRECT,
    ColumnLineage,
    ScriptLineage,
    StatementLineage,
    Transformation,
    Unresolved,
    Upstream,
)
from steward.lineage.sql.names import (
    fold_shards,
    known_tables,
    report_identifier,
    report_table,
)
from steward.lineage.sql.qualified import scoped
from steward.lineage.sql.schema import mapping_schema
from steward.lineage.sql.script import script_lineage
from steward.lineage.sql.trace import Found, Trace, Tracer

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.schema import MappingSchema


log = logging.getLogger(__name__)

# names other tools give dialects -> sqlglot's
DIALECT_ALIASES = {
    "postgresql": "postgres",
    "mssql": "tsql",
    "sqlserver": "tsql",
    "mariadb": "mysql",
    "sparksql": "spark",
}


@dataclass
class Plan:
    """What one statement writes and the query whose columns it writes."""

    kind: str
    targets: list[exp.Table] = field(default_factory=list)
    query: exp.Expr | None = None
    names: list[str] | None = None  # target column per select position, when the SQL names them
    # MERGE/DELETE: the target was put in the query's FROM to resolve its columns, so it
    # is not reported as an input (docs/sql-lineage.md)
    target_in_from: bool = False
    # MERGE: `names` repeat a target column its WHEN clauses write in turn (UPDATE SET a
    # = x, INSERT (a) VALUES (y)): one column, with the lineage of each; otherwise each
    # position is its own column, even where two share a name (`SELECT a.id, b.id`)
    one_per_name: bool = False


@dataclass(frozen=True)
class Context:
    dialect: Dialect
    schema: MappingSchema
    catalog: str | None
    db: str | None


def analyze(
    sql: str,
    *,
    dialect: str | None = None,
    schema: Mapping[str, Any] | None = None,
    default_catalog: str | None = None,
    default_schema: str | None = None,
) -> ScriptLineage:
    """The lineage of every statement of `sql`.

    Args:
        sql: one statement or a script of several, separated by `;`.
        dialect: a sqlglot dialect name (`postgres`, `snowflake`, `bigquery`, `tsql`,
            `spark`, `hive`, `duckdb`, `mysql`, ...); None is sqlglot's own.
        schema: `{table: {column: type}}` at any qualification level (`t`, `db.t`,
            `cat.db.t`, or nested `{db: {t: {...}}}`); lets `*` expand and
            unqualified columns of a join find their table. Optional.
        default_catalog, default_schema: added to table names that lack them.

    Raises:
        InvalidInput: the SQL does not parse (the message is sqlglot's first line),
            the dialect is unknown, or the schema is not a mapping of that shape.
    """
    import sqlglot
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import SqlglotError

    try:
        parsed_dialect = Dialect.get_or_raise(DIALECT_ALIASES.get(dialect or "", dialect))
    except ValueError as exc:
        raise InvalidInput(f"dialect: {str(exc).splitlines()[0]}") from None
    try:
        statements = [s for s in sqlglot.parse(sql, dialect=parsed_dialect) if s is not None]
    except SqlglotError as exc:
        raise InvalidInput(f"sql: {_first_line(exc)}") from None
    except RecursionError:
        raise InvalidInput("sql: nested too deeply to parse") from None
    catalog = _default_name(default_catalog, parsed_dialect)
    db = _default_name(default_schema, parsed_dialect)
    mapping = mapping_schema(schema, parsed_dialect, catalog=catalog, db=db)
    context = Context(parsed_dialect, mapping, catalog, db)
    return script_lineage(tuple(_one(statement, context) for statement in statements))


def _joined(parts: list[StatementLineage]) -> StatementLineage:
    """The parts of a multi-table insert as one statement writing each of its targets.
    Row-level inputs every part shares are the statement's `dataset`; those of one part
    only (its WHERE) go with that part's columns."""
    reads: dict[str, set[str]] = {}
    for part in parts:
        for table, names in part.reads.items():
            reads.setdefault(table, set()).update(names)
    shared = set.intersection(*(set(part.dataset) for part in parts)) if parts else set()
    columns: list[ColumnLineage] = []
    for part in parts:
        own = [up for up in part.dataset if up not in shared]
        for column in part.columns:
            ups = _upstreams_merged([*column.upstreams, *own])
            columns.append(ColumnLineage(column.table, column.column, tuple(ups)))
    return StatementLineage(
        kind="MULTI_INSERT",
        inputs=tuple(sorted({t for part in parts for t in part.inputs})),
        outputs=tuple(dict.fromkeys(t for part in parts for t in part.outputs)),
        columns=tuple(columns),
        dataset=tuple(sorted(shared)),
        reads={table: tuple(sorted(reads[table])) for table in sorted(reads)},
        unresolved=tuple(u for part in parts for u in part.unresolved),
    )


def _upstreams_merged(ups: list[Upstream]) -> list[Upstream]:
    grouped: dict[tuple[str, str], dict[Transformation, None]] = {}
    for up in ups:
        grouped.setdefault((up.table, up.column), {}).update(dict.fromkeys(up.transformations))
    return [
        Upstream(t, c, tuple(sorted(ts, key=lambda x: (x.type != DIRECT, x.subtype))))
        for (t, c), ts in sorted(grouped.items())
    ]


def _remember(plan: Plan, result: StatementLineage, context: Context) -> None:
    """A table a statement creates, with the columns it was given, is known to the rest
    of the script: `CREATE TABLE tmp AS ...; SELECT * FROM tmp` expands the star."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if not plan.kind.startswith("CREATE") and plan.kind != "SELECT_INTO":
        return
    for target in plan.targets[:1]:
        columns = {
            _schema_name(column.column, context.dialect): "UNKNOWN"
            for column in result.columns
            if column.table is not None
        }
        table = qualify_table(target, context)
        if not columns or not isinstance(table, exp.Table):
            return
        try:
            if context.schema.find(table, ensure_data_types=False) is None:
                context.schema.add_table(table, columns, dialect=context.dialect)
        except (SqlglotError, ValueError, KeyError):
            return  # named at another depth than the schema's tables: not remembered


def _schema_name(name: str, dialect: Dialect) -> str:
    from steward.lineage.sql.schema import schema_identifier

    return schema_identifier(name, dialect).sql(dialect=dialect)


def _one(statement: exp.Expr, context: Context) -> StatementLineage:
    """One statement's lineage; a statement the tracer trips on is reported, not raised,
    so the other statements of a script keep theirs."""
    from sqlglot.errors import SqlglotError

    from steward.lineage.sql.statements import plan_parts

    plan = Plan("UNKNOWN")
    try:
        parts = plan_parts(statement, context)
        if len(parts) != 1:  # a multi-table insert: one statement, several outputs
            return _joined([_statement(part, context) for part in parts])
        plan = parts[0]
        result = _statement(plan, context)
        _remember(plan, result, context)
        return result
    except (
        SqlglotError,
        RecursionError,
        LookupError,
        ValueError,
        TypeError,
        AttributeError,
    ) as exc:
        log.warning("cannot trace a %s statement", plan.kind, exc_info=True)
        reason = f"cannot trace this statement: {type(exc).__name__}: {_first_line(exc)}"
        return StatementLineage(kind=plan.kind, unresolved=(Unresolved(None, None, reason),))


def _default_name(name: str | None, dialect: Dialect) -> str | None:
    """A default catalog/schema normalised like an unquoted identifier of the dialect."""
    from sqlglot import exp
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    if not name:
        return None
    identifier = exp.to_identifier(name, quoted=False)
    return normalize_identifiers(identifier, dialect=dialect).name


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def qualify_table(table: exp.Table, context: Context) -> exp.Table:
    """A written table's name, normalised and with the default catalog/schema it lacks."""
    from sqlglot import exp
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    table = normalize_identifiers(table.copy(), dialect=context.dialect)
    assert isinstance(table, exp.Table)
    fold_shards(table, context.dialect)
    if context.db and not table.args.get("db"):
        table.set("db", exp.to_identifier(context.db))
    if context.catalog and table.args.get("db") and not table.args.get("catalog"):
        table.set("catalog", exp.to_identifier(context.catalog))
    return table


def _statement(plan: Plan, context: Context) -> StatementLineage:
    from sqlglot import exp

    dialect = context.dialect
    known = known_tables(context.schema, dialect)
    outputs = [report_table(qualify_table(t, context), dialect, known) for t in plan.targets]
    if plan.query is None:
        return StatementLineage(kind=plan.kind, outputs=tuple(dict.fromkeys(outputs)))
    trace = Trace(dialect=dialect, schema=context.schema, known=known)
    unresolved: list[Unresolved] = []
    output = outputs[0] if outputs else None
    root = scoped(plan.query, context, trace)
    if root is None:
        reason = trace.problems[-1] if trace.problems else "no query found"
        return StatementLineage(
            kind=plan.kind,
            outputs=tuple(dict.fromkeys(outputs)),
            unresolved=(Unresolved(output, None, reason),),
        )
    tracer = Tracer(trace)
    tracer.note_tables(root)
    # one entry per output position (a name may repeat), unless the plan merges by name
    entries: list[tuple[str, list[Found]]] = []
    by_name: dict[str, list[Found]] = {}
    selects = root.expression.selects
    leftmost = _leftmost(plan.query)
    originals: list[exp.Expr | None] = (
        list(leftmost.selects) if isinstance(leftmost, exp.Query) else []
    )
    if len(originals) != len(selects):
        originals = [None] * len(selects)
    for index, select in enumerate(selects):
        name = _output_name(select, originals[index], index, plan, dialect)
        if name is None:
            continue
        if _is_star(select):
            pattern = select.find(exp.Columns)
            if pattern is not None:
                text = pattern.sql(dialect=dialect)
                reason = f"{text} matches columns that are not known"
                unresolved.append(Unresolved(output, text, reason))
            else:
                reason = "star over a table whose columns are not known"
                unresolved.append(Unresolved(output, "*", reason))
            continue
        if isinstance(select, exp.Alias) and isinstance(select.args["alias"], exp.Placeholder):
            # `AS :name`: a bind parameter names the column when the query runs
            unresolved.append(Unresolved(output, name, "the column is named by a bind parameter"))
            continue
        before = len(trace.problems)
        found: list[Found] = []
        found.extend(tracer.output(root, index))
        for problem in trace.problems[before:]:
            unresolved.append(Unresolved(output, name, problem))
        if not plan.one_per_name:
            entries.append((name, found))
        elif name in by_name:
            by_name[name].extend(found)
        else:
            entries.append((name, by_name.setdefault(name, found)))
    columns = [ColumnLineage(output, name, tuple(_upstreams(ups))) for name, ups in entries]
    dataset_found: list[Found] = []
    for scope in root.traverse():
        if not _in_projection(scope):
            dataset_found.extend(tracer.clauses(scope))
    dataset = _upstreams(dataset_found)
    tracer.note_reads(root)
    inputs = list(trace.tables)
    if plan.target_in_from:
        inputs = [table for table in inputs if table not in outputs]
    reads = {table: tuple(sorted(trace.reads[table])) for table in sorted(trace.reads)}
    return StatementLineage(
        kind=plan.kind,
        inputs=tuple(sorted(inputs)),
        outputs=tuple(dict.fromkeys(outputs)),
        columns=tuple(columns),
        dataset=tuple(dataset),
        reads=reads,
        unresolved=tuple(unresolved),
    )


def _in_projection(scope: Any) -> bool:
    """A subquery inside a select expression (or an UPDATE's SET): its clauses decide that
    one value, not which rows the statement produces."""
    from sqlglot import exp

    parent_scope = scope.parent
    if parent_scope is None:
        return False
    if scope.is_subquery:
        node = scope.expression
        while node is not None and node is not parent_scope.expression:
            if node.arg_key == "expressions" and isinstance(node.parent, exp.Select):
                return True
            node = node.parent
    return _in_projection(parent_scope)  # inside such a subquery, at any depth


def _upstreams(found: list[Found]) -> list[Upstream]:
    """Group what the tracer found per (table, column), each transformation once."""
    grouped: dict[tuple[str, str], dict[Transformation, None]] = {}
    for item in found:
        transformation = Transformation(item.type, item.subtype, masking=item.masking)
        grouped.setdefault((item.table, item.column), {}).setdefault(transformation)
    ups = [
        Upstream(table, column, tuple(sorted(ts, key=lambda t: (t.type != DIRECT, t.subtype))))
        for (table, column), ts in grouped.items()
    ]
    return sorted(ups, key=lambda up: (up.table, up.column))


def _leftmost(query: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    while isinstance(query, exp.SetOperation):
        query = query.this
    while isinstance(query, exp.Subquery):
        query = query.this
    return query


def _is_star(select: exp.Expr) -> bool:
    """`*`, `t.*`, or a DuckDB `COLUMNS(...)` left unexpanded: columns not known."""
    from sqlglot import exp

    return (
        isinstance(select, exp.Star)
        or (isinstance(select, exp.Column) and isinstance(select.this, exp.Star))
        or select.find(exp.Columns) is not None
    )


def _output_name(
    select: exp.Expr, original: exp.Expr | None, index: int, plan: Plan, dialect: Dialect
) -> str | None:
    """The output column's name: the target's column list, the alias, the column's name,
    or (an expression without a name) its SQL text as written, as databases name it."""
    from sqlglot import exp

    if plan.names is not None:
        return plan.names[index] if index < len(plan.names) else None
    if _is_star(select):
        return "*"
    if original is not None and not isinstance(original, exp.Alias | exp.Column | exp.Star):
        return original.sql(dialect=dialect)
    if isinstance(select, exp.Alias):
        return report_identifier(select.args["alias"], dialect)
    if isinstance(select, exp.Column) and isinstance(select.this, exp.Identifier):
        return report_identifier(select.this, dialect)
    return select.alias_or_name


__all__ = ["analyze"]
