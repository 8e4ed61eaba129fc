"""The embedded engine: SQL on an in-memory DuckDB that sees only the tables it is given.

The tables a query needs are set up first, under internal names (Iceberg tables as
views over their Parquet data files, DuckDB database files attached read-only); then
file access is switched off (`enable_external_access=false`, only the set-up files stay
readable) and the configuration locked, so that nothing in the query can read another
file, a URL, load an extension or turn access back on.

`DuckDBEngine` keeps a locked database per set of tables and runs each query on a cursor of
its own under the limits (time, memory, threads, result bytes) the settings give.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

from steward.engines.base import (
    Limits,
    ParquetTable,
    QueryFailed,
    QueryRows,
    QueryTimeout,
    ResultTooLarge,
    TableData,
    result_bytes,
)
from steward.engines.duckdb_views import create_view, literal, quote
from steward.errors import InvalidInput

if TYPE_CHECKING:
    import duckdb

    from steward.config import Settings


def open_connection(
    tables: Mapping[str, TableData], *, limits: Limits | None = None
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB where `tables` exist under their internal names, and nothing else.

    After set-up, external access is off (only the tables' own files stay readable), the
    memory and thread limits set, the configuration locked, and extensions neither
    installed nor loaded on demand.
    """
    import duckdb

    conn = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
        },
    )
    try:
        files = [
            f for data in tables.values() if isinstance(data, ParquetTable) for f in data.files
        ]
        if files:
            conn.execute("SET allowed_paths = ?", [files])
        for internal, data in tables.items():
            create_view(conn, internal, data)
        # A name DuckDB cannot bind must never fall back to a Python object in scope.
        conn.execute("SET python_enable_replacements = false")
        if limits is not None:
            conn.execute(f"SET memory_limit = {literal(limits.memory_limit)}")
            conn.execute(f"SET threads = {int(limits.threads)}")
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


POOL_SIZE = 16
# No row limit for a session's statements (only the byte limit).
UNLIMITED = 2**62


def _key(tables: Mapping[str, TableData]) -> Hashable:
    parts: list[Hashable] = []
    for internal, data in sorted(tables.items()):
        if isinstance(data, ParquetTable):
            # A promotion changes only the schema's types: the view must be built again.
            shape = str(data.schema) if data.fields else ""
            parts.append((internal, "parquet", data.files, data.columns, data.fields, shape))
        else:
            parts.append((internal, "native", data.backend, data.location, data.schema, data.table))
    return tuple(parts)


