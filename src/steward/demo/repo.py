"""A small git repository whose history leaks a token, for `steward scan --history`.

The token is made when the demo runs, never stored in Steward's own repository (which
must pass its own release scan): a GitHub-style token whose last six characters are the
CRC32 checksum of the rest, as GitHub's are, so the scanner takes it for a real one.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from steward.errors import StewardError

REPO_DIR = "demo-repo"
LEAKED_FILE = "deploy/settings.py"


def planted_token(seed: str) -> str:
    """A GitHub-shaped personal access token, derived from `seed` (stable per home)."""
    from steward.scan.secrets_checks import BASE62, github_checksum

    digest = hashlib.sha256(f"steward-demo:{seed}".encode()).digest()
    body = "".join(BASE62[byte % 62] for byte in digest[:30])
    return "ghp_" + body + github_checksum(body)


def _git(repo: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ada Lovelace",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Lovelace",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
        "GIT_AUTHOR_DATE": "2026-10-01T09:00:00Z",
        "GIT_COMMITTER_DATE": "2026-10-01T09:00:00Z",
    }
    try:
        subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", "-C", str(repo), *args],  # noqa: S607 - git from PATH, as a user runs it
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        raise StewardError("demo: git is not installed; the scan demo needs it") from None
    except subprocess.CalledProcessError as exc:
        raise StewardError(f"demo: git {args[0]} failed: {exc.stderr.strip()}") from None


def build_repo(home: Path) -> Path:
    """Create `home/demo-repo` (when missing): one commit adds a token, the next removes
    it, so the working tree is clean and only the history leaks it."""
    repo = home / REPO_DIR
    if (repo / ".git").is_dir():
        return repo
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# deploy scripts\n", encoding="utf-8")
    settings = repo / LEAKED_FILE
    settings.parent.mkdir(exist_ok=True)
    settings.write_text(
        f'GITHUB_TOKEN = "{planted_token(str(home))}"\nREGION = "eu-west-1"\n', encoding="utf-8"
    )
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "deploy: settings for the release job")
    settings.write_text(
        'import os\n\nGITHUB_TOKEN = os.environ["GITHUB_TOKEN"]\nREGION = "eu-west-1"\n',
        encoding="utf-8",
    )
    _git(repo, "commit", "-q", "-am", "deploy: read the token from the environment")
    return repo
