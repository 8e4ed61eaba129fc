"""Baselines: accepted findings stay accepted when lines move; new ones are reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.errors import InvalidInput
from steward.scan.baseline import read_baseline, write_baseline
from steward.scan.models import ScanOptions
from steward.scan.run import rule_set, run_scan
from tests.cli_run import steward_cli
from tests.scan.conftest import TOKEN

OTHER = "DATABASE_URL=postgresql://app:Zq8vR2mN9k@db/app"


def findings(tree: Path, baseline: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
    result = run_scan(tree, rules=rule_set(ScanOptions()), baseline=baseline)
    return [(f.path, f.line) for f in result.findings]


def test_a_moved_line_keeps_its_fingerprint_and_a_new_secret_is_reported(
    tmp_path: Path,
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "settings.py").write_text(f"TOKEN = '{TOKEN}'\n")
    before = run_scan(tree, rules=rule_set(ScanOptions())).findings
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, before)
    assert TOKEN not in baseline.read_text()

    (tree / "settings.py").write_text(f"import os\n\n\nTOKEN = '{TOKEN}'\n")
    after = run_scan(tree, rules=rule_set(ScanOptions())).findings
    assert [f.line for f in after] == [4]
    assert [f.fingerprint for f in after] == [f.fingerprint for f in before]
    assert findings(tree, read_baseline(baseline)) == []

    (tree / "db.env").write_text(OTHER + "\n")
    assert findings(tree, read_baseline(baseline)) == [("db.env", 1)]


def test_the_same_secret_in_another_file_is_a_new_finding(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "tests").mkdir(parents=True)
    (tree / "tests" / "fixture.py").write_text(f"TOKEN = '{TOKEN}'\n")
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, run_scan(tree, rules=rule_set(ScanOptions())).findings)
    (tree / "deploy.py").write_text(f"TOKEN = '{TOKEN}'\n")
    assert findings(tree, read_baseline(baseline)) == [("deploy.py", 1)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("not json", "is not JSON"),
        ('{"findings": []}', "is not a Steward baseline"),
        ('{"steward_baseline": 1, "findings": {}}', "findings must be a list"),
        ('{"steward_baseline": 1, "findings": [{"rule_id": "x"}]}', r"findings\[0\] has no"),
    ],
)
def test_a_bad_baseline_is_an_error_naming_the_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InvalidInput, match=message) as error:
        read_baseline(path)
    assert "base.json" in error.value.message


@pytest.mark.slow
def test_cli_write_baseline_then_baseline(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "settings.py").write_text(f"TOKEN = '{TOKEN}'\n")
    baseline = tmp_path / "baseline.json"
    home = tmp_path / "home"
    written = steward_cli(home, "scan", str(tree), "--write-baseline", str(baseline))
    assert written.returncode == 0, written.stderr
    assert "1 findings written" in written.stderr
    rows = json.loads(baseline.read_text())["findings"]
    assert [(r["rule_id"], r["path"], r["line"]) for r in rows] == [
        ("github-token", "settings.py", 1)
    ]
    assert TOKEN not in baseline.read_text()
    clean = steward_cli(home, "scan", str(tree), "--baseline", str(baseline))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (tree / "db.env").write_text(OTHER + "\n")
    new = steward_cli(home, "scan", str(tree), "--baseline", str(baseline), "--format", "json")
    assert new.returncode == 1
    assert [f["path"] for f in json.loads(new.stdout)["findings"]] == ["db.env"]


def test_cli_bad_baseline_exits_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "bad.json").write_text("[1, 2]")
    result = steward_cli(
        tmp_path / "home", "scan", str(tmp_path / "tree"), "--baseline", str(tmp_path / "bad.json")
    )
    assert result.returncode == 2
    assert "bad.json is not a Steward baseline" in result.stderr
