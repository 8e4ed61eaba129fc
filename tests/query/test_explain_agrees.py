"""`steward policy explain` and `/api/v1/policy/effective` say what the query path does.

The issue's example policy on a real lake table; for three principals the explanation
(CLI and API) and the rows a `SELECT *` actually returns must agree: the same visible
columns, the same masks and filters, denied columns absent, masked values never clear.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset
from steward.identity.models import Principal
from steward.policy.query import run_query
from steward.policy.versions import apply
from steward.policy.wiring import access_for
from tests.cli_run import steward_cli
from tests.policy.conftest import ISSUE_POLICY
from tests.query.conftest import EMAILS, EU_IDS, PEOPLE, SSNS

PRINCIPALS = [
    Principal(user="ann@example.com", groups=frozenset({"analysts"})),
    Principal(user="eve@example.com", groups=frozenset({"analysts-eu"})),
    Principal(user="pat@example.com", groups=frozenset({"platform"})),
]


@pytest.fixture
def governed(lake: Steward) -> Steward:
    edit_dataset(
        lake.store,
        "lake.crm.customers",
        DatasetEdit(columns={"email": ColumnEdit(addTags=["pii.email"])}),
        Principal(user="root", is_admin=True),
    )
    apply(lake.store, ISSUE_POLICY, actor=None)
    return lake


def explain_cli(steward: Steward, principal: Principal) -> dict[str, Any]:
    ran = steward_cli(
        steward.settings.home,
        "policy",
        "explain",
        "lake.crm.customers",
        "--user",
        principal.user,
        "--groups",
        ",".join(sorted(principal.groups)),
        "--json",
    )
    assert ran.returncode == 0, ran.stderr
    explained: dict[str, Any] = json.loads(ran.stdout)
    return explained


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: sorted(p.groups)[0])
def test_explain_effective_and_the_query_path_agree(
    governed: Steward, client: TestClient, principal: Principal
) -> None:
    api = client.get(
        "/api/v1/policy/effective",
        params={
            "table": "lake.crm.customers",
            "user": principal.user,
            "groups": ",".join(sorted(principal.groups)),
        },
    )
    assert api.status_code == 200, api.text
    effective = api.json()
    assert explain_cli(governed, principal) == effective

    result = run_query(
        governed,
        "SELECT * FROM lake.crm.customers ORDER BY id",
        principal,
        access_for=access_for(governed, principal),
    )
    visible = [c["name"] for c in effective["columns"] if c["verdict"] != "denied"]
    masked = {c["name"]: c["mask"] for c in effective["columns"] if c["verdict"] == "masked"}
    assert result.columns == visible
    assert {a["column"]: a["mask"] for a in result.applied if "mask" in a} == masked
    assert [a["filter"] for a in result.applied if "filter" in a] == [
        f["where"] for f in effective["rowFilters"]
    ]
    rows = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    expected_ids = EU_IDS if effective["rowFilters"] else {p[0] for p in PEOPLE}
    assert {row["id"] for row in rows} == expected_ids
    for row in rows:
        if "email" in masked:
            assert row["email"] not in EMAILS
        if "ssn" in masked:
            assert row["ssn"] not in SSNS
    clear = [c for c in visible if c not in masked]
    by_id = {
        p[0]: dict(zip(["id", "name", "email", "ssn", "region", "salary"], p, strict=True))
        for p in PEOPLE
    }
    for row in rows:
        assert {c: row[c] for c in clear} == {c: by_id[row["id"]][c] for c in clear}


def test_a_describe_grant_shows_a_table_in_information_schema_but_not_its_rows(
    lake: Steward,
) -> None:
    from steward.errors import Forbidden

    apply(
        lake.store,
        "roles:\n  analyst: {groups: [analysts]}\n"
        "grants:\n  - roles: [analyst]\n    select: [lake.crm.customers]\n"
        "  - roles: [analyst]\n    describe: [lake.crm.orders]\n"
        "deny:\n  - roles: [analyst]\n    columns: [lake.crm.customers.salary]\n",
        actor=None,
    )
    ann = PRINCIPALS[0]
    listed = run_query(
        lake,
        "SELECT table_name FROM information_schema.tables ORDER BY 1",
        ann,
        access_for=access_for(lake, ann),
    )
    assert listed.rows == [["customers"], ["orders"]]
    columns = run_query(
        lake,
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'",
        ann,
        access_for=access_for(lake, ann),
    )
    assert "salary" not in {row[0] for row in columns.rows}
    with pytest.raises(Forbidden):
        run_query(lake, "SELECT * FROM lake.crm.orders", ann, access_for=access_for(lake, ann))
