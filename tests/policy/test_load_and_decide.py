"""Loading policies (errors with file and line) and deciding for principals, without a store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from steward.policy.decide import HASH_KEY_PARAMETER, caller_for, decide, matches
from steward.policy.load import PolicyError, load, read_sources
from steward.policy.models import Policy
from tests.policy.conftest import COLUMNS, EXAMPLE, ISSUE_POLICY

TABLE = "lake.crm.customers"


def columns_of(table: str) -> list[tuple[str, frozenset[str]]] | None:
    return list(COLUMNS) if table == TABLE else None


def issue_policy() -> Policy:
    return load({"policy.yaml": ISSUE_POLICY}, columns_of=columns_of).policy


def problems(text: str, name: str = "policy.yaml") -> list[str]:
    with pytest.raises(PolicyError) as caught:
        load({name: text}, columns_of=columns_of)
    return caught.value.problems


def test_the_issue_example_and_the_shipped_example_load() -> None:
    assert set(issue_policy().roles) == {"analyst", "eu-analyst", "platform-admin"}
    shipped = load(read_sources(EXAMPLE), columns_of=columns_of).policy
    assert len(shipped.masks) >= 2
    assert shipped.masks[0].except_ == ["platform-admin"]


def test_unknown_role_is_named_with_its_line() -> None:
    text = ISSUE_POLICY.replace("roles: [eu-analyst]", "roles: [eu-analsyt]")
    found = problems(text)
    line = text.splitlines().index("    roles: [eu-analsyt]") + 1
    assert found == [
        f"policy.yaml:{line}: unknown role 'eu-analsyt' "
        "(roles: analyst, eu-analyst, platform-admin)"
    ]


def test_bad_sql_in_a_filter_is_named_with_its_line() -> None:
    text = ISSUE_POLICY.replace("where: \"region = 'EU'\"", 'where: "region = = 1"')
    (problem,) = problems(text)
    line = text.splitlines().index('    where: "region = = 1"') + 1
    assert problem.startswith(f"policy.yaml:{line}: bad SQL in filter:")


def test_a_filter_may_not_read_other_tables() -> None:
    text = ISSUE_POLICY.replace(
        "where: \"region = 'EU'\"", 'where: "id IN (SELECT id FROM lake.crm.orders)"'
    )
    assert "subqueries are not allowed" in problems(text)[0]


def test_a_mask_on_a_missing_column_is_named_with_its_line() -> None:
    text = ISSUE_POLICY.replace("lake.crm.customers.ssn", "lake.crm.customers.snn")
    (problem,) = problems(text)
    line = text.splitlines().index('  - columns: ["lake.crm.customers.snn"]') + 1
    assert problem.startswith(f"policy.yaml:{line}: no column 'snn' in lake.crm.customers")


def test_shape_errors_name_the_field_and_line() -> None:
    text = ISSUE_POLICY.replace("mask: redact", "mask: scramble")
    (problem,) = problems(text)
    line = text.splitlines().index("    mask: scramble") + 1
    assert problem.startswith(f"policy.yaml:{line}: masks[1].mask:")


def test_a_folder_is_merged_in_name_order_and_errors_name_the_file(tmp_path: Path) -> None:
    head, _, rest = ISSUE_POLICY.partition("masks:")
    (tmp_path / "10-roles.yaml").write_text(head)
    (tmp_path / "20-rules.yaml").write_text("masks:" + rest.replace("eu-analyst]", "nobody]"))
    with pytest.raises(PolicyError) as caught:
        load(read_sources(tmp_path), columns_of=columns_of)
    assert all(p.startswith("20-rules.yaml:") for p in caught.value.problems)
    (tmp_path / "20-rules.yaml").write_text("masks:" + rest)
    merged = load(read_sources(tmp_path)).policy
    assert len(merged.masks) == 2
    assert len(merged.grants) == 2


def test_patterns() -> None:
    assert matches("lake.crm.*", "lake.crm.customers")
    assert matches("*", "lake.crm.customers")
    assert matches("lake.*", "lake.crm.customers")
    assert not matches("lake.crm.*", "lake.hr.people")
    assert matches("lake.crm.cust*", "lake.crm.customers")


def verdicts(user: str, groups: list[str]) -> dict[str, tuple[str, str]]:
    policy = issue_policy()
    access = decide(policy, caller_for(policy, user, groups), TABLE, COLUMNS, version=1)
    assert access.allowed
    return {c.name: (c.verdict, c.rule) for c in access.columns}


def test_an_analyst_sees_email_and_ssn_masked_and_no_salary() -> None:
    assert verdicts("ann", ["analysts"]) == {
        "id": ("clear", "grants[0]"),
        "email": ("masked", "masks[0]"),
        "ssn": ("masked", "masks[1]"),
        "region": ("clear", "grants[0]"),
        "salary": ("denied", "deny[0]"),
        "phone": ("clear", "grants[0]"),
    }


def test_an_eu_analyst_is_also_filtered_to_eu_rows() -> None:
    policy = issue_policy()
    caller = caller_for(policy, "eve", ["analysts-eu"])
    access = decide(policy, caller, TABLE, COLUMNS, version=3)
    assert access.row_filters == ("region = 'EU'",)
    assert access.row_filter_rules == ("row_filters[0]",)
    assert access.policy_version == 3
    assert [c.name for c in access.visible] == ["id", "email", "ssn", "region", "phone"]


def test_a_platform_admin_sees_everything_clear() -> None:
    found = verdicts("root", ["platform"])
    assert {v for v, _ in found.values()} == {"clear"}
    assert found["email"] == ("clear", "masks[0]")  # the mask's `except` decided


def test_nothing_granted_means_no_access() -> None:
    policy = issue_policy()
    access = decide(policy, caller_for(policy, "x", ["sales"]), TABLE, COLUMNS, version=1)
    assert not access.allowed
    assert access.reason == "nothing grants select on lake.crm.customers to x (roles: none)"


def test_deny_wins_over_an_except() -> None:
    policy = issue_policy()
    both = caller_for(policy, "mix", ["analysts", "platform"])
    access = decide(policy, both, TABLE, COLUMNS, version=1)
    by_name = {c.name: c for c in access.columns}
    assert by_name["salary"].verdict == "denied"
    assert by_name["email"].verdict == "clear"


def test_built_in_masks_run_on_duckdb() -> None:
    text = """
