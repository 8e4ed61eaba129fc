"""Baselines: the findings a team has accepted, so later scans report only new ones.

A baseline file is JSON, `{"steward_baseline": 1, "findings": [...]}`, each finding with
its fingerprint and, for the reader, its rule, path, line, commit and redacted match (no
secret in full). Only the fingerprint decides: a hash of rule, path and secret, so a
finding stays in the baseline when lines above it are added or removed, and, in history,
the same secret in the same file is one accepted finding whatever commit it is in. A
secret moved to another file is a new finding: accepting a token in a test fixture is
not accepting it in a deployment config.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from steward.errors import InvalidInput
from steward.scan.models import Finding

FORMAT_KEY = "steward_baseline"
FORMAT_VERSION = 1
SHOWN_FIELDS = ("rule_id", "path", "line", "commit", "redacted")


def write_baseline(path: Path, findings: Sequence[Finding]) -> None:
    """Write `findings` as the baseline at `path` (replacing it), sorted so that a
    baseline kept in git changes only where findings do."""
    rows = sorted(
        {f.fingerprint: f for f in findings}.values(), key=lambda f: (f.path, f.rule_id, f.line)
    )
    document = {
        FORMAT_KEY: FORMAT_VERSION,
        "findings": [
            {"fingerprint": f.fingerprint, **{k: getattr(f, k) for k in SHOWN_FIELDS}} for f in rows
        ],
    }
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"--write-baseline: cannot write {path}: {exc.strerror}") from exc


def read_baseline(path: Path) -> frozenset[str]:
    """The fingerprints a baseline file accepts; `InvalidInput` naming the file when it is
    missing or not a Steward baseline."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"--baseline: cannot read {path}: {exc.strerror}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--baseline: {path} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or document.get(FORMAT_KEY) != FORMAT_VERSION:
        raise InvalidInput(
            f"--baseline: {path} is not a Steward baseline "
            f'(expected {{"{FORMAT_KEY}": {FORMAT_VERSION}, "findings": [...]}}, '
            "as --write-baseline writes)"
        )
    rows = document.get("findings")
    if not isinstance(rows, list):
        raise InvalidInput(f"--baseline: {path}: findings must be a list")
    fingerprints = set()
    for number, row in enumerate(rows):
        if not isinstance(row, dict) or not isinstance(row.get("fingerprint"), str):
            raise InvalidInput(f"--baseline: {path}: findings[{number}] has no fingerprint")
        fingerprints.add(row["fingerprint"])
    return frozenset(fingerprints)


def new_findings(findings: Iterable[Finding], accepted: frozenset[str]) -> list[Finding]:
    """The findings whose fingerprint the baseline does not hold."""
    return [f for f in findings if f.fingerprint not in accepted]
