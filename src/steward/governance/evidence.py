"""`steward evidence DATASET`: the evaluation of a dataset as a report an auditor can check.

The report (`Evidence.to_json()`, canonical; md and html render it) states: the upstream
graph with owners; the personal data that reaches the dataset and by which path; each
run's principal, policy version, verdict and findings; the policy versions in force,
with their files; the quality gates that let each snapshot through; the governed
queries that read the datasets. Each statement about something the audit log records
names the records that back it (`records: [seq, ...]`), and the `proof` section carries
those records with the chain and signed checkpoints that cover them (see
`steward.audit.proof`), so `evidence_verify.verify_evidence` checks the report with the
public key alone.

Which records back what:

- a run: the `lineage.ingest` records of the requests that stored its events
  (`lineage_events.audit_seq`; older events without it, the first ingest record naming
  the job at or after the event was received);
- a policy version: its `policy.apply` or `policy.rollback` record (version, sha256 of
  its files, who applied it);
- a published snapshot: its `quality.publish` record;
- a governed query: its `query` record.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.audit.log import AuditFilter, list_records, to_record
from steward.audit.models import AuditRecord
from steward.audit.proof import prove
from steward.governance.evidence_verify import FORMAT
from steward.governance.models import Evaluation, PiiFlow, Step, UpstreamNode
from steward.store.schema import (
    audit_records,
    lineage_events,
    policy_versions,
    quality_results,
)

if TYPE_CHECKING:
    from steward.app import Steward

# Governed queries shown per dataset, newest first (the report counts them all).
QUERIES_PER_DATASET = 20

LIMITS = (
    "Lineage shows only the events producers sent: a job that never reported a run, or"
    " reported it without column lineage, is missing or partly judged here.",
    "Only queries through Steward (and Trino, when its event listener reports to Steward)"
    " are governed and recorded; an engine or script reading the lake directly is not.",
    "Times are the clocks of the producers (events) and of the Steward server (records);"
    " the chain fixes the order of records, not that their clocks were right.",
    "Whoever holds the signing key ($STEWARD_HOME/audit/signing.key) can sign a forged"
    " chain: the proof is as strong as that key is kept apart from the database.",
    "The verdicts and PII paths are Steward's evaluation of the lineage and policy shown;"
    " the proof shows the records they rest on, not that the evaluation is right.",
)


@dataclass(frozen=True)
class PolicyEvidence:
    """A policy version some step was judged by, with its files and the record applying it."""

    version: int
    applied_at: datetime
    author: str | None
    action: str
    sha256: str
    sources: dict[str, str]
    record: AuditRecord | None


@dataclass(frozen=True)
class GateEvidence:
    """A quality gate's decision on a snapshot of a dataset (`quality.publish`)."""

    dataset: str
    record: AuditRecord
    # The gate's check results from quality history (the run written just before the
    # record): shown for reading, not backed by the record, which names only blockers.
    checks: tuple[tuple[str, str, str], ...] = ()  # (name, severity, status)


@dataclass(frozen=True)
class QueryEvidence:
    """The governed queries that read one dataset: the newest shown, all counted."""

    dataset: str
    total: int
    records: tuple[AuditRecord, ...]


@dataclass(frozen=True)
class Evidence:
    """A dataset's evaluation with the audit records backing it and their proof."""

    evaluation: Evaluation
    run_records: dict[str, tuple[AuditRecord, ...]]
    policies: tuple[PolicyEvidence, ...]
    gates: tuple[GateEvidence, ...]
    queries: tuple[QueryEvidence, ...]
    proof: dict[str, Any]
    generated_by: str | None

    def to_json(self) -> dict[str, Any]:
        """The report, canonical: what `steward evidence --format json` writes."""
        ev = self.evaluation
        return {
            "format": FORMAT,
            "dataset": _node_json(ev.dataset),
            "as_of": _time(ev.as_of),
            "generated_at": _time(ev.evaluated_at),
            "generated_by": self.generated_by,
            "verdict": "allowed" if ev.allowed else "violation",
            "summary": {
                "upstream_datasets": sum(1 for n in ev.nodes if n.kind == "dataset") - 1,
                "jobs": sum(1 for n in ev.nodes if n.kind == "job"),
                "runs": len(ev.steps),
                "findings": len(ev.findings),
                "clear_pii_flows": sum(1 for f in ev.pii_flows if f.clear),
                "unbacked_runs": sum(1 for s in ev.steps if not self.run_records.get(s.run_id)),
            },
            "upstream": {"nodes": [_node_json(n) for n in ev.nodes], "edges": _edges(ev.steps)},
            "pii": [_flow_json(f) for f in ev.pii_flows],
            "steps": [_step_json(s, self.run_records.get(s.run_id, ())) for s in ev.steps],
            "policies": [_policy_json(p) for p in self.policies],
            "quality_gates": [_gate_json(g) for g in self.gates],
            "queries": [
                {
                    "dataset": q.dataset,
                    "total": q.total,
                    "shown": [_query_json(r) for r in q.records],
                }
                for q in self.queries
            ],
            "limits": list(LIMITS),
            "proof": self.proof,
        }


