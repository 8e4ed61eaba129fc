"""One scan: pick the target, run the rules over its lines, return the findings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from steward.scan.engine import compile_rules, scan_lines
from steward.scan.models import Finding, Rule
from steward.scan.rules import DEFAULT_RULES
from steward.scan.targets import directory_lines, history_lines


def scan(
    root: Path, *, history: bool = False, rules: Sequence[Rule] = DEFAULT_RULES
) -> list[Finding]:
    """The findings in the files under `root`, or with `history` in every line any commit
    on any ref of the repository at `root` added."""
    compiled = compile_rules(rules)
    lines = history_lines(root) if history else directory_lines(root)
    return list(scan_lines(compiled, lines))
