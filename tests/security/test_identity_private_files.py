"""The store and the lake are private to the account running Steward, whatever its umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.app import Steward
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.identity.tokens import create_token
from tests.cli_run import steward_cli


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask that hides nothing, so that only Steward's own care keeps files private."""
    before = os.umask(0)
    yield
    os.umask(before)


@pytest.mark.usefixtures("open_umask")
def test_home_store_and_its_wal_files_are_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    steward = Steward(Settings(home=home))
    steward.upgrade()
    create_token(steward.store, user="ana")  # a write: the WAL and shared-memory files exist
    db = home / "steward.db"
    assert mode(home) == 0o700
    assert {p.name: mode(p) for p in home.glob("steward.db*")} == {
        "steward.db": 0o600,
        "steward.db-wal": 0o600,
        "steward.db-shm": 0o600,
        # The writers' cross-process lock (empty; its lock is all it holds).
        "steward.db-writer.lock": 0o600,
    }
    assert db.exists()
    steward.close()


@pytest.mark.usefixtures("open_umask")
def test_an_existing_open_home_and_store_are_made_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    (home / "steward.db").touch(mode=0o644)
    (home / "steward.db-wal").touch(mode=0o644)
    steward = Steward(Settings(home=home))
    steward.upgrade()
    assert mode(home) == 0o700
    assert mode(home / "steward.db") == 0o600
    assert mode(home / "steward.db-wal") == 0o600
    steward.close()


@pytest.mark.usefixtures("open_umask")
def test_the_lake_is_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    catalog = lake_catalog(home)
    catalog.create_namespace("crm")
    lakehouse = home / "lakehouse"
    assert mode(lakehouse) == 0o700
    assert mode(lakehouse / "warehouse") == 0o700
    assert mode(lakehouse / "catalog.db") == 0o600
    catalog.close()


def test_the_cli_makes_a_private_home(tmp_path: Path) -> None:
    home = tmp_path / "cli-home"
    assert steward_cli(home, "db", "upgrade").returncode == 0
    assert mode(home) == 0o700
    assert mode(home / "steward.db") == 0o600
