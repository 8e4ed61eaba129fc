"""Scan a document with the built-in rules and say what was reported where."""

from __future__ import annotations

from functools import cache

from steward.scan.engine import CompiledRule, compile_rules, scan_chunks
from steward.scan.models import Chunk, ScanOptions
from steward.scan.rules import default_rules

# The operator of the tests: acme's internal zone, and its mail domain allowed.
ACME = ScanOptions(internal_domains=("corp.acme.io",), allowed_email_domains=("acme.io",))


@cache
def _rules(options: ScanOptions) -> tuple[CompiledRule, ...]:
    return compile_rules(default_rules(options))


def reported(
    text: str, *, kind: str, path: str = "config.yaml", options: ScanOptions = ACME
) -> list[tuple[str, int, int]]:
    """(rule id, line, column) of every finding of `kind` in `text`."""
    findings = scan_chunks(_rules(options), [Chunk(path, text)])
    return [(f.rule_id, f.line, f.column) for f in findings if f.kind == kind]


def where(text: str, value: str, occurrence: int = 1) -> tuple[int, int]:
    """(line, column) of the `occurrence`-th `value` in `text`, 1-based as findings are."""
    start = -1
    for _ in range(occurrence):
        start = text.index(value, start + 1)
    before = text[:start]
    return before.count("\n") + 1, start - (before.rfind("\n") + 1) + 1
