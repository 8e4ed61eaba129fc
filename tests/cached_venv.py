"""Virtual environments for tools that cannot share the test environment, built once and reused.

Each lives in `~/.cache/steward-tests/<name>-<key>` (`$XDG_CACHE_HOME` if set), where the key
hashes the requirements and the constraints file: the same pins reuse the environment across
runs, new pins build a new one beside it. A file lock makes a second test run started meanwhile
(another checkout, another CI job on the machine) wait for the build instead of racing it, and a
marker written last tells a finished environment from one a killed build left half done. CI
keeps these environments between runs by caching `~/.cache/steward-tests`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import venv
from collections.abc import Sequence
from pathlib import Path

import pytest

COMPLETE = ".steward-complete"


def cache_root() -> Path:
    """The folder holding the tools' environments."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "steward-tests"


def cached_venv(
    name: str,
    requirements: Sequence[str],
    commands: Sequence[str],
    *,
    constraints: Path | None = None,
) -> Path:
    """The `bin` directory of an environment holding `requirements`, installed from PyPI.

    Skips the calling test, giving pip's reason, when the install cannot be done (no network,
    no wheel for this Python).
    """
    pinned = "\n".join([*requirements, constraints.read_text() if constraints else ""])
    env_dir = cache_root() / f"{name}-{hashlib.sha256(pinned.encode()).hexdigest()[:12]}"
    bin_dir = env_dir / "bin"
    env_dir.parent.mkdir(parents=True, exist_ok=True)
    with (env_dir.parent / f"{env_dir.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (env_dir / COMPLETE).exists():
            return bin_dir
        # Built in place: a virtual environment cannot be moved once its scripts are written.
        shutil.rmtree(env_dir, ignore_errors=True)
        venv.create(env_dir, with_pip=True)
        options = ["-c", str(constraints)] if constraints else []
        try:
            installed = subprocess.run(
                [str(bin_dir / "python"), "-m", "pip", "install", "-q", *options, *requirements],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            failure = "" if installed.returncode == 0 else installed.stderr[-500:]
        except subprocess.TimeoutExpired:
            failure = "pip did not finish in 900 s (is PyPI reachable?)"
        if failure or not all((bin_dir / c).exists() for c in commands):
            shutil.rmtree(env_dir, ignore_errors=True)
            pytest.skip(f"could not install {' '.join(requirements)}: {failure}")
        (env_dir / COMPLETE).touch()
    return bin_dir
