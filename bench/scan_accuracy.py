"""Recall and precision per kind of Steward's release scanner against gitleaks 8.30 and
detect-secrets 1.5, on one labelled corpus, in one run.

The corpus (tests/scan/corpus.py) is a generated monorepo of configs, manifests,
notebooks and sources: 384 secrets of 78 types, 123 internal host names, 91 private
addresses, 110 pieces of personal data, and as many near-miss decoys, each labelled by
path and line. A finding matches a label by (path, line, kind); a finding on a decoy or
on an unlabelled line is a false positive (tests/scan/scoring.py). gitleaks and
detect-secrets only look for secrets, so their other kinds score zero recall.

Peers as an engineer would run them: `gitleaks dir ROOT -f json -r FILE` with its
default rules, and `detect-secrets scan --all-files --no-verify` from ROOT. With
`--history` the corpus is committed over several commits (some secrets added, then
deleted) and Steward's `--history` runs beside `gitleaks git`; matches then also need
the commit. Aims (issue 15): secrets recall >= 95% at precision >= 95%; hosts,
addresses and personal data each >= 90% at >= 90%.

    python bench/scan_accuracy.py [--seed 0] [--history] [--keep DIR] [--details] [--show TYPE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

# The corpus generator and scorer live with the tests that use them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scan.corpus import CORPUS_OPTIONS, Label, build_corpus, build_corpus_repo
from tests.scan.scoring import (
    Hit,
    decoys_reported,
    false_alarms,
    from_detect_secrets,
    from_findings,
    from_gitleaks,
    missed,
    misses,
    score,
)

from steward.scan.models import KINDS
from steward.scan.rules import default_rules
from steward.scan.run import scan

AIM = {
    "secret": (95.0, 95.0),
    "internal-host": (90.0, 90.0),
    "private-ip": (90.0, 90.0),
    "pii": (90.0, 90.0),
}


def run_steward(root: Path, history: bool) -> list[Hit]:
    findings = scan(root, history=history, rules=default_rules(CORPUS_OPTIONS))
    return from_findings(findings)


def run_gitleaks(root: Path, history: bool) -> list[Hit] | None:
    """gitleaks' default rules; it deletes its report file when it finds nothing."""
    gitleaks = shutil.which("gitleaks")
    if gitleaks is None:
        print("\ngitleaks: not on PATH (pip install 'data-steward[bench]'), skipped")
        return None
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "gitleaks.json"
        mode = ["git", str(root)] if history else ["dir", str(root)]
        command = [gitleaks, *mode, "--no-banner", "--exit-code", "0", "--log-level", "error"]
        subprocess.run([*command, "-f", "json", "-r", str(report)], check=True, capture_output=True)
        found = json.loads(report.read_text()) if report.exists() else []
    return from_gitleaks(found, root)


