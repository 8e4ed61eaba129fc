"""Run the real `steward` command line in a subprocess against one STEWARD_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

STEWARD = [sys.executable, "-m", "steward.cli"]


def steward_cli(
    home: Path, *args: str, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`steward ARGS...` with only `STEWARD_HOME` set of Steward's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["STEWARD_HOME"] = str(home)
    return subprocess.run(
        [*STEWARD, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
