"""The store: migrations build exactly the tables schema.py declares; SQLite runs in WAL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from steward.app import Steward
from steward.store.schema import metadata


def test_migrations_match_the_declared_schema(steward: Steward) -> None:
    with steward.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrade_is_idempotent(steward: Steward) -> None:
    steward.upgrade()
    assert steward.store.current_revision() == "0001"


def test_sqlite_runs_in_wal_mode(steward: Steward) -> None:
    if steward.store.dialect != "sqlite":
        pytest.skip("WAL is SQLite's journal mode; PostgreSQL has its own")
    with steward.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
