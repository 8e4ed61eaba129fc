"""Score a scanner's findings against the corpus labels: recall and precision per kind.

A finding is matched to a label by (path, line, kind), and with `by_commit` also by the
commit that added the line. A positive label with a matching finding is a true
positive, one without is a miss; a finding on a decoy's line or on a line with no label
of its kind is a false positive. Several findings on one line and kind count once, as
a reviewer reads them once.

gitleaks' JSON report and detect-secrets' baseline normalise to the same `Hit` shape;
both only know secrets, so every hit of theirs is of kind `secret`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from steward.scan.models import KINDS, Finding, Kind
from tests.scan.corpus import Label

Key = tuple[str, int, str, str | None]


@dataclass(frozen=True)
class Hit:
    """One reported line: where, which kind, which rule, and the commit for history."""

    path: str
    line: int
    kind: Kind
    rule: str = ""
    commit: str | None = None


@dataclass(frozen=True)
class Score:
    """True positives, false positives and misses of one kind."""

    kind: Kind
    tp: int
    fp: int
    fn: int

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0


def _key(path: str, line: int, kind: str, commit: str | None, by_commit: bool) -> Key:
    return (PurePosixPath(path).as_posix(), line, kind, commit if by_commit else None)


def _positives(labels: Iterable[Label], by_commit: bool) -> dict[Key, Label]:
    return {
        _key(lb.path, lb.line, lb.kind, lb.commit, by_commit): lb
        for lb in labels
        if not lb.is_decoy
    }


def _reported(hits: Iterable[Hit], by_commit: bool) -> dict[Key, Hit]:
    return {_key(h.path, h.line, h.kind, h.commit, by_commit): h for h in hits}


def score(
    labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False
) -> dict[Kind, Score]:
    """Per kind: findings on positive lines, findings elsewhere, positives not found."""
    positives = _positives(labels, by_commit)
    reported = _reported(hits, by_commit)
    scores = {}
    for kind in KINDS:
        wanted = {k for k in positives if k[2] == kind}
        got = {k for k in reported if k[2] == kind}
        scores[kind] = Score(kind, len(wanted & got), len(got - wanted), len(wanted - got))
    return scores


def misses(
    labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False
) -> Counter[tuple[str, str]]:
    """(kind, type) of each positive no finding matched: what rule writers should fix."""
    reported = _reported(hits, by_commit)
    return Counter(
        (lb.kind, lb.type)
        for key, lb in _positives(labels, by_commit).items()
        if key not in reported
    )


def false_alarms(
    labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False
) -> Counter[tuple[str, str]]:
    """(kind, what the line held) of each false positive: a decoy's type, or `unlabelled`,
    with the rule that fired."""
    positives = _positives(labels, by_commit)
    decoys = {
        _key(lb.path, lb.line, lb.kind, lb.commit, by_commit): lb for lb in labels if lb.is_decoy
    }
    alarms: Counter[tuple[str, str]] = Counter()
    for key, hit in _reported(hits, by_commit).items():
        if key in positives:
            continue
        held = decoys[key].type if key in decoys else "unlabelled"
        alarms[(hit.kind, f"{held} <- {hit.rule}")] += 1
    return alarms


def from_findings(findings: Iterable[Finding]) -> list[Hit]:
    """Steward's findings as hits."""
    return [Hit(f.path, f.line, f.kind, f.rule_id, f.commit) for f in findings]


def _relative(path: str, root: Path) -> str:
    candidate = Path(path)
    for base in (root, root.resolve()):
        try:
            return candidate.relative_to(base).as_posix()
        except ValueError:
            continue
    return PurePosixPath(path).as_posix().removeprefix("./")


def from_gitleaks(report: list[dict[str, Any]], root: Path) -> list[Hit]:
    """gitleaks' JSON report (`File`, `StartLine`, `RuleID`, `Commit`) as secret hits."""
    return [
        Hit(
            _relative(r["File"], root),
            int(r["StartLine"]),
            "secret",
            r.get("RuleID", ""),
            r.get("Commit") or None,
        )
        for r in report
    ]


def from_detect_secrets(baseline: dict[str, Any], root: Path) -> list[Hit]:
    """detect-secrets' baseline (`results: {filename: [{line_number, type}]}`) as secret hits."""
    return [
        Hit(_relative(filename, root), int(r["line_number"]), "secret", r.get("type", ""))
        for filename, results in baseline.get("results", {}).items()
        for r in results
    ]
