"""Planning an Iceberg table for any engine: its data files, read by field id.

Iceberg names a column by its field id, not by its name: a rename changes only the
table's metadata, an added column is absent from the files written before it, a
promoted column (int -> long, float -> double, a wider decimal) keeps its old type in
old files. `plan_iceberg` turns a pyiceberg table (a snapshot of it) into a
`ParquetTable`: the data files pyiceberg's scan planned, the current schema's columns
with their field ids and initial defaults, and the files that carry no field ids with
the names the table's name mapping gives their columns (`add_files` writes such files
and sets `schema.name-mapping.default`). Each engine reads that plan its own way
(DuckDB: `engines.duckdb_views`; Spark: Parquet field-id reads). Tables with row-level
delete files are refused until an engine can apply them.

Fields inside a struct are read by their names (DuckDB's `read_parquet` maps top-level
field ids only), so a table where one was ever renamed is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from steward.errors import SourceError

if TYPE_CHECKING:
    from steward.engines.base import ParquetTable

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


class IcebergTable(Protocol):
    """The part of a pyiceberg `Table` planning reads."""

    def scan(self, snapshot_id: int | None = None) -> Any: ...  # pragma: no cover
    def schema(self) -> Any: ...  # pragma: no cover
    def name_mapping(self) -> Any: ...  # pragma: no cover


def plan_iceberg(table: IcebergTable, *, name: str, snapshot_id: int | None = None) -> ParquetTable:
    """The Parquet files of `table`'s current (or given) snapshot; refuses delete files."""
    return plan_iceberg_tasks(table, name=name, snapshot_id=snapshot_id)[0]


def plan_iceberg_tasks(
    table: IcebergTable, *, name: str, snapshot_id: int | None = None
) -> tuple[ParquetTable, list[Any]]:
    """`plan_iceberg`, and the planned scan tasks (one per file, in the same order).

    Whatever the snapshot, the table reads as its current schema (columns by field id,
    renamed, promoted, added ones NULL or their default): the names a policy and the
    catalog know.
    """
    from steward.engines.base import ParquetTable

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
                f"{name}: has row-level delete files, which the engines here cannot apply"
                " yet; compact the table (rewrite its data files) to query it"
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
    """The path of a local data file: where pyiceberg's file IO reads and writes it.

    Not percent-decoded: Iceberg's file IOs (pyiceberg's, as Hadoop's) take a location's
    path as written, so a warehouse `file:///srv/it%27s%20home/...` (the URI of the
    folder `it's home`) holds its files in a folder named `it%27s%20home`; the decoded
    path is not where they are.
    """
    from pyiceberg.io.pyarrow import PyArrowFileIO

    scheme, _, path = PyArrowFileIO.parse_location(location)
    if scheme == "file":
        return path
    raise SourceError(f"{name}: data files at {scheme}:// are not readable by the engines here yet")


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
