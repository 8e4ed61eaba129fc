"""`steward lineage sql`: the lineage of a SQL file (or stdin) as JSON, no server needed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cli_run import STEWARD, steward_cli

# Slow: each case runs `steward` in subprocesses (about a second each).
pytestmark = pytest.mark.slow


def test_a_file_with_a_yaml_schema_and_defaults(tmp_path: Path) -> None:
    sql = tmp_path / "view.sql"
    sql.write_text('CREATE VIEW crm.v AS SELECT * FROM "Users" WHERE active')
    schema = tmp_path / "schema.yaml"
    tables = {"app": {"crm": {"Users": {"id": "int", "active": "bool"}}}}
    schema.write_text(yaml.safe_dump(tables, sort_keys=False))
    done = steward_cli(
        tmp_path / "home",
        "lineage", "sql", str(sql),
        "--dialect", "postgres",
        "--schema", str(schema),
        "--default-catalog", "app",
        "--default-schema", "crm",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["statement"] == "CREATE_VIEW"
    assert body["inputs"] == ["app.crm.Users"]
    assert body["outputs"] == ["app.crm.v"]
    assert [(c["column"], c["upstreams"]) for c in body["columns"]] == [
        ("id", [{"table": "app.crm.Users", "column": "id"}]),
        ("active", [{"table": "app.crm.Users", "column": "active"}]),
    ]


def test_stdin_and_a_json_schema(tmp_path: Path) -> None:
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"t": {"a": "int"}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(tmp_path / "home")
    done = subprocess.run(
        [*STEWARD, "lineage", "sql", "-", "--schema", str(schema)],
        input="SELECT a, b FROM t",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["columns"][0]["upstreams"] == [{"table": "t", "column": "a"}]
    assert body["unresolved"] == [
        {"table": None, "column": "b", "reason": "column b is not in table t"}
    ]


def test_bad_sql_exits_2_with_the_reason_and_no_traceback(tmp_path: Path) -> None:
    sql = tmp_path / "bad.sql"
    sql.write_text("SELECT FROM WHERE (")
    done = steward_cli(tmp_path / "home", "lineage", "sql", str(sql), "--dialect", "postgres")
    assert done.returncode == 2
    assert "sql: " in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_missing_file_or_schema_exits_2_naming_it(tmp_path: Path) -> None:
    missing = steward_cli(tmp_path / "home", "lineage", "sql", str(tmp_path / "none.sql"))
    assert missing.returncode == 2
    assert "none.sql" in missing.stderr
    sql = tmp_path / "ok.sql"
    sql.write_text("SELECT 1")
    bad_schema = tmp_path / "schema.yaml"
    bad_schema.write_text("- just\n- a list\n")
    refused = steward_cli(
        tmp_path / "home", "lineage", "sql", str(sql), "--schema", str(bad_schema)
    )
    assert refused.returncode == 2
    assert "--schema" in refused.stderr
