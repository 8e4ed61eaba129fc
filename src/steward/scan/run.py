"""One scan: pick the target, run the rules over its chunks, return the findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from steward.scan.engine import chunks_of, compile_rules, scan_chunks
from steward.scan.models import Finding, Rule
from steward.scan.rules import DEFAULT_RULES
from steward.scan.targets import directory_lines, history_lines


def scan(
    root: Path,
    *,
    history: bool = False,
    rules: Sequence[Rule] = DEFAULT_RULES,
    jobs: int | None = None,
) -> list[Finding]:
    """The findings in the files under `root`, or with `history` in every line any commit
    on any ref of the repository at `root` added; `jobs` worker processes (default: one
    per CPU) scan while the target is read."""
    compiled = compile_rules(rules)
    lines = history_lines(root) if history else directory_lines(root)
    return list(scan_chunks(compiled, chunks_of(lines), jobs=jobs))
