"""Where an engine reads a catalog table from: planned once, for every engine.

A catalog table `source.schema.table` is an Iceberg table (planned into its data files
by `engines.iceberg_files`, at its current snapshot or one `AT (VERSION => ...)` /
`AT (TIMESTAMP => ...)` names) or a database source's table (`NativeTable`). Planning
reads the Iceberg metadata and manifests (~10 ms), so `TablePlans` keeps each table's
current plan for a few seconds; a `Steward` holds one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from steward.engines.base import NativeTable, TableData
from steward.engines.iceberg_files import plan_iceberg
from steward.errors import Forbidden, InvalidInput, SourceError, StewardError

if TYPE_CHECKING:
    import sqlalchemy as sa

# A query sees a table's new snapshot at most this much later.
DATA_TTL_SECONDS = 2.0


class TableSource(Protocol):
    """What planning needs of any catalog source: its type, and closing it."""

    @property
    def type(self) -> str: ...  # pragma: no cover
    def close(self) -> None: ...  # pragma: no cover


class IcebergSource(TableSource, Protocol):
    """An Iceberg catalog source (`type == "iceberg"`)."""

    @property
    def catalog(self) -> Any: ...  # pragma: no cover  (a pyiceberg Catalog)


class DatabaseSource(TableSource, Protocol):
    """A SQLAlchemy database source (`type == "sqlalchemy"`)."""

    @property
    def backend(self) -> str: ...  # pragma: no cover
    @property
    def url(self) -> sa.URL: ...  # pragma: no cover


OpenSource = Callable[[str], TableSource]


def as_iceberg(source: TableSource) -> IcebergSource | None:
    """`source` as an Iceberg catalog source, or None when it is another kind."""
    return cast("IcebergSource", source) if source.type == "iceberg" else None


def plan_table(source: TableSource, name: str, *, at: tuple[str, str] | None = None) -> TableData:
    """Where catalog table `name` (`source.schema.table`) of `source` is read from.

    `at` is a time travel (`("VERSION", id)` or `("TIMESTAMP", literal)`), Iceberg only.
    """
    table = name.partition(".")[2]
    try:
        if source.type == "iceberg":
            namespace, _, short = table.rpartition(".")
            loaded = cast("IcebergSource", source).catalog.load_table(
                (*namespace.split("."), short)
            )
            snapshot_id = _snapshot_id(loaded, name, at) if at is not None else None
            return plan_iceberg(loaded, name=name, snapshot_id=snapshot_id)
        if at is not None:
            raise Forbidden(f"sql: time travel on {name}: only Iceberg tables have snapshots")
        if source.type == "sqlalchemy":
            return _native(cast("DatabaseSource", source), table)
    except StewardError:
        raise
    except Exception as exc:
        raise SourceError(f"{name}: cannot be read: {exc}") from exc
    raise Forbidden(
        f"{name}: source {name.partition('.')[0]} ({source.type}) is not queryable on an"
        " engine yet; only Iceberg tables and database tables are"
    )


def _native(source: DatabaseSource, table: str) -> NativeTable:
    schema, _, short = table.rpartition(".")
    backend = source.backend
    if backend == "duckdb" and source.url.database:
        return NativeTable("duckdb", str(source.url.database), schema or "main", short)
    if backend == "postgresql":
        location = source.url.render_as_string(hide_password=False)
        return NativeTable("postgresql", location, schema or "public", short)
    raise Forbidden(
        f"{table}: {backend} databases are not queryable on an engine yet; only DuckDB"
        " database files and PostgreSQL are"
    )


def _snapshot_id(loaded: Any, name: str, at: tuple[str, str]) -> int:
    """The snapshot `AT (VERSION => id)` or `AT (TIMESTAMP => t)` names."""
    kind, literal = at
    if kind == "VERSION":
        try:
            snapshot = loaded.snapshot_by_id(int(literal))
        except ValueError:
            snapshot = None
    else:
        try:
            when = datetime.fromisoformat(literal)
        except ValueError:
            raise InvalidInput(f"sql: {literal!r} is not a timestamp") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        snapshot = loaded.snapshot_as_of_timestamp(int(when.timestamp() * 1000))
    if snapshot is None:
        raise InvalidInput(f"sql: {name} has no snapshot {kind.lower()} {literal}")
    return int(snapshot.snapshot_id)


class TablePlans:
    """Catalog tables' current plans, each kept `DATA_TTL_SECONDS` (one per `Steward`)."""

    def __init__(self, open_source: OpenSource) -> None:
        self._open_source = open_source
        self._plans: dict[str, tuple[float, TableData]] = {}
        self._lock = threading.Lock()

    def current(self, name: str) -> TableData:
        """Where catalog table `name` is read from now, planned at most every few seconds."""
        now = time.monotonic()
        with self._lock:
            cached = self._plans.get(name)
        if cached is not None and now - cached[0] < DATA_TTL_SECONDS:
            return cached[1]
        data = self.plan(name)
        with self._lock:
            self._plans[name] = (now, data)
        return data

    def plan(self, name: str, *, at: tuple[str, str] | None = None) -> TableData:
        """Where catalog table `name` (at a snapshot, with `at`) is read from, planned now."""
        source = self._open_source(name.partition(".")[0])
        try:
            return plan_table(source, name, at=at)
        finally:
            source.close()

    def forget(self) -> None:
        """Plan every table afresh on its next use (after writing to the lake)."""
        with self._lock:
            self._plans.clear()
