"""Turn each kind of statement into a `Plan`: the tables it writes and the query to trace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from steward.lineage.sql.analyze import Context, Plan
from steward.lineage.sql.names import report_identifier

if TYPE_CHECKING:
    from sqlglot import exp

_DDL = {"Drop": "DROP", "Alter": "ALTER", "TruncateTable": "TRUNCATE"}


def plan_parts(statement: exp.Expr, context: Context) -> list[Plan]:
    """The plans of one statement: one, or one per target of a multi-table insert."""
    from sqlglot import exp

    if isinstance(statement, exp.MultitableInserts):
        return _multitable(statement, context)
    return [plan_statement(statement, context)]


def _multitable(statement: exp.MultitableInserts, context: Context) -> list[Plan]:
    """Hive `FROM s INSERT ... SELECT ... INSERT ... SELECT ...` and Snowflake
    `INSERT ALL|FIRST [WHEN c THEN] INTO t (cols) VALUES (...) ... SELECT ...`: each
    insert as its own query over the shared source."""
    from sqlglot import exp

    source = statement.args.get("source")
    plans = []
    for part in statement.expressions:
        condition = part.args.get("expression") if isinstance(part, exp.ConditionalInsert) else None
        insert = part.this if isinstance(part, exp.ConditionalInsert) else part
        if not isinstance(insert, exp.Insert) or source is None:
            continue
        insert = insert.copy()
        body = insert.expression
        if isinstance(body, exp.Select) and not body.args.get("from_"):  # Hive: FROM first
            insert.set("expression", body.from_(source.copy(), copy=False))
        elif isinstance(body, exp.Values) and body.expressions:  # Snowflake: VALUES of source
            row = body.expressions[0]
            values = row.expressions if isinstance(row, exp.Tuple) else [row]
            derived = exp.Subquery(this=source.copy(), alias=exp.TableAlias(this="_source"))
            select = exp.select(*[v.copy() for v in values]).from_(derived, copy=False)
            if condition is not None:
                select = select.where(condition.copy(), copy=False)
            insert.set("expression", select)
        plans.append(_insert(insert, context))
    return plans


def plan_statement(statement: exp.Expr, context: Context) -> Plan:
    """The plan of one parsed statement; kinds sqlglot does not model are UNKNOWN."""
    from sqlglot import exp

    if isinstance(statement, exp.Subquery):  # a parenthesised body: (SELECT ...)
        statement = statement.unnest()
    if isinstance(statement, exp.Query):
        return _query(statement)
    if isinstance(statement, exp.Create):
        return _create(statement, context)
    if isinstance(statement, exp.Insert):
        return _insert(statement, context)
    if isinstance(statement, exp.Update):
        return _update(statement)
    if isinstance(statement, exp.Merge):
        return _merge(statement, context)
    if isinstance(statement, exp.Delete):
        return _delete(statement)
    kind = _DDL.get(type(statement).__name__)
    if kind is not None:
        tables = [t for t in _targets_of_ddl(statement)]
        return Plan(kind, targets=tables)
    return Plan("UNKNOWN")


def _targets_of_ddl(statement: exp.Expr) -> list[exp.Table]:
    from sqlglot import exp

    if isinstance(statement, exp.Drop):
        kind = str(statement.args.get("kind") or "").upper()
        if kind not in ("TABLE", "VIEW", "MATERIALIZED VIEW", "DYNAMIC TABLE"):
            return []
    if isinstance(statement, exp.TruncateTable):
        return [t for t in statement.expressions if isinstance(t, exp.Table)]
    tables = statement.args.get("tables")
    if tables:
        return [t for t in tables if isinstance(t, exp.Table)]
    this = statement.this
    return [this] if isinstance(this, exp.Table) else []


def _unwrap(query: exp.Expr) -> exp.Expr:
    from sqlglot import exp

    while isinstance(query, exp.Subquery) and not query.alias:
        query = query.this
    return query


def _query(query: exp.Query) -> Plan:
    from sqlglot import exp

    query = _unwrap(query)  # type: ignore[assignment]
    into = query.args.get("into") if isinstance(query, exp.Select) else None
    if isinstance(into, exp.Into) and isinstance(into.this, exp.Table):
        query = query.copy()
        query.set("into", None)
        return Plan("SELECT_INTO", targets=[into.this], query=query)
    return Plan("SELECT", query=query)


def _column_names(node: exp.Expr | None, context: Context) -> list[str] | None:
    """`t (a, b)` of CREATE VIEW / INSERT: the target's column names, or None."""
    from sqlglot import exp

    if not isinstance(node, exp.Schema):
        return None
    names: list[str] = []
    for item in node.expressions:
        if isinstance(item, exp.ColumnDef | exp.Column):
            identifier = item.this
        elif isinstance(item, exp.Identifier):
            identifier = item
        else:
            return None
        names.append(_normalized(identifier, context))
    return names or None


