"""Connections and transactions on SQLite (WAL) or PostgreSQL, and schema migrations."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from steward.errors import ConfigError, StoreBusy, WriteConflict
from steward.store.private import make_private_dir, make_private_sqlite_file

_MIGRATIONS = Path(__file__).parent / "migrations"
_WRITE = "steward_write"


class Store:
    """The metadata database. Reads and writes are separate: a write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time, and its busy handler waits by sleeping (1, 2, 5 ms...).
        # Threads of this process queue on a lock instead, handed over without sleeping.
        self._writer = threading.Lock() if engine.dialect.name == "sqlite" else None
        # Processes (the server and its lineage normaliser) queue on a file lock beside
        # the database the same way: a waiting writer wakes as soon as the lock is free,
        # rather than in SQLite's busy-wait steps of up to 100 ms.
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        # The SQLite file, when the store is one a path names (not in memory, not a URI).
        self.file = (
            database
            if database and database != ":memory:" and not database.startswith("file:")
            else None
        )
        self._lock_path = self.beside("writer.lock")
        self._lock_fd: tuple[int, int] | None = None  # (process id, descriptor)
        # Statements run through `store.fast` raise the driver's own errors, unwrapped.
        driver: Any = engine.dialect.dbapi
        self._conflicts: tuple[type[Exception], ...] = (
            sa.exc.IntegrityError,
            driver.IntegrityError,
        )
        self._busy: tuple[type[Exception], ...] = (sa.exc.OperationalError, driver.OperationalError)

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    @contextmanager
    def write(self, *, held: Connection | None = None) -> Iterator[Connection]:
        """One write transaction, committed on success and rolled back on any error.

        On SQLite it starts with BEGIN IMMEDIATE, so two writers queue on the lock
        instead of failing half-way with 'database is locked'. `held` is a connection
        from `writer_connection` that a long-lived writer keeps (the audit group writer),
        sparing it a pool checkout per transaction; one thread at a time may use it.
        """
        lock = self._writer or nullcontext()
        try:
            with (
                lock,
                self._file_lock(),
                nullcontext(held) if held is not None else self.writer_connection() as conn,
                conn.begin(),
            ):
                yield conn
        except self._conflicts as exc:
            # A unique key or a reference refused the write: say which, never "retry".
            raise WriteConflict(
                f"the write conflicts with what is stored ({conflict_detail(exc)});"
                " nothing was written"
            ) from exc
        except self._busy as exc:
            # The database stayed locked: nothing was written; the same write may be sent again.
            orig = getattr(exc, "orig", None) or exc
            raise StoreBusy(
                f"the store could not take this write now ({_first_line(orig)}); send it again"
            ) from exc

    @contextmanager
    def _file_lock(self) -> Iterator[None]:
        """The cross-process writer lock on SQLite files (nothing elsewhere)."""
        if self._lock_path is None:
            yield
            return
        pid = os.getpid()
        if self._lock_fd is None or self._lock_fd[0] != pid:
            # Per process: a descriptor inherited over fork would share the lock.
            self._lock_fd = (pid, os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600))
        descriptor = self._lock_fd[1]
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)

    def beside(self, suffix: str) -> str | None:
        """A path beside the SQLite file (`steward.db-SUFFIX`), for its lock files; None
        when the store is no such file."""
        return f"{self.file}-{suffix}" if self.file else None

    @contextmanager
    def writer_turn(self) -> Iterator[None]:
        """The writer locks `write` takes (this process's, then the file's, on SQLite; none
        elsewhere), for a writer that begins and commits on the driver itself: the audit
        group writer, whose every microsecond a transaction is a record's."""
        with self._writer or nullcontext(), self._file_lock():
            yield

    def writer_connection(self) -> Connection:
        """A connection whose transactions are writes (BEGIN IMMEDIATE on SQLite)."""
        return self.engine.connect().execution_options(**{_WRITE: True})

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot for the duration of the block."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def upgrade(self) -> None:
        """Apply every Alembic migration the database lacks.

        On PostgreSQL the upgrade holds a transaction-scoped advisory lock, so servers
        (replicas, workers) starting together migrate one after another: the first applies
        the migrations, the others then find the store current and do nothing.
        """
        from alembic import command

        with self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config = alembic_config(self.engine.url.render_as_string(hide_password=False))
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def current_revision(self) -> str | None:
        """The Alembic revision the database is at, or None before the first migration."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def is_current(self) -> bool:
        """True when the database answers and is at the newest migration this code knows."""
        from alembic.script import ScriptDirectory

        heads = ScriptDirectory.from_config(alembic_config(str(self.engine.url))).get_heads()
        return self.current_revision() in heads

    def dispose(self) -> None:
        """Close every pooled connection (and the writer lock's file)."""
        self.engine.dispose()
        if self._lock_fd is not None and self._lock_fd[0] == os.getpid():
            os.close(self._lock_fd[1])
        self._lock_fd = None


def conflict_detail(exc: BaseException) -> str:
    """What a unique key or reference refused, as the database said it, without SQL.

    SQLite: `UNIQUE constraint failed: catalog_entries.name`; PostgreSQL adds the key's
    value: `... "uq_catalog_entries_name" Key (name)=(lake.sales.orders) already exists.`
    """
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    said = [lines[0]] if lines else [type(orig).__name__]
    said += [
        line.removeprefix("DETAIL:").strip() for line in lines[1:] if line.startswith("DETAIL:")
    ]
    return " ".join(said)


def _first_line(orig: BaseException) -> str:
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


# The advisory lock key `upgrade` takes on PostgreSQL ("steward" as an integer).
MIGRATION_LOCK = int.from_bytes(b"steward", "big")


def alembic_config(url: str) -> Any:
    """The Alembic configuration for Steward's migrations against `url`."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def describe_url(url: str) -> str:
    """Where the store at `url` is, for people: the SQLite file's path, or the URL with
    any password hidden (`postgresql+psycopg://steward:***@db:5432/steward`)."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)


def sqlite_file(url: str) -> Path | None:
    """The file a `sqlite:///` URL names; None for another database or an in-memory one."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _parse(url: str) -> sa.URL:
    try:
        return sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise ConfigError(f"database_url: cannot parse {url!r}") from exc


def open_store(url: str) -> Store:
    """Connect to the store at `url` (sqlite:/// or postgresql://), without migrating it."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return Store(_sqlite_engine(parsed))
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return Store(
            sa.create_engine(
                parsed,
                pool_pre_ping=True,
                pool_size=10,
                json_serializer=_json_dumps,
                json_deserializer=orjson.loads,
            )
        )
    raise ConfigError(
        f"database_url: {parsed.get_backend_name()!r} is not supported; use sqlite or postgresql"
    )


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_engine(url: sa.URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        database = Path(url.database)
        if not database.parent.exists():
            make_private_dir(database.parent)
        make_private_sqlite_file(database)
    engine = sa.create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        json_serializer=_json_dumps,
        json_deserializer=orjson.loads,
    )

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, not the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
