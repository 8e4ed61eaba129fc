"""Scoring findings against corpus labels: what counts as found, as a false positive,
and how gitleaks' and detect-secrets' reports read into the same shape."""

from __future__ import annotations

from pathlib import Path

from tests.scan.corpus import Label
from tests.scan.scoring import (
    Hit,
    decoys_reported,
    from_detect_secrets,
    from_gitleaks,
    misses,
    score,
)

LABELS = [
    Label("app/.env", 3, "secret", "github-pat", "ghp_x"),
    Label("app/.env", 3, "internal-host", "internal-host", "db.corp.acme.io"),
    Label("app/.env", 5, "secret", "placeholder", "changeme", is_decoy=True),
    Label("k8s/secret.yaml", 8, "secret", "kubernetes-secret-data", "c2VjcmV0"),
    Label(
        "values.yaml", 7, "secret", "rsa-private-key", "-----BEGIN RSA PRIVATE KEY-----", opens=6
    ),
]


def test_a_finding_counts_on_its_line_and_kind_only() -> None:
    hits = [Hit("app/.env", 3, "secret"), Hit("app/.env", 3, "pii"), Hit("app/.env", 4, "secret")]
    scores = score(LABELS, hits)
    assert (scores["secret"].found, scores["secret"].fp, scores["secret"].fn) == (1, 1, 2)
    assert (scores["pii"].tp, scores["pii"].fp) == (0, 1)
    assert scores["internal-host"].recall == 0.0


def test_two_findings_on_one_line_count_once() -> None:
    hits = [Hit("app/.env", 3, "secret", "a"), Hit("app/.env", 3, "secret", "b")]
    assert score(LABELS, hits)["secret"].tp == 1


def test_a_finding_on_a_decoy_is_a_false_positive_named_by_the_decoy() -> None:
    hits = [Hit("app/.env", 5, "secret", "generic")]
    assert score(LABELS, hits)["secret"].fp == 1
    assert [label.type for label in decoys_reported(LABELS, hits)] == ["placeholder"]


def test_a_multi_line_match_covers_the_labels_on_its_lines() -> None:
    hits = [Hit("k8s/secret.yaml", 2, "secret", "kubernetes-secret-yaml", end_line=8)]
    scores = score(LABELS, hits)
    assert (scores["secret"].found, scores["secret"].fp) == (1, 0)


def test_a_finding_where_a_block_opens_finds_its_value() -> None:
    assert score(LABELS, [Hit("values.yaml", 6, "secret")])["secret"].found == 1
    assert score(LABELS, [Hit("values.yaml", 5, "secret")])["secret"].found == 0


def test_history_scores_need_the_commit_when_asked() -> None:
    labels = [Label("a.py", 1, "secret", "github-pat", "ghp_x", commit="c1")]
    hits = [Hit("a.py", 1, "secret", commit="c2")]
    assert score(labels, hits)["secret"].found == 1
    assert score(labels, hits, by_commit=True)["secret"].found == 0


def test_misses_name_kind_and_type() -> None:
    assert misses(LABELS, [])[("secret", "github-pat")] == 1


def test_gitleaks_report_reads_as_secret_hits_relative_to_the_root(tmp_path: Path) -> None:
    report = [
        {"File": str(tmp_path / "app/.env"), "StartLine": 3, "EndLine": 3, "RuleID": "github-pat"},
        {
            "File": "k8s/secret.yaml",
            "StartLine": 2,
            "EndLine": 8,
            "RuleID": "kubernetes-secret-yaml",
            "Commit": "abc",
        },
    ]
    hits = from_gitleaks(report, tmp_path)
    assert hits == [
        Hit("app/.env", 3, "secret", "github-pat", None, 3),
        Hit("k8s/secret.yaml", 2, "secret", "kubernetes-secret-yaml", "abc", 8),
    ]


def test_detect_secrets_baseline_reads_as_secret_hits(tmp_path: Path) -> None:
    baseline = {
        "version": "1.5.0",
        "results": {
            "app/.env": [
                {
                    "type": "GitHub Token",
                    "filename": "app/.env",
                    "line_number": 3,
                    "hashed_secret": "0" * 40,
                    "is_verified": False,
                }
            ],
        },
    }
    assert from_detect_secrets(baseline, tmp_path) == [Hit("app/.env", 3, "secret", "GitHub Token")]
