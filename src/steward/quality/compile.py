"""Checks compiled to as few queries as the engine needs, built as sqlglot expressions.

Per dataset:
- every column metric (null, accepted-value and pattern failures, distinct counts, row
  count, min/max/avg/sum, the newest timestamp) is one aggregate of ONE query over the
  table: a failure count is `count(*) FILTER (WHERE <failure> AND <where>)`;
- every `relationships` check is one LEFT JOIN of ONE anti-join query;
- each `sql` check is its own query (`SELECT count(*) FROM (<sql>)`);
- `schema` reads the table's columns, not its rows.
Failing-row samples are separate small queries, built only for checks that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from steward.quality.models import Check, Dataset

SAMPLE_ROWS = 5
# A dataset name -> how the engine spells that table in SQL.
TableOf = Callable[[str], exp.Table]
_KEY = "__steward_key"


@dataclass
class Plan:
    """The queries that run a dataset's checks and where each check's numbers come out.

    On DuckDB the queries also bring back up to `SAMPLE_ROWS` failing rows per check
    (`samples`: check name -> output alias), so a failure needs no second pass over the
    table: whole rows for row-by-row checks (`arg_min(row, 0, 5) FILTER (WHERE <failure>)`
    in the scan), the duplicated keys with their counts for uniqueness checks, and the
    orphan keys for `relationships`, whose rows are then looked up by key.
    """

    dataset: str
    scan: exp.Select | None = None
    scan_outputs: dict[str, list[str]] = field(default_factory=dict)
    groups: list[tuple[Check, exp.Select]] = field(default_factory=list)
    anti_join: exp.Select | None = None
    anti_outputs: dict[str, str] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)
    sql_checks: list[tuple[Check, exp.Select]] = field(default_factory=list)
    schema_checks: list[Check] = field(default_factory=list)


def compile_checks(dataset: Dataset, *, table_of: TableOf, dialect: str) -> Plan:
    """The plan that runs every check of `dataset`; `dialect` is duckdb or postgres.

    Column metrics are one aggregate scan. Uniqueness (`unique`, `duplicate_count`) is one
    grouped query per key: on DuckDB 2.0 a `count(DISTINCT)` makes the whole scan take
    the slow distinct-aggregate path (10M rows: 1.96 s for the scan with it, 0.86 s
    without it plus 0.79 s for the grouped query, which also finds the duplicated keys).
    Every number can be added up across parts of a table, except the distinct counts:
    that is what lets a gate check appended files alone (`quality.incremental`).
    """
    plan = Plan(dataset=dataset.name)
    table = table_of(dataset.name)
    samples = samples_in_aggregates(dialect)
    aggregates: list[exp.Expr] = []
    joins: list[tuple[Check, str]] = []
    for index, check in enumerate(dataset.checks):
        if check.kind == "schema":
            plan.schema_checks.append(check)
        elif check.kind == "sql":
            plan.sql_checks.append((check, _count_sql(check, table_of, dialect)))
        elif check.kind == "relationships":
            joins.append((check, f"r{index}"))
        elif check.kind in ("unique", "duplicate_count"):
            plan.groups.append((check, _grouped(check, table, samples=samples)))
            if samples:
                plan.samples[check.name] = GROUP_SAMPLES
        else:
            names = []
            for j, aggregate in enumerate(_metrics(check, dialect)):
                alias = f"m{index}_{j}"
                aggregates.append(exp.alias_(aggregate, alias))
                names.append(alias)
            plan.scan_outputs[check.name] = names
            condition = failure_condition(check, dialect)
            if samples and condition is not None:
                row = exp.column(_ROW, quoted=True)
                aggregates.append(
                    exp.alias_(
                        _filtered(first_values(row), condition, where_of(check)), f"s{index}"
                    )
                )
                plan.samples[check.name] = f"s{index}"
    if aggregates:
        plan.scan = exp.select(*aggregates).from_(exp.alias_(table.copy(), _ROW, table=True))
    if joins:
        plan.anti_join, plan.anti_outputs = _anti_join(joins, table, table_of, samples=samples)
        if samples:
            plan.samples.update({c.name: f"{a}_keys" for c, a in joins})
    return plan


_ROW = "__steward_row"
GROUP_ROWS, GROUP_DISTINCT, GROUP_SAMPLES = "__rows", "__distinct", "__duplicated"


def samples_in_aggregates(dialect: str) -> bool:
    """Whether an aggregate can bring back a few rows besides the counts (`first_values`).

    Only DuckDB has bounded `arg_min`/`arg_max`; other engines look failing rows up with
    a small `LIMIT` query afterwards, and only for the checks that failed.
    """
    return dialect == "duckdb"


def first_values(value: exp.Expr) -> exp.Expr:
    """Up to SAMPLE_ROWS values of the rows aggregated (DuckDB's bounded `arg_min`).

    DuckDB only (`samples_in_aggregates`): the three-argument form has no equivalent
    elsewhere, and DuckDB takes a table alias as the row's value.
    """
    return exp.Anonymous(
        this="arg_min",
        expressions=[value, exp.Literal.number(0), exp.Literal.number(SAMPLE_ROWS)],
    )


def _grouped(check: Check, table: exp.Table, *, samples: bool) -> exp.Select:
    """Rows, distinct keys and (DuckDB) a few duplicated keys with their counts.

    `unique` counts non-null values; `duplicate_count` counts rows, and its tuples group
    NULLs together, as a distinct count of tuples does.
    """
    names = check.args.get("columns") or [check.column]
    columns = [_column(str(c)) for c in names]
    inner = exp.select(*columns, exp.alias_(exp.Count(this=exp.Star()), "rows")).from_(table.copy())
    conditions = [where_of(check)]
    if check.kind == "unique":
        conditions.append(exp.not_(columns[0].copy().is_(exp.null())))
    kept = [c for c in conditions if c is not None]
    if kept:
        inner = inner.where(exp.and_(*kept))
    inner = inner.group_by(*[c.copy() for c in columns])
    n = exp.column("rows", quoted=True)
    outputs: list[exp.Expr] = [
        exp.alias_(
            exp.Coalesce(this=exp.Sum(this=n.copy()), expressions=[exp.Literal.number(0)]),
            GROUP_ROWS,
        ),
        exp.alias_(exp.Count(this=exp.Star()), GROUP_DISTINCT),
    ]
    if samples:
        keys = exp.Anonymous(
            this="arg_max",
            expressions=[exp.column("g"), n.copy(), exp.Literal.number(SAMPLE_ROWS)],
        )
        outputs.append(
            exp.alias_(
                _filtered(keys, exp.GT(this=n.copy(), expression=exp.Literal.number(1))),
                GROUP_SAMPLES,
            )
        )
    return exp.select(*outputs).from_(inner.subquery("g"))


def _filtered(aggregate: exp.Expr, *conditions: exp.Expr | None) -> exp.Expr:
    kept = [c for c in conditions if c is not None]
    if not kept:
        return aggregate
    return exp.Filter(this=aggregate, expression=exp.Where(this=exp.and_(*kept)))


def where_of(check: Check) -> exp.Expr | None:
    """The check's `where`, parenthesised, or None."""
    if check.where is None:
        return None
    return exp.paren(sqlglot.parse_one(check.where, read="duckdb"))


def _column(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def failure_condition(check: Check, dialect: str) -> exp.Expr | None:
    """The condition a failing row meets, for checks judged row by row."""
    if check.column is None:
        return None
    col = _column(check.column)
    if check.kind == "not_null":
        return col.is_(exp.null())
    if check.kind == "accepted_values":
        values = [_literal(v) for v in check.args["values"]]
        return exp.and_(exp.not_(col.is_(exp.null())), exp.not_(col.isin(*values)))
    if check.kind == "regex":
        text = exp.cast(col, exp.DataType.build("text"))
        pattern = exp.Literal.string(f"^(?:{check.args['pattern']})$")
        return exp.and_(
            exp.not_(col.is_(exp.null())),
            exp.not_(exp.paren(exp.RegexpLike(this=text, expression=pattern))),
        )
    return None


def _literal(value: object) -> exp.Expr:
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _metrics(check: Check, dialect: str) -> list[exp.Expr]:
    """The aggregates a check needs from the one scan, in the order `evaluate` reads them."""
    where = where_of(check)
    star = exp.Count(this=exp.Star())
    condition = failure_condition(check, dialect)
    if condition is not None:
        return [_filtered(star.copy(), condition, where)]
    col = _column(check.column) if check.column else None
    kind = check.kind
    if kind == "row_count":
        return [_filtered(star.copy(), where)]
    if kind == "freshness":
        column = _column(str(check.args.get("column") or check.column))
        return [_filtered(exp.Max(this=column), where)]
    if kind == "missing_percent" and col is not None:
        return [_filtered(star.copy(), col.is_(exp.null()), where), _filtered(star.copy(), where)]
    if kind == "mean" and col is not None:  # sum and count, not avg: they add up
        return [_filtered(exp.Sum(this=col), where), _filtered(exp.Count(this=col.copy()), where)]
    functions = {"min": exp.Min, "max": exp.Max, "sum": exp.Sum}
    if kind in functions and col is not None:
        return [_filtered(functions[kind](this=col), where)]
    raise ValueError(f"{check.name}: {kind} is not a scan metric")  # pragma: no cover


def _anti_join(
    joins: list[tuple[Check, str]], table: exp.Table, table_of: TableOf, *, samples: bool
) -> tuple[exp.Select, dict[str, str]]:
    """One query: the table LEFT JOINed to each referenced key set, orphans counted."""
    child = "__steward_child"
    select = exp.select().from_(exp.alias_(table.copy(), child, table=True))
    outputs: dict[str, str] = {}
    for check, alias in joins:
        field_ = _column(str(check.args["field"]))
        keys = (
            exp.select(exp.alias_(field_, _KEY))
            .distinct()
            .from_(table_of(str(check.args["to"])))
            .where(exp.not_(field_.copy().is_(exp.null())))
        )
        column = _column(str(check.column), table=child)
        select = select.join(
            keys.subquery(alias),
            on=exp.EQ(this=column.copy(), expression=_column(_KEY, table=alias)),
            join_type="left",
        )
        orphan = exp.and_(
            exp.not_(column.copy().is_(exp.null())), _column(_KEY, table=alias).is_(exp.null())
        )
        where = where_of(check)
        if where is not None:
            where = where.transform(
                lambda node: (
                    _column(node.name, table=child)
                    if isinstance(node, exp.Column) and not node.table
                    else node
                )
            )
        select = select.select(
            exp.alias_(_filtered(exp.Count(this=exp.Star()), orphan, where), alias)
        )
        if samples:  # the orphan keys: their rows are looked up only if the check fails
            found = _filtered(first_values(column.copy()), orphan.copy(), where and where.copy())
            select = select.select(exp.alias_(found, f"{alias}_keys"))
        outputs[check.name] = alias
    return select, outputs


def _count_sql(check: Check, table_of: TableOf, dialect: str) -> exp.Select:
    query = user_query(check, table_of)
    return exp.select(exp.Count(this=exp.Star())).from_(query.subquery("failures"))


def user_query(check: Check, table_of: TableOf) -> exp.Query:
    """A `sql` check's query, with the catalog names it reads spelled as the engine's tables."""
    query = sqlglot.parse_one(str(check.args["sql"]), read="duckdb")
    assert isinstance(query, exp.Query)  # load.py accepts only one query

    def rename(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name:
            full = ".".join(p.name for p in node.parts)
            if full == check.dataset or full.count(".") >= 1:
                try:
                    replaced = table_of(full)
                except KeyError:
                    return node
                alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
                return replaced.copy().as_(alias.name) if alias else replaced.copy()
        return node

    renamed = query.transform(rename)
    assert isinstance(renamed, exp.Query)
    return renamed


def sample_query(
    check: Check, *, table_of: TableOf, dialect: str, keys: list[Any] | None = None
) -> exp.Query | None:
    """A few failing rows of a failed check, or None when the failure is a value, not rows.

    `keys` are a `relationships` check's orphan keys, when its anti-join found them: the
    rows are then looked up by key instead of by a second anti-join.
    """
    table = table_of(check.dataset)
    where = where_of(check)
    limit = SAMPLE_ROWS
    if check.kind == "relationships" and keys:
        column = _column(str(check.column))
        found = column.isin(*[exp.convert(k) for k in keys])
        conditions = [c for c in (found, where) if c is not None]
        return exp.select("*").from_(table.copy()).where(exp.and_(*conditions)).limit(limit)
    condition = failure_condition(check, dialect)
    if condition is not None:
        conditions = [c for c in (condition, where) if c is not None]
        return exp.select("*").from_(table.copy()).where(exp.and_(*conditions)).limit(limit)
    if check.kind in ("unique", "duplicate_count"):
        names = check.args.get("columns") or [check.column]
        columns = [_column(str(c)) for c in names]
        not_null = [exp.not_(c.copy().is_(exp.null())) for c in columns]
        query = exp.select(*columns, exp.alias_(exp.Count(this=exp.Star()), "rows")).from_(
            table.copy()
        )
        query = query.where(exp.and_(*not_null, *([where] if where is not None else [])))
        query = query.group_by(*[c.copy() for c in columns])
        return query.having(
            exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1))
        ).limit(limit)
    if check.kind == "relationships":
        field_ = _column(str(check.args["field"]))
        parents = (
            exp.select(field_)
            .from_(table_of(str(check.args["to"])))
            .where(exp.not_(field_.copy().is_(exp.null())))
        )
        column = _column(str(check.column))
        orphan = exp.and_(
            exp.not_(column.copy().is_(exp.null())),
            exp.not_(exp.In(this=column.copy(), query=exp.Subquery(this=parents))),
        )
        conditions = [c for c in (orphan, where) if c is not None]
        return exp.select("*").from_(table.copy()).where(exp.and_(*conditions)).limit(limit)
    if check.kind == "sql":
        wanted = user_query(check, table_of)
        return exp.select("*").from_(wanted.subquery("failures")).limit(limit)
    return None
