"""Named locks across processes: one lineage writer at a time, one runner of the audit duties."""

from __future__ import annotations

import subprocess
import sys

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
        # Whoever asks second is told "not you": a PostgreSQL session lock, a file lock
        # beside the SQLite database (held per open file, so within a process too).
        assert not second
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


def test_an_exclusive_lock_is_released_when_its_process_dies(steward: Steward) -> None:
    """A process killed while it holds the lock does not keep it from the others."""
    code = (
        "import os, sys\n"
        "from steward.app import Steward\n"
        "from steward.config import Settings\n"
        "from steward.store.locks import exclusive\n"
        "steward = Steward(Settings(home=sys.argv[1], database_url=sys.argv[2] or None))\n"
        "with exclusive(steward.store, 'audit duties') as mine:\n"
        "    print(mine, flush=True)\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    url = steward.settings.database_url or ""
    child = subprocess.run(
        [sys.executable, "-c", code, str(steward.settings.home), url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert child.stdout.strip() == "True", child.stderr
    assert child.returncode == -9
    with exclusive(steward.store, "audit duties") as mine:
        assert mine