def _normalized(identifier: exp.Expr, context: Context) -> str:
    from sqlglot import exp
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    normal = normalize_identifiers(identifier.copy(), dialect=context.dialect)
    if isinstance(normal, exp.Identifier):
        return report_identifier(normal, context.dialect)
    return normal.name


def _target(node: exp.Expr | None) -> exp.Table | None:
    from sqlglot import exp

    if isinstance(node, exp.Schema):
        node = node.this
    return node if isinstance(node, exp.Table) else None


def _create(create: exp.Create, context: Context) -> Plan:
    from sqlglot import exp

    kind = str(create.args.get("kind") or "").upper()
    target = _target(create.this)
    targets = [target] if target is not None else []
    properties = create.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.ToTableProperty) and isinstance(prop.this, exp.Table):
            # ClickHouse `CREATE MATERIALIZED VIEW mv TO t`: the rows go to t
            targets.insert(0, prop.this)
    body = create.expression
    if isinstance(body, exp.Subquery | exp.Query):
        query = _unwrap(body)
        if isinstance(query, exp.Query):
            names = _column_names(create.this, context)
            label = "CREATE_VIEW" if "VIEW" in kind else "CREATE_TABLE_AS"
            return Plan(label, targets=targets, query=query, names=names)
    clone = create.args.get("clone")
    if isinstance(clone, exp.Clone) and isinstance(clone.this, exp.Table):
        # Snowflake/BigQuery/Databricks `CREATE TABLE t CLONE s`: a copy of all of s
        copied = exp.select(exp.Star()).from_(clone.this.copy())
        return Plan("CREATE_TABLE_CLONE", targets=targets, query=copied)
    if kind in ("TABLE", "VIEW"):
        return Plan(f"CREATE_{kind}", targets=targets)
    return Plan("CREATE_" + kind.replace(" ", "_") if kind else "UNKNOWN", targets=targets)


def _insert(insert: exp.Insert, context: Context) -> Plan:
    from sqlglot import exp

    kind = "INSERT_OVERWRITE" if insert.args.get("overwrite") else "INSERT"
    target = _target(insert.this)
    targets = [target] if target is not None else []
    names = _column_names(insert.this, context)
    body = insert.expression
    query = _unwrap(body) if body is not None else None
    if isinstance(query, exp.Values):
        if names is None:
            return Plan(kind, targets=targets)
        # VALUES rows: each target column gets literals (no upstream) or what a subquery reads
        first = query.expressions[0] if query.expressions else None
        if not isinstance(first, exp.Tuple):
            return Plan(kind, targets=targets)
        select = exp.select(*[value.copy() for value in first.expressions])
        return Plan(kind, targets=targets, query=select, names=names)
    if not isinstance(query, exp.Query):
        return Plan(kind, targets=targets)
    if names is None and target is not None:
        names = _target_columns(target, query, context)
    with_ = insert.args.get("with_")
    if with_ is not None and not query.args.get("with_"):
        query = query.copy()
        query.set("with_", with_.copy())
    return Plan(kind, targets=targets, query=query, names=names)


def _target_columns(target: exp.Table, query: exp.Query, context: Context) -> list[str] | None:
    """INSERT without a column list writes the target's columns in order (schema permitting)."""
    from sqlglot import exp

    from steward.lineage.sql.analyze import qualify_table

    if any(isinstance(s, exp.Star) or s.is_star for s in query.selects):
        return None
    try:
        known = context.schema.column_names(qualify_table(target, context))
    except Exception:
        return None
    if not known or len(known) != len(query.selects):
        return None
    return [report_identifier(name, context.dialect) for name in known]


def _assignments(pairs: list[exp.Expr]) -> list[tuple[str, exp.Expr]]:
    from sqlglot import exp

    found = []
    for pair in pairs:
        if isinstance(pair, exp.EQ) and isinstance(pair.this, exp.Column):
            found.append((pair.this.name, pair.expression))
    return found


def _update(update: exp.Update) -> Plan:
    from sqlglot import exp

    target = update.this
    table = target if isinstance(target, exp.Table) else None
    from_ = update.args.get("from_")
    joins = list(update.args.get("joins") or [])
    others: list[exp.Expr] = []
    if from_ is not None:
        first = from_.this.copy()
        joins = list(first.args.get("joins") or []) + joins  # T-SQL keeps them on the table
        first.set("joins", None)
        others.append(first)
    named = {
        node.alias_or_name: node
        for node in [*others, *(join.this for join in joins)]
        if isinstance(node, exp.Table) and node.alias
    }
    sources: list[exp.Expr] = [target] if target is not None else []
    if table is not None and not table.args.get("db") and table.name in named:
        # T-SQL `UPDATE o SET ... FROM dbo.orders AS o`: the target is the aliased table
        table = named[table.name].copy()
        table.set("alias", None)
        sources = []
    sources += others
    where = update.args.get("where")
    where_this = where.this if isinstance(where, exp.Where) else None
    pairs = _assignments(update.expressions)
    return Plan(
        "UPDATE",
        targets=[table] if table is not None else [],
        query=_lazy_synthetic(pairs, sources, joins, where_this, update.args.get("with_")),
        names=[name for name, _ in pairs],
    )


