"""The repository passes its own release scanner over the history HEAD reaches, with the
committed baseline of deliberate fixtures (docs/scan.md, "Scanning Steward itself")."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli_run import steward_cli

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "tests" / "scan-baseline.json"
ADD_FIXTURE = "steward scan --history --ref HEAD --write-baseline tests/scan-baseline.json ."


def _no_history() -> str | None:
    """Why this checkout has no whole history to scan, or None when it has."""
    try:
        result = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--show-toplevel", "--is-shallow-repository"],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return "git is not installed"
    lines = result.stdout.splitlines()
    if result.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != ROOT:
        return "this checkout is not a git repository (e.g. an sdist or a tarball)"
    if lines[1] == "true":
        # A shallow clone's first commit adds the whole tree at once: not the history.
        return "this is a shallow clone; `git fetch --unshallow` to scan the whole history"
    return None


def test_history_reachable_from_head_has_no_finding_outside_the_baseline(tmp_path: Path) -> None:
    reason = _no_history()
    if reason is not None:
        pytest.skip(reason)
    result = steward_cli(
        tmp_path / "home",
        "scan",
        str(ROOT),
        "--history",
        "--ref",
        "HEAD",
        "--baseline",
        str(BASELINE),
        "--format",
        "json",
    )
    assert result.returncode in (0, 1), result.stderr
    found = json.loads(result.stdout)["findings"]
    shown = [f"{f['rule_id']} {f['path']}:{f['line']} {f['commit'][:12]}" for f in found]
    assert not found, (
        "the release scan found what the baseline does not accept. A real finding must be"
        f" fixed; a deliberate test fixture is accepted by running `{ADD_FIXTURE}` at the"
        " repository's root and committing the baseline:\n" + "\n".join(shown)
    )
    assert result.returncode == 0, result.stderr


def test_baseline_holds_no_secret_in_full() -> None:
    document = json.loads(BASELINE.read_text(encoding="utf-8"))
    assert document["findings"], "the baseline is empty: the scan would accept nothing"
    for row in document["findings"]:
        assert set(row) == {"fingerprint", "rule_id", "path", "line", "commit", "redacted"}
        assert "*" in row["redacted"] or len(row["redacted"]) <= 4, row
