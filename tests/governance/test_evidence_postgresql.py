"""Evidence on a PostgreSQL store: the same report, and it verifies with the key alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.app import Steward
from steward.audit.checkpoints import Signer
from steward.config import Settings
from steward.governance.evidence import build_evidence
from steward.governance.evidence_verify import verify_evidence
from steward.policy.versions import apply
from tests.governance.conftest import ADMIN, POLICY, RunEtl
from tests.postgres import new_database


@pytest.fixture
def settings(tmp_path: Path, postgres_template: str) -> Iterator[Settings]:
    """This module's store is a fresh, migrated PostgreSQL database."""
    admin_url, template = postgres_template.split("|")
    with new_database(admin_url, "steward_test", template=template) as url:
        yield Settings(home=tmp_path / "home", database_url=url)


def test_evidence_verifies_on_postgresql(lake: Steward, run_etl: RunEtl) -> None:
    apply(lake.store, POLICY, actor=ADMIN)
    run_id = run_etl()
    report = build_evidence(lake, "dataset:ml:training_set").to_json()
    (step,) = report["steps"]
    assert (step["run_id"], step["posted_by"], step["policy_version"]) == (
        run_id,
        ["svc-etl"],
        1,
    )
    checked = verify_evidence(report, public_pem=Signer.load(lake.settings.home).public_pem)
    assert checked.statements == 2  # the run and the policy version
    assert checked.records == len(report["proof"]["records"])
