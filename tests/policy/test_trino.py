"""The Trino export: documented shape, Trino SQL, and first-match answers equal to Steward's."""

from __future__ import annotations

import re
from typing import Any

import sqlglot

from steward.policy.access import TableAccess
from steward.policy.decide import caller_for, decide
from steward.policy.load import load
from steward.policy.models import Policy
from steward.policy.trino import export_trino
from tests.policy.conftest import COLUMNS, ISSUE_POLICY

TABLES = {"lake.crm.customers": COLUMNS, "lake.crm.orders": [("order_id", frozenset[str]())]}
TABLES["lake.hr.people"] = [("name", frozenset[str]())]


def policy(text: str = ISSUE_POLICY) -> Policy:
    return load({"policy.yaml": text}).policy.with_hash_key("k")


def first_match(rules: dict[str, Any], user: str, groups: set[str], table: str) -> dict[str, Any]:
    """Trino's reading: the first table rule whose user, group and names match (full regex)."""
    catalog, schema, name = table.split(".")
    for rule in rules["tables"]:
        if not re.fullmatch(rule.get("user", ".*"), user):
            continue
        if "group" in rule and not any(re.fullmatch(rule["group"], g) for g in groups):
            continue
        if all(
            re.fullmatch(rule.get(key, ".*"), value)
            for key, value in (("catalog", catalog), ("schema", schema), ("table", name))
        ):
            return rule
    return {"privileges": []}


def steward_view(access: TableAccess) -> tuple[bool, dict[str, str], bool]:
    return (
        access.allowed,
        {c.name: c.verdict for c in access.columns if c.verdict != "clear"}
        if access.allowed
        else {},
        bool(access.row_filters),
    )


def trino_view(rule: dict[str, Any]) -> tuple[bool, dict[str, str], bool]:
    allowed = "SELECT" in rule["privileges"]
    columns = {
        c["name"]: "denied" if c.get("allow") is False else "masked"
        for c in rule.get("columns", [])
    }
    return allowed, columns if allowed else {}, "filter" in rule


def test_export_has_trinos_documented_shape() -> None:
    rules, _ = export_trino(policy(), TABLES)
    assert set(rules) == {"catalogs", "schemas", "tables"}
    assert rules["catalogs"] == [
        {"group": "analysts|analysts-eu|platform", "catalog": "lake", "allow": "read-only"}
    ]
    assert rules["schemas"] == [{"owner": False}]
    allowed_keys = {"user", "role", "group", "catalog", "schema", "table", "privileges"}
    allowed_keys |= {"columns", "filter", "filter_environment"}
    for rule in rules["tables"]:
        assert set(rule) <= allowed_keys
        assert set(rule["privileges"]) <= {"SELECT", "INSERT", "DELETE", "UPDATE", "OWNERSHIP"}
        for column in rule.get("columns", []):
            assert set(column) <= {"name", "allow", "mask", "mask_environment"}
    assert rules["tables"][-1] == {"privileges": []}
    eu = next(r for r in rules["tables"] if r.get("group") == "analysts-eu")
    assert eu["catalog"] == "lake"
    assert eu["schema"] == "crm"
    assert eu["table"] == "customers"
    assert eu["filter"] == "region = 'EU'"
    assert {c["name"]: set(c) for c in eu["columns"]} == {
        "email": {"name", "mask"},
        "ssn": {"name", "mask"},
        "salary": {"name", "allow"},
    }


def test_masks_and_filters_are_trino_sql() -> None:
    # One more deny, appended to the file's last section (`deny:`).
    text = ISSUE_POLICY + "  - roles: [analyst]\n    columns: [lake.crm.customers.phone]\n"
    text = text.replace(
        "where: \"region = 'EU'\"", "where: \"region = 'EU' OR list_contains(current_groups, 'x')\""
    )
    text = text.replace("mask: redact", "mask: hash")
    rules, _ = export_trino(policy(text), TABLES)
    eu = next(r for r in rules["tables"] if r.get("group") == "analysts-eu")
    assert eu["filter"] == "region = 'EU' OR CONTAINS(CURRENT_GROUPS(), 'x')"
    masks = {c["name"]: c["mask"] for c in eu["columns"] if "mask" in c}
    assert masks["ssn"] == "lower(to_hex(sha256(to_utf8('k' || CAST(\"ssn\" AS VARCHAR)))))"
    assert "CONCAT(" in masks["email"]  # DuckDB's || on text, as Trino writes it
    for sql in [eu["filter"], *masks.values()]:
        sqlglot.parse_one(sql, read="trino")  # raises if Trino's dialect cannot read it


def test_first_match_gives_stewards_answer_for_each_principal() -> None:
    chosen = policy()
    rules, _ = export_trino(chosen, TABLES)
    principals = [
        ("ann", {"analysts"}),
        ("eve", {"analysts-eu"}),
        ("root", {"platform"}),
        ("nobody", {"sales"}),
        ("lonely", set()),
    ]
    for user, groups in principals:
        caller = caller_for(chosen, user, groups)
        for table, columns in TABLES.items():
            access = decide(chosen, caller, table, columns, version=None)
            rule = first_match(rules, user, groups, table)
            assert trino_view(rule) == steward_view(access), (user, table)


def test_what_trino_cannot_express_is_reported() -> None:
    text = ISSUE_POLICY.replace(
        "where: \"region = 'EU'\"", "where: \"region = current_attribute('region')\""
    )
    rules, unsupported = export_trino(policy(text), TABLES)
    assert (
        "row_filters[0]: current_attribute() has no Trino equivalent; exported as filter "
        "'false' (no rows) on lake.crm.customers"
    ) in unsupported
    eu = next(r for r in rules["tables"] if r.get("group") == "analysts-eu")
    assert eu["filter"] == "false"
    assert any(line.startswith("masks[0]: tag:pii.email expanded to") for line in unsupported)
    # An analyst who is also a platform admin: Steward denies salary (deny wins) and shows
    # email clear (the admin's except); no single Trino rule says that.
    assert any("analyst, platform-admin" in line for line in unsupported)
