"""Named locks that hold across processes: several `steward serve` workers on PostgreSQL.

On SQLite there is nothing to do: `BEGIN IMMEDIATE` already makes every write
transaction the only one, and `steward serve` runs one process on it. On PostgreSQL two
kinds of lock stand in for that, keyed by a name (advisory locks, which lock no row):

- `one_writer_at_a_time(conn, name)`: until the caller's transaction ends, other
  transactions taking the same name wait. For writes that read rows, change them in
  memory and write them back (lineage ingest), where row locks taken in event order
  can deadlock and no locks at all lose one writer's changes.
- `exclusive(store, name)`: at most one process does something at a time (a round of the
  audit log's background duties); the others skip it rather than wait.
"""

from __future__ import annotations

import hashlib
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
        yield True
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
