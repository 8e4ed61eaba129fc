"""A git repository built for the scanner's tests: a token added, then deleted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from steward.scan.secrets import github_checksum

BODY = "R4nd0mB0dyOfThirtyCharsXyZ0123"
TOKEN = "ghp_" + BODY + github_checksum(BODY)


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def leaky_repo(tmp_path: Path) -> tuple[Path, str]:
    """A repository where a token is added, then deleted three commits later."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "config", "commit.gpgsign", "false")
    (repo / "README.md").write_text("# app\n")
    commit(repo, "initial")
    (repo / "settings.py").write_text(f"DEBUG = False\nGITHUB_TOKEN = '{TOKEN}'\n")
    leaked = commit(repo, "add settings")
    for n in range(2):
        (repo / f"notes{n}.txt").write_text(f"note {n}\n")
        commit(repo, f"note {n}")
    (repo / "settings.py").write_text("DEBUG = False\nGITHUB_TOKEN = os.environ['TOKEN']\n")
    commit(repo, "read the token from the environment")
    return repo, leaked
