"""SARIF and JSON shapes of findings, without the CLI."""

from __future__ import annotations

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
