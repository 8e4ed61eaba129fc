"""How table and column names are reported: one rule for every dialect.

sqlglot normalises unquoted identifiers the way the dialect does (PostgreSQL to
lower case, Snowflake and Oracle to upper case, BigQuery/Spark/DuckDB/T-SQL treat
names case-insensitively). Steward reports a name that is case-insensitive in its
dialect in lower case, so `ORDERS`, `orders` and Snowflake's `"ORDERS"` are all
`orders`; a quoted name whose case matters keeps it (`"UserId"` stays `UserId`).
Case-sensitive dialects (MySQL, ClickHouse) keep names as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlglot import exp
    from sqlglot.dialects.dialect import Dialect


def report_identifier(identifier: exp.Expr | str, dialect: Dialect, *, quoted: bool = False) -> str:
    """The reported form of one identifier (already normalised by qualify)."""
    from sqlglot import exp
    from sqlglot.dialects.dialect import NormalizationStrategy

    if isinstance(identifier, exp.Identifier):
        this = identifier.this
        name = this if isinstance(this, str) else this.sql(dialect=dialect)
        quoted = bool(identifier.quoted)
    elif isinstance(identifier, str):
        name = identifier
    else:  # an alias sqlglot keeps as another node (a placeholder such as `:name`)
        name = identifier.sql(dialect=dialect)
    strategy = dialect.normalization_strategy
    if strategy in (
        NormalizationStrategy.CASE_INSENSITIVE,
        NormalizationStrategy.CASE_INSENSITIVE_UPPERCASE,
    ):
        return name.lower()
    if strategy is NormalizationStrategy.UPPERCASE:
        return name.lower() if not quoted or name == name.upper() else name
    if strategy is NormalizationStrategy.LOWERCASE:
        return name if quoted else name.lower()
    return name


def report_table(
    table: exp.Table, dialect: Dialect, known: tuple[tuple[str, ...], ...] = ()
) -> str:
    """`catalog.db.name` with the parts the table has, each reported as above.

    A name with fewer parts than a table of the schema it uniquely ends (`db.t`
    when the schema lists only `cat.db.t`) is reported by the schema's full name.
    """
    from sqlglot import exp

    parts = [
        report_identifier(part, dialect) for part in table.parts if isinstance(part, exp.Identifier)
    ]
    if known and parts:
        longer = [
            name for name in known if len(name) > len(parts) and list(name[-len(parts) :]) == parts
        ]
        if len(longer) == 1:
            parts = list(longer[0])
    return ".".join(parts)


def fold_shards(table: exp.Table, dialect: Dialect) -> None:
    """BigQuery: drop a partition decorator (`t$20240101` is table `t`) and fold date
    shards (`events_20240101`, the wildcard `events_2024*`) into `events_yyyymmdd`,
    the one logical table they are (DataHub names them so too). In place."""
    import re

    from sqlglot import exp
    from sqlglot.dialects.bigquery import BigQuery

    identifier = table.this
    if not isinstance(dialect, BigQuery) or not isinstance(identifier, exp.Identifier):
        return
    name = identifier.name.split("$", 1)[0]
    shard = re.fullmatch(r"(.+?_)(\d{8}|\d{0,7}\*)", name)
    folded = f"{shard.group(1)}yyyymmdd" if shard else name
    if folded != identifier.name:
        table.set("this", exp.to_identifier(folded, quoted=identifier.quoted))


def known_tables(schema: Any, dialect: Dialect) -> tuple[tuple[str, ...], ...]:
    """Every table of a sqlglot MappingSchema, as reported name parts."""
    names: list[tuple[str, ...]] = []

    def walk(level: Any, prefix: tuple[str, ...], depth: int) -> None:
        for key, value in level.items():
            if depth == 1:
                names.append((*prefix, report_identifier(key, dialect, quoted=True)))
            elif isinstance(value, dict):
                walk(value, (*prefix, report_identifier(key, dialect, quoted=True)), depth - 1)

    depth = schema.depth()
    if depth:
        walk(schema.mapping, (), depth)
    return tuple(names)


def is_table_function(table: exp.Table) -> bool:
    """`read_parquet('x')`, `generate_series(1, 3)`, `TABLE(FLATTEN(...))`: not a stored table."""
    from sqlglot import exp

    return not isinstance(table.this, exp.Identifier)