def build_evidence(
    steward: Steward,
    dataset: str,
    *,
    as_of: datetime | None = None,
    generated_by: str | None = None,
    queries_per_dataset: int = QUERIES_PER_DATASET,
) -> Evidence:
    """Evaluate `dataset` (as of `as_of`), find the records backing each statement and
    prove them: signs a checkpoint when one of them is past the last."""
    from steward.audit.checkpoints import Signer
    from steward.governance.evaluate import evaluate

    evaluation = evaluate(steward, dataset, as_of)
    catalog_names = sorted(
        {n.catalog_name for n in evaluation.nodes if n.kind == "dataset" and n.catalog_name}
    )
    versions = sorted({s.policy_version for s in evaluation.steps if s.policy_version})
    with steward.store.read() as conn:
        run_records = _run_records(conn, evaluation.steps, as_of)
        policies = _policies(conn, versions)
        gates = _gates(conn, catalog_names, as_of)
        queries = tuple(_queries(conn, name, as_of, queries_per_dataset) for name in catalog_names)
    cited = [r.seq for found in run_records.values() for r in found]
    cited += [p.record.seq for p in policies if p.record is not None]
    cited += [g.record.seq for g in gates]
    cited += [r.seq for q in queries for r in q.records]
    home = steward.settings.home
    proof = prove(steward.store, Signer.load(home), home, cited)
    return Evidence(
        evaluation=evaluation,
        run_records=run_records,
        policies=policies,
        gates=gates,
        queries=queries,
        proof=proof,
        generated_by=generated_by,
    )


def _run_records(
    conn: Connection, steps: Sequence[Step], as_of: datetime | None
) -> dict[str, tuple[AuditRecord, ...]]:
    """Each run's `lineage.ingest` records: by the events' audit seq where kept."""
    run_ids = sorted({s.run_id for s in steps})
    if not run_ids:
        return {}
    audit_seq = getattr(lineage_events.c, "audit_seq", None)
    columns = [lineage_events.c.run_id, lineage_events.c.job_namespace, lineage_events.c.job_name]
    columns.append(lineage_events.c.received_at)
    if audit_seq is not None:
        columns.append(audit_seq)
    rows = conn.execute(sa.select(*columns).where(lineage_events.c.run_id.in_(run_ids))).all()
    seqs: dict[str, set[int]] = {run_id: set() for run_id in run_ids}
    for row in rows:
        seq = row.audit_seq if audit_seq is not None else None
        if seq is None:
            seq = _ingest_record_after(conn, f"{row.job_namespace}:{row.job_name}", row.received_at)
        if seq is not None:
            seqs[row.run_id].add(int(seq))
    wanted = sorted({seq for found in seqs.values() for seq in found})
    records = {r.seq: r for r in _records(conn, wanted)}
    return {
        run_id: tuple(
            records[seq]
            for seq in sorted(found)
            if seq in records and (as_of is None or records[seq].time <= as_of)
        )
        for run_id, found in seqs.items()
    }


def _ingest_record_after(conn: Connection, job: str, received_at: datetime) -> int | None:
    """The first `lineage.ingest` record at or after `received_at` naming `job`: the one
    written in the transaction that stored the event (events stored before their audit
    seq was kept)."""
    query = (
        sa.select(audit_records)
        .where(audit_records.c.action == "lineage.ingest")
        .where(audit_records.c.recorded_at >= received_at)
        .order_by(audit_records.c.seq)
        .limit(20)
    )
    for row in conn.execute(query):
        if job in orjson.loads(row.details).get("jobs", []):
            return int(row.seq)
    return None


def _records(conn: Connection, seqs: Sequence[int]) -> list[AuditRecord]:
    found: list[AuditRecord] = []
    for start in range(0, len(seqs), 500):
        chunk = list(seqs[start : start + 500])
        rows = conn.execute(sa.select(audit_records).where(audit_records.c.seq.in_(chunk)))
        found.extend(to_record(row._mapping) for row in rows)
    return sorted(found, key=lambda r: r.seq)


def _policies(conn: Connection, versions: Sequence[int]) -> tuple[PolicyEvidence, ...]:
    if not versions:
        return ()
    rows = conn.execute(
        sa.select(policy_versions)
        .where(policy_versions.c.version.in_(list(versions)))
        .order_by(policy_versions.c.version)
    ).all()
    applied: dict[int, AuditRecord] = {}
    for item in list_records(conn, AuditFilter(action="policy.*"), limit=1_000_000):
        version = item.details.get("version")
        if item.action in ("policy.apply", "policy.rollback") and isinstance(version, int):
            applied.setdefault(version, item)
    return tuple(
        PolicyEvidence(
            version=row.version,
            applied_at=row.created_at,
            author=row.author,
            action=row.action,
            sha256=row.sha256,
            sources=dict(row.sources),
            record=applied.get(row.version),
        )
        for row in rows
    )


