"""Write-audit-publish: a branch with defects leaves main alone; a clean branch moves main."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.catalog.sync import sync
from steward.connectors.iceberg import lake_catalog
from steward.errors import InvalidInput
from steward.quality.load import parse_checks
from steward.quality.publish import publish
from tests.cli_run import steward_cli

CHECKS = """\
version: 1
datasets:
  - name: lake.shop.payments
    checks:
      - row_count: {min: 1}
    columns:
      - name: payment_id
        checks: [not_null, unique]
      - name: amount
        checks:
          - min: {min: 0, severity: warn}
"""
SCHEMA = pa.schema([("payment_id", pa.int64()), ("amount", pa.float64())])


def rows(ids: list[int | None], amounts: list[float]) -> pa.Table:
    return pa.table({"payment_id": pa.array(ids, pa.int64()), "amount": amounts}, schema=SCHEMA)


@pytest.fixture
def payments(steward: Steward) -> Any:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("shop")
    table = catalog.create_table("shop.payments", schema=SCHEMA)
    table.append(rows([1, 2, 3], [10.0, 20.0, 30.0]))
    sync(steward.store, steward.source("lake"))
    yield catalog
    catalog.close()


def branch_with(catalog: Any, name: str, data: pa.Table) -> tuple[int, int]:
    table = catalog.load_table("shop.payments")
    main = table.current_snapshot().snapshot_id
    table.manage_snapshots().create_branch(main, name).commit()
    table = catalog.load_table("shop.payments")
    table.append(data, branch=name)
    table = catalog.load_table("shop.payments")
    return main, table.metadata.refs[name].snapshot_id


def main_ids(catalog: Any) -> list[int]:
    table = catalog.load_table("shop.payments")
    return sorted(table.scan().to_arrow()["payment_id"].to_pylist())


def test_a_branch_with_defects_leaves_main_unchanged_and_keeps_the_branch(
    steward: Steward, payments: Any
) -> None:
    main, _ = branch_with(payments, "audit", rows([3, None], [5.0, 6.0]))  # duplicate, null
    outcome = publish(steward, parse_checks(CHECKS).datasets[0], "audit")
    assert outcome.moved is False
    assert {r.name for r in outcome.blocking} == {"not_null(payment_id)", "unique(payment_id)"}
    table = payments.load_table("shop.payments")
    assert table.current_snapshot().snapshot_id == main
    assert "audit" in table.metadata.refs
    assert main_ids(payments) == [1, 2, 3]  # the branch's rows never reached main
    with steward.store.read() as conn:
        (decision,) = list_records(conn, AuditFilter(action="quality.publish"))
    assert decision.decision == "denied"


def test_a_clean_branch_moves_main_to_its_snapshot(steward: Steward, payments: Any) -> None:
    _, snapshot = branch_with(payments, "audit", rows([4, 5], [1.0, -2.0]))  # a warning only
    outcome = publish(steward, parse_checks(CHECKS).datasets[0], "audit")
    assert outcome.moved is True
    assert outcome.main_after == snapshot
    assert payments.load_table("shop.payments").current_snapshot().snapshot_id == snapshot
    assert main_ids(payments) == [1, 2, 3, 4, 5]
    assert [r.status for r in outcome.results if r.name.startswith("min")] == ["warn"]
    # The assertions are lineage: an OpenLineage run with dataQualityAssertions.
    with steward.store.read() as conn:
        from steward.lineage.queries import list_jobs

        jobs = list_jobs(conn, namespace="steward://quality", limit=10, offset=0)["jobs"]
    assert [j["name"] for j in jobs] == ["publish lake.shop.payments"]


def test_a_check_that_cannot_run_blocks_too(steward: Steward, payments: Any) -> None:
    main, _ = branch_with(payments, "audit", rows([7], [1.0]))
    checks = CHECKS.replace(
        "      - row_count: {min: 1}\n",
        "      - row_count: {min: 1}\n      - sql: {sql: 'select nope from lake.shop.payments'}\n",
    )
    outcome = publish(steward, parse_checks(checks).datasets[0], "audit")
    assert outcome.moved is False
    assert payments.load_table("shop.payments").current_snapshot().snapshot_id == main


def test_an_unknown_branch_is_named(steward: Steward, payments: Any) -> None:
    with pytest.raises(InvalidInput, match="no branch 'nope'"):
        publish(steward, parse_checks(CHECKS).datasets[0], "nope")


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_steward_publish_exits_1_when_blocked(
    steward: Steward, payments: Any, tmp_path: Path
) -> None:
    main, _ = branch_with(payments, "audit", rows([1], [1.0]))  # a duplicate id
    path = tmp_path / "checks.yaml"
    path.write_text(CHECKS, encoding="utf-8")
    done = steward_cli(
        steward.settings.home,
        "publish",
        "lake.shop.payments",
        "--branch",
        "audit",
        "--checks",
        str(path),
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "blocked" in done.stdout
    assert payments.load_table("shop.payments").current_snapshot().snapshot_id == main
