"""The `schema` argument of `analyze` as the sqlglot `MappingSchema` it stands for.

Accepted: `{table: {column: type}}` where `table` is `t`, `db.t` or `cat.db.t`
(dotted, each part quoted in the dialect's way when it needs to be), or nested
`{db: {t: {column: type}}}` / `{cat: {db: {t: {...}}}}`, or a mix. Tables named at
fewer levels than the deepest one get the default schema/catalog in front; if
they still differ, every name is cut to the levels all of them have.

Names are read as the database stores them: an all-lower or all-upper name is
an ordinary identifier (so `orders` matches Snowflake's `ORDERS`), a mixed-case
name keeps its case (a PostgreSQL column created as `"UserId"`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from steward.errors import InvalidInput

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.schema import MappingSchema


def mapping_schema(
    schema: Mapping[str, Any] | None,
    dialect: Dialect,
    *,
    catalog: str | None,
    db: str | None,
) -> MappingSchema:
    """Raises InvalidInput naming the table whose entry is not `{column: type}`."""
    from sqlglot.errors import SqlglotError
    from sqlglot.schema import MappingSchema

    if not schema:
        return MappingSchema(dialect=dialect)
    if not isinstance(schema, Mapping):
        raise InvalidInput("schema: must be an object of tables to {column: type}")
    tables: list[tuple[list[exp.Identifier], dict[str, str]]] = []
    _collect(schema, [], tables, dialect)
    # a name of more parts than catalog.schema.table cannot be a table, and a table
    # without columns tells nothing: both left out
    tables = [(parts, columns) for parts, columns in tables if len(parts) <= 3 and columns]
    if not tables:
        return MappingSchema(dialect=dialect)
    depth = max(len(parts) for parts, _ in tables)
    levels = [catalog, db][-(depth - 1) :] if depth > 1 else []  # what each missing part is
    padded = []
    for parts, columns in tables:
        missing = levels[: depth - len(parts)]
        if missing and all(missing):
            parts = [_identifier(str(name), dialect) for name in missing] + parts
        padded.append((parts, columns))
    depth = min(len(parts) for parts, _ in padded)
    nested: dict[str, Any] = {}
    for parts, columns in padded:
        level = nested
        for part in parts[-depth:-1]:
            level = level.setdefault(part.sql(dialect=dialect), {})
        level.setdefault(parts[-1].sql(dialect=dialect), {}).update(columns)
    try:
        return MappingSchema(nested, dialect=dialect)
    except (SqlglotError, ValueError, TypeError) as exc:
        raise InvalidInput(f"schema: {str(exc).splitlines()[0]}") from None


def _collect(
    node: Mapping[str, Any],
    prefix: list[exp.Identifier],
    tables: list[tuple[list[exp.Identifier], dict[str, str]]],
    dialect: Dialect,
) -> None:
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    for key, value in node.items():
        if not isinstance(key, str) or not key:
            raise InvalidInput(f"schema: a name must be a non-empty string, not {key!r}")
        try:
            parts = [
                _marked(part, dialect)
                for part in exp.to_table(key, dialect=dialect).parts
                if isinstance(part, exp.Identifier)
            ]
        except SqlglotError:
            parts = [_identifier(key, dialect)]
        if not isinstance(value, Mapping):
            where = ".".join(p.name for p in prefix) or key
            raise InvalidInput(f"schema: {where}: expected {{column: type}}, got {value!r}")
        if value and all(not isinstance(v, Mapping) for v in value.values()):
            columns = {
                _identifier(str(column), dialect).sql(dialect=dialect): str(kind or "UNKNOWN")
                for column, kind in value.items()
            }
            tables.append(([*prefix, *parts], columns))
        elif value:
            if len(prefix) + len(parts) >= 3:
                where = ".".join(p.name for p in [*prefix, *parts])
                raise InvalidInput(f"schema: {where}: nested deeper than catalog.schema.table")
            _collect(value, [*prefix, *parts], tables, dialect)
        else:
            tables.append(([*prefix, *parts], {}))


def schema_identifier(name: str, dialect: Dialect) -> exp.Identifier:
    """A schema name as an identifier: quoted when its case matters (see above)."""
    return _identifier(name, dialect)


def _identifier(name: str, dialect: Dialect) -> exp.Identifier:
    from sqlglot import exp

    return _marked(exp.to_identifier(name, quoted=False), dialect)


def _marked(identifier: exp.Identifier, dialect: Dialect) -> exp.Identifier:
    """A mixed-case name keeps its case where case matters: mark it quoted."""
    from sqlglot.dialects.dialect import NormalizationStrategy

    name = identifier.name
    folds = dialect.normalization_strategy in (
        NormalizationStrategy.LOWERCASE,
        NormalizationStrategy.UPPERCASE,
    )
    if folds and not identifier.quoted and name != name.lower() and name != name.upper():
        identifier.set("quoted", True)
    return identifier
