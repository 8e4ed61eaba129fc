"""Named locks that hold across processes: several `steward serve` workers, their
lineage normaliser and the CLI, on one store.

- `one_writer_at_a_time(conn, name)`: until the caller's transaction ends, other
  transactions taking the same name wait. For writes that read rows, change them in
  memory and write them back (lineage ingest), where row locks taken in event order
  can deadlock and no locks at all lose one writer's changes. On PostgreSQL an advisory
  lock keyed by the name (it locks no row); on SQLite nothing: `BEGIN IMMEDIATE` already
  makes every write transaction the only one.
- `exclusive(store, name)`: at most one process does something at a time (a round of the
  audit log's background duties, the normaliser); the others skip it rather than wait.
  On PostgreSQL a session advisory lock; on SQLite a file lock beside the database.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.store.database import Store


def lock_key(name: str) -> int:
    """The 64-bit advisory lock key for `name` (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(f"steward:{name}".encode()).digest()[:8], signed=True)


def one_writer_at_a_time(conn: Connection, name: str) -> None:
    """Wait until no other transaction holds `name`, then hold it until this one ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


@contextmanager
def exclusive(store: Store, name: str) -> Iterator[bool]:
    """True inside the block when this process holds `name`; False when another does.

    The lock lives on a connection of its own, outside any transaction, for the block's
    length; PostgreSQL releases it if the process dies, so no crash leaves it held.
    """
    if store.dialect != "postgresql":
        with _exclusive_file(store, name) as taken:
            yield taken
        return
    key = {"key": lock_key(name)}
    with store.engine.connect() as conn:
        taken = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), key).scalar())
        conn.commit()
        try:
            yield taken
        finally:
            if taken:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)
                conn.commit()


@contextmanager
def _exclusive_file(store: Store, name: str) -> Iterator[bool]:
    """`exclusive` on SQLite: a non-blocking lock on a file beside the database, which the
    system releases if the process dies. A store that is no file has one process: True."""
    path = store.beside(f"{lock_key(name) & 0xFFFFFFFF:08x}.lock")
    if path is None:
        yield True
        return
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
