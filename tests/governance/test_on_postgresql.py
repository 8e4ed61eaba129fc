"""The evaluation and the check's findings store on PostgreSQL (the same SQL as on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.app import Steward
from steward.config import Settings
from steward.governance.check import check
from steward.governance.evaluate import evaluate
from steward.policy.versions import apply
from tests.governance.conftest import ADMIN, MASKED, POLICY, RunEtl
from tests.postgres import new_database


@pytest.fixture
def settings(tmp_path: Path, postgres_template: str) -> Iterator[Settings]:
    """This module's store is a fresh, migrated PostgreSQL database."""
    admin_url, template = postgres_template.split("|")
    with new_database(admin_url, "steward_test", template=template) as url:
        yield Settings(home=tmp_path / "home", database_url=url)


def test_finding_raised_then_resolved_on_postgresql(lake: Steward, run_etl: RunEtl) -> None:
    version = apply(lake.store, POLICY, actor=ADMIN)
    run_id = run_etl()
    evaluation = evaluate(lake, "dataset:ml:training_set")
    assert [(f.run_id, f.column, f.rule, f.policy_version) for f in evaluation.findings] == [
        (run_id, "email", "masks[0]", version)
    ]
    assert [(f.source.label, f.clear) for f in evaluation.pii_flows] == [
        ("lake.crm.customers.email", True)
    ]
    assert len(check(lake).raised) == 1
    run_etl(email=MASKED)
    fixed = check(lake)
    assert (fixed.exit_code, len(fixed.resolved)) == (0, 1)
