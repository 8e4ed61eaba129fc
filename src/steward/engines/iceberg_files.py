"""Reading an Iceberg table's Parquet files as its current schema says: by field id.

Iceberg names a column by its field id, not by its name: a rename changes only the
table's metadata, an added column is absent from the files written before it, a
promoted column (int -> long, float -> double, a wider decimal) keeps its old type in
old files. So the engine's view over a table's data files reads each file's columns
by the field ids the writer put in the Parquet schema (DuckDB's `read_parquet(...,
schema = MAP {field_id: {name, type, default_value}})`), names them as the current
schema does, casts them to the current type, and fills a column a file lacks with its
initial default or NULL.

Files without field ids (added with `add_files`) are read through the table's name
mapping (`schema.name-mapping.default`, which `add_files` sets), as pyiceberg reads
them. Fields inside a struct are read by their names (DuckDB's `schema` maps top-level
field ids only), so a table where one was ever renamed is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from steward.errors import SourceError

if TYPE_CHECKING:
    import duckdb

FIELD_ID = b"PARQUET:field_id"


@dataclass(frozen=True)
class IcebergField:
    """A top-level column of the table's current schema, as the engine reads it."""

    name: str
    field_id: int
    default: str | None  # the initial default, spelled for a cast; None reads NULL
    mapped_names: tuple[str, ...] = ()  # its names in files without field ids


@dataclass(frozen=True)
class NamedFile:
    """A data file without field ids: `columns` gives, per current column, its name there."""

    path: str
    columns: tuple[str | None, ...]  # in the order of the table's fields; None: absent


def current_fields(table: Any, *, name: str) -> tuple[IcebergField, ...]:
    """The current schema's top-level columns with their field ids and defaults.

    Refuses a table where a field inside a struct was ever renamed: DuckDB reads a
    struct's fields by name, so old files would read that field as NULL.
    """
    renamed = _nested_rename(table)
    if renamed is not None:
        raise SourceError(
            f"{name}: the field {renamed[0]} inside a struct was renamed (it was"
            f" {renamed[1]}); the embedded engine cannot follow a rename inside a struct"
            " yet and would read it as NULL: query this table on Spark or Trino"
        )
    mapping = _name_mapping(table)
    fields = []
    for field in table.schema().fields:
        mapped = mapping.get(field.field_id, (field.name,))
        fields.append(
            IcebergField(
                name=field.name,
                field_id=field.field_id,
                default=_default(field.initial_default, column=field.name, table=name),
                mapped_names=tuple(mapped),
            )
        )
    return tuple(fields)


def files_without_ids(
    table: Any, files: Sequence[str], fields: Sequence[IcebergField], *, name: str
) -> tuple[NamedFile, ...]:
    """The files among `files` whose Parquet schema carries no field ids.

    Only a table with a name mapping can hold such files readably (pyiceberg's
    `add_files` sets one); for a table without one every file is taken to carry field
    ids, as the Iceberg spec requires of files a writer wrote.
    """
    if not _name_mapping(table):
        return ()
    import pyarrow.parquet as pq

    found = []
    for path in files:
        try:
            schema = pq.read_schema(path)
        except Exception as exc:  # pyarrow raises several kinds for an unreadable footer
            raise SourceError(f"{name}: cannot read the data file {path}: {exc}") from exc
        if any(f.metadata and FIELD_ID in f.metadata for f in schema):
            continue
        present = set(schema.names)
        found.append(
            NamedFile(
                path=path,
                columns=tuple(
                    next((n for n in f.mapped_names if n in present), None) for f in fields
                ),
            )
        )
    return tuple(found)


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
            f"{f.field_id}: {{name: {_literal(f.name)}, type: {_literal(types[f.name])},"
            f" default_value: {_literal(f.default) if f.default is not None else 'NULL'}}}"
            for f in fields
        )
        paths = ", ".join(_literal(p) for p in by_id)
        columns = ", ".join(_quote(n) for n in names)
        # No hive partitioning: a `region=EU` directory must not become a column.
        parts.append(
            f"SELECT {columns} FROM read_parquet([{paths}], hive_partitioning = false,"
            f" schema = MAP {{{entries}}})"
        )
    for file in named:
        selected = []
        for field, column in zip(fields, file.columns, strict=True):
            value = _quote(column) if column is not None else _value(field.default)
            selected.append(f"CAST({value} AS {types[field.name]}) AS {_quote(field.name)}")
        parts.append(
            f"SELECT {', '.join(selected)} FROM read_parquet([{_literal(file.path)}],"
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


def _nested_rename(table: Any) -> tuple[str, str] | None:
    """(its full name now, its name then) for a field below the top level renamed once."""
    schemas = getattr(table, "schemas", None)
    if schemas is None:
        return None
    from pyiceberg.schema import index_by_id

    current = table.schema()
    top = {f.field_id for f in current.fields}
    nested = {i: f.name for i, f in index_by_id(current).items() if i not in top}
    if not nested:
        return None
    for older in schemas().values():
        for field_id, field in index_by_id(older).items():
            if field_id in nested and field.name != nested[field_id]:
                return current.find_column_name(field_id) or "", field.name
    return None


def _name_mapping(table: Any) -> dict[int, tuple[str, ...]]:
    """Field id -> the names a file without field ids may give it (top level)."""
    mapping = table.name_mapping() if hasattr(table, "name_mapping") else None
    if mapping is None:
        return {}
    return {m.field_id: tuple(m.names) for m in mapping if m.field_id is not None}


def _default(value: Any, *, column: str, table: str) -> str | None:
    """An initial default spelled so that DuckDB casts it to the column's type."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray):
        raise SourceError(
            f"{table}: column {column} has a binary initial default, which the embedded"
            " engine cannot fill in yet"
        )
    return str(value)


def _value(default: str | None) -> str:
    return _literal(default) if default is not None else "NULL"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
