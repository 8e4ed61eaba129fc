"""`steward scan` through the real command line: exit codes, redaction, JSON and SARIF."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_run import steward_cli
from tests.scan.conftest import TOKEN

SCHEMA = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"


def test_clean_directory_exits_0(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("print('hello')\n")
    result = steward_cli(tmp_path / "home", "scan", str(tmp_path / "src"))
    assert result.returncode == 0, result.stderr
    assert "no findings" in result.stdout


def test_findings_exit_1_with_the_secret_redacted_in_the_table(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "settings.py").write_text(f"TOKEN = '{TOKEN}'\n")
    result = steward_cli(tmp_path / "home", "scan", str(tmp_path / "tree"))
    assert result.returncode == 1, result.stderr
    assert "github-token" in result.stdout
    assert "settings.py" in result.stdout
    assert TOKEN not in result.stdout


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = steward_cli(tmp_path / "home", "scan", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "not a directory" in result.stderr


def test_history_outside_a_repository_exits_2(tmp_path: Path) -> None:
    result = steward_cli(tmp_path / "home", "scan", str(tmp_path), "--history")
    assert result.returncode == 2
    assert "git log failed" in result.stderr


def test_history_json_names_the_commit_the_working_tree_does_not(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    repo, leaked = leaky_repo
    tree = steward_cli(tmp_path / "home", "scan", str(repo), "--format", "json")
    assert tree.returncode == 0, tree.stderr
    assert json.loads(tree.stdout) == {"findings": []}
    history = steward_cli(tmp_path / "home", "scan", str(repo), "--history", "--format", "json")
    assert history.returncode == 1, history.stderr
    [finding] = json.loads(history.stdout)["findings"]
    assert finding["commit"] == leaked
    assert (finding["rule_id"], finding["path"], finding["line"]) == (
        "github-token",
        "settings.py",
        2,
    )
    assert TOKEN not in history.stdout


def test_sarif_output_file_is_valid_sarif_2_1_0_with_commit_sha(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the [dev] extra")
    repo, leaked = leaky_repo
    out = tmp_path / "scan.sarif"
    result = steward_cli(
        tmp_path / "home",
        "scan",
        str(repo),
        "--history",
        "--format",
        "sarif",
        "--output",
        str(out),
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    sarif = json.loads(out.read_text())
    # The OASIS SARIF 2.1.0 schema (errata01), draft-04: see tests/scan/fixtures/README.md.
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(sarif)
    [run] = sarif["runs"]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert "github-token" in rule_ids
    [hit] = run["results"]
    assert hit["ruleId"] == "github-token"
    assert run["tool"]["driver"]["rules"][hit["ruleIndex"]]["id"] == "github-token"
    location = hit["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "settings.py"
    assert location["region"]["startLine"] == 2
    assert hit["properties"]["kind"] == "secret"
    assert hit["partialFingerprints"]["commitSha"] == leaked
    assert TOKEN not in out.read_text()


def test_sarif_of_a_clean_tree_is_valid_and_empty(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the [dev] extra")
    (tmp_path / "tree").mkdir()
    result = steward_cli(tmp_path / "home", "scan", str(tmp_path / "tree"), "--format", "sarif")
    assert result.returncode == 0, result.stderr
    sarif = json.loads(result.stdout)
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(sarif)
    assert sarif["runs"][0]["results"] == []


def test_unwritable_output_exits_2(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    result = steward_cli(
        tmp_path / "home", "scan", str(tmp_path / "tree"), "--output", str(tmp_path)
    )
    assert result.returncode == 2
    assert "cannot write" in result.stderr
