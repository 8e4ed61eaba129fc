"""The embedded engine: SQL on an in-memory DuckDB that sees only the tables it is given.

The tables a query needs are set up first, under internal names (Iceberg tables as
views over their Parquet data files, DuckDB database files attached read-only); then
file access is switched off (`enable_external_access=false`, only the set-up files stay
readable) and the configuration locked, so that nothing in the query can read another
file, a URL, load an extension or turn access back on.

Setting a database up costs ~15-20 ms, so a locked database is kept for each set of
tables (the same internal names over the same files) and each query runs on its own
cursor (a connection of its own to that database). A table that changed has new files,
hence a new database; the least recently used of `POOL_SIZE` databases is closed.
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


@dataclass(frozen=True)
class ParquetTable:
    """A table read from Parquet files; `schema` (pyarrow) gives its shape when it has none."""

    files: tuple[str, ...]
    schema: Any  # pyarrow.Schema
    columns: tuple[str, ...]


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


def iceberg_data(table: IcebergTable, *, name: str, snapshot_id: int | None = None) -> ParquetTable:
    """The Parquet files of `table`'s current (or given) snapshot; refuses delete files."""
    return iceberg_plan(table, name=name, snapshot_id=snapshot_id)[0]


def iceberg_plan(
    table: IcebergTable, *, name: str, snapshot_id: int | None = None
) -> tuple[ParquetTable, list[Any]]:
    """`iceberg_data`, and the planned scan tasks (one per file, in the same order)."""
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
    data = ParquetTable(
        files=tuple(files), schema=arrow, columns=tuple(f.name for f in schema.fields)
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


def open_connection(tables: Mapping[str, TableData]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB where `tables` exist under their internal names, and nothing else.

    After set-up, external access is off (only the tables' own files stay readable), the
    configuration locked, and extensions neither installed nor loaded on demand.
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
    paths = ", ".join(_literal(f) for f in data.files)
    # No hive partitioning: a `region=EU` directory must not become a column.
    conn.execute(
        f"CREATE VIEW {_quote(internal)} AS SELECT {columns} FROM read_parquet([{paths}],"
        " hive_partitioning = false, union_by_name = true)"
    )


POOL_SIZE = 16
_pool: OrderedDict[Hashable, duckdb.DuckDBPyConnection] = OrderedDict()
_pool_lock = threading.Lock()


def _key(tables: Mapping[str, TableData]) -> Hashable:
    parts: list[Hashable] = []
    for internal, data in sorted(tables.items()):
        if isinstance(data, ParquetTable):
            parts.append((internal, "parquet", data.files, data.columns))
        else:
            parts.append((internal, "attached", data.database, data.schema, data.table))
    return tuple(parts)


def _cursor(tables: Mapping[str, TableData]) -> duckdb.DuckDBPyConnection:
    """A fresh connection to a locked database holding exactly `tables`."""
    key = _key(tables)
    with _pool_lock:
        base = _pool.get(key)
        if base is not None:
            _pool.move_to_end(key)
            return base.cursor()
    created = open_connection(tables)
    with _pool_lock:
        base = _pool.setdefault(key, created)
        _pool.move_to_end(key)
        if base is not created:
            created.close()
        while len(_pool) > POOL_SIZE:
            _, oldest = _pool.popitem(last=False)
            oldest.close()
        return base.cursor()


def run(
    tables: Mapping[str, TableData], sql: str, *, limit: int, names: Mapping[str, str] | None = None
) -> QueryRows:
    """Rows of `sql` (at most `limit`) on a connection holding `tables`.

    Errors from binding (unknown column, type mismatch) come back with `names` (internal
    name -> the caller's name) put back; errors raised while reading values are told
    without their text, which could quote a value the caller may not see.
    """
    import duckdb

    conn = _cursor(tables)
    try:
        result = conn.execute(sql)
        columns = [d[0] for d in result.description or ()]
        rows = result.fetchmany(limit + 1)
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as exc:
        raise InvalidInput(f"sql: {_rename(str(exc), names or {})}") from None
    except duckdb.PermissionException:
        raise InvalidInput("sql: the query tried to read a file or change a setting") from None
    except duckdb.Error as exc:
        raise QueryFailed(
            f"sql: the query failed while running ({type(exc).__name__}); the engine's"
            " message is withheld because it may quote values outside your view"
        ) from None
    finally:
        conn.close()
    return QueryRows(columns=columns, rows=rows[:limit], truncated=len(rows) > limit)


def _rename(message: str, names: Mapping[str, str]) -> str:
    for internal, name in names.items():
        message = message.replace(internal, name)
    return message.strip().splitlines()[0] if message.strip() else message


def run_raw(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Rows of `sql` on `conn` as it is (for benchmarks and set-up, never callers' SQL)."""
    return conn.execute(sql, list(params)).fetchall()
