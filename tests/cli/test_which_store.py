"""Which store a command opens: named on stderr, and never made up where none is."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from steward.store.database import describe_url
from tests.cli_run import steward_cli


def test_a_read_where_there_is_no_store_says_so_and_creates_nothing(tmp_path: Path) -> None:
    home = tmp_path / "typo-home"
    done = steward_cli(home, "audit", "log")
    assert done.returncode == 4
    assert f"no Steward store at {home / 'steward.db'}" in done.stderr
    assert "steward serve" in done.stderr
    assert "Traceback" not in done.stderr
    assert not home.exists()


@pytest.mark.slow
def test_commands_name_the_store_on_stderr_and_keep_stdout_parseable(tmp_path: Path) -> None:
    created = steward_cli(tmp_path, "db", "upgrade")
    assert created.returncode == 0, created.stderr
    assert f"store: {tmp_path / 'steward.db'} (new" in created.stderr
    done = steward_cli(tmp_path, "audit", "log", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert f"store: {tmp_path / 'steward.db'}\n" in done.stderr
    assert json.loads(done.stdout)["records"] == []


def test_a_store_url_is_shown_without_its_password() -> None:
    shown = describe_url("postgresql+psycopg://steward:hunter2@db.example.com:5432/steward")
    assert "hunter2" not in shown
    assert shown == "postgresql+psycopg://steward:***@db.example.com:5432/steward"
    assert describe_url("sqlite:////srv/steward/steward.db") == "/srv/steward/steward.db"


@pytest.mark.slow
def test_serve_on_a_taken_port_exits_2_before_claiming_to_listen(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = steward_cli(tmp_path / "home", "serve", "--port", str(port), timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"127.0.0.1:{port} is already in use" in done.stderr
    assert "listening" not in done.stderr
    assert done.stdout == ""  # no admin token shown for a server that never started
