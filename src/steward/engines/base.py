"""The engine interface: what governed queries, quality runs, gates and publish need of an engine.

An engine runs SQL in its own dialect over tables it is handed, nothing else:

- a table is given as `TableData` under an internal name: a `ParquetTable` (a planned
  Iceberg snapshot: its data files, with the field ids that say which column is which,
  planned once by `engines.iceberg_files` for every engine) or a `NativeTable` (a table
  the engine reads in its own storage, such as a database source's table);
- `run` answers one governed statement under the engine's `Limits` (time, memory,
  result bytes), cancelling it when the time is up;
- `open` sets the tables up once for a quality run or a gate, which sends several
  statements (`Session.execute`) over the same tables;
- `allowed_functions` is the allow-list of function names, in the engine's dialect, a
  caller's SQL (and a policy's mask or row filter) may call on this engine;
- `physical_columns` and `Session.schema` tell a table's shape as the engine reads it.

Domains receive an `Engine` from the `Steward` object and never import a concrete one;
`engines.registry` resolves the configured engine by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from steward.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from steward.engines.iceberg_files import IcebergField, NamedFile


@dataclass(frozen=True)
class ParquetTable:
    """A table read from Parquet files; `schema` (pyarrow) gives its shape, even with no file.

    `fields` is set for an Iceberg table (a planned snapshot): its files are then read by
    field id as its current schema says, and `named` lists the files without field ids,
    read through the table's name mapping. Without `fields`, plain Parquet files are read
    by column name. Delete files are never here: planning refuses a table that has them.
    """

    files: tuple[str, ...]
    schema: Any  # pyarrow.Schema
    columns: tuple[str, ...]
    fields: tuple[IcebergField, ...] = ()
    named: tuple[NamedFile, ...] = ()


@dataclass(frozen=True)
class NativeTable:
    """A table an engine reads in its own storage: a database source's table.

    `backend` is the database kind (SQLAlchemy's backend name: `duckdb`, `postgresql`);
    `location` where it is (a DuckDB database file, a SQLAlchemy URL). An engine refuses
    a backend it cannot read with `EngineUnsupported`.
    """

    backend: str
    location: str
    schema: str
    table: str


TableData = ParquetTable | NativeTable


@dataclass(frozen=True)
class Limits:
    """What one statement may spend: time, memory, threads and result bytes."""

    timeout_seconds: float = 30.0
    memory_limit: str = "1GB"
    threads: int = 2
    max_result_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class QueryRows:
    """What a statement returned: column names and rows (`truncated` past the row limit)."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool = False


def result_bytes(rows: Sequence[Sequence[Any]]) -> int:
    """About how many bytes `rows` take in a response (for `Limits.max_result_bytes`)."""
    return sum(_size(value) for row in rows for value in row)


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | bytearray):
        return len(value) + 8
    if isinstance(value, list | tuple):
        return sum(_size(v) for v in value) + 8
    if isinstance(value, dict):
        return sum(_size(k) + _size(v) for k, v in value.items()) + 8
    return 8


class QueryFailed(InvalidInput):
    """The statement failed while running, on some value; the engine's message is withheld.

    `error_class` names the engine's error and `detail` holds its text, for the operator's
    log only: it can quote values the caller may not see.
    """

    def __init__(self, message: str, *, error_class: str = "", detail: str = "") -> None:
        super().__init__(message)
        self.error_class = error_class
        self.detail = detail


class QueryTimeout(InvalidInput):
    """The statement ran past its time limit and was cancelled."""


class ResultTooLarge(InvalidInput):
    """The statement's result is larger than the byte limit."""


class EngineUnsupported(Forbidden):
    """The engine cannot read a table or express a statement (it names which and why)."""


class Session(Protocol):
    """Tables set up once on an engine, for several statements (a quality run, a gate)."""

    dialect: str

    def execute(self, sql: str) -> QueryRows:
        """Every row of `sql`; `QueryFailed` (with the engine's error) when it fails."""
        ...

    def schema(self, internal: str) -> list[tuple[str, str]]:
        """(name, type) of each column of table `internal`, as the engine types it."""
        ...

    def close(self) -> None:
        """Release what the session holds."""
        ...


class Engine(Protocol):
    """A SQL engine behind Steward: its dialect, its allow-list, and tables it is handed.

    `name` is the engine's setting value (`duckdb`, `spark`, `postgresql`); `dialect`
    sqlglot's name for its SQL (`duckdb`, `spark`, `postgres`).
    """

    name: str
    dialect: str
    limits: Limits

    def allowed_functions(self) -> frozenset[str]:
        """Function names (lower case, in `dialect`) a caller's SQL may call here."""
        ...

    def reserved_names(self) -> frozenset[str]:
        """Names the engine resolves as tables on its own (its catalogs, system views)."""
        ...

    def physical_columns(self, tables: Mapping[str, TableData]) -> dict[str, tuple[str, ...]]:
        """Each table's columns as the engine reads them (internal name -> column names)."""
        ...

    def run(
        self,
        tables: Mapping[str, TableData],
        sql: str,
        *,
        limit: int,
        params: Mapping[str, str] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> QueryRows:
        """Rows of `sql` (at most `limit`) over `tables` (internal name -> data), within limits.

        `params` are the statement's named parameters; `names` (internal name -> the
        caller's name) are put back into binding errors. Raises `QueryTimeout` (cancelled),
        `ResultTooLarge`, `QueryFailed` (message withheld) or `InvalidInput` (binding).
        """
        ...

    def open(self, tables: Mapping[str, TableData], *, limits: Limits | None = None) -> Session:
        """A session over `tables`, for statements Steward itself writes (checks).

        `limits` None: no time or result limit (a check scans the whole table).
        """
        ...

    def close(self) -> None:
        """Release every database, connection and session the engine holds."""
        ...
