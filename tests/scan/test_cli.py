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


@pytest.mark.slow
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


ACME_CONFIG = """
[extend]
useDefault = true

[[rules]]
id = "acme-key"
regex = '''acme_key\\s*=\\s*(\\w{16})'''
secretGroup = 1
keywords = ["acme_key"]
"""


def test_junit_output_parses_with_one_failure_per_finding(tmp_path: Path) -> None:
    from xml.etree import ElementTree

    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.env").write_text(f"T={TOKEN}\nhost=10.1.1.1\n")
    out = tmp_path / "scan.xml"
    result = steward_cli(
        tmp_path / "home", "scan", str(tmp_path / "tree"), "--format", "junit", "--output", str(out)
    )
    assert result.returncode == 1, result.stderr
    suite = ElementTree.fromstring(out.read_text())
    assert suite.get("failures") == "2"
    assert [c.get("name") for c in suite.findall("testcase")] == [
        "github-token a.env:1",
        "private-ipv4 a.env:2",
    ]
    assert TOKEN not in out.read_text()


@pytest.mark.slow
def test_config_option_reads_a_gitleaks_toml_and_a_tree_config_is_ignored_with_a_warning(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "app.ini").write_text("acme_key = Qx7vN2pLm9Rt4Kz8\n")
    # The scanned repository tries to silence everything; it is not the operator.
    (tree / ".gitleaks.toml").write_text("[[allowlists]]\npaths = ['''.*''']\n")
    config = tmp_path / "team.toml"
    config.write_text(ACME_CONFIG)
    result = steward_cli(
        tmp_path / "home", "scan", str(tree), "--config", str(config), "--format", "json"
    )
    assert result.returncode == 1, result.stderr
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == ["acme-key"]
    assert "warning:" in result.stderr
    assert ".gitleaks.toml: present in the scanned tree and NOT read" in result.stderr
    # Named by the operator, the tree's own config is read.
    named = steward_cli(
        tmp_path / "home", "scan", str(tree), "--config", str(tree / ".gitleaks.toml")
    )
    assert named.returncode == 0, named.stdout + named.stderr
    assert "NOT read" not in named.stderr


def test_scan_table_in_steward_toml_names_the_config(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "team.toml").write_text(ACME_CONFIG)
    (home / "steward.toml").write_text('[scan]\nconfig = "team.toml"\n')
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "app.ini").write_text("acme_key = Qx7vN2pLm9Rt4Kz8\n")
    result = steward_cli(home, "scan", str(tmp_path / "tree"), "--format", "json")
    assert result.returncode == 1, result.stderr
    assert [f["rule_id"] for f in json.loads(result.stdout)["findings"]] == ["acme-key"]


def test_unknown_scan_key_in_steward_toml_exits_2(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "steward.toml").write_text('[scan]\nconfg = "team.toml"\n')
    (tmp_path / "tree").mkdir()
    result = steward_cli(home, "scan", str(tmp_path / "tree"))
    assert result.returncode == 2
    assert "[scan] has unknown key(s) confg" in result.stderr


def test_bad_gitleaks_config_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "bad.toml").write_text("[[rules]]\nid = 'x'\nregex = '(?<=a)b'\n")
    result = steward_cli(
        tmp_path / "home", "scan", str(tmp_path / "tree"), "--config", str(tmp_path / "bad.toml")
    )
    assert result.returncode == 2
    assert "bad.toml: rule x: not a valid RE2 regex" in result.stderr


@pytest.mark.slow
def test_since_and_ignore_file_from_the_command_line(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    repo, leaked = leaky_repo
    home = tmp_path / "home"
    since = steward_cli(home, "scan", str(repo), "--since", leaked, "--format", "json")
    assert since.returncode == 0, since.stderr
    assert json.loads(since.stdout) == {"findings": []}
    ignore = tmp_path / "ignore"
    ignore.write_text(f"{leaked}:settings.py:github-token:2\n")
    ignored = steward_cli(home, "scan", str(repo), "--history", "--ignore-file", str(ignore))
    assert ignored.returncode == 0, ignored.stdout + ignored.stderr
    bad = steward_cli(home, "scan", str(repo), "--since", "v9.9.9")
    assert bad.returncode == 2
    assert "--since: 'v9.9.9' is not a commit" in bad.stderr


def test_scan_settings_come_from_the_environment_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from steward.config import load_settings

    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    monkeypatch.setenv("STEWARD_SCAN_CONFIG", str(tmp_path / "team.toml"))
    monkeypatch.setenv("STEWARD_SCAN_INTERNAL_DOMAINS", '["corp.example.com"]')
    settings = load_settings()
    assert settings.scan_config == tmp_path / "team.toml"
    assert settings.scan_internal_domains == ["corp.example.com"]


@pytest.mark.slow
def test_jobs_2_reports_what_jobs_1_does_on_a_tree_big_enough_for_workers(
    tmp_path: Path,
) -> None:
    # Over the engine's in-process threshold (4 MiB), so --jobs 2 really starts workers.
    tree = tmp_path / "tree"
    tree.mkdir()
    filler = "".join(f"value_{n} = compute({n}, 'ordinary text')\n" for n in range(5_000))
    for n in range(12):
        (tree / f"module_{n:02}.py").write_text(f"{filler}TOKEN_{n} = '{TOKEN}'\n{filler}")
    reports = {
        jobs: steward_cli(tmp_path / "home", "scan", str(tree), "--format", "json", "--jobs", jobs)
        for jobs in ("1", "2")
    }
    assert [r.returncode for r in reports.values()] == [1, 1], reports["2"].stderr
    assert reports["1"].stdout == reports["2"].stdout
    paths = [f["path"] for f in json.loads(reports["2"].stdout)["findings"]]
    assert paths == [f"module_{n:02}.py" for n in range(12)]


def test_jobs_0_exits_2_naming_the_option(tmp_path: Path) -> None:
    result = steward_cli(tmp_path / "home", "scan", str(tmp_path), "--jobs", "0")
    assert result.returncode == 2
    assert "--jobs" in result.stderr
