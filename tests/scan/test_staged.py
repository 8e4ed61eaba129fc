"""`--staged` scans what the next commit would add, and `.pre-commit-hooks.yaml` runs it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import yaml

from steward.scan.models import ScanOptions
from steward.scan.run import rule_set, run_scan
from tests.cli_run import steward_cli
from tests.scan.conftest import TOKEN, git

REPO_ROOT = Path(__file__).resolve().parents[2]

# pre-commit's manifest schema (pre_commit/clientlib.py, MANIFEST_HOOK_DICT, pre-commit
# 3.x/4.x): required and optional keys with their types, and the stages it accepts.
REQUIRED = {"id": str, "name": str, "entry": str, "language": str}
OPTIONAL = {
    "alias": str, "files": str, "exclude": str, "types": list, "types_or": list,
    "exclude_types": list, "additional_dependencies": list, "args": list,
    "always_run": bool, "fail_fast": bool, "pass_filenames": bool, "description": str,
    "language_version": str, "log_file": str, "minimum_pre_commit_version": str,
    "require_serial": bool, "stages": list, "verbose": bool,
}  # fmt: skip
STAGES = {
    "commit-msg", "post-checkout", "post-commit", "post-merge", "post-rewrite", "pre-commit",
    "pre-merge-commit", "pre-push", "pre-rebase", "prepare-commit-msg", "manual",
}  # fmt: skip


def staged(repo: Path) -> list[tuple[str, str, int]]:
    result = run_scan(repo, staged=True, rules=rule_set(ScanOptions()))
    return [(f.rule_id, f.path, f.line) for f in result.findings]


def test_staged_scans_the_index_not_the_working_tree_nor_history(
    leaky_repo: tuple[Path, str],
) -> None:
    repo, _ = leaky_repo  # its history holds a deleted token: --staged does not see it
    (repo / "app.env").write_text("A=1\nB=2\n")
    git(repo, "add", "app.env")
    assert staged(repo) == []
    (repo / "app.env").write_text(f"A=1\nB=2\nGITHUB_TOKEN={TOKEN}\n")
    assert staged(repo) == []  # changed in the working tree, not staged
    git(repo, "add", "app.env")
    assert staged(repo) == [("github-token", "app.env", 3)]


def test_staged_notebook_lines_are_decoded(leaky_repo: tuple[Path, str]) -> None:
    repo, _ = leaky_repo
    cell = {"cell_type": "code", "source": ['host = "10.9.8.7"\n'], "metadata": {}}
    (repo / "nb.ipynb").write_text(json.dumps({"cells": [cell]}, indent=1) + "\n")
    git(repo, "add", "nb.ipynb")
    assert staged(repo) == [("private-ipv4", "nb.ipynb", 6)]


def test_pre_commit_manifest_follows_pre_commits_schema() -> None:
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list)
    [hook] = hooks
    for key, kind in REQUIRED.items():
        assert isinstance(hook.get(key), kind), key
    for key, value in hook.items():
        assert key in REQUIRED or key in OPTIONAL, f"pre-commit does not know {key!r}"
        assert isinstance(value, (REQUIRED | OPTIONAL)[key]), key
    assert set(hook.get("stages", [])) <= STAGES
    assert hook["id"] == "steward-scan"
    assert hook["language"] == "python"  # pre-commit pip-installs this repository
    # The hook scans the index itself; file names pre-commit would pass mean nothing to it.
    assert hook["pass_filenames"] is False


def test_the_hooks_entry_refuses_a_staged_secret_in_a_real_repository(
    tmp_path: Path, leaky_repo: tuple[Path, str]
) -> None:
    repo, _ = leaky_repo
    [hook] = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    program, *arguments = shlex.split(hook["entry"])
    assert program == "steward"
    # pre-commit runs the entry from the repository's root; `steward` is this checkout's CLI.
    (repo / "deploy.env").write_text(f"GITHUB_TOKEN={TOKEN}\n")
    git(repo, "add", "deploy.env")
    refused = steward_cli(tmp_path / "home", *arguments, cwd=repo)
    assert refused.returncode == 1, refused.stderr
    assert "deploy.env" in refused.stdout
    assert TOKEN not in refused.stdout + refused.stderr
    (repo / "deploy.env").write_text("GITHUB_TOKEN=${GITHUB_TOKEN}\n")
    git(repo, "add", "deploy.env")
    allowed = steward_cli(tmp_path / "home", *arguments, cwd=repo)
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_staged_outside_a_repository_exits_2(tmp_path: Path) -> None:
    result = steward_cli(tmp_path / "home", "scan", str(tmp_path), "--staged")
    assert result.returncode == 2
    assert "--staged: git diff failed" in result.stderr


def test_staged_with_history_exits_2(tmp_path: Path, leaky_repo: tuple[Path, str]) -> None:
    repo, _ = leaky_repo
    result = steward_cli(tmp_path / "home", "scan", str(repo), "--staged", "--history")
    assert result.returncode == 2
    assert "cannot be combined" in result.stderr
