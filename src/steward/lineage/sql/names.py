"""How table and column names are reported: one rule for every dialect.

sqlglot normalises unquoted identifiers the way the dialect does (PostgreSQL to
lower case, Snowflake and Oracle to upper case, BigQuery/Spark/DuckDB/T-SQL treat
names case-insensitively). Steward reports a name that is case-insensitive in its
dialect in lower case, so `ORDERS`, `orders` and Snowflake's `"ORDERS"` are all
`orders`; a quoted name whose case matters keeps it (`"UserId"` stays `UserId`).
Case-sensitive dialects (MySQL, ClickHouse) keep names as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def report_table(table: exp.Table, dialect: Dialect) -> str:
    """`catalog.db.name` with the parts the table has, each reported as above."""
    from sqlglot import exp

    parts = [part for part in table.parts if isinstance(part, exp.Identifier)]
    return ".".join(report_identifier(part, dialect) for part in parts)


def is_table_function(table: exp.Table) -> bool:
    """`read_parquet('x')`, `generate_series(1, 3)`, `TABLE(FLATTEN(...))`: not a stored table."""
    from sqlglot import exp

    return not isinstance(table.this, exp.Identifier)
