"""PostgreSQL as an engine for its own tables: a database source's checks run where it lives.

A PostgreSQL source's tables (`NativeTable` of backend `postgresql`) are read by that
database, over the source's own SQLAlchemy URL, in a read-only transaction that is
rolled back at the end. Steward's SQL names each table by its internal name; before it
runs, each such reference is pointed at the real `schema.table` (keeping the internal
name as its alias), so a statement reads exactly the tables it was handed. Time is
limited on the server (`statement_timeout`), which cancels the statement; result bytes
while fetching.

All the tables of one statement live in one database; a statement over tables of two
databases is refused (`EngineUnsupported`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from steward.engines.base import (
    EngineUnsupported,
    Limits,
    NativeTable,
    QueryFailed,
    QueryRows,
    QueryTimeout,
    ResultTooLarge,
    TableData,
    result_bytes,
)
from steward.errors import InvalidInput

if TYPE_CHECKING:
    import sqlalchemy as sa

    from steward.config import Settings

DIALECT = "postgres"
# PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout`.
QUERY_CANCELED = "57014"
# SQLSTATE classes of errors found before any row is read: syntax, undefined names, types.
BINDING_CLASSES = ("42",)


class PostgresEngine:
    """PostgreSQL running statements over its own tables, one connection pool per database."""

    name = "postgresql"
    dialect = DIALECT

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._pools: dict[str, sa.Engine] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresEngine:
        """The engine with the limits the `query_*` settings give."""
        from steward.engines.registry import limits_from

        return cls(limits_from(settings))

    def allowed_functions(self) -> frozenset[str]:
        """PostgreSQL's functions a caller may call (`engines.postgres_functions`)."""
        from steward.engines.postgres_functions import ALLOWED_FUNCTIONS

        return ALLOWED_FUNCTIONS

    def reserved_names(self) -> frozenset[str]:
        """Names PostgreSQL resolves on its own: its system schemas and catalogs."""
        return frozenset({"pg_catalog", "information_schema", "pg_toast", "pg_temp"})

    def physical_columns(self, tables: Mapping[str, TableData]) -> dict[str, tuple[str, ...]]:
        """Each table's columns, from PostgreSQL's catalog."""
        session = self.open(tables)
        try:
            return {
                internal: tuple(name for name, _ in session.schema(internal)) for internal in tables
            }
        finally:
            session.close()

    def run(
        self,
        tables: Mapping[str, TableData],
        sql: str,
        *,
        limit: int,
        params: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> QueryRows:
        """Rows of `sql` (at most `limit`) over `tables`, within the engine's limits."""
        session = self.open(tables, limits=self.limits)
        try:
            return session.query(sql, limit=limit, params=params, names=names or {})
        finally:
            session.close()

    def open(
        self, tables: Mapping[str, TableData], *, limits: Limits | None = None
    ) -> PostgresSession:
        """A session over `tables`, all of one PostgreSQL database."""
        located = {internal: _native(internal, data) for internal, data in tables.items()}
        locations = {data.location for data in located.values()}
        if len(locations) > 1:
            raise EngineUnsupported(
                "sql: the tables are in different PostgreSQL databases; one statement reads"
                " one database"
            )
        pool = self._pool(next(iter(locations))) if locations else None
        return PostgresSession(pool, located, limits)

    def _pool(self, location: str) -> sa.Engine:
        import sqlalchemy as sa

        with self._lock:
            pool = self._pools.get(location)
            if pool is None:
                pool = self._pools[location] = sa.create_engine(location)
            return pool

    def close(self) -> None:
        """Release every connection pool."""
        with self._lock:
            for pool in self._pools.values():
                pool.dispose()
            self._pools.clear()


def _native(internal: str, data: TableData) -> NativeTable:
    if not isinstance(data, NativeTable) or data.backend != "postgresql":
        raise EngineUnsupported(
            f"sql: table {internal} is not a PostgreSQL table; PostgreSQL reads only its own"
        )
    return data


class PostgresSession:
    """Statements over tables of one PostgreSQL database, each in a read-only transaction."""

    dialect = DIALECT

    def __init__(
        self,
        pool: sa.Engine | None,
        tables: Mapping[str, NativeTable],
        limits: Limits | None,
    ) -> None:
        self._pool = pool
        self._tables = dict(tables)
        self._limits = limits

    def execute(self, sql: str) -> QueryRows:
        """Every row of `sql`; PostgreSQL's errors become `QueryFailed` naming their class."""
        return self.query(sql, limit=2**62, names=None)

    def query(
        self,
        sql: str,
        *,
        limit: int,
        params: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> QueryRows:
        """At most `limit` rows of `sql`.

        With `names` (a caller's statement), a binding error is told with them put back;
        without (Steward's own), every error is a `QueryFailed`.
        """
        import sqlalchemy as sa

        if self._pool is None:
            raise InvalidInput("sql: no table to read; PostgreSQL runs only over tables")
        text = self._pointed(sql)
        try:
            with self._pool.connect() as conn:
                conn.execute(sa.text("SET TRANSACTION READ ONLY"))
                if self._limits is not None:
                    milliseconds = int(self._limits.timeout_seconds * 1000)
                    conn.execute(sa.text(f"SET LOCAL statement_timeout = {milliseconds}"))
                result = (
                    conn.exec_driver_sql(text.replace("%", "%%"), dict(params))
                    if params
                    else conn.exec_driver_sql(text.replace("%", "%%"))
                )
                columns = list(result.keys())
                rows = self._fetch(result, limit)
                conn.rollback()
        except sa.exc.DBAPIError as exc:
            raise self._failed(exc, names) from None
        return QueryRows(columns, rows[:limit], truncated=len(rows) > limit)

    def _fetch(self, result: Any, limit: int) -> list[tuple[Any, ...]]:
        if self._limits is None:
            return [tuple(r) for r in result.fetchall()]
        rows: list[tuple[Any, ...]] = []
        size = 0
        while len(rows) <= limit:
            batch = result.fetchmany(min(1000, limit + 1 - len(rows)))
            if not batch:
                break
            size += result_bytes(batch)
            if size > self._limits.max_result_bytes:
                raise ResultTooLarge(
                    f"sql: the result is larger than {self._limits.max_result_bytes} bytes;"
                    " select fewer rows or columns"
                )
            rows.extend(tuple(r) for r in batch)
        return rows

    def _failed(self, exc: Any, names: Mapping[str, str] | None) -> InvalidInput:
        original = exc.orig if exc.orig is not None else exc
        error_class = type(original).__name__
        detail = str(original).strip().splitlines()[0] if str(original).strip() else ""
        # psycopg 3 calls the SQLSTATE `sqlstate`, psycopg2 `pgcode`.
        state = str(getattr(original, "sqlstate", None) or getattr(original, "pgcode", "") or "")
        if state == QUERY_CANCELED and self._limits is not None:
            return QueryTimeout(
                f"sql: the query ran longer than {self._limits.timeout_seconds:g} s and was"
                " cancelled; add filters or a LIMIT"
            )
        if names is not None and state.startswith(BINDING_CLASSES):
            for internal, name in names.items():
                detail = detail.replace(internal, name)
            return InvalidInput(f"sql: {detail}")
        return QueryFailed(
            f"sql: the query failed while running ({error_class}); the engine's message is"
            " withheld because it may quote values outside your view",
            error_class=error_class,
            detail=detail,
        )

    def _pointed(self, sql: str) -> str:
        """`sql` with each internal table name pointed at its real `schema.table`."""
        try:
            statement = sqlglot.parse_one(sql, read=DIALECT)
        except (ParseError, TokenError) as exc:
            raise InvalidInput(f"sql: cannot be parsed: {exc}") from None
        wanted = {name.lower(): data for name, data in self._tables.items()}
        for table in list(statement.find_all(exp.Table)):
            data = wanted.get(table.name.lower())
            if data is None or table.args.get("db") is not None:
                continue
            alias = table.args.get("alias") or exp.TableAlias(
                this=exp.to_identifier(table.name, quoted=True)
            )
            real = exp.table_(data.table, db=data.schema, quoted=True)
            real.set("alias", alias)
            table.replace(real)
        return statement.sql(dialect=DIALECT)

    def schema(self, internal: str) -> list[tuple[str, str]]:
        """(name, type) of each column of table `internal`, from information_schema."""
        data = self._tables[internal]
        query = (
            exp.select("column_name", "data_type")
            .from_("information_schema.columns")
            .where(exp.column("table_schema").eq(exp.Literal.string(data.schema)))
            .where(exp.column("table_name").eq(exp.Literal.string(data.table)))
            .order_by("ordinal_position")
        )
        rows = self.execute(query.sql(DIALECT)).rows
        return [(str(r[0]), str(r[1])) for r in rows]

    def close(self) -> None:
        """Nothing to release: connections return to the engine's pool after each statement."""
