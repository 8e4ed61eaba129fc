"""An evaluation and a check's report as JSON, JUnit XML and text for people."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree as ET

from steward.governance.check import CheckReport, StoredFinding
from steward.governance.models import (
    ColumnRef,
    Evaluation,
    Finding,
    FlowEdge,
    PiiFlow,
    Step,
    UpstreamNode,
)
from steward.governance.principals import principal_json


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding."""
    return {
        "runId": finding.run_id,
        "job": finding.job,
        "principal": finding.principal,
        "dataset": finding.dataset,
        "column": finding.column,
        "rule": finding.rule,
        "policyVersion": finding.policy_version,
        "kind": finding.kind,
        "message": finding.message,
        "target": finding.target,
    }


def _node_json(node: UpstreamNode) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "nodeId": node.node_id,
        "namespace": node.namespace,
        "name": node.name,
        "catalogName": node.catalog_name,
        "owners": [{"name": o.name, "kind": o.kind, "role": o.role} for o in node.owners],
    }


def _step_json(step: Step) -> dict[str, Any]:
    return {
        "runId": step.run_id,
        "job": step.job,
        "time": _time(step.time),
        "principal": principal_json(step.principal),
        "policyVersion": step.policy_version,
        "verdict": step.verdict,
        "latest": step.latest,
        "inputs": list(step.inputs),
        "outputs": list(step.outputs),
        "findings": [finding_json(f) for f in step.findings],
        "notes": list(step.notes),
    }


def _column_json(ref: ColumnRef) -> dict[str, Any]:
    return {"dataset": ref.dataset, "column": ref.column, "catalogName": ref.catalog_name}


def _edge_json(edge: FlowEdge) -> dict[str, Any]:
    return {
        "source": _column_json(edge.source),
        "target": _column_json(edge.target),
        "job": edge.job,
        "clear": edge.clear,
        "transformations": [
            {"type": t.type, "subtype": t.subtype, "masking": t.masking}
            for t in edge.transformations
        ],
    }


def _flow_json(flow: PiiFlow) -> dict[str, Any]:
    return {
        "source": _column_json(flow.source),
        "target": _column_json(flow.target),
        "tags": list(flow.tags),
        "clear": flow.clear,
        "path": [_edge_json(e) for e in flow.path],
    }


def evaluation_json(evaluation: Evaluation) -> dict[str, Any]:
    """An evaluation, whole: nodes, steps with their findings, personal-data flows."""
    return {
        "dataset": _node_json(evaluation.dataset),
        "asOf": _time(evaluation.as_of),
        "evaluatedAt": _time(evaluation.evaluated_at),
        "allowed": evaluation.allowed,
        "nodes": [_node_json(n) for n in evaluation.nodes],
        "steps": [_step_json(s) for s in evaluation.steps],
        "piiFlows": [_flow_json(f) for f in evaluation.pii_flows],
    }


def _stored_json(finding: StoredFinding) -> dict[str, Any]:
    return {
        "target": finding.target,
        "job": finding.job,
        "dataset": finding.dataset,
        "column": finding.column,
        "kind": finding.kind,
        "rule": finding.rule,
        "policyVersion": finding.policy_version,
        "runId": finding.run_id,
        "principal": finding.principal,
        "message": finding.message,
        "firstSeenAt": _time(finding.first_seen_at),
        "resolvedAt": _time(finding.resolved_at),
    }


def check_json(report: CheckReport) -> dict[str, Any]:
    """A check: each dataset's verdict and steps, the findings, what was raised and resolved."""
    raised = {(f.target, f.key) for f in report.raised}
    return {
        "exitCode": report.exit_code,
        "datasets": [
            {
                "dataset": e.dataset.node_id,
                "catalogName": e.dataset.catalog_name,
                "allowed": e.allowed,
                "steps": [_step_json(s) for s in e.steps],
                "piiFlows": [_flow_json(f) for f in e.pii_flows],
            }
            for e in report.evaluations
        ],
        "findings": [
            {**finding_json(f), "new": (f.target, f.key) in raised} for f in report.findings
        ],
        "resolved": [_stored_json(r) for r in report.resolved],
        "errors": [{"dataset": d, "error": why} for d, why in report.errors],
    }


def check_junit(report: CheckReport) -> str:
    """JUnit XML: a testsuite per dataset, a testcase per judged run, `<failure>` per finding.

    An unjudged run is a skipped testcase saying why; a dataset that could not be
    evaluated is one `<error>` testcase.
    """
    root = ET.Element("testsuites", name="steward lineage check")
    for evaluation in report.evaluations:
        name = evaluation.dataset.catalog_name or evaluation.dataset.node_id
        steps = [s for s in evaluation.steps if s.latest or s.findings]
        judged = [s for s in steps if s.latest or any(f in report.findings for f in s.findings)]
        suite = ET.SubElement(
            root,
            "testsuite",
            name=name,
            tests=str(len(judged)),
            failures=str(sum(1 for s in judged if _reported(s, report))),
            errors="0",
            skipped=str(sum(1 for s in judged if s.verdict == "unjudged")),
        )
        for step in judged:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=name,
                name=f"{step.job} run {step.run_id}",
            )
            mine = _reported(step, report)
            if mine:
                text = "\n".join(f.message for f in mine)
                ET.SubElement(
                    case,
                    "failure",
                    message=f"{len(mine)} finding(s) under policy v{step.policy_version}",
                    type=",".join(sorted({f.kind for f in mine})),
                ).text = text
            elif step.verdict == "unjudged":
                ET.SubElement(case, "skipped", message="; ".join(step.notes))
    if report.errors:
        suite = ET.SubElement(
            root,
            "testsuite",
            name="not evaluated",
            tests=str(len(report.errors)),
            failures="0",
            errors=str(len(report.errors)),
            skipped="0",
        )
        for dataset, why in report.errors:
            case = ET.SubElement(suite, "testcase", classname="not evaluated", name=dataset)
            ET.SubElement(case, "error", message=why).text = why
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _reported(step: Step, report: CheckReport) -> list[Finding]:
    return [f for f in step.findings if f in report.findings]


def check_text(report: CheckReport) -> list[str]:
    """A check for a terminal, one line per dataset, finding and resolution."""
    lines: list[str] = []
    raised = set(report.raised)
    by_target: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_target.setdefault(finding.target, []).append(finding)
    for evaluation in report.evaluations:
        target = evaluation.dataset.node_id
        shown = evaluation.dataset.catalog_name or target
        found = by_target.get(target, [])
        unjudged = [s for s in evaluation.steps if s.latest and s.verdict == "unjudged"]
        verdict = f"{len(found)} finding(s)" if found else "allowed"
        if unjudged:
            verdict += f", {len(unjudged)} run(s) unjudged"
        clear = sum(1 for f in evaluation.pii_flows if f.clear)
        if clear:
            verdict += f", clear personal data from {clear} path(s)"
        lines.append(f"{shown}: {verdict}")
        for finding in found:
            new = "new " if finding in raised else ""
            lines.append(f"  {new}{finding.kind}: {finding.message}")
        for step in unjudged:
            lines.append(f"  unjudged: run {step.run_id} of {step.job}: {'; '.join(step.notes)}")
    for resolved in report.resolved:
        lines.append(f"resolved: {resolved.message}")
    for dataset, why in report.errors:
        lines.append(f"error: {dataset}: {why}")
    return lines
