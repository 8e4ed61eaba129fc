"""How DuckDB reads the tables it is handed: one view per internal name.

A `ParquetTable` planned from an Iceberg snapshot (`engines.iceberg_files`) becomes a
view reading each file's columns by the field ids the writer put in the Parquet schema
(DuckDB's `read_parquet(..., schema = MAP {field_id: {name, type, default_value}})`),
named as the current schema does, cast to the current type, a column a file lacks
filled with its initial default or NULL; files without field ids are read by the names
the table's name mapping gives. Plain Parquet files are read by column name; a DuckDB
database file (`NativeTable` of backend `duckdb`) is attached read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from steward.engines.base import EngineUnsupported, NativeTable, TableData
from steward.errors import SourceError

if TYPE_CHECKING:
    import duckdb

    from steward.engines.iceberg_files import IcebergField, NamedFile


def create_view(conn: duckdb.DuckDBPyConnection, internal: str, data: TableData) -> None:
    """Make table `internal` on `conn` read `data`."""
    if isinstance(data, NativeTable):
        _attach(conn, internal, data)
        return
    columns = ", ".join(quote(c) for c in data.columns)
    if not data.files:
        import pyarrow as pa

        conn.register(internal + "_empty", pa.Table.from_batches([], schema=data.schema))
        conn.execute(
            f"CREATE VIEW {quote(internal)} AS SELECT {columns} FROM {quote(internal + '_empty')}"
        )
        return
    if data.fields:
        select = view_select(
            conn, files=data.files, schema=data.schema, fields=data.fields, named=data.named
        )
        _create_file_view(conn, internal, select)
        return
    paths = ", ".join(literal(f) for f in data.files)
    # No hive partitioning: a `region=EU` directory must not become a column.
    _create_file_view(
        conn,
        internal,
        f"SELECT {columns} FROM read_parquet([{paths}], hive_partitioning = false,"
        " union_by_name = true)",
    )


def _create_file_view(conn: duckdb.DuckDBPyConnection, internal: str, select: str) -> None:
    """The view over data files; a file that is not there is a `SourceError` naming it."""
    import duckdb

    try:
        conn.execute(f"CREATE VIEW {quote(internal)} AS {select}")
    except duckdb.IOException as exc:
        # DuckDB lists the files when the view is made: its first line names the missing one.
        raise SourceError(
            f"a table's data files cannot be read: {str(exc).splitlines()[0]}"
        ) from None


def _attach(conn: duckdb.DuckDBPyConnection, internal: str, data: NativeTable) -> None:
    if data.backend != "duckdb":
        raise EngineUnsupported(
            f"{data.schema}.{data.table}: a {data.backend} table is not readable by DuckDB;"
            " only DuckDB database files are"
        )
    alias = internal + "_db"
    conn.execute(f"ATTACH {literal(data.location)} AS {quote(alias)} (READ_ONLY)")
    conn.execute(
        f"CREATE VIEW {quote(internal)} AS SELECT * FROM"
        f" {quote(alias)}.{quote(data.schema)}.{quote(data.table)}"
    )


def view_select(
    conn: duckdb.DuckDBPyConnection,
    *,
    files: Sequence[str],
    schema: Any,
    fields: Sequence[IcebergField],
    named: Sequence[NamedFile],
) -> str:
    """The SELECT over `files` that gives the current schema's columns, by field id.

    `schema` (pyarrow, the current schema) gives each column's type as DuckDB spells
    it, so that an old file's narrower type reads as the current one.
    """
    types = _duckdb_types(conn, schema)
    names = [f.name for f in fields]
    parts = []
    by_id = [p for p in files if p not in {n.path for n in named}]
    if by_id:
        entries = ", ".join(
            f"{f.field_id}: {{name: {literal(f.name)}, type: {literal(types[f.name])},"
            f" default_value: {literal(f.default) if f.default is not None else 'NULL'}}}"
            for f in fields
        )
        paths = ", ".join(literal(p) for p in by_id)
        columns = ", ".join(quote(n) for n in names)
        # No hive partitioning: a `region=EU` directory must not become a column.
        parts.append(
            f"SELECT {columns} FROM read_parquet([{paths}], hive_partitioning = false,"
            f" schema = MAP {{{entries}}})"
        )
    for file in named:
        selected = []
        for field, column in zip(fields, file.columns, strict=True):
            value = quote(column) if column is not None else _value(field.default)
            selected.append(f"CAST({value} AS {types[field.name]}) AS {quote(field.name)}")
        parts.append(
            f"SELECT {', '.join(selected)} FROM read_parquet([{literal(file.path)}],"
            " hive_partitioning = false)"
        )
    return " UNION ALL ".join(parts)


def _duckdb_types(conn: duckdb.DuckDBPyConnection, schema: Any) -> dict[str, str]:
    """Each column's DuckDB type, as DuckDB converts the pyarrow type."""
    import pyarrow as pa

    empty = pa.Table.from_batches([], schema=schema)
    conn.register("steward_schema_probe", empty)
    try:
        rows = conn.execute('DESCRIBE "steward_schema_probe"').fetchall()
    finally:
        conn.unregister("steward_schema_probe")
    return {str(r[0]): str(r[1]) for r in rows}


def _value(default: str | None) -> str:
    return literal(default) if default is not None else "NULL"


def quote(name: str) -> str:
    """`name` as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """`text` as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"
