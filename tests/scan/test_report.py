"""SARIF and JSON shapes of findings, without the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from steward.scan.models import Finding
from steward.scan.report import findings_json, findings_sarif
from steward.scan.rules import DEFAULT_RULES

SCHEMA = Path(__file__).parent / "fixtures" / "sarif-schema-2.1.0.json"

FINDING = Finding(
    rule_id="private-ipv4",
    kind="private-ip",
    description="Private or shared IPv4 address (RFC 1918, RFC 6598)",
    path="deploy/my hosts.ini",
    line=7,
    column=3,
    redacted="10******",
    fingerprint="f" * 32,
)


def test_sarif_uri_is_relative_and_percent_encoded_and_tree_findings_have_no_commit() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is in the [dev] extra")
    sarif = findings_sarif([FINDING], DEFAULT_RULES, version="0.1.0")
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(sarif)
    [result] = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "deploy/my%20hosts.ini"
    assert location["region"] == {"startLine": 7, "startColumn": 3}
    assert result["properties"] == {"kind": "private-ip"}
    assert result["partialFingerprints"] == {"stewardFingerprint/v1": "f" * 32}


def test_json_lists_the_findings_fields() -> None:
    [item] = findings_json([FINDING])["findings"]
    assert item["rule_id"] == "private-ipv4"
    assert item["commit"] is None
    assert item["redacted"] == "10******"


def test_junit_has_one_failing_testcase_per_finding_with_the_secret_redacted() -> None:
    from xml.etree import ElementTree

    from steward.scan.report import findings_junit

    history = dataclasses.replace(FINDING, path="a.env", line=2, commit="c" * 40)
    suite = ElementTree.fromstring(findings_junit([FINDING, history]))
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "2", "0")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "private-ipv4 deploy/my hosts.ini:7",
        "private-ipv4 a.env:2",
    ]
    assert cases[0].get("classname") == "steward.scan.private-ip"
    failure = cases[1].find("failure")
    assert failure is not None
    assert failure.get("type") == "private-ipv4"
    assert "10******" in (failure.text or "")
    assert "c" * 40 in (failure.text or "")


def test_junit_of_no_findings_is_one_passing_testcase() -> None:
    from xml.etree import ElementTree

    from steward.scan.report import findings_junit

    suite = ElementTree.fromstring(findings_junit([]))
    assert (suite.get("tests"), suite.get("failures")) == ("1", "0")
    [case] = suite.findall("testcase")
    assert case.find("failure") is None


def test_json_carries_the_gitleaks_fingerprint_for_a_gitleaksignore() -> None:
    history = dataclasses.replace(FINDING, commit="abc")
    rows = findings_json([FINDING, history])["findings"]
    assert [r["gitleaks_fingerprint"] for r in rows] == [
        "deploy/my hosts.ini:private-ipv4:7",
        "abc:deploy/my hosts.ini:private-ipv4:7",
    ]


def test_sarif_rules_carry_a_gitleaks_rules_tags() -> None:
    from steward.scan.models import Rule

    rule = Rule(id="acme", description="ACME key", kind="secret", regex="x", tags=("team-a",))
    [driver_rule] = findings_sarif([], [rule], version="0.1.0")["runs"][0]["tool"]["driver"][
        "rules"
    ]
    assert driver_rule["properties"]["tags"] == ["security", "secret", "team-a"]
