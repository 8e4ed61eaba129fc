"""`steward lineage check`: the evaluation over many datasets, for CI and alerts.

Each dataset's upstream is evaluated (`governance.evaluate`); the findings of each job's
latest run toward it (or of every run, `all_runs`) are the check's findings. They are
kept in the store by key (dataset, job, table and column read, kind): a key is raised
the first check that finds it, stays open (no new alert) while checks keep finding it,
and is resolved by the first check of that dataset that no longer does. Alerts go to
the quality checks' receivers (Alertmanager, a webhook), one on raise, one on resolve.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import StewardError
from steward.governance.evaluate import evaluate
from steward.governance.models import Evaluation, Finding
from steward.lineage.graph import valid_at
from steward.lineage.nodes import node_id
from steward.lineage.scope import CONSUMER_NAMESPACE
from steward.store import Store
from steward.store.schema import datasets, governance_findings, lineage_edges, namespaces, run_io

if TYPE_CHECKING:
    from steward.app import Steward

# The alert's `check` label names the finding; quality's receivers and states are shared.
ALERT_CHECK_PREFIX = "lineage-policy"


@dataclass(frozen=True)
class StoredFinding:
    """A finding as the store keeps it between checks."""

    key: str
    target: str
    job: str
    dataset: str
    column: str | None
    kind: str
    rule: str
    policy_version: int
    run_id: str
    principal: str | None
    message: str
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class CheckReport:
    """What one check found, raised, resolved, and could not evaluate."""

    evaluations: tuple[Evaluation, ...]
    findings: tuple[Finding, ...]  # what this check found, raised or known
    raised: tuple[Finding, ...]  # found now, not open before: new alerts
    resolved: tuple[StoredFinding, ...]  # open before, not found now
    errors: tuple[tuple[str, str], ...]  # (dataset, why it could not be evaluated)
    undelivered: tuple[str, ...] = ()  # alerts that did not reach a receiver

    @property
    def exit_code(self) -> int:
        """2 when a dataset could not be evaluated, else 1 on findings, else 0."""
        if self.errors:
            return 2
        return 1 if self.findings else 0


def finding_key_hash(finding: Finding) -> str:
    """The stored identity of a finding's key."""
    return hashlib.sha256(finding.key.encode()).hexdigest()


def alert_check_name(job: str, dataset: str, column: str | None, kind: str) -> str:
    """The `check` label of a finding's alert."""
    what = f"{dataset}.{column}" if column else dataset
    return f"{ALERT_CHECK_PREFIX} {kind} {what} by {job}"


def datasets_to_check(
    store: Store, *, since: datetime | None = None, as_of: datetime | None = None
) -> list[str]:
    """Every dataset some job writes (as of `as_of`), or those a run wrote since `since`.

    Governed queries' consumers (`steward://consumer`) are left out: the query path
    enforced the policy on what they read.
    """
    with store.read() as conn:
        query = (
            sa.select(namespaces.c.name.label("namespace"), datasets.c.name)
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .where(
                namespaces.c.name != CONSUMER_NAMESPACE,
                datasets.c.id.in_(
                    sa.select(lineage_edges.c.dataset_id).where(
                        lineage_edges.c.direction == "output", valid_at(lineage_edges, as_of)
                    )
                ),
            )
        )
        if since is not None:
            written = sa.select(run_io.c.dataset_id).where(
                run_io.c.direction == "output", run_io.c.event_time >= since
            )
            if as_of is not None:
                written = written.where(run_io.c.event_time <= as_of)
            query = query.where(datasets.c.id.in_(written))
        rows = conn.execute(query.order_by(namespaces.c.name, datasets.c.name)).all()
    return [node_id("dataset", row.namespace, row.name) for row in rows]


def check(
    steward: Steward,
    targets: Sequence[str] | None = None,
    *,
    since: datetime | None = None,
    as_of: datetime | None = None,
    all_runs: bool = False,
    alert: bool = True,
) -> CheckReport:
    """Evaluate `targets` (default: `datasets_to_check`), keep the findings, send alerts."""
    names = list(targets) if targets else datasets_to_check(steward.store, since=since, as_of=as_of)
    evaluations: list[Evaluation] = []
    errors: list[tuple[str, str]] = []
    for name in names:
        try:
            evaluations.append(evaluate(steward, name, as_of))
        except StewardError as exc:
            errors.append((name, exc.message))
    findings = tuple(
        finding
        for evaluation in evaluations
        for step in evaluation.steps
        if all_runs or step.latest
        for finding in step.findings
    )
    evaluated = sorted({e.dataset.node_id for e in evaluations})
    raised, resolved = record_findings(steward.store, evaluated, findings)
    undelivered: list[str] = []
    if alert:
        undelivered = send_alerts(steward, findings, resolved)
    return CheckReport(
        evaluations=tuple(evaluations),
        findings=findings,
        raised=raised,
        resolved=resolved,
        errors=tuple(errors),
        undelivered=tuple(undelivered),
    )