def _lazy_synthetic(
    pairs: list[tuple[str, exp.Expr]],
    sources: list[exp.Expr],
    joins: list[exp.Expr],
    where: exp.Expr | None,
    with_: exp.Expr | None = None,
) -> exp.Select:
    """`WITH ... SELECT expr AS _steward_0, ... FROM sources JOIN ... WHERE ...`: what a
    DML statement reads, as a query the tracer follows."""
    from sqlglot import exp

    select = exp.Select()
    if with_ is not None:  # `WITH x AS (...) UPDATE/DELETE/MERGE ...`
        select.set("with_", with_.copy())
    for index, (_, value) in enumerate(pairs):
        star = isinstance(value, exp.Column) and isinstance(value.this, exp.Star)
        aliased = value.copy() if star else exp.alias_(value.copy(), f"_steward_{index}")
        select = select.select(aliased, copy=False)
    if not pairs:
        select = select.select(exp.Literal.number(1), copy=False)
    if sources:
        select = select.from_(sources[0].copy(), copy=False)
        for extra in sources[1:]:
            select = select.join(extra.copy(), copy=False)
    for join in joins:
        select = select.join(join.copy(), copy=False)
    if where is not None:
        select = select.where(where.copy(), copy=False)
    return select


def _merge(merge: exp.Merge, context: Context) -> Plan:
    from sqlglot import exp

    target = merge.this
    using = merge.args["using"]
    pairs: list[tuple[str, exp.Expr]] = []
    conditions: list[exp.Expr] = []
    whens = merge.args.get("whens")
    for when in whens.expressions if whens is not None else []:
        if when.args.get("condition") is not None:
            conditions.append(when.args["condition"])
        then = when.args.get("then")
        star = isinstance(then, exp.Update) and any(
            isinstance(e, exp.Star) for e in then.expressions
        )
        if star or (isinstance(then, exp.Insert) and isinstance(then.this, exp.Star)):
            # Databricks/Delta `UPDATE SET *` / `INSERT *`: every source column, same name
            pairs.extend(_every_column(using, context))
        elif isinstance(then, exp.Update):
            pairs.extend(_assignments(then.expressions))
        elif isinstance(then, exp.Insert):
            columns = then.this
            values = then.expression
            names = columns.expressions if isinstance(columns, exp.Tuple | exp.Schema) else []
            exprs = values.expressions if isinstance(values, exp.Tuple) else []
            for column, value in zip(names, exprs, strict=False):
                pairs.append((column.name, value))
    on = merge.args.get("on")
    join = exp.Join(this=using.copy(), on=on.copy() if on is not None else None)
    where = exp.or_(*conditions) if conditions else None
    return Plan(
        "MERGE",
        targets=[target] if isinstance(target, exp.Table) else [],
        query=_lazy_synthetic(pairs, [target], [join], where, merge.args.get("with_")),
        names=[name for name, _ in pairs],
        target_in_from=True,
        one_per_name=True,
    )


def _every_column(using: exp.Expr, context: Context) -> list[tuple[str, exp.Expr]]:
    """(name, source.name) for each column of a MERGE source; `source.*` when unknown."""
    from sqlglot import exp

    from steward.lineage.sql.analyze import qualify_table

    alias = using.alias_or_name
    names: list[str] = []
    if isinstance(using, exp.Table):
        try:
            names = list(context.schema.column_names(qualify_table(using, context)))
        except Exception:  # a source the schema does not know: its columns are not known
            names = []
    elif isinstance(using, exp.Subquery) and isinstance(using.this, exp.Select):
        selects = using.this.selects
        if not any(isinstance(s, exp.Star) or s.is_star for s in selects):
            names = [s.alias_or_name for s in selects]
    if not names:
        return [("*", exp.Column(this=exp.Star(), table=exp.to_identifier(alias)))]
    return [(name, exp.column(name, table=alias)) for name in names]


def _delete(delete: exp.Delete) -> Plan:
    from sqlglot import exp

    target = delete.this
    sources: list[exp.Expr] = [target] if target is not None else []
    sources += list(delete.args.get("using") or [])
    where = delete.args.get("where")
    condition = where.this if isinstance(where, exp.Where) else None
    query = _lazy_synthetic([], sources, [], condition, delete.args.get("with_"))
    return Plan(
        "DELETE",
        targets=[target] if isinstance(target, exp.Table) else [],
        query=query,
        names=[],
        target_in_from=True,
    )