def _gates(
    conn: Connection, names: Sequence[str], as_of: datetime | None
) -> tuple[GateEvidence, ...]:
    gates: list[GateEvidence] = []
    for name in names:
        where = AuditFilter(dataset=name, action="quality.publish", until=_after(as_of))
        found = list_records(conn, where, limit=1_000)
        gates.extend(GateEvidence(name, r, _gate_checks(conn, name, r)) for r in reversed(found))
    return tuple(gates)


def _gate_checks(
    conn: Connection, dataset: str, record: AuditRecord
) -> tuple[tuple[str, str, str], ...]:
    """The results `publish` stored in quality history just before writing `record`."""
    t = quality_results.c
    run_id = conn.execute(
        sa.select(t.run_id)
        .where(t.dataset == dataset, t.ran_at <= record.time)
        .order_by(t.ran_at.desc(), t.id.desc())
        .limit(1)
    ).scalar()
    if run_id is None:
        return ()
    rows = conn.execute(
        sa.select(t.check_name, t.severity, t.status).where(t.run_id == run_id).order_by(t.id)
    )
    return tuple((row.check_name, row.severity, row.status) for row in rows)


def _queries(conn: Connection, name: str, as_of: datetime | None, shown: int) -> QueryEvidence:
    where = AuditFilter(dataset=name, action="query", until=_after(as_of))
    total = conn.execute(
        sa.select(sa.func.count()).select_from(audit_records).where(*where.where())
    ).scalar_one()
    return QueryEvidence(name, int(total), tuple(list_records(conn, where, limit=shown)))


def _after(as_of: datetime | None) -> datetime | None:
    """`until` is exclusive; as of a time includes records at that very time."""
    from datetime import timedelta

    return None if as_of is None else as_of + timedelta(microseconds=1)


# -- the report's JSON ----------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds") + "Z"


def _node_json(node: UpstreamNode) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "id": node.node_id,
        "namespace": node.namespace,
        "name": node.name,
        "catalog_name": node.catalog_name,
        "owners": [{"name": o.name, "kind": o.kind, "role": o.role} for o in node.owners],
    }


def _edges(steps: Iterable[Step]) -> list[dict[str, str]]:
    edges: set[tuple[str, str]] = set()
    for step in steps:
        edges.update((source, step.job) for source in step.inputs)
        edges.update((step.job, target) for target in step.outputs)
    return [{"from": a, "to": b} for a, b in sorted(edges)]


def _flow_json(flow: PiiFlow) -> dict[str, Any]:
    return {
        "source": flow.source.label,
        "target": flow.target.label,
        "tags": list(flow.tags),
        "clear": flow.clear,
        "path": [
            {
                "from": edge.source.label,
                "to": edge.target.label,
                "job": edge.job,
                "clear": edge.clear,
                "transformations": [
                    {k: v for k, v in vars(t).items() if v is not None}
                    for t in edge.transformations
                ],
            }
            for edge in flow.path
        ],
    }


def _step_json(step: Step, records: Sequence[AuditRecord]) -> dict[str, Any]:
    principal = step.principal
    return {
        "run_id": step.run_id,
        "job": step.job,
        "time": _time(step.time),
        "principal": {
            "user": principal.user,
            "groups": list(principal.groups),
            "source": principal.source,
            "mapping": principal.mapping,
        },
        "posted_by": sorted({r.user or "" for r in records}),
        "policy_version": step.policy_version,
        "verdict": step.verdict,
        "findings": [
            {
                "kind": f.kind,
                "dataset": f.dataset,
                "column": f.column,
                "rule": f.rule,
                "policy_version": f.policy_version,
                "message": f.message,
            }
            for f in step.findings
        ],
        "inputs": list(step.inputs),
        "outputs": list(step.outputs),
        "latest": step.latest,
        "notes": list(step.notes),
        "records": [r.seq for r in records],
    }


def _policy_json(policy: PolicyEvidence) -> dict[str, Any]:
    return {
        "version": policy.version,
        "action": policy.action,
        # The record's time where there is one: what the proof can back.
        "applied_at": _time(policy.record.time if policy.record else policy.applied_at),
        "author": policy.record.user if policy.record else policy.author,
        "sha256": policy.sha256,
        "sources": dict(sorted(policy.sources.items())),
        "records": [policy.record.seq] if policy.record is not None else [],
    }


def _gate_json(gate: GateEvidence) -> dict[str, Any]:
    record = gate.record
    return {
        "dataset": gate.dataset,
        "snapshot": record.details.get("mainAfter"),
        "branch": record.details.get("branch"),
        "branch_snapshot": record.details.get("branchSnapshot"),
        "published": record.decision == "allowed",
        "blocking": list(record.details.get("blocking", [])),
        "how": record.details.get("how"),
        "checks": [
            {"check": name, "severity": severity, "status": status}
            for name, severity, status in gate.checks
        ],
        "time": _time(record.time),
        "by": record.user,
        "records": [record.seq],
    }


def _query_json(record: AuditRecord) -> dict[str, Any]:
    return {
        "time": _time(record.time),
        "user": record.user,
        "decision": record.decision,
        "dataset": record.dataset,
        "columns": list(record.columns),
        "policy": record.policy,
        "records": [record.seq],
    }