def record_findings(
    store: Store, evaluated: Sequence[str], findings: Sequence[Finding]
) -> tuple[tuple[Finding, ...], tuple[StoredFinding, ...]]:
    """Keep a check's findings in one transaction: what it raised, and what it resolved.

    Only findings of `evaluated` datasets are resolved: a check of one dataset leaves
    the others' open findings as they are.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    latest: dict[str, Finding] = {}
    for finding in findings:  # in step order: the last run's finding wins
        latest[finding_key_hash(finding)] = finding
    f = governance_findings.c
    raised: list[Finding] = []
    resolved: list[StoredFinding] = []
    with store.write() as conn:
        stored = {
            row.key_hash: row
            for row in conn.execute(
                sa.select(governance_findings).where(f.target.in_(list(evaluated)))
            )
        }
        for key_hash, finding in latest.items():
            values = _values(finding, now)
            row = stored.get(key_hash)
            if row is None:
                conn.execute(
                    governance_findings.insert().values(
                        key_hash=key_hash, first_seen_at=now, **values
                    )
                )
                raised.append(finding)
                continue
            if row.resolved_at is not None:
                raised.append(finding)
            conn.execute(
                governance_findings.update()
                .where(f.key_hash == key_hash)
                .values(resolved_at=None, **values)
            )
        for key_hash, row in sorted(stored.items()):
            if key_hash in latest or row.resolved_at is not None:
                continue
            conn.execute(
                governance_findings.update().where(f.key_hash == key_hash).values(resolved_at=now)
            )
            resolved.append(_stored(row, resolved_at=now))
    return tuple(raised), tuple(resolved)


def _values(finding: Finding, now: datetime) -> dict[str, Any]:
    return {
        "target": finding.target,
        "job": finding.job,
        "dataset": finding.dataset,
        "column": finding.column,
        "kind": finding.kind,
        "rule": finding.rule,
        "policy_version": finding.policy_version,
        "run_id": finding.run_id,
        "principal": finding.principal,
        "message": finding.message,
        "last_seen_at": now,
    }


def _stored(row: Any, *, resolved_at: datetime | None = None) -> StoredFinding:
    return StoredFinding(
        key="|".join([row.target, row.job, row.dataset, row.column or "", row.kind]),
        target=row.target,
        job=row.job,
        dataset=row.dataset,
        column=row.column,
        kind=row.kind,
        rule=row.rule,
        policy_version=row.policy_version,
        run_id=row.run_id,
        principal=row.principal,
        message=row.message,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        resolved_at=resolved_at or row.resolved_at,
    )


def open_findings(conn: Connection, target: str | None = None) -> list[StoredFinding]:
    """The findings still open (of one evaluated dataset, or all), by dataset then key."""
    f = governance_findings.c
    query = sa.select(governance_findings).where(f.resolved_at.is_(None))
    if target is not None:
        query = query.where(f.target == target)
    rows = conn.execute(query.order_by(f.target, f.job, f.dataset, f.column, f.kind)).all()
    return [_stored(row) for row in rows]


def send_alerts(
    steward: Steward, findings: Sequence[Finding], resolved: Sequence[StoredFinding]
) -> list[str]:
    """Alert the quality receivers of findings raised and resolved; what was not delivered.

    The receivers' state decides: a finding still firing is not sent again.
    """
    from steward.quality.alerts import CheckOutcome, notify
    from steward.quality.history import StoredAlertState

    settings = steward.settings
    if not (settings.quality_alertmanager_url or settings.quality_webhook_url):
        return []
    outcomes = [
        CheckOutcome(
            dataset=f.target,
            check=alert_check_name(f.job, f.dataset, f.column, f.kind),
            severity="error",
            status="fail",
            message=f.message,
        )
        for f in findings
    ] + [
        CheckOutcome(
            dataset=r.target,
            check=alert_check_name(r.job, r.dataset, r.column, r.kind),
            severity="error",
            status="pass",
            message=f"resolved: {r.message}",
        )
        for r in resolved
    ]
    state = StoredAlertState(steward.store)
    report = notify(
        outcomes,
        state=state,
        alertmanager_url=settings.quality_alertmanager_url,
        webhook_url=settings.quality_webhook_url,
    )
    state.save()
    return [
        f"{a.receiver}: {a.outcome.dataset} {a.outcome.check} ({a.reason})"
        for a in report.undelivered
    ]
