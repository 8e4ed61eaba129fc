"""Findings as JSON, as SARIF 2.1.0 (the shape GitHub code scanning accepts) and as JUnit XML."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree

from steward.scan.gitleaks import gitleaks_fingerprint
from steward.scan.models import Finding, Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def findings_json(findings: Sequence[Finding]) -> dict[str, Any]:
    """`{"findings": [...]}`, each finding's fields as they are (secrets already redacted),
    and its fingerprint as gitleaks writes it, the line a `.gitleaksignore` would hold."""
    return {
        "findings": [
            {**dataclasses.asdict(f), "gitleaks_fingerprint": gitleaks_fingerprint(f)}
            for f in findings
        ]
    }


def findings_junit(findings: Sequence[Finding]) -> str:
    """One JUnit `<testsuite>`: a failing `<testcase>` per finding, named by rule and place,
    or one passing testcase when there is nothing, so CI shows the scan ran."""
    suite = ElementTree.Element(
        "testsuite",
        name="steward scan",
        tests=str(max(len(findings), 1)),
        failures=str(len(findings)),
        errors="0",
        skipped="0",
    )
    if not findings:
        ElementTree.SubElement(suite, "testcase", classname="steward.scan", name="no findings")
    for finding in findings:
        where = f"{finding.path}:{finding.line}"
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=f"steward.scan.{finding.kind}",
            name=f"{finding.rule_id} {where}",
            file=finding.path,
            line=str(finding.line),
        )
        failure = ElementTree.SubElement(
            case, "failure", type=finding.rule_id, message=finding.description
        )
        commit = f"\ncommit: {finding.commit}" if finding.commit else ""
        failure.text = (
            f"{finding.kind} at {where}:{finding.column}: {finding.redacted}{commit}\n"
            f"fingerprint: {finding.fingerprint}"
        )
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def findings_sarif(
    findings: Sequence[Finding], rules: Sequence[Rule], *, version: str
) -> dict[str, Any]:
    """One SARIF run: every rule in the driver, one result per finding.

    A history finding carries its commit in `partialFingerprints.commitSha`, as GitHub
    code scanning reads it; every result carries Steward's line-independent fingerprint.
    """
    index = {rule.id: n for n, rule in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "steward",
                        "version": version,
                        "rules": [_sarif_rule(rule) for rule in rules],
                    }
                },
                "results": [_sarif_result(f, index.get(f.rule_id)) for f in findings],
            }
        ],
    }


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.id,
        "shortDescription": {"text": rule.description},
        "defaultConfiguration": {"level": "error"},
        "properties": {"kind": rule.kind, "tags": ["security", rule.kind, *rule.tags]},
    }


def _sarif_result(finding: Finding, rule_index: int | None) -> dict[str, Any]:
    fingerprints = {"stewardFingerprint/v1": finding.fingerprint}
    if finding.commit is not None:
        fingerprints["commitSha"] = finding.commit
    where = f" in commit {finding.commit}" if finding.commit else ""
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "level": "error",
        "message": {"text": f"{finding.description}: {finding.redacted}{where}"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": quote(finding.path)},
                    "region": {"startLine": finding.line, "startColumn": finding.column},
                }
            }
        ],
        "partialFingerprints": fingerprints,
        "properties": {"kind": finding.kind},
    }
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    return result
