"""Avro compatibility per mode: cases from the specification's schema resolution rules."""

from __future__ import annotations

import json
from typing import Any

import pytest

from steward.errors import InvalidInput
from steward.schema.compatibility import Mode, check, check_avro
from tests.schema.cases import load_cases, parameters

CASES = load_cases("avro_cases.yaml")


def expand(node: Any) -> Any:
    """A `{fields: [...]}` shorthand becomes a record named R; everything else as written."""
    if isinstance(node, dict):
        if set(node) == {"fields"}:
            return {"type": "record", "name": "R", "fields": [expand(f) for f in node["fields"]]}
        return {key: expand(value) for key, value in node.items()}
    if isinstance(node, list):
        return [expand(item) for item in node]
    return node


PAIRS, TRANSITIVE = parameters(CASES)


def test_the_table_holds_enough_cases() -> None:
    assert len(CASES["pair_cases"]) + len(CASES["transitive_cases"]) >= 60
    assert all(len(case["versions"]) >= 3 for case in CASES["transitive_cases"])


@pytest.mark.parametrize(("case", "mode", "verdict"), PAIRS)
def test_two_versions(case: dict[str, Any], mode: Mode, verdict: str) -> None:
    # As JSON text, the way a registry receives it.
    new, old = json.dumps(expand(case["new"])), json.dumps(expand(case["old"]))
    found = check_avro(new, [old], mode)
    assert ("ok" if not found else "fail") == verdict, found
    # `rule` names a finding of the first failing direction, BACKWARD unless it passes.
    direction = "backward" if case["BACKWARD"] == "fail" else "forward"
    rules = {i.rule for i in found if i.direction == direction}
    if rules and "rule" in case:
        assert case["rule"] in rules, found


@pytest.mark.parametrize(("case", "mode", "verdict"), TRANSITIVE)
def test_three_versions(case: dict[str, Any], mode: Mode, verdict: str) -> None:
    # Parsed JSON this time; a `str` is always JSON text, so a bare type name is quoted.
    *previous, new = (json.dumps(v) if isinstance(v, str) else expand(v) for v in case["versions"])
    found = check("AVRO", new, previous, mode)
    assert ("ok" if not found else "fail") == verdict, found


def test_findings_name_the_version_direction_and_path() -> None:
    v0 = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}]}
    v1 = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "long"}]}
    new = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}
    found = check_avro(new, [v0, v1], Mode.BACKWARD_TRANSITIVE)
    assert [(i.version, i.direction, i.path, i.rule) for i in found] == [
        (0, "backward", "/fields/0/type", "avro.type-mismatch"),
        (1, "backward", "/fields/0/type", "avro.type-mismatch"),
    ]
    assert "version 0" in found[0].message


def test_several_findings_in_one_schema_are_reported_apart() -> None:
    old = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}
    new = {
        "type": "record",
        "name": "S",
        "fields": [{"name": "a", "type": "int"}, {"name": "b", "type": "int"}],
    }
    found = check_avro(new, [old], Mode.BACKWARD)
    assert {(i.rule, i.path) for i in found} == {
        ("avro.name-mismatch", "/name"),
        ("avro.type-mismatch", "/fields/0/type"),
        ("avro.reader-field-missing-default", "/fields/1"),
    }


def test_schema_as_json_text_and_union_list() -> None:
    assert check_avro('"long"', ['"int"'], "backward") == []
    assert check_avro('["null", "long"]', ['["null", "int"]'], "BACKWARD") == []


def test_no_previous_versions_is_compatible() -> None:
    assert check_avro('"int"', [], Mode.FULL_TRANSITIVE) == []


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("{not json", "schema: not JSON"),
        ('{"type": "nope"}', "schema: not a valid Avro schema"),
        ({"type": "record", "name": "R"}, "schema: not a valid Avro schema"),
        ({"type": "enum", "name": "E", "symbols": ["A", "A"]}, "schema: not a valid Avro schema"),
    ],
)
def test_a_schema_that_does_not_parse_is_invalid_input(new: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        check_avro(new, ['"int"'], Mode.BACKWARD)


def test_a_previous_schema_that_does_not_parse_names_its_index() -> None:
    with pytest.raises(InvalidInput, match=r"previous\[1\]"):
        check_avro('"int"', ['"int"', "[}"], Mode.BACKWARD_TRANSITIVE)


def test_unknown_mode_and_schema_type_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="compatibility: 'SIDEWAYS'"):
        check_avro('"int"', ['"int"'], "SIDEWAYS")
    with pytest.raises(InvalidInput, match="schemaType: 'PROTOBUF'"):
        check("PROTOBUF", "{}", [], Mode.NONE)


def test_a_recursive_record_is_checked_through_its_name() -> None:
    def node(value_type: str) -> dict[str, Any]:
        return {
            "type": "record",
            "name": "Node",
            "fields": [
                {"name": "value", "type": value_type},
                {"name": "next", "type": ["null", "Node"], "default": None},
            ],
        }

    assert check_avro(node("long"), [node("int")], Mode.BACKWARD) == []
    [finding] = check_avro(node("long"), [node("int")], Mode.FORWARD)
    assert (finding.rule, finding.path) == ("avro.type-mismatch", "/fields/0/type")
