"""`policy_drift`: which rules name gone columns, which new PII-looking columns are in clear."""

from __future__ import annotations

from steward.policy.drift import policy_drift
from steward.policy.load import load

POLICY = """\
roles:
  analyst: {groups: [analysts]}
  auditor: {groups: [auditors]}
grants:
  - roles: [analyst]
    select: ["lake.crm.*"]
masks:
  - columns: [ssn]
    mask: redact
  - columns: [lake.crm.customers.email, "lake.crm.*.card_*"]
    mask: hash
  - columns: ["tag:pii.phone"]
    mask: redact
row_filters:
  - table: lake.crm.customers
    roles: [analyst]
    where: "region = 'EU'"
deny:
  - roles: [analyst]
    columns: [lake.crm.customers.salary]
"""
NOTHING: frozenset[str] = frozenset()


def drift(
    tables: dict[str, list[tuple[str, frozenset[str]]]], earlier: dict[str, set[str]]
) -> set[tuple[str, str, str, str]]:
    policy = load({"p.yaml": POLICY}).policy
    found = policy_drift(
        policy, tables=tables, earlier={t: frozenset(c) for t, c in earlier.items()}
    )
    return {(d.kind, d.rule, d.table, d.column) for d in found}


BEFORE = {"lake.crm.customers": {"id", "ssn", "email", "region", "salary", "phone"}}


def columns(*names: str, tags: dict[str, str] | None = None) -> list[tuple[str, frozenset[str]]]:
    return [(n, frozenset({(tags or {})[n]}) if n in (tags or {}) else NOTHING) for n in names]


def test_nothing_changed_nothing_reported() -> None:
    now = {"lake.crm.customers": columns("id", "ssn", "email", "region", "salary", "phone")}
    assert drift(now, BEFORE) == set()


def test_renames_leave_name_rules_behind_and_new_names_in_clear() -> None:
    now = {
        "lake.crm.customers": columns(
            "id",
            "social_sec_no",
            "email_address",
            "region",
            "pay",
            "phone",
            tags={"phone": "pii.phone"},
        )
    }
    assert drift(now, BEFORE) == {
        ("gone", "masks[0]", "lake.crm.customers", "ssn"),
        ("gone", "masks[1]", "lake.crm.customers", "email"),
        ("gone", "deny[0]", "lake.crm.customers", "salary"),
        ("pii_in_clear", "", "lake.crm.customers", "social_sec_no"),
        ("pii_in_clear", "", "lake.crm.customers", "email_address"),
    }


def test_a_filter_naming_a_gone_column_is_reported_and_refuses_the_table() -> None:
    now = {"lake.crm.customers": columns("id", "ssn", "email", "area", "salary", "phone", "mail")}
    # The filter cannot be enforced, so the table is refused: nothing new is in clear.
    assert drift(now, BEFORE) == {("gone", "row_filters[0]", "lake.crm.customers", "region")}


def test_a_bare_name_another_table_still_has_is_not_gone() -> None:
    now = {
        "lake.crm.customers": columns("id", "tax_no", "email", "region", "salary", "phone"),
        "lake.crm.leads": columns("id", "ssn"),
    }
    assert drift(now, {**BEFORE, "lake.crm.leads": {"id", "ssn"}}) == set()


def test_a_new_column_a_rule_covers_is_not_reported() -> None:
    now = {
        "lake.crm.customers": columns(
            "id", "ssn", "email", "region", "salary", "phone", "card_number", "work_phone",
            tags={"work_phone": "pii.phone"},
        )
    }  # fmt: skip
    assert drift(now, BEFORE) == set()


def test_a_new_pii_column_nobody_is_granted_is_not_reported() -> None:
    now = {"lake.hr.staff": columns("id", "email")}
    assert drift(now, {"lake.hr.staff": {"id"}}) == set()


def test_a_table_new_since_the_policy_is_left_to_its_grants() -> None:
    now = {**{"lake.crm.customers": columns(*BEFORE["lake.crm.customers"])}}
    now["lake.crm.leads"] = columns("id", "email")
    assert drift(now, BEFORE) == set()


def test_without_an_applied_policy_only_missing_qualified_names_count() -> None:
    policy = load({"p.yaml": POLICY}).policy
    now = {"lake.crm.customers": columns("id", "social_sec_no", "email", "region", "pay")}
    found = policy_drift(policy, tables=now, earlier=None)
    assert {(d.rule, d.column) for d in found} == {("deny[0]", "salary")}
