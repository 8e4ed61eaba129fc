"""`steward token` and `steward db` administer the local store directly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from steward.app import Steward
from steward.config import Settings
from steward.identity.tokens import authenticate
from tests.cli_run import steward_cli
from tests.store.test_store import newest_revision

# Slow: each case runs `steward` in subprocesses (about a second each).
pytestmark = pytest.mark.slow

STEWARD = [sys.executable, "-m", "steward.cli"]


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return steward_cli(home, *args, timeout=60)


def test_token_create_prints_only_the_token(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--user", "ana", "--groups", "analysts, eu")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    steward = Steward(Settings(home=tmp_path))
    principal = authenticate(steward.store, lines[0])
    assert principal.user == "ana"
    assert principal.groups == {"analysts", "eu"}
    assert not principal.is_admin
    steward.close()


def test_admin_token_and_listing(tmp_path: Path) -> None:
    secret = run(tmp_path, "token", "create", "--user", "root", "--admin").stdout.strip()
    listing = run(tmp_path, "token", "list")
    assert listing.returncode == 0
    assert "root" in listing.stdout
    assert secret not in listing.stdout


def test_bad_user_exits_2_with_a_message(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--user", "bad/name")
    assert result.returncode == 2
    assert "user" in result.stderr
    assert result.stdout == ""


def test_revoke_unknown_token_exits_4(tmp_path: Path) -> None:
    run(tmp_path, "db", "upgrade")
    result = run(tmp_path, "token", "revoke", "nope")
    assert result.returncode == 4
    assert "nope" in result.stderr


def test_db_upgrade_creates_the_store(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "steward.db").exists()
    assert run(tmp_path, "db", "current").stdout.strip() == newest_revision()


def test_token_create_with_scopes_and_attributes(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "token",
        "create",
        "--user",
        "airflow",
        "--scope",
        "lineage:write",
        "--attribute",
        "region=EU",
        "--attribute",
        "team=data",
    )
    assert result.returncode == 0, result.stderr
    steward = Steward(Settings(home=tmp_path))
    principal = authenticate(steward.store, result.stdout.strip())
    steward.close()
    assert principal.scopes == {"lineage:write"}
    assert principal.attribute_map == {"region": "EU", "team": "data"}
    listing = run(tmp_path, "token", "list")
    assert "lineage:write" in listing.stdout
    assert "region=EU,team=data" in listing.stdout


def test_unknown_scope_exits_2_naming_it(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--user", "airflow", "--scope", "lineage:admin")
    assert result.returncode == 2
    assert "'lineage:admin' is not a known scope" in result.stderr
    assert "lineage:write" in result.stderr
    assert result.stdout == ""
    assert "airflow" not in run(tmp_path, "token", "list").stdout


def test_attribute_without_a_value_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, "token", "create", "--user", "ana", "--attribute", "region")
    assert result.returncode == 2
    assert "NAME=VALUE" in result.stderr
