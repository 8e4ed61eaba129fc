"""`steward audit` on a local installation: verify's exit codes, log, reports, checkpoints."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.cli.test_token_cli import run

# Each case runs several `steward` processes in a row (~30 s here under load).
pytestmark = pytest.mark.slow


def test_verify_exits_0_when_intact_and_1_naming_the_bad_record(tmp_path: Path) -> None:
    for user in ("ana", "bob", "carl"):
        assert run(tmp_path, "token", "create", "--user", user).returncode == 0
    intact = run(tmp_path, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("ok: 3 records")
    with sqlite3.connect(tmp_path / "steward.db") as db:
        db.execute("UPDATE audit_records SET actor_user = 'mallory' WHERE seq = 2")
    broken = run(tmp_path, "audit", "verify", "--json")
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["first_bad_seq"] == 2
    assert json.loads(broken.stdout)["problem"] == "modified"


def test_exported_checkpoints_catch_a_cut_tail(tmp_path: Path) -> None:
    for user in ("ana", "bob", "carl"):
        run(tmp_path, "token", "create", "--user", user)
    exported = tmp_path / "kept-elsewhere.jsonl"
    made = run(tmp_path, "audit", "checkpoint", "--export", str(exported))
    assert made.returncode == 0, made.stderr
    assert "seq 3" in made.stderr
    (tmp_path / "audit" / "checkpoints.jsonl").unlink()
    with sqlite3.connect(tmp_path / "steward.db") as db:
        db.execute("DELETE FROM audit_records WHERE seq = 3")
        db.execute("DELETE FROM audit_checkpoints")
        db.execute("UPDATE audit_head SET seq = 2")
    assert run(tmp_path, "audit", "verify").returncode == 0
    caught = run(tmp_path, "audit", "verify", "--checkpoints", str(exported))
    assert caught.returncode == 1
    assert caught.stdout.startswith("seq 3: truncated")


def test_log_and_reports_print_json_and_csv(tmp_path: Path) -> None:
    run(tmp_path, "token", "create", "--user", "ana")
    shown = run(tmp_path, "audit", "log", "--action", "token.*", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)  # one JSON document, paged like the API's
    (record,) = document["records"]
    assert record["details"]["user"] == "ana"
    assert document["next_offset"] is None
    lines = run(tmp_path, "audit", "log", "--action", "token.*", "--format", "jsonl")
    assert [json.loads(line) for line in lines.stdout.splitlines()] == [record]
    report = run(tmp_path, "audit", "report", "queries-per-day", "--format", "csv")
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines()[0] == "day,user,queries,denied"
    unknown = run(tmp_path, "audit", "report", "nope")
    assert unknown.returncode == 2
    assert "nope" in unknown.stderr


def test_archive_then_verify_archive(tmp_path: Path) -> None:
    run(tmp_path, "token", "create", "--user", "ana")
    archived = run(tmp_path, "audit", "archive", "--older-than-days", "0")
    assert archived.returncode == 0, archived.stderr
    assert "archived seq 1..1" in archived.stderr
    run(tmp_path, "token", "create", "--user", "bob")
    result = run(tmp_path, "audit", "verify", "--archive")
    assert result.returncode == 0, result.stdout
    assert "2 records" in result.stdout