class DuckDBEngine:
    """The embedded engine of one `Steward`: locked databases kept per set of tables.

    Setting a database up costs ~15-20 ms, so one is kept for each set of tables (the
    same internal names over the same files) and each query runs on its own cursor. A
    table that changed has new files, hence a new database; the least recently used of
    `POOL_SIZE` databases is closed, and `close` closes them all.
    """

    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._pool: OrderedDict[Hashable, duckdb.DuckDBPyConnection] = OrderedDict()
        self._columns: dict[Hashable, dict[str, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._reserved: frozenset[str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> DuckDBEngine:
        """The engine with the limits the `query_*` settings give."""
        from steward.engines.registry import limits_from

        return cls(limits_from(settings))

    def close(self) -> None:
        """Close every database this engine holds."""
        with self._lock:
            while self._pool:
                _, conn = self._pool.popitem(last=False)
                conn.close()
            self._columns.clear()

    def allowed_functions(self) -> frozenset[str]:
        """DuckDB's functions a caller may call (`engines.duckdb_functions`)."""
        from steward.engines.duckdb_functions import ALLOWED_FUNCTIONS

        return ALLOWED_FUNCTIONS

    def open(
        self, tables: Mapping[str, TableData], *, limits: Limits | None = None
    ) -> DuckDBSession:
        """A locked database of its own holding `tables`, for Steward's own statements."""
        return DuckDBSession(open_connection(tables, limits=limits), limits)

    def reserved_names(self) -> frozenset[str]:
        """Names the engine resolves as tables on its own (`sqlite_master`, `duckdb_tables`)."""
        if self._reserved is None:
            import duckdb

            with duckdb.connect(":memory:") as conn:
                # information_schema's views are reached only through their schema.
                rows = conn.execute(
                    "SELECT view_name FROM duckdb_views()"
                    " WHERE schema_name <> 'information_schema'"
                    " UNION SELECT table_name FROM duckdb_tables()"
                    " UNION SELECT schema_name FROM duckdb_schemas()"
                    " UNION SELECT database_name FROM duckdb_databases()"
                ).fetchall()
            self._reserved = frozenset(str(r[0]).lower() for r in rows)
        return self._reserved

    def physical_columns(self, tables: Mapping[str, TableData]) -> dict[str, tuple[str, ...]]:
        """Each table's columns as the engine reads them (internal name -> column names)."""
        found: dict[str, tuple[str, ...]] = {}
        attached = []
        for internal, data in tables.items():
            if isinstance(data, ParquetTable):
                found[internal] = data.columns
            else:
                attached.append(internal)
        if attached:
            key = _key(tables)
            known = self._columns.get(key)
            if known is None:
                conn = self._cursor(tables)
                try:
                    known = {
                        name: tuple(
                            str(r[0]) for r in conn.execute(f"DESCRIBE {quote(name)}").fetchall()
                        )
                        for name in attached
                    }
                finally:
                    conn.close()
                self._columns[key] = known
            found.update(known)
        return found

    def _cursor(self, tables: Mapping[str, TableData]) -> duckdb.DuckDBPyConnection:
        """A fresh connection to a locked database holding exactly `tables`."""
        key = _key(tables)
        with self._lock:
            base = self._pool.get(key)
            if base is not None:
                self._pool.move_to_end(key)
                return base.cursor()
        created = open_connection(tables, limits=self.limits)
        with self._lock:
            base = self._pool.setdefault(key, created)
            self._pool.move_to_end(key)
            if base is not created:
                created.close()
            while len(self._pool) > POOL_SIZE:
                old_key, oldest = self._pool.popitem(last=False)
                self._columns.pop(old_key, None)
                oldest.close()
            return base.cursor()

    def run(
        self,
        tables: Mapping[str, TableData],
        sql: str,
        *,
        limit: int,
        params: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> QueryRows:
        """Rows of `sql` (at most `limit`) on a connection holding `tables`, within limits.

        Errors from binding (unknown column, type mismatch) come back with `names`
        (internal name -> the caller's name) put back; errors raised while reading values
        are told without their text, which could quote a value the caller may not see.
        """
        import duckdb

        conn = self._cursor(tables)
        timer = threading.Timer(self.limits.timeout_seconds, conn.interrupt)
        timer.daemon = True
        timer.start()
        try:
            result = conn.execute(sql, dict(params) if params else None)
            columns = [d[0] for d in result.description or ()]
            rows = _fetch(result, limit, self.limits.max_result_bytes)
        except duckdb.InterruptException:
            raise QueryTimeout(
                f"sql: the query ran longer than {self.limits.timeout_seconds:g} s and was"
                " cancelled; add filters or a LIMIT"
            ) from None
        except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as exc:
            raise InvalidInput(f"sql: {_rename(str(exc), names or {})}") from None
        except duckdb.PermissionException:
            raise InvalidInput("sql: the query tried to read a file or change a setting") from None
        except duckdb.OutOfMemoryException:
            raise QueryFailed(
                f"sql: the query needed more than {self.limits.memory_limit} of memory"
            ) from None
        except duckdb.Error as exc:
            raise QueryFailed(
                f"sql: the query failed while running ({type(exc).__name__}); the engine's"
                " message is withheld because it may quote values outside your view",
                error_class=type(exc).__name__,
                detail=str(exc),
            ) from None
        finally:
            timer.cancel()
            conn.close()
        return QueryRows(columns=columns, rows=rows[:limit], truncated=len(rows) > limit)


def _fetch(result: duckdb.DuckDBPyConnection, limit: int, max_bytes: int) -> list[tuple[Any, ...]]:
    """At most `limit + 1` rows of `result`; `ResultTooLarge` past `max_bytes`."""
    rows: list[tuple[Any, ...]] = []
    size = 0
    while len(rows) <= limit:
        batch = result.fetchmany(min(1000, limit + 1 - len(rows)))
        if not batch:
            break
        size += result_bytes(batch)
        if size > max_bytes:
            raise ResultTooLarge(
                f"sql: the result is larger than {max_bytes} bytes; select fewer rows or columns"
            )
        rows.extend(batch)
    return rows


def _rename(message: str, names: Mapping[str, str]) -> str:
    for internal, name in names.items():
        message = message.replace(internal, name)
    return message.strip().splitlines()[0] if message.strip() else message


class DuckDBSession:
    """One locked in-memory database holding a quality run's or a gate's tables."""

    dialect = "duckdb"

    def __init__(self, conn: duckdb.DuckDBPyConnection, limits: Limits | None) -> None:
        self._conn = conn
        self._limits = limits

    def execute(self, sql: str) -> QueryRows:
        """Every row of `sql`, within the session's limits if it has any.

        DuckDB's errors become `QueryFailed` naming their class; a statement past the
        time limit is cancelled (`QueryTimeout`).
        """
        import duckdb

        timer = None
        if self._limits is not None:
            timer = threading.Timer(self._limits.timeout_seconds, self._conn.interrupt)
            timer.daemon = True
            timer.start()
        try:
            result = self._conn.execute(sql)
            columns = [d[0] for d in result.description or ()]
            if self._limits is None:
                return QueryRows(columns, result.fetchall())
            return QueryRows(columns, _fetch(result, UNLIMITED, self._limits.max_result_bytes))
        except duckdb.InterruptException:
            seconds = self._limits.timeout_seconds if self._limits else 0
            raise QueryTimeout(
                f"the statement ran longer than {seconds:g} s and was cancelled"
            ) from None
        except duckdb.Error as exc:
            raise QueryFailed(
                f"the engine could not run the query ({type(exc).__name__})",
                error_class=type(exc).__name__,
                detail=str(exc).strip().splitlines()[0] if str(exc).strip() else "",
            ) from None
        finally:
            if timer is not None:
                timer.cancel()

    def schema(self, internal: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of each column of table `internal`."""
        rows = self.execute(f"DESCRIBE SELECT * FROM {quote(internal)}").rows
        return [(str(r[0]), str(r[1])) for r in rows]

    def close(self) -> None:
        """Close the database."""
        self._conn.close()
