"""Score a scanner's findings against the corpus labels: recall and precision per kind.

A finding is matched to a label by (path, line, kind), and with `by_commit` also by the
commit that added the line; a finding whose match spans lines (gitleaks reports
`StartLine` and `EndLine`) covers every label of its kind on those lines. A positive
label some finding covers is a true positive, one none covers is a miss; a finding
covering no positive label (a decoy's line, or a line with no label of its kind) is a
false positive. Several findings on one line and kind count once, as a reviewer reads
them once.

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
    end_line: int = 0  # the last line a multi-line match covers; 0: `line` only


@dataclass(frozen=True)
class Score:
    """One kind's counts. Recall counts labels: `found` positives of `found + fn`.
    Precision counts reported lines: `tp` lines covering a positive, `fp` covering none.
    (`tp` may differ from `found` when a multi-line value is reported on two lines.)"""

    kind: Kind
    found: int
    fn: int
    tp: int
    fp: int

    @property
    def recall(self) -> float:
        return self.found / (self.found + self.fn) if self.found + self.fn else 1.0

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


def _covered(labels: Sequence[Label], hits: Iterable[Hit], by_commit: bool) -> dict[Key, set[Key]]:
    """For each reported (path, line, kind[, commit]): the positive labels it covers,
    those whose lines (from where their syntax opens to their value) meet the hit's."""
    at: dict[Key, set[Key]] = {}
    for key, label in _positives(labels, by_commit).items():
        for line in range(label.opens or label.line, label.line + 1):
            at.setdefault((key[0], line, key[2], key[3]), set()).add(key)
    covered: dict[Key, set[Key]] = {}
    for key, hit in _reported(hits, by_commit).items():
        lines = range(hit.line, max(hit.line, hit.end_line) + 1)
        covered[key] = set().union(
            *(at.get((key[0], line, key[2], key[3]), set()) for line in lines)
        )
    return covered


def score(
    labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False
) -> dict[Kind, Score]:
    """Per kind: findings covering positives, findings covering none, positives not found."""
    positives = _positives(labels, by_commit)
    covered = _covered(labels, hits, by_commit)
    found = set().union(*covered.values()) if covered else set()
    scores = {}
    for kind in KINDS:
        reported = [k for k in covered if k[2] == kind]
        tp = sum(1 for k in reported if covered[k])
        wanted = [k for k in positives if k[2] == kind]
        hit = sum(1 for k in wanted if k in found)
        scores[kind] = Score(kind, hit, len(wanted) - hit, tp, len(reported) - tp)
    return scores


def missed(labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False) -> list[Label]:
    """The positives no finding covered."""
    covered = _covered(labels, hits, by_commit)
    found = set().union(*covered.values()) if covered else set()
    return [lb for key, lb in _positives(labels, by_commit).items() if key not in found]


def decoys_reported(
    labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False
) -> list[Label]:
    """The decoys whose line a finding of their kind reported (and no positive was there)."""
    wrong = {key for key, found in _covered(labels, hits, by_commit).items() if not found}
    return [
        lb
        for lb in labels
        if lb.is_decoy and _key(lb.path, lb.line, lb.kind, lb.commit, by_commit) in wrong
    ]


def misses(
    labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False
) -> Counter[tuple[str, str]]:
    """(kind, type) of each positive no finding covered: what rule writers should fix."""
    return Counter((lb.kind, lb.type) for lb in missed(labels, hits, by_commit=by_commit))


def false_alarms(
    labels: Sequence[Label], hits: Iterable[Hit], *, by_commit: bool = False
) -> Counter[tuple[str, str]]:
    """(kind, what the line held <- rule) of each false positive: a decoy's type, or
    `unlabelled`."""
    decoys = {
        _key(lb.path, lb.line, lb.kind, lb.commit, by_commit): lb for lb in labels if lb.is_decoy
    }
    reported = _reported(hits, by_commit)
    alarms: Counter[tuple[str, str]] = Counter()
    for key, hits_covered in _covered(labels, hits, by_commit).items():
        if not hits_covered:
            held = decoys[key].type if key in decoys else "unlabelled"
            alarms[(key[2], f"{held} <- {reported[key].rule}")] += 1
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
    """gitleaks' JSON report (`File`, `StartLine`, `EndLine`, `RuleID`, `Commit`) as
    secret hits."""
    return [
        Hit(
            _relative(r["File"], root),
            int(r["StartLine"]),
            "secret",
            r.get("RuleID", ""),
            r.get("Commit") or None,
            int(r.get("EndLine") or 0),
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