def run_detect_secrets(root: Path, history: bool) -> list[Hit] | None:
    """detect-secrets scans the working tree only (no history mode)."""
    if history:
        print("\ndetect-secrets: no history mode, skipped")
        return None
    tool = shutil.which("detect-secrets")
    if tool is None:
        print("\ndetect-secrets: not on PATH (pip install 'data-steward[bench]'), skipped")
        return None
    result = subprocess.run(
        [tool, "scan", "--all-files", "--no-verify"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return from_detect_secrets(json.loads(result.stdout), root)


TOOLS: dict[str, Callable[[Path, bool], list[Hit] | None]] = {
    "steward": run_steward,
    "gitleaks 8.30": run_gitleaks,
    "detect-secrets 1.5": run_detect_secrets,
}


def print_scores(
    name: str, labels: Sequence[Label], hits: list[Hit], seconds: float, by_commit: bool
) -> None:
    scores = score(labels, hits, by_commit=by_commit)
    print(f"\n{name}  ({seconds:.1f} s)")
    print(f"  {'kind':<14} {'recall':>7} {'precision':>9} {'TP':>5} {'FP':>5} {'FN':>5}   aim")
    # TP: positives found (recall's numerator); FP: reported lines holding no positive.
    for kind in KINDS:
        s = scores[kind]
        recall, precision = 100 * s.recall, 100 * s.precision
        met = "met" if recall >= AIM[kind][0] and precision >= AIM[kind][1] and s.found else "-"
        precision_text = f"{precision:6.1f}%" if s.tp + s.fp else "n/a"
        aim = f"{AIM[kind][0]:.0f}/{AIM[kind][1]:.0f} {met}"
        print(
            f"  {kind:<14} {recall:6.1f}% {precision_text:>9} {s.found:5} {s.fp:5} {s.fn:5}   {aim}"
        )


def print_details(
    name: str, labels: Sequence[Label], hits: list[Hit], by_commit: bool, top: int
) -> None:
    missed = misses(labels, hits, by_commit=by_commit)
    print(f"\n{name}: misses per type ({sum(missed.values())})")
    for (kind, type_), n in sorted(missed.items(), key=lambda item: (-item[1], item[0]))[:top]:
        print(f"  {n:4}  {kind:<14} {type_}")
    alarms = false_alarms(labels, hits, by_commit=by_commit)
    print(f"{name}: false positives by what the line held <- rule ({sum(alarms.values())})")
    for (kind, what), n in alarms.most_common(top):
        print(f"  {n:4}  {kind:<14} {what}")


def print_examples(
    root: Path, labels: Sequence[Label], hits: list[Hit], shown: str, by_commit: bool
) -> None:
    """Steward's misses and false positives of one label type, with the lines (the
    corpus' values are generated fakes, safe to print)."""
    for title, chosen in (
        ("missed", missed(labels, hits, by_commit=by_commit)),
        ("reported decoys", decoys_reported(labels, hits, by_commit=by_commit)),
    ):
        rows = [lb for lb in chosen if lb.type == shown]
        print(f"\nsteward, {title} of type {shown}: {len(rows)}")
        for label in rows[:15]:
            data = (root / label.path).read_bytes() if (root / label.path).exists() else b""
            lines = data.decode("utf-8", "replace").split("\n")
            text = (
                lines[label.line - 1].strip() if label.line <= len(lines) else "(in history only)"
            )
            print(f"  {label.path}:{label.line}  {text[:140]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--history", action="store_true", help="score git history scans")
    parser.add_argument("--keep", type=Path, help="write the corpus here and keep it")
    parser.add_argument(
        "--details", action="store_true", help="misses and false positives of every tool"
    )
    parser.add_argument(
        "--top", type=int, default=40, help="rows of misses/false positives to print"
    )
    parser.add_argument("--show", metavar="TYPE", help="Steward's misses/false positives of a type")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch) / "corpus"
        if root.exists():
            shutil.rmtree(root)
        started = time.perf_counter()
        labels = (
            build_corpus_repo(root, args.seed) if args.history else build_corpus(root, args.seed)
        )
        size = sum(
            p.stat().st_size for p in root.rglob("*") if p.is_file() and ".git" not in p.parts
        )
        positives = {
            kind: sum(1 for lb in labels if lb.kind == kind and not lb.is_decoy) for kind in KINDS
        }
        built = time.perf_counter() - started
        decoys = sum(lb.is_decoy for lb in labels)
        print(
            f"corpus seed {args.seed}: {size / 1e6:.1f} MB, {len(labels)} labels "
            f"({decoys} decoys), built in {built:.1f} s"
        )
        print("positives:", ", ".join(f"{kind} {n}" for kind, n in positives.items()))
        results: dict[str, list[Hit]] = {}
        for name, tool in TOOLS.items():
            started = time.perf_counter()
            hits = tool(root, args.history)
            if hits is None:
                continue
            results[name] = hits
            print_scores(name, labels, hits, time.perf_counter() - started, args.history)
        for name, hits in results.items():
            if args.details or name == "steward":
                print_details(name, labels, hits, args.history, args.top)
        if args.show:
            print_examples(root, labels, results["steward"], args.show, args.history)


if __name__ == "__main__":
    main()
