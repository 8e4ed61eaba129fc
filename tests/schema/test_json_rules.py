"""JSON Schema compatibility per mode: cases from Confluent's JSON Schema rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from steward.errors import InvalidInput
from steward.schema.compatibility import Mode, check, check_json_schema
from tests.schema.cases import load_cases, parameters

CASES = load_cases("json_schema_cases.yaml")


PAIRS, TRANSITIVE = parameters(CASES)


def test_the_table_holds_enough_cases() -> None:
    assert len(CASES["pair_cases"]) + len(CASES["transitive_cases"]) >= 40


@pytest.mark.parametrize(("case", "mode", "verdict"), PAIRS)
def test_two_versions(case: dict[str, Any], mode: Mode, verdict: str) -> None:
    found = check_json_schema(json.dumps(case["new"]), [json.dumps(case["old"])], mode)
    assert ("ok" if not found else "fail") == verdict, found
    # `rule` names a finding of the first failing direction, BACKWARD unless it passes.
    direction = "backward" if case["BACKWARD"] == "fail" else "forward"
    rules = {i.rule for i in found if i.direction == direction}
    if rules and "rule" in case:
        assert case["rule"] in rules, found


@pytest.mark.parametrize(("case", "mode", "verdict"), TRANSITIVE)
def test_three_versions(case: dict[str, Any], mode: Mode, verdict: str) -> None:
    *previous, new = case["versions"]
    found = check("JSON", new, previous, mode)
    assert ("ok" if not found else "fail") == verdict, found


def test_findings_name_the_property_and_version() -> None:
    old = {"type": "object", "properties": {"a": {"type": "string"}}}
    new = {"type": "object", "properties": {"a": {"type": "integer"}}}
    [finding] = check_json_schema(new, [old, old], Mode.BACKWARD)
    assert (finding.rule, finding.path, finding.version, finding.direction) == (
        "json.type-changed",
        "/properties/a",
        1,
        "backward",
    )


@pytest.mark.parametrize(
    "tree",
    [
        {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}},
        {"type": ["object", "null"], "properties": {"child": {"$ref": "#"}}},
        {"type": "string", "enum": ["a"], "allOf": [{"$ref": "#"}]},
    ],
)
def test_a_recursive_schema_terminates(tree: dict[str, Any]) -> None:
    assert check_json_schema(tree, [tree], Mode.FULL) == []


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("{not json", "schema: not JSON"),
        ("[1, 2]", "schema: a JSON Schema is an object or a boolean"),
        ({"type": "strnig"}, "schema/type: 'strnig' is not a JSON Schema type"),
        ({"properties": {"a": 3}}, "schema/properties/a: a JSON Schema is an object or a boolean"),
        ({"$ref": "#/definitions/missing"}, "points to nothing"),
        ({"type": "object", "properties": {"a": {"items": {"type": "nope"}}}}, "'nope'"),
        ({"anyOf": {"type": "string"}}, "schema/anyOf: must be a list"),
        ({"type": "object", "required": "a"}, "schema/required: must be a list"),
    ],
)
def test_a_schema_that_is_not_json_schema_is_invalid_input(new: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_json_schema(new, [{"type": "object", "properties": {"a": {}}}], Mode.FULL)
    with pytest.raises(InvalidInput, match=message):
        check_json_schema(new, [], Mode.NONE)
