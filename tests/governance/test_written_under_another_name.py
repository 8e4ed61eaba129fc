"""A run that wrote a dataset under another of its names (dbt-ol's warehouse relation,
Spark's storage location, joined to the table's name by a `symlinks` facet) is a run
toward that dataset: the governance check judges it, evaluating the table by the name the
graph shows or a dataset downstream of it."""

from __future__ import annotations

from typing import Any

from steward.app import Steward
from steward.governance.check import check
from steward.governance.evaluate import evaluate
from steward.identity.models import Principal
from steward.lineage.ingest import ingest, parse_events
from steward.policy.versions import apply
from tests.governance.conftest import (
    ADMIN,
    ETL,
    ETL_MAPPING,
    POLICY,
    customers_identity,
    now_iso,
)
from tests.openlineage_events import dataset, run_event

# The table's name as the catalog and its readers use it, and the name the ETL job's
# engine gives it (a DuckDB relation), with a symlink to the first.
TABLE = ("ml", "training_set")
RELATION = ("duckdb:///srv/dbt/lake.duckdb", "lake.ml.training_set")
DOWNSTREAM = ("reports", "emails_by_region")
DASHBOARD = Principal(user="svc-bi", groups=frozenset({"bi"}))


def _send(steward: Steward, event: dict[str, Any], actor: Principal) -> None:
    """Ingest `event` as run now, under the policy applied before it."""
    event["eventTime"] = now_iso()
    ingest(steward.store, parse_events([event], batch=False), actor=actor)


def _report_reads_the_table(lake: Steward) -> None:
    """A reporting job reads the table by its name and writes a report downstream of it."""
    report = dataset(*DOWNSTREAM, ["email"], column_lineage={"email": [(*TABLE, "email")]})
    _send(
        lake,
        run_event("report", namespace="bi", inputs=[dataset(*TABLE)], outputs=[report]),
        DASHBOARD,
    )


def _etl_writes_the_relation(lake: Steward) -> str:
    """The ETL job copies customers' email (clear, though its role reads it masked) into
    the table, naming its output by the DuckDB relation."""
    customers = customers_identity(lake)
    symlinks = {"identifiers": [{"namespace": TABLE[0], "name": TABLE[1], "type": "TABLE"}]}
    output = dataset(
        *RELATION,
        ["email"],
        column_lineage={"email": [(*customers, "email")]},
        symlinks=symlinks,
    )
    event = run_event(
        "build_training", namespace="etl", inputs=[dataset(*customers)], outputs=[output]
    )
    _send(lake, event, ETL)
    return str(event["run"]["runId"])


def _judged(lake: Steward, target: str) -> list[tuple[str, str, str | None]]:
    evaluation = evaluate(lake.store, target, mappings=ETL_MAPPING)
    return [
        (s.run_id, s.verdict, s.principal.user)
        for s in evaluation.steps
        if s.job == "job:etl:build_training"
    ]


def test_a_run_that_wrote_the_table_under_another_name_is_judged(lake: Steward) -> None:
    apply(lake.store, POLICY, actor=ADMIN)
    _report_reads_the_table(lake)
    run_id = _etl_writes_the_relation(lake)
    table = f"dataset:{TABLE[0]}:{TABLE[1]}"
    report = f"dataset:{DOWNSTREAM[0]}:{DOWNSTREAM[1]}"
    for target in (table, report):
        assert _judged(lake, target) == [(run_id, "violation", "svc-etl")], target
    evaluation = evaluate(lake.store, report, mappings=ETL_MAPPING)
    # Its clear copy of a masked column, and its read of every region under an EU filter.
    found = {(f.run_id, f.dataset, f.column, f.kind) for f in evaluation.findings}
    assert found == {
        (run_id, "lake.crm.customers", None, "unfiltered-read"),
        (run_id, "lake.crm.customers", "email", "masked-read-clear"),
    }
    (step,) = [s for s in evaluation.steps if s.run_id == run_id]
    assert step.outputs == (f"dataset:{RELATION[0]}:{RELATION[1]}",)
    # `steward lineage check` of the report raises them.
    report_check = check(lake, [report], alert=False)
    assert sorted((f.run_id, f.kind) for f in report_check.findings) == [
        (run_id, "masked-read-clear"),
        (run_id, "unfiltered-read"),
    ]


def test_a_run_that_wrote_an_unrelated_name_is_not_judged(lake: Steward) -> None:
    """Without the symlink, the relation is another dataset: its run is not on the way."""
    apply(lake.store, POLICY, actor=ADMIN)
    _report_reads_the_table(lake)
    customers = customers_identity(lake)
    output = dataset(*RELATION, ["email"], column_lineage={"email": [(*customers, "email")]})
    event = run_event(
        "build_training", namespace="etl", inputs=[dataset(*customers)], outputs=[output]
    )
    _send(lake, event, ETL)
    assert _judged(lake, f"dataset:{DOWNSTREAM[0]}:{DOWNSTREAM[1]}") == []
