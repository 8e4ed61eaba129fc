"""Named locks across processes: one lineage writer at a time, one runner of the audit duties."""

from __future__ import annotations

import sqlalchemy as sa

from steward.app import Steward
from steward.store.locks import exclusive, lock_key, one_writer_at_a_time


def _free_for_others(steward: Steward, name: str) -> bool:
    """Whether another session could take `name` now (it gives it back at once)."""
    with steward.store.engine.connect() as other:
        key = {"key": lock_key(name)}
        taken = bool(other.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), key).scalar())
        if taken:
            other.execute(sa.text("SELECT pg_advisory_unlock(:key)"), key)
        other.commit()
        return taken


def test_only_one_process_holds_the_audit_duties_and_a_second_skips(steward: Steward) -> None:
    with (
        exclusive(steward.store, "audit duties") as first,
        exclusive(steward.store, "audit duties") as second,
    ):
        assert first
        # SQLite has one serving process, so nothing to share; PostgreSQL says "not you".
        assert second is (steward.store.dialect == "sqlite")
    with exclusive(steward.store, "audit duties") as again:
        assert again
    if steward.store.dialect == "postgresql":
        assert _free_for_others(steward, "audit duties")


def test_a_lineage_writer_holds_its_lock_until_its_transaction_ends(steward: Steward) -> None:
    if steward.store.dialect == "sqlite":
        # BEGIN IMMEDIATE already makes each write transaction the only one.
        with steward.store.write() as conn:
            one_writer_at_a_time(conn, "lineage")
        return
    with steward.store.write() as conn:
        one_writer_at_a_time(conn, "lineage")
        assert not _free_for_others(steward, "lineage")
    assert _free_for_others(steward, "lineage")


def test_names_are_different_locks() -> None:
    assert lock_key("lineage") != lock_key("audit duties")
    assert lock_key("lineage") == lock_key("lineage")
