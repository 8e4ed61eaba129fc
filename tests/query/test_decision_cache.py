"""Decisions are remembered between queries, and never outlive what they were made from:
a new policy version, a new tag, a new column, a revoked token each count at the next query.

Every case goes through `POST /api/v1/query` with the caller's own token, on the
embedded SQLite store and DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.identity.tokens import create_token, revoke_token
from steward.policy.versions import apply
from tests.query.conftest import EMAILS

pytestmark = pytest.mark.engines("duckdb")
REDACTED = "****"  # the `redact` mask

MASK_EMAIL = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - {roles: [analyst], select: ["lake.crm.*"]}
masks:
  - {columns: [email], mask: redact}
"""
DENY_EMAIL = (
    MASK_EMAIL
    + """\
deny:
  - {roles: [analyst], columns: [lake.crm.customers.email]}
"""
)
MASK_PII_TAG = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - {roles: [analyst], select: ["lake.crm.*"]}
masks:
  - {columns: ["tag:pii"], mask: redact}
"""


@pytest.fixture
def http(lake: Steward) -> Iterator[TestClient]:
    """An HTTP client for the lake's API, with an analyst's token."""
    token = create_token(lake.store, user="ana", groups=["analysts"])
    with TestClient(create_app(lake)) as client:
        client.headers["Authorization"] = f"Bearer {token.secret}"
        client.headers["X-Token-Id"] = token.token_id
        yield client


def emails(http: TestClient) -> list[str]:
    response = http.post("/api/v1/query", json={"sql": "SELECT email FROM lake.crm.customers"})
    assert response.status_code == 200, response.text
    return sorted(row[0] for row in response.json()["rows"])


def test_a_remembered_mask_never_outlives_a_policy_that_denies(
    lake: Steward, http: TestClient
) -> None:
    apply(lake.store, MASK_EMAIL, actor=None)
    assert set(emails(http)) == {REDACTED}
    made = lake.query_cache.decisions_made
    assert set(emails(http)) == {REDACTED}
    assert lake.query_cache.decisions_made == made  # the second query was not decided again

    apply(lake.store, DENY_EMAIL, actor=None)
    response = http.post("/api/v1/query", json={"sql": "SELECT email FROM lake.crm.customers"})
    assert response.status_code == 403, response.text
    assert "email" in response.text


def test_a_new_tag_masks_the_column_at_the_next_query(lake: Steward, http: TestClient) -> None:
    apply(lake.store, MASK_PII_TAG, actor=None)
    assert set(emails(http)) == EMAILS
    admin = create_token(lake.store, user="admin", is_admin=True).secret
    edit = http.patch(
        "/api/v1/datasets/lake.crm.customers",
        json={"columns": {"email": {"addTags": ["pii"]}}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert edit.status_code == 200, edit.text
    assert set(emails(http)) == {REDACTED}

    http.patch(
        "/api/v1/datasets/lake.crm.customers",
        json={"columns": {"email": {"removeTags": ["pii"]}}},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert set(emails(http)) == EMAILS


def test_a_new_column_is_decided_at_the_next_query(lake: Steward, http: TestClient) -> None:
    from pyiceberg.types import StringType

    apply(lake.store, MASK_EMAIL, actor=None)
    assert set(emails(http)) == {REDACTED}
    catalog = lake_catalog(lake.settings.home)
    with catalog.load_table("crm.customers").update_schema() as update:
        update.add_column("email_backup", StringType())
    catalog.close()
    sql = {"sql": "SELECT email_backup FROM lake.crm.customers"}
    assert http.post("/api/v1/query", json=sql).status_code == 400  # not in the catalog yet

    sync(lake.store, lake.source("lake"))
    lake.tables.forget()
    response = http.post("/api/v1/query", json=sql)
    assert response.status_code == 200, response.text
    assert [row[0] for row in response.json()["rows"]] == [None] * 6


def test_a_revoked_token_is_refused_at_the_next_query(lake: Steward, http: TestClient) -> None:
    apply(lake.store, MASK_EMAIL, actor=None)
    assert set(emails(http)) == {REDACTED}
    revoke_token(lake.store, http.headers["X-Token-Id"])
    response = http.post("/api/v1/query", json={"sql": "SELECT email FROM lake.crm.customers"})
    assert response.status_code == 401, response.text
