"""The embedded engine: SQL on an in-memory DuckDB that sees only the tables it is given.

The tables a query needs are set up first, under internal names (Iceberg tables as
views over their Parquet data files, DuckDB database files attached read-only); then
file access is switched off (`enable_external_access=false`, only the set-up files stay
readable) and the configuration locked, so that nothing in the query can read another
file, a URL, load an extension or turn access back on.

`Engine` keeps a locked database per set of tables and runs each query on a cursor of
its own under the limits (time, memory, threads, result bytes) the settings give.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from steward.errors import InvalidInput, SourceError

if TYPE_CHECKING:
    import duckdb

    from steward.engines.iceberg_files import IcebergField, NamedFile


@dataclass(frozen=True)
class ParquetTable:
    """A table read from Parquet files; `schema` (pyarrow) gives its shape when it has none.

    `fields` is set for an Iceberg table: its files are then read by field id as its
    current schema says (`iceberg_files`), and `named` lists the files without field
    ids, read through the table's name mapping. Without `fields`, plain Parquet files
    are read by column name.
    """

    files: tuple[str, ...]
    schema: Any  # pyarrow.Schema
    columns: tuple[str, ...]
    fields: tuple[IcebergField, ...] = ()
    named: tuple[NamedFile, ...] = ()


@dataclass(frozen=True)
class AttachedTable:
    """A table of a DuckDB database file, attached read-only."""

    database: str
    schema: str
    table: str


TableData = ParquetTable | AttachedTable


class QueryFailed(InvalidInput):
    """The query failed while running, on some value; the engine's message is withheld."""


@dataclass(frozen=True)
class QueryRows:
    """What a query returned: column names and rows."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


class IcebergTable(Protocol):
    """The part of a pyiceberg `Table` this module reads."""

    def scan(self, snapshot_id: int | None = None) -> Any: ...  # pragma: no cover
    def schema(self) -> Any: ...  # pragma: no cover
    def name_mapping(self) -> Any: ...  # pragma: no cover


def iceberg_data(table: IcebergTable, *, name: str, snapshot_id: int | None = None) -> ParquetTable:
    """The Parquet files of `table`'s current (or given) snapshot; refuses delete files."""
    return iceberg_plan(table, name=name, snapshot_id=snapshot_id)[0]


def iceberg_plan(
    table: IcebergTable, *, name: str, snapshot_id: int | None = None
) -> tuple[ParquetTable, list[Any]]:
    """`iceberg_data`, and the planned scan tasks (one per file, in the same order).

    Whatever the snapshot, the table reads as its current schema (columns by field id,
    renamed, promoted, added ones NULL or their default): the names a policy and the
    catalog know.
    """
    from steward.engines.iceberg_files import current_fields, files_without_ids

    try:
        tasks = list(table.scan(snapshot_id=snapshot_id).plan_files())
        schema = table.schema()
        arrow = schema.as_arrow()
    except Exception as exc:
        raise SourceError(f"{name}: cannot plan the Iceberg scan: {exc}") from exc
    files = []
    for task in tasks:
        if task.delete_files:
            raise SourceError(
                f"{name}: has row-level delete files, which the embedded engine cannot apply"
                " yet; compact the table (rewrite its data files) to query it here"
            )
        files.append(_local_path(task.file.file_path, name=name))
    fields = current_fields(table, name=name)
    data = ParquetTable(
        files=tuple(files),
        schema=arrow,
        columns=tuple(f.name for f in fields),
        fields=fields,
        named=files_without_ids(table, files, fields, name=name),
    )
    return data, tasks


