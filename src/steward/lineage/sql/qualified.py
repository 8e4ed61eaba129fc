"""A statement's query qualified by sqlglot (with the schema, else without) and scoped."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from steward.lineage.sql.names import fold_shards, is_table_function

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect

    from steward.lineage.sql.analyze import Context
    from steward.lineage.sql.trace import Trace


def scoped(query: exp.Expr, context: Context, trace: Trace) -> Any:
    """Qualify `query` (with the schema, else without) and build its scope tree."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.optimizer.scope import build_scope
    from sqlglot.schema import MappingSchema

    # With the schema first; a schema that contradicts the SQL, or a correlated subquery
    # over a table the schema lacks, makes column qualification fail: then without the
    # schema, then tables only (the tracer resolves unqualified columns itself).
    attempts = [
        (context.schema, True),
        (MappingSchema(dialect=context.dialect), True),
        (context.schema, False),
    ]
    errors: list[str] = []
    query = query.copy()
    for table in query.find_all(exp.Table):
        fold_shards(table, context.dialect)
    for schema, columns in attempts:
        try:
            qualified = qualify(
                query.copy(),
                dialect=context.dialect,
                schema=schema,
                catalog=context.catalog,
                db=context.db,
                qualify_columns=columns,
                quote_identifiers=False,
                validate_qualify_columns=False,
                identify=False,
            )
            trace.schema = schema
            if context.catalog:  # qualify adds a catalog only where it added the db
                for table in qualified.find_all(exp.Table):
                    lacks = table.args.get("db") and not table.args.get("catalog")
                    if lacks and not is_table_function(table):
                        table.set("catalog", exp.to_identifier(context.catalog))
            root = build_scope(qualified)
            if root is not None and _expand_pattern_columns(root, schema, context.dialect):
                root = build_scope(qualified)
            return root
        except SqlglotError as exc:
            errors.append(_first_line(exc))
    trace.problems.append(f"cannot qualify the query: {errors[0]}")
    return None


def _expand_pattern_columns(root: Any, schema: Any, dialect: Dialect) -> bool:
    """DuckDB `COLUMNS('regex')` in a select list: the columns of the scope's sources
    whose names match, where those are known (the schema, a subquery's names). In place;
    True when something was expanded."""
    import re

    from sqlglot import exp

    changed = False
    for scope in root.traverse():
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        expanded: list[exp.Expr] = []
        for item in select.expressions:
            node = item.find(exp.Columns)
            pattern = node.this if node is not None else None
            if node is None or not isinstance(pattern, exp.Literal) or not pattern.is_string:
                expanded.append(item)
                continue
            try:
                regex = re.compile(pattern.this)
            except re.error:
                expanded.append(item)
                continue
            matched = [
                exp.column(name, table=alias)
                for alias, source in scope.selected_sources.items()
                for name in _source_columns(source[1], schema)
                if regex.search(name)
            ]
            top = item.this if isinstance(item, exp.Alias) else item
            for column in matched:
                if top is node:
                    expanded.append(column)
                    continue
                copy, named = top.copy(), top.copy()
                copy.find(exp.Columns).replace(column.copy())
                named.find(exp.Columns).replace(exp.column(column.name))
                expanded.append(exp.alias_(copy, named.sql(dialect=dialect)))  # max(ab)
            if not matched:
                expanded.append(item)
            changed = changed or bool(matched)
        if changed:
            select.set("expressions", expanded)
    return changed


def _source_columns(source: Any, schema: Any) -> list[str]:
    from sqlglot import exp

    if isinstance(source, exp.Table):
        try:
            return list(schema.column_names(source))
        except Exception:  # a table the schema does not know
            return []
    expression = getattr(source, "expression", None)
    return list(expression.named_selects) if isinstance(expression, exp.Query) else []


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