roles: {r: {groups: [g]}}
grants: [{roles: [r], select: ["t.s.x"]}]
masks:
  - {columns: [email], mask: email}
  - {columns: [ssn], mask: last4}
  - {columns: [born], mask: year}
  - {columns: [amount], mask: round}
  - {columns: [secret], mask: hash}
  - {columns: [note], mask: redact}
  - {columns: [other], mask: "null"}
  - {columns: [code], sql: "upper({column})"}
"""
    policy = load({"p.yaml": text}).policy.with_hash_key("k1")
    cols = [(n, frozenset[str]()) for n in ("email", "ssn", "born", "amount", "secret")]
    cols += [(n, frozenset[str]()) for n in ("note", "other", "code")]
    access = decide(policy, caller_for(policy, "u", ["g"]), "t.s.x", cols, version=1)
    select = ", ".join(c.expression or "" for c in access.columns)
    db = duckdb.connect()
    row = db.execute(
        f"SELECT {select} FROM (SELECT 'alice@example.com' AS email, '123-45-6789' AS ssn,"
        " DATE '1990-07-04' AS born, 1234.0 AS amount, 's3cret' AS secret, 'x' AS note,"
        " 'y' AS other, 'abc' AS code)",
        {HASH_KEY_PARAMETER: "k1"},
    ).fetchone()
    assert row is not None
    email, ssn, born, amount, secret, note, other, code = row
    assert (email, ssn, str(born), float(amount), note, other, code) == (
        "a****@example.com",
        "****6789",
        "1990-01-01",
        1200.0,
        "****",
        None,
        "ABC",
    )
    assert "k1" not in select  # the key reaches the engine as a parameter, not as SQL text
    again = db.execute("SELECT sha256('k1' || 's3cret')").fetchone()
    assert again is not None
    assert secret == again[0]


def test_caller_values_are_bound_in_filters() -> None:
    text = """
roles: {r: {groups: [g]}}
grants: [{roles: [r], select: ["*"]}]
row_filters:
  - table: "t.s.x"
    roles: [r]
    where: >-
      owner = current_user AND list_contains(current_groups, team)
      AND region = current_attribute('region')
"""
    policy = load({"p.yaml": text}).policy
    caller = caller_for(policy, "o'neil", ["g", "h"], {"region": "EU"})
    columns = [(name, frozenset[str]()) for name in ("owner", "team", "region")]
    access = decide(policy, caller, "t.s.x", columns, version=None)
    assert access.row_filters == (
        "owner = 'o''neil' AND ARRAY_CONTAINS(['g', 'h'], team) AND region = 'EU'",
    )
    rows = duckdb.connect().execute(
        "SELECT owner FROM (VALUES ('o''neil', 'g', 'EU'), ('o''neil', 'z', 'EU'),"
        f" ('bob', 'g', 'EU')) AS t(owner, team, region) WHERE {access.row_filters[0]}"
    )
    assert rows.fetchall() == [("o'neil",)]


def test_a_filter_naming_a_column_the_table_lacks_denies_the_table() -> None:
    # Unbound, `region` would be taken from whatever the caller's query puts around the
    # secure view (a LATERAL or correlated subquery), and the filter would pass every row.
    text = """
roles: {r: {groups: [g]}}
grants: [{roles: [r], select: ["lake.crm.*"]}]
row_filters:
  - {table: "lake.crm.*", roles: [r], where: "region = 'EU'"}
"""
    policy = load({"p.yaml": text}).policy
    caller = caller_for(policy, "ann", ["g"])
    has = decide(
        policy, caller, "lake.crm.people", [("id", frozenset()), ("REGION", frozenset())], version=1
    )
    assert has.allowed
    lacks = decide(policy, caller, "lake.crm.orders", [("id", frozenset())], version=1)
    assert not lacks.allowed
    assert lacks.rule == "row_filters[0]"
    assert lacks.reason is not None
    assert "region" in lacks.reason
    assert "lake.crm.orders" in lacks.reason
