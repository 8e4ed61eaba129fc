"""Governed queries as an attacker sends them: ordinary tokens, a real `steward serve` on
loopback, a real Iceberg lake and an applied policy.

The EU analyst sees `lake.crm.customers` with email masked, SSN hashed (with the
policy's secret key), salary denied and EU rows only; `lake.crm.orders` has no
`region`, so the pattern filter on `lake.crm.*` refuses it to them. Whatever the query,
the answer is a refusal (4xx, never 5xx) or rows that hold nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from tests.e2e.conftest import Server
from tests.query.conftest import EMAILS, EU_IDS, NON_EU_NAMES, PEOPLE, SSNS, make_lake
from tests.query.test_governance_holds import hash_key
from tests.security.conftest import bearer

POLICY = """\
roles:
  analyst: {groups: [analysts-eu]}
  nobody: {groups: [nobody]}
grants:
  - roles: [analyst]
    select: ["lake.crm.*"]
masks:
  - columns: [email]
    mask: email
  - columns: [ssn]
    mask: hash
row_filters:
  - table: "lake.crm.*"
    roles: [analyst]
    where: "region = 'EU'"
deny:
  - roles: [analyst]
    columns: [lake.crm.customers.salary]
"""
SALARIES = {str(row[5]) for row in PEOPLE}


@pytest.fixture
def attack(server: Server, steward: Steward) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client of the live server, and the tokens of an analyst and of a nobody."""
    make_lake(steward)
    apply(steward.store, POLICY, actor=None)
    tokens = {
        "analyst": create_token(steward.store, user="ann", groups=["analysts-eu"]).secret,
        "nobody": create_token(steward.store, user="ned", groups=["strangers"]).secret,
    }
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client, tokens


def ask(client: httpx.Client, token: str, sql: str) -> httpx.Response:
    return client.post("/api/v1/query", json={"sql": sql}, headers=bearer(token))


def assert_nothing_leaks(answer: httpx.Response, key: str) -> None:
    """A refusal or a safe answer: no clear PII, salary, non-EU row, key or internal name."""
    assert answer.status_code < 500, answer.text
    text = answer.text
    for secret in (*EMAILS, *SSNS, *NON_EU_NAMES, key, "__steward"):
        assert secret not in text, f"{secret!r} leaked: {text[:300]}"
    if answer.status_code == 200:
        body: dict[str, Any] = answer.json()
        for row in body["rows"]:
            for value in row:
                assert str(value) not in SALARIES


# -- 1. table references the rewrite might not see


@pytest.mark.parametrize(
    "sql",
    [
        "WITH customers AS (SELECT 1 AS id) SELECT * FROM customers",
        "WITH x AS (SELECT 1) SELECT * FROM customers AS x",
        "SELECT * FROM (SELECT 1) AS customers, customers",
        "WITH sqlite_master AS (SELECT 1) SELECT * FROM sqlite_master",
        "SELECT * FROM sqlite_master",
        "SELECT * FROM duckdb_tables",
        "SELECT sql FROM duckdb_views()",
        "SELECT * FROM information_schema.tables t, customers AS tables",
        "WITH a AS (SELECT * FROM customers) SELECT * FROM a, (WITH a AS (SELECT 1) SELECT 1) b",
        'SELECT * FROM "CUSTOMERS" AS "sqlite_schema"',
        "SELECT * FROM memory.main.customers",
        "SELECT * FROM customers AT (VERSION => 1)",
    ],
)
def test_no_table_reference_escapes_the_secure_view(
    attack: tuple[httpx.Client, dict[str, str]], steward: Steward, sql: str
) -> None:
    client, tokens = attack
    assert_nothing_leaks(ask(client, tokens["analyst"], sql), hash_key(steward))


# -- 3. disclosure channels


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT current_query()",
        "SELECT json_serialize_plan('SELECT * FROM customers')",
        "SELECT stats(ssn) FROM customers",
        "SELECT (SELECT min(ssn) FROM customers)",
        "SELECT (SELECT max(email) FROM customers), upper(ssn) FROM customers",
        "SELECT ssn + 1 FROM customers",
        "SELECT nosuch FROM customers",
        "SELECT * FROM customers WHERE ssn = 1",
        "SELECT $steward_hash_key",
    ],
)
def test_no_channel_discloses_the_rewritten_sql_or_the_key(
    attack: tuple[httpx.Client, dict[str, str]], steward: Steward, sql: str
) -> None:
    client, tokens = attack
    answer = ask(client, tokens["analyst"], sql)
    assert_nothing_leaks(answer, hash_key(steward))
    if answer.status_code == 200:
        for name in answer.json()["columns"]:
            assert "sha256" not in name.lower()
            assert "regexp" not in name.lower()


# -- 5. filters and masks bind to the view's own table


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM lake.crm.orders",
        "SELECT * FROM (SELECT 'EU' AS region) AS r, LATERAL (SELECT * FROM lake.crm.orders)",
        "SELECT (SELECT count(*) FROM lake.crm.orders) FROM (SELECT 'EU' AS region) AS r",
    ],
)
def test_a_filter_cannot_be_satisfied_by_the_callers_columns(
    attack: tuple[httpx.Client, dict[str, str]], sql: str
) -> None:
    client, tokens = attack
    answer = ask(client, tokens["analyst"], sql)
    assert answer.status_code == 403
    assert "region" in answer.json()["error"]


def test_the_filtered_table_shows_eu_rows_only(
    attack: tuple[httpx.Client, dict[str, str]], steward: Steward
) -> None:
    client, tokens = attack
    answer = ask(
        client,
        tokens["analyst"],
        "SELECT c.id FROM (SELECT 'US' AS region) AS r,"
        " LATERAL (SELECT id FROM customers) AS c ORDER BY 1",
    )
    assert answer.status_code == 200, answer.text
    assert {row[0] for row in answer.json()["rows"]} == EU_IDS


# -- 6. every outcome is recorded, in full


def test_every_outcome_is_recorded_with_the_full_sql(
    attack: tuple[httpx.Client, dict[str, str]], steward: Steward
) -> None:
    client, tokens = attack
    padded = "SELECT count(*) FROM customers /*" + "-" * 12_000 + "*/"
    sent = {
        "SELECT email FROM customers": 200,
        "SELECT salary FROM customers": 403,
        "SELECT nosuch FROM customers": 400,
        "SELECT FROM WHERE": 400,
        padded: 200,
    }
    for sql, status in sent.items():
        assert ask(client, tokens["analyst"], sql).status_code == status
    with steward.store.read() as conn:
        records = list_records(conn, AuditFilter(action="query", user="ann"), limit=50)
    recorded = {r.details["sql"]: r for r in records}
    assert set(recorded) == set(sent)
    assert recorded["SELECT salary FROM customers"].decision == "denied"
    assert recorded["SELECT nosuch FROM customers"].decision == "failed"
    assert recorded["SELECT FROM WHERE"].decision == "failed"
    assert recorded[padded].details["inputs"][0]["columns"] == []


# -- 7. limits


def test_no_grant_means_no_query_and_deep_sql_is_a_400(
    attack: tuple[httpx.Client, dict[str, str]],
) -> None:
    client, tokens = attack
    assert ask(client, tokens["nobody"], "SELECT 1").status_code == 403
    assert ask(client, tokens["nobody"], "SELECT * FROM customers").status_code == 403
    deep = "SELECT " + "(" * 5000 + "1" + ")" * 5000
    answer = ask(client, tokens["analyst"], deep)
    assert answer.status_code == 400
    assert "nested deeper" in answer.json()["error"]
