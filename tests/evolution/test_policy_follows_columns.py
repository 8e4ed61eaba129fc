"""Tags and masks follow a column through a rename; a policy left behind says so.

The issue's story, on the real command line: `ssn` is renamed to `social_sec_no` with
pyiceberg's `update_schema()` and the catalog synced. A tag-based mask keeps masking it
(the `pii.ssn` tag binds to the field id); a mask naming `ssn` is reported at sync, by
`policy validate`, and stops `policy export` (exit 1 unless `--force`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pyiceberg.types import StringType

from steward.app import Steward
from steward.catalog.pii import classify
from steward.catalog.sync import sync
from steward.config import Settings
from steward.connectors.iceberg import lake_catalog
from steward.identity.models import Principal
from steward.policy.drift import active_drift
from steward.policy.query import run_query
from steward.policy.versions import apply
from steward.policy.wiring import access_for
from steward.store.schema import catalog_annotations
from tests.cli_run import steward_cli
from tests.query.conftest import SSNS, make_lake

BY_NAME = """\
roles:
  analyst: {groups: [analysts]}
grants:
  - roles: [analyst]
    select: ["lake.crm.*"]
masks:
  - columns: [ssn]
    mask: redact
"""
BY_TAG = BY_NAME.replace("columns: [ssn]", "columns: ['tag:pii.ssn']")
ADMIN = Principal(user="admin", is_admin=True)
ANALYST = Principal(user="ann", groups=frozenset({"analysts"}))


@pytest.fixture
def settings(tmp_path: Path, engine_name: str) -> Settings:
    """On the embedded SQLite store, on each engine (`tests/conftest.py` ENGINES)."""
    return Settings(home=tmp_path / "home", engine=engine_name)  # type: ignore[arg-type]


@pytest.fixture
def lake(steward: Steward) -> Iterator[Any]:
    make_lake(steward)
    classify(steward.store, steward.source, "lake.crm.customers", principal=ADMIN)
    catalog = lake_catalog(steward.settings.home)
    yield catalog
    catalog.close()


def rename_ssn(catalog: Any) -> None:
    with catalog.load_table("crm.customers").update_schema() as update:
        update.rename_column("ssn", "social_sec_no")


def ssn_values(steward: Steward) -> set[Any]:
    steward.tables.forget()  # the tests change the lake between queries, faster than its TTL
    result = run_query(
        steward,
        "SELECT social_sec_no FROM lake.crm.customers",
        ANALYST,
        access_for=access_for(steward, ANALYST),
    )
    return {row[0] for row in result.rows}


def test_a_tag_based_mask_keeps_masking_a_renamed_column(steward: Steward, lake: Any) -> None:
    apply(steward.store, BY_TAG, actor=None)
    rename_ssn(lake)
    sync(steward.store, steward.source("lake"))

    assert not ssn_values(steward) & SSNS
    assert active_drift(steward.store) == []
    shown = steward_cli(
        steward.settings.home, "policy", "explain", "lake.crm.customers", "--user", "ann",
        "--groups", "analysts", "--json",
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    columns = {c["name"]: c["verdict"] for c in json.loads(shown.stdout)["columns"]}
    assert columns["social_sec_no"] == "masked"


def test_a_tag_recorded_by_name_only_follows_the_rename(steward: Steward, lake: Any) -> None:
    # Tags stored before they carried field ids: the next sync binds them to the id.
    with steward.store.write() as conn:
        conn.execute(catalog_annotations.update().values(field_id=None))
    sync(steward.store, steward.source("lake"))
    apply(steward.store, BY_TAG, actor=None)
    rename_ssn(lake)
    sync(steward.store, steward.source("lake"))

    assert not ssn_values(steward) & SSNS
    with steward.store.read() as conn:
        bound = conn.execute(
            sa.select(catalog_annotations.c.field_id).where(
                catalog_annotations.c.value == "pii.ssn"
            )
        ).scalars()
        assert list(bound) == [4]


@pytest.mark.slow  # the CLI in subprocesses: export, sync, validate, explain, apply
def test_a_mask_naming_the_old_name_is_reported_everywhere(
    steward: Steward, lake: Any, tmp_path: Path
) -> None:
    home = steward.settings.home
    apply(steward.store, BY_NAME, actor=None)
    exported = steward_cli(home, "policy", "export", "--format", "trino")
    assert exported.returncode == 0, exported.stderr
    rename_ssn(lake)

    synced = steward_cli(home, "catalog", "sync", "lake")

    assert synced.returncode == 0, synced.stderr
    said = " ".join(synced.stderr.split())
    assert "lake.crm.customers.social_sec_no: renamed from ssn" in said
    assert "masks[0] names column ssn, which lake.crm.customers no longer has" in said
    assert "lake.crm.customers.social_sec_no is new since the policy was applied" in said
    assert "Traceback" not in synced.stderr

    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(BY_NAME)
    validated = steward_cli(home, "policy", "validate", str(policy_file))
    assert validated.returncode == 0, validated.stderr
    assert "warning: masks[0] names column ssn" in " ".join(validated.stderr.split())

    explained = steward_cli(
        home, "policy", "explain", "lake.crm.customers", "--user", "ann", "--groups", "analysts"
    )
    assert explained.returncode == 0, explained.stderr
    assert "warning: masks[0] names column ssn" in " ".join(explained.stderr.split())

    refused = steward_cli(home, "policy", "export", "--format", "trino")
    assert refused.returncode == 1, refused.stderr
    assert refused.stdout == ""
    assert "error: masks[0] names column ssn" in " ".join(refused.stderr.split())
    forced = steward_cli(home, "policy", "export", "--format", "trino", "--force")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["tables"]

    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(BY_NAME.replace("columns: [ssn]", "columns: [social_sec_no]"))
    assert steward_cli(home, "policy", "apply", str(fixed)).returncode == 0
    assert steward_cli(home, "policy", "export", "--format", "trino").returncode == 0
    assert not ssn_values(steward) & SSNS


@pytest.mark.slow  # `steward catalog sync` and `policy export` in subprocesses
def test_a_new_column_whose_values_are_pii_is_reported_at_sync(steward: Steward, lake: Any) -> None:
    home = steward.settings.home
    apply(steward.store, BY_TAG, actor=None)
    table = lake.load_table("crm.customers")
    with table.update_schema() as update:
        update.add_column("contact", StringType())
    table = lake.load_table("crm.customers")
    rows = table.scan().to_arrow().to_pylist()
    for i, row in enumerate(rows):
        row.update(id=100 + i, contact=f"person{i}@example.com")
    table.append(pa.Table.from_pylist(rows, schema=table.schema().as_arrow()))

    synced = steward_cli(home, "catalog", "sync", "lake")

    said = " ".join(synced.stderr.split())
    assert synced.returncode == 0, synced.stderr
    assert "lake.crm.customers.contact: new" in said
    assert "lake.crm.customers.contact: looks like pii.email" in said
    assert "lake.crm.customers.contact is new since the policy was applied" in said
    refused = steward_cli(home, "policy", "export", "--format", "trino")
    assert refused.returncode == 1
    assert "contact" in refused.stderr


def test_the_sync_route_reports_renames_and_policy_warnings(
    steward: Steward, lake: Any, client: TestClient
) -> None:
    apply(steward.store, BY_NAME, actor=None)
    rename_ssn(lake)

    answer = client.post("/api/v1/sources/lake/sync")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["columns"] == [
        {
            "table": "lake.crm.customers",
            "column": "social_sec_no",
            "fieldId": 4,
            "renamedFrom": "ssn",
        }
    ]
    warned = {(w["kind"], w["rule"], w["column"]) for w in body["policyWarnings"]}
    assert warned == {("gone", "masks[0]", "ssn"), ("pii_in_clear", "", "social_sec_no")}