def _local_path(location: str, *, name: str) -> str:
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(location)
    if parts.scheme in ("", "file"):
        return unquote(parts.path) if parts.scheme else location
    raise SourceError(
        f"{name}: data files at {parts.scheme}:// are not readable by the embedded engine yet"
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Limits:
    """What one governed query may spend: time, memory, threads and result bytes."""

    timeout_seconds: float = 30.0
    memory_limit: str = "1GB"
    threads: int = 2
    max_result_bytes: int = 64 * 1024 * 1024


class QueryTimeout(InvalidInput):
    """The query ran past its time limit and was cancelled."""


class ResultTooLarge(InvalidInput):
    """The query's result is larger than the byte limit."""


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
            _create(conn, internal, data)
        # A name DuckDB cannot bind must never fall back to a Python object in scope.
        conn.execute("SET python_enable_replacements = false")
        if limits is not None:
            conn.execute(f"SET memory_limit = {_literal(limits.memory_limit)}")
            conn.execute(f"SET threads = {int(limits.threads)}")
        conn.execute("SET enable_external_access = false")
        conn.execute("SET lock_configuration = true")
    except BaseException:
        conn.close()
        raise
    return conn


def _create(conn: duckdb.DuckDBPyConnection, internal: str, data: TableData) -> None:
    if isinstance(data, AttachedTable):
        alias = internal + "_db"
        conn.execute(f"ATTACH {_literal(data.database)} AS {_quote(alias)} (READ_ONLY)")
        conn.execute(
            f"CREATE VIEW {_quote(internal)} AS SELECT * FROM"
            f" {_quote(alias)}.{_quote(data.schema)}.{_quote(data.table)}"
        )
        return
    columns = ", ".join(_quote(c) for c in data.columns)
    if not data.files:
        import pyarrow as pa

        conn.register(internal + "_empty", pa.Table.from_batches([], schema=data.schema))
        conn.execute(
            f"CREATE VIEW {_quote(internal)} AS SELECT {columns} FROM {_quote(internal + '_empty')}"
        )
        return
    if data.fields:
        from steward.engines.iceberg_files import view_select

        select = view_select(
            conn, files=data.files, schema=data.schema, fields=data.fields, named=data.named
        )
        conn.execute(f"CREATE VIEW {_quote(internal)} AS {select}")
        return
    paths = ", ".join(_literal(f) for f in data.files)
    # No hive partitioning: a `region=EU` directory must not become a column.
    conn.execute(
        f"CREATE VIEW {_quote(internal)} AS SELECT {columns} FROM read_parquet([{paths}],"
        " hive_partitioning = false, union_by_name = true)"
    )


POOL_SIZE = 16


def _key(tables: Mapping[str, TableData]) -> Hashable:
    parts: list[Hashable] = []
    for internal, data in sorted(tables.items()):
        if isinstance(data, ParquetTable):
            # A promotion changes only the schema's types: the view must be built again.
            shape = str(data.schema) if data.fields else ""
            parts.append((internal, "parquet", data.files, data.columns, data.fields, shape))
        else:
            parts.append((internal, "attached", data.database, data.schema, data.table))
    return tuple(parts)


class Engine:
    """The embedded engine of one `Steward`: locked databases kept per set of tables.

    Setting a database up costs ~15-20 ms, so one is kept for each set of tables (the
    same internal names over the same files) and each query runs on its own cursor. A
    table that changed has new files, hence a new database; the least recently used of
    `POOL_SIZE` databases is closed, and `close` closes them all.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._pool: OrderedDict[Hashable, duckdb.DuckDBPyConnection] = OrderedDict()
        self._columns: dict[Hashable, dict[str, tuple[str, ...]]] = {}
        self._lock = threading.Lock()
        self._reserved: frozenset[str] | None = None

    def close(self) -> None:
        """Close every database this engine holds."""
        with self._lock:
            while self._pool:
                _, conn = self._pool.popitem(last=False)
                conn.close()
            self._columns.clear()

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
                            str(r[0]) for r in conn.execute(f"DESCRIBE {_quote(name)}").fetchall()
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
            rows = self._fetch(result, limit)
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
                " message is withheld because it may quote values outside your view"
            ) from None
        finally:
            timer.cancel()
            conn.close()
        return QueryRows(columns=columns, rows=rows[:limit], truncated=len(rows) > limit)

    def _fetch(self, result: duckdb.DuckDBPyConnection, limit: int) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        size = 0
        while len(rows) <= limit:
            batch = result.fetchmany(min(1000, limit + 1 - len(rows)))
            if not batch:
                break
            size += sum(_size(value) for row in batch for value in row)
            if size > self.limits.max_result_bytes:
                raise ResultTooLarge(
                    f"sql: the result is larger than {self.limits.max_result_bytes} bytes;"
                    " select fewer rows or columns"
                )
            rows.extend(batch)
        return rows


def _size(value: Any) -> int:
    """About how many bytes a value takes in a response."""
    if isinstance(value, str | bytes | bytearray):
        return len(value) + 8
    if isinstance(value, list | tuple):
        return sum(_size(v) for v in value) + 8
    if isinstance(value, dict):
        return sum(_size(k) + _size(v) for k, v in value.items()) + 8
    return 8


def _rename(message: str, names: Mapping[str, str]) -> str:
    for internal, name in names.items():
        message = message.replace(internal, name)
    return message.strip().splitlines()[0] if message.strip() else message


def run_raw(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of `sql` on `conn` as it is (for benchmarks and set-up, never callers' SQL)."""
    return conn.execute(sql, list(params)).fetchall()
