"""The store: migrations build exactly the tables schema.py declares; SQLite runs in WAL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from steward.app import Steward
from steward.store.database import alembic_config
from steward.store.schema import declared_here, metadata


def newest_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_migrations_match_the_declared_schema(steward: Steward) -> None:
    with steward.store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": declared_here}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_upgrade_is_idempotent(steward: Steward) -> None:
    steward.upgrade()
    before = steward.store.current_revision()
    steward.upgrade()
    assert steward.store.current_revision() == before == newest_revision()


def test_sqlite_runs_in_wal_mode(steward: Steward) -> None:
    if steward.store.dialect != "sqlite":
        pytest.skip("WAL is SQLite's journal mode; PostgreSQL has its own")
    with steward.store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_conflicting_write_is_a_409_naming_the_key_and_leaves_nothing(steward: Steward) -> None:
    from datetime import datetime

    import sqlalchemy as sa

    from steward.errors import StoreBusy, WriteConflict
    from steward.store import fast
    from steward.store.schema import api_tokens

    row = {
        "token_id": "t",
        "token_hash": "h",
        "user_name": "u",
        "groups": [],
        "is_admin": False,
        "created_at": datetime(2024, 1, 1),
    }

    def insert_twice() -> None:
        with steward.store.write() as conn:
            conn.execute(api_tokens.insert(), row)
            conn.execute(api_tokens.insert(), row)

    def insert_twice_on_the_driver() -> None:
        with steward.store.write() as conn:
            fast.run(conn, api_tokens.insert(), [row])
            fast.run(conn, api_tokens.insert(), [row])

    # Named, never "IntegrityError; retry": the same write would meet the same row.
    for write in (insert_twice, insert_twice_on_the_driver):
        with pytest.raises(WriteConflict) as refused:
            write()
        assert "api_tokens" in refused.value.message or "uq_api_tokens" in refused.value.message
        assert "IntegrityError" not in refused.value.message
        assert "retry" not in refused.value.message
    with steward.store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar() == 0
    assert (StoreBusy.http_status, WriteConflict.http_status) == (503, 409)
