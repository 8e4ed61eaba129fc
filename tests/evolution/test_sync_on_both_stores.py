"""The sync's column changes, the field-id binding of old tags and the policy drift, on
the embedded SQLite store and on PostgreSQL (the store-side SQL differs)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.catalog.sync import sync
from steward.policy.drift import active_drift
from steward.policy.versions import apply
from steward.store.schema import catalog_annotations
from tests.evolution.test_policy_follows_columns import BY_NAME, BY_TAG, lake, rename_ssn

__all__ = ["lake"]  # the fixture


def test_old_tags_bind_to_field_ids_and_follow_a_rename(steward: Steward, lake: Any) -> None:
    with steward.store.write() as conn:
        conn.execute(catalog_annotations.update().values(field_id=None))
    sync(steward.store, steward.source("lake"))
    apply(steward.store, BY_TAG, actor=None)
    rename_ssn(lake)
    sync(steward.store, steward.source("lake"))

    with steward.store.read() as conn:
        bound = conn.execute(
            sa.select(catalog_annotations.c.field_id).where(
                catalog_annotations.c.value == "pii.ssn"
            )
        ).scalars()
        assert list(bound) == [4]
    assert active_drift(steward.store) == []


def test_the_sync_route_reports_a_rename_and_the_rule_left_behind(
    steward: Steward, lake: Any, client: TestClient
) -> None:
    apply(steward.store, BY_NAME, actor=None)
    rename_ssn(lake)

    body = client.post("/api/v1/sources/lake/sync").json()

    assert [(c["column"], c["renamedFrom"]) for c in body["columns"]] == [("social_sec_no", "ssn")]
    assert {(w["kind"], w["column"]) for w in body["policyWarnings"]} == {
        ("gone", "ssn"),
        ("pii_in_clear", "social_sec_no"),
    }
