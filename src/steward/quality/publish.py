"""Write-audit-publish: an Iceberg branch reaches `main` only when its checks pass.

Data is written to a branch (pyiceberg `append(..., branch=NAME)`, Spark WAP), never
to `main`. `publish` runs the dataset's checks against the branch's snapshot, on the
same engine as `steward quality run`; when no error-severity check failed or errored,
`main` is moved to the branch's snapshot, and otherwise `main` is left as it was and the
branch kept for inspection. The decision is recorded in the audit log and sent as an
OpenLineage event whose input carries the `dataQualityAssertions` facet.

A branch that only appends is checked on its appended files, combined with the numbers
main's last gate kept (`quality.incremental`); the rest runs in full on the branch's
snapshot, and `Published.how` says which ran how. A branch that does not start from
main's current snapshot is refused: moving main to it would drop main's newer commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward.engines.tables import IcebergSource, as_iceberg
from steward.errors import InvalidInput, NotFound
from steward.quality.incremental import find_increment, gate, keep
from steward.quality.models import CheckResult, Dataset

if TYPE_CHECKING:
    from steward.app import Steward
    from steward.identity.models import Principal

PRODUCER = "https://github.com/steward-data/steward/quality"
ASSERTIONS_URL = "https://openlineage.io/spec/facets/1-0-1/DataQualityAssertionsDatasetFacet.json"


@dataclass(frozen=True)
class Published:
    """What a publish decided."""

    dataset: str
    branch: str
    branch_snapshot: int
    main_before: int | None
    main_after: int | None
    moved: bool
    results: tuple[CheckResult, ...]
    how: str = ""

    @property
    def blocking(self) -> tuple[CheckResult, ...]:
        """The error-severity checks that failed or could not run."""
        return tuple(
            r for r in self.results if r.severity == "error" and r.status in ("fail", "error")
        )


def _iceberg_table(steward: Steward, dataset: str) -> tuple[IcebergSource, Any]:
    source_name, _, table = dataset.partition(".")
    opened = steward.source(source_name)
    source = as_iceberg(opened)
    if source is None:
        opened.close()
        raise InvalidInput(f"publish: {dataset} is not an Iceberg table; branches are Iceberg's")
    namespace, _, short = table.rpartition(".")
    try:
        return source, source.catalog.load_table((*namespace.split("."), short))
    except Exception as exc:
        source.close()
        raise NotFound(f"publish: {dataset} cannot be loaded ({exc})") from None


def publish(
    steward: Steward, checks: Dataset, branch: str, *, actor: Principal | None = None
) -> Published:
    """Gate `branch` of `checks.name` by its checks; move `main` to it when they pass."""
    from steward.engines.iceberg_files import plan_iceberg_tasks

    source, table = _iceberg_table(steward, checks.name)
    try:
        ref = table.metadata.refs.get(branch)
        if ref is None or branch == "main":
            known = sorted(r for r in table.metadata.refs if r != "main")
            raise InvalidInput(
                f"branch: {checks.name} has no branch {branch!r} to publish"
                f" (branches: {', '.join(known) or 'none'})"
            )
        snapshot_id = int(ref.snapshot_id)
        current = table.current_snapshot()
        main_before = int(current.snapshot_id) if current is not None else None
        planned = plan_iceberg_tasks(table, name=checks.name, snapshot_id=snapshot_id)
        increment = find_increment(
            table,
            name=checks.name,
            main_snapshot=main_before,
            branch_snapshot=snapshot_id,
            branch=planned,
        )
        data = planned[0]
        outcome_gate = gate(
            steward,
            checks,
            branch_data=data,
            increment=increment,
        )
        results = tuple(outcome_gate.results)
        blocked = any(r.severity == "error" and r.status in ("fail", "error") for r in results)
        main_after = main_before
        if not blocked:
            table.manage_snapshots().set_current_snapshot(snapshot_id).commit()
            main_after = snapshot_id
            keep(steward.store, checks, snapshot_id, outcome_gate)
    finally:
        source.close()
    outcome = Published(
        checks.name,
        branch,
        snapshot_id,
        main_before,
        main_after,
        not blocked,
        results,
        outcome_gate.summary,
    )
    _record(steward, outcome, actor)
    return outcome


def _record(steward: Steward, outcome: Published, actor: Principal | None) -> None:
    """The decision in the audit log, the results in history, the assertions as lineage."""
    from steward.audit.log import record
    from steward.audit.models import Resource
    from steward.catalog.views import dataset_page
    from steward.lineage.ingest import ingest, parse_events
    from steward.quality.history import record_results

    record_results(steward.store, outcome.results)
    with steward.store.write() as conn:
        record(
            conn,
            actor=actor,
            action="quality.publish",
            resource=Resource(outcome.dataset, ()),
            decision="allowed" if outcome.moved else "denied",
            details={
                "branch": outcome.branch,
                "branchSnapshot": outcome.branch_snapshot,
                "mainBefore": outcome.main_before,
                "mainAfter": outcome.main_after,
                "blocking": [r.name for r in outcome.blocking],
                "how": outcome.how,
            },
        )
    try:
        with steward.store.read() as conn:
            page = dataset_page(conn, outcome.dataset)
    except NotFound:
        return  # not in the catalog yet: no OpenLineage identity to report against
    assertions = [
        {
            "assertion": r.name,
            "success": r.status in ("pass", "warn"),
            **({"column": r.column} if r.column else {}),
        }
        for r in outcome.results
    ]
    event = {
        "eventType": "COMPLETE",
        "eventTime": datetime.now(UTC).isoformat(),
        "producer": PRODUCER,
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": _run_id()},
        "job": {"namespace": "steward://quality", "name": f"publish {outcome.dataset}"},
        "inputs": [
            {
                "namespace": page["namespace"],
                "name": page["datasetName"],
                "inputFacets": {
                    "dataQualityAssertions": {
                        "_producer": PRODUCER,
                        "_schemaURL": ASSERTIONS_URL,
                        "assertions": assertions,
                    }
                },
            }
        ],
        "outputs": [],
    }
    # Under `steward serve` the normaliser process builds the graph from it.
    inline = steward.settings.lineage_normaliser == "inline"
    events = parse_events([event], batch=False)
    ingest(steward.store, events, actor=actor, source="quality", normalise=inline)


def _run_id() -> str:
    import uuid

    return str(uuid.uuid4())
