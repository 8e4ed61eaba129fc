"""Applying, rolling back, explaining and exporting policies on a real store, API and CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.audit.log import list_records
from steward.identity.models import Principal
from steward.identity.tokens import create_token
from steward.policy.load import PolicyError
from steward.policy.versions import active, apply, get, history, rollback
from tests.cli_run import steward_cli
from tests.policy.conftest import ISSUE_POLICY

ADMIN = Principal(user="alice", is_admin=True)


def test_an_invalid_apply_names_the_line_and_leaves_the_active_policy(lake: Steward) -> None:
    first = apply(lake.store, ISSUE_POLICY, actor=ADMIN)
    assert first == 1
    bad = {
        "unknown role": ISSUE_POLICY.replace("roles: [eu-analyst]", "roles: [eu]"),
        "bad filter SQL": ISSUE_POLICY.replace("region = 'EU'", "region = = 'EU'"),
        "missing column": ISSUE_POLICY.replace("customers.ssn", "customers.tax_id"),
    }
    for text in bad.values():
        with pytest.raises(PolicyError) as caught:
            apply(lake.store, text, actor=ADMIN)
        assert caught.value.problems[0].startswith("policy.yaml:")
        current = active(lake.store)
        assert current is not None
        assert current[0] == 1
    assert [v.version for v in history(lake.store)] == [1]


def test_rollback_restores_the_earlier_files_exactly(lake: Steward) -> None:
    apply(lake.store, {"a.yaml": ISSUE_POLICY}, actor=ADMIN)
    changed = ISSUE_POLICY.replace("mask: redact", "mask: hash")
    apply(lake.store, {"a.yaml": changed}, actor=ADMIN)
    restored = rollback(lake.store, 1, actor=ADMIN)
    assert restored == 3
    assert get(lake.store, 3).sources == {"a.yaml": ISSUE_POLICY}
    assert get(lake.store, 3).restored_from == 1
    current = active(lake.store)
    assert current is not None
    assert current[1].masks[1].mask == "redact"
    with lake.store.read() as conn:
        records = sorted(
            (r for r in list_records(conn) if r.action.startswith("policy.")), key=lambda r: r.seq
        )
    assert [(r.action, r.details["version"], r.user) for r in records][-3:] == [
        ("policy.apply", 1, "alice"),
        ("policy.apply", 2, "alice"),
        ("policy.rollback", 3, "alice"),
    ]


def as_user(steward: Steward, user: str, groups: list[str]) -> TestClient:
    token = create_token(steward.store, user=user, groups=groups).secret
    http = TestClient(create_app(steward), raise_server_exceptions=True)
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def test_effective_policy_over_http(lake: Steward, client: TestClient) -> None:
    apply(lake.store, ISSUE_POLICY, actor=ADMIN)
    answer = client.get(
        "/api/v1/policy/effective",
        params={"user": "eve", "groups": "analysts-eu", "table": "lake.crm.customers"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["roles"] == ["eu-analyst"]
    assert body["allowed"]
    assert body["policyVersion"] == 1
    assert {c["name"]: c["verdict"] for c in body["columns"]} == {
        "id": "clear",
        "email": "masked",
        "ssn": "masked",
        "region": "clear",
        "salary": "denied",
        "phone": "clear",
    }
    assert body["rowFilters"] == [{"where": "region = 'EU'", "rule": "row_filters[0]"}]
    with as_user(lake, "ann", ["analysts"]) as ann:
        mine = ann.get("/api/v1/policy/effective", params={"table": "lake.crm.customers"})
        assert mine.status_code == 200
        assert mine.json()["roles"] == ["analyst"]
        other = ann.get(
            "/api/v1/policy/effective", params={"user": "root", "table": "lake.crm.customers"}
        )
        assert other.status_code == 403
        spoof = ann.get(
            "/api/v1/policy/effective",
            params={"user": "ann", "groups": "platform", "table": "lake.crm.customers"},
        )
        assert spoof.status_code == 403
    assert client.get("/api/v1/policy").json()["version"] == 1
    missing = client.get("/api/v1/policy/effective", params={"table": "lake.crm.nope"})
    assert missing.status_code == 404


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return steward_cli(home, *args)


@pytest.mark.slow  # a dozen `steward policy` processes in a row
def test_policy_from_the_command_line(lake: Steward, database_url: str | None) -> None:
    if database_url is not None:
        pytest.skip("the CLI session runs on the embedded SQLite store")
    home = lake.settings.home
    file = home / "policy.yaml"
    file.write_text(ISSUE_POLICY.replace("roles: [eu-analyst]", "roles: [eu]"))
    failed = run(home, "policy", "validate", str(file))
    assert failed.returncode == 2
    assert "policy.yaml:19: unknown role 'eu'" in failed.stderr
    file.write_text(ISSUE_POLICY)
    assert run(home, "policy", "validate", str(file)).returncode == 0
    assert "+ deny [lake.crm.customers.salary]" in run(home, "policy", "diff", str(file)).stdout
    applied = run(home, "policy", "apply", str(file), "--author", "alice")
    assert applied.returncode == 0
    assert "applied policy version 1" in applied.stderr
    explained = run(
        home, "policy", "explain", "--user", "eve", "--groups", "analysts-eu",
        "lake.crm.customers", "--json",
    )  # fmt: skip
    assert explained.returncode == 0, explained.stderr
    shown = json.loads(explained.stdout)
    assert shown["rowFilters"][0]["where"] == "region = 'EU'"
    assert [c["verdict"] for c in shown["columns"]][:3] == ["clear", "masked", "masked"]
    table = run(home, "policy", "explain", "--user", "ann", "--groups", "analysts",
                "lake.crm.customers")  # fmt: skip
    assert "deny[0]" in table.stdout
    assert "masks[1]" in table.stdout
    exported = run(home, "policy", "export", "--format", "trino", "-o", str(home / "rules.json"))
    assert exported.returncode == 0, exported.stderr
    rules = json.loads((home / "rules.json").read_text())
    assert rules["tables"][-1] == {"privileges": []}
    assert "not expressible in Trino" in exported.stderr
    assert run(home, "policy", "show").stdout == ISSUE_POLICY
    assert run(home, "policy", "rollback", "1").returncode == 0
    assert "rollback" in run(home, "policy", "list").stdout


@pytest.mark.slow
def test_validate_warns_of_tables_a_filter_will_refuse_and_refuses_unsafe_functions(
    lake: Steward, database_url: str | None
) -> None:
    if database_url is not None:
        pytest.skip("the CLI session runs on the embedded SQLite store")
    home = lake.settings.home
    file = home / "policy.yaml"
    file.write_text(
        "roles: {eu: {groups: [eu]}}\n"
        "grants: [{roles: [eu], select: ['lake.crm.*']}]\n"
        "row_filters: [{table: 'lake.crm.*', roles: [eu], where: \"region = 'EU'\"}]\n"
    )
    checked = run(home, "policy", "validate", str(file))
    assert checked.returncode == 0, checked.stderr
    assert "row_filters[0] names region, which lake.crm.orders does not have" in checked.stderr
    assert "lake.crm.customers will be refused" not in checked.stderr
    file.write_text(
        "roles: {eu: {groups: [eu]}}\n"
        "grants: [{roles: [eu], select: ['lake.crm.*']}]\n"
        "masks: [{columns: [email], sql: \"current_setting('x') || {column}\"}]\n"
    )
    refused = run(home, "policy", "validate", str(file))
    assert refused.returncode == 2
    assert "current_setting() is not allowed" in refused.stderr
