"""Node packages for tests, installed once from the committed lock file and reused.

Like `tests/cached_venv.py`: each install lives in `~/.cache/steward-tests/<name>-<key>`,
the key hashing `package.json` and `package-lock.json`, so the same lock reuses it; a
file lock serialises concurrent runs, and a marker written last tells a finished
install from one a killed run left half done. `npm ci` installs exactly the lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cached_venv import COMPLETE, cache_root


def cached_npm(name: str, project: Path) -> Path:
    """A directory holding `project`'s files and its locked `node_modules`.

    Skips the calling test, giving npm's reason, when Node.js or the install is missing.
    """
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("Node.js and npm are not installed")
    files = ("package.json", "package-lock.json")
    pinned = b"".join((project / f).read_bytes() for f in files)
    target = cache_root() / f"{name}-{hashlib.sha256(pinned).hexdigest()[:12]}"
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / COMPLETE).exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            for f in files:
                shutil.copy2(project / f, target / f)
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                cwd=target,
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            if done.returncode != 0:
                pytest.skip(f"npm ci failed for {name}: {(done.stderr or done.stdout)[-800:]}")
            (target / COMPLETE).write_text("ok\n")
    # The scripts are copied on every run: they are not part of the install.
    for script in project.glob("*.mjs"):
        shutil.copy2(script, target / script.name)
    return target
