"""Checking an evidence report offline: its proof with a trusted key, then each statement
against the records it cites (docs/evidence.md, "The proof").

Reads only the report and the key: no store, no `STEWARD_HOME`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from steward.audit.proof import ProofFails, check_proof, trusted_key
from steward.errors import InvalidInput

# The report's `format`: what `steward evidence` writes and this module reads.
FORMAT = "steward.evidence/1"


@dataclass(frozen=True)
class EvidenceCheck:
    """A report that verified: what it covered."""

    dataset: str
    records: int
    checkpoints: int
    fingerprint: str
    statements: int
    unbacked: tuple[str, ...]
    stretches: tuple[tuple[int, int, str], ...] = ()

    def lines(self) -> list[str]:
        """What `steward audit verify --evidence` prints."""
        out = [
            f"ok: evidence for {self.dataset}",
            f"{self.records} audit records chain to {self.checkpoints} signed checkpoint(s),"
            f" key {self.fingerprint}",
        ]
        out.extend(
            f"  records {first}..{last}: hashes and links hold, checkpoint {last}"
            f" (signed {signed_at}) verifies"
            for first, last, signed_at in self.stretches
        )
        out.append(f"{self.statements} statements match the records that back them")
        out.extend(f"not backed by any record: {item}" for item in self.unbacked)
        return out

    def to_json(self) -> dict[str, Any]:
        """What `steward audit verify --evidence FILE --json` prints beside `ok`."""
        return {
            "dataset": self.dataset,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "fingerprint": self.fingerprint,
            "statements": self.statements,
            "unbacked": list(self.unbacked),
        }


def verify_evidence(
    report: Mapping[str, Any], *, public_pem: str | None = None, fingerprint: str | None = None
) -> EvidenceCheck:
    """Check a report offline: its proof with the trusted key, and every statement against
    the records it cites. Raises `ProofFails` naming the first record, checkpoint or
    statement that does not verify."""
    if not isinstance(report, Mapping) or report.get("format") != FORMAT:
        raise ProofFails(None, f"not a Steward evidence report (format {FORMAT!r} expected)")
    proof = report.get("proof")
    if not isinstance(proof, Mapping):
        raise ProofFails(None, "the report has no proof section")
    pem = trusted_key(proof, public_pem=public_pem, fingerprint=fingerprint)
    checked = check_proof(proof, pem)
    records = {int(r["seq"]): r for r in proof["records"]}
    statements = 0
    unbacked: list[str] = []
    for where, item, rule in _statements(report):
        cited = item.get("records")
        if not isinstance(cited, list):
            raise ProofFails(None, f"{where}: has no records list")
        if not cited:
            unbacked.append(where)
            continue
        for seq in cited:
            record = records.get(seq) if isinstance(seq, int) else None
            if record is None:
                raise ProofFails(seq, f"{where}: cites record {seq}, which the proof lacks")
            try:
                problem = rule(item, record, report)
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                # A statement edited into another shape: say which, never a traceback.
                problem = f"cannot be compared with the statement ({type(exc).__name__}: {exc})"
            if problem:
                raise ProofFails(seq, f"{where}: record {seq} {problem}")
        statements += 1
    dataset = report.get("dataset")
    return EvidenceCheck(
        dataset=str(dataset.get("id") if isinstance(dataset, Mapping) else dataset),
        records=checked.records,
        checkpoints=checked.checkpoints,
        fingerprint=checked.fingerprint,
        statements=statements,
        unbacked=tuple(unbacked),
        stretches=checked.stretches,
    )


Rule = Any  # (item, record, report) -> a problem, or None


def _statements(report: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any], Rule]]:
    for item in _items(report, "steps"):
        yield f"run {item.get('run_id')} of {item.get('job')}", item, _run_rule
    for item in _items(report, "policies"):
        yield f"policy version {item.get('version')}", item, _policy_rule
    for item in _items(report, "quality_gates"):
        yield f"quality gate on {item.get('dataset')} at {item.get('time')}", item, _gate_rule
    for group in _items(report, "queries"):
        shown = group.get("shown")
        if not isinstance(shown, list) or not all(isinstance(v, Mapping) for v in shown):
            raise ProofFails(None, f"queries of {group.get('dataset')}: shown is not a list")
        for item in shown:
            yield f"query by {item.get('user')} at {item.get('time')}", item, _query_rule


def _items(report: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = report.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise ProofFails(None, f"{name}: not a list of objects")
    return value


def _differs(what: str, said: Any, recorded: Any) -> str | None:
    if said == recorded:
        return None
    return f"says {what} {recorded!r}, the report says {said!r}"


def _within_as_of(record: Mapping[str, Any], report: Mapping[str, Any]) -> str | None:
    as_of = report.get("as_of")
    if isinstance(as_of, str) and str(record.get("time")) > as_of:
        return f"was written at {record.get('time')}, after the report's as-of time {as_of}"
    return None


def _run_rule(
    item: Mapping[str, Any], record: Mapping[str, Any], report: Mapping[str, Any]
) -> str | None:
    job = str(item.get("job", "")).removeprefix("job:")
    if record.get("action") != "lineage.ingest":
        return f"is a {record.get('action')!r} record, not lineage.ingest"
    if job not in record.get("details", {}).get("jobs", []):
        return f"does not name job {job!r} among the jobs it ingested"
    posted_by = item.get("posted_by")
    if not isinstance(posted_by, list) or (record["actor"]["user"] or "") not in posted_by:
        return _differs("its poster was", posted_by, record["actor"]["user"])
    principal = item.get("principal", {})
    if principal.get("source") == "poster" and principal.get("user") != record["actor"]["user"]:
        return _differs(
            "the principal (its poster) was", principal.get("user"), record["actor"]["user"]
        )
    return _judged_by(item, record, report) or _within_as_of(record, report)


def _judged_by(
    item: Mapping[str, Any], record: Mapping[str, Any], report: Mapping[str, Any]
) -> str | None:
    """A run is judged by a version the report carries, applied before its events arrived
    (both times the server's clock); its findings name that same version."""
    version = item.get("policy_version")
    if version is None:
        return None
    for finding in item.get("findings", []):
        if finding.get("policy_version") != version:
            return (
                f"backs a run judged by policy v{version}, but a finding names"
                f" v{finding.get('policy_version')}"
            )
    policy = next((p for p in _items(report, "policies") if p.get("version") == version), None)
    if policy is None:
        return f"backs a run judged by policy v{version}, which the report does not carry"
    applied_at = policy.get("applied_at")
    if isinstance(applied_at, str) and applied_at > str(record.get("time")):
        return (
            f"was written at {record.get('time')}, before policy v{version} was applied"
            f" ({applied_at}): the run cannot have been under it"
        )
    return None


def _policy_rule(
    item: Mapping[str, Any], record: Mapping[str, Any], report: Mapping[str, Any]
) -> str | None:
    from steward.policy.versions import _sha256 as sources_sha256  # the hash apply records

    details = record.get("details", {})
    if record.get("action") not in ("policy.apply", "policy.rollback"):
        return f"is a {record.get('action')!r} record, not policy.apply"
    sources = item.get("sources")
    if not isinstance(sources, Mapping):
        return "cannot be compared: the report holds no policy files"
    return (
        _differs("version", item.get("version"), details.get("version"))
        or _differs("sha256", item.get("sha256"), details.get("sha256"))
        or _differs("sha256 of the files", sources_sha256(sources), details.get("sha256"))
        or _differs("the author was", item.get("author"), record["actor"]["user"])
        or _differs("time", item.get("applied_at"), record.get("time"))
    )


def _gate_rule(
    item: Mapping[str, Any], record: Mapping[str, Any], report: Mapping[str, Any]
) -> str | None:
    details = record.get("details", {})
    if record.get("action") != "quality.publish":
        return f"is a {record.get('action')!r} record, not quality.publish"
    return (
        _differs("dataset", item.get("dataset"), record["resource"]["dataset"])
        or _differs("snapshot", item.get("snapshot"), details.get("mainAfter"))
        or _differs("published", item.get("published"), record.get("decision") == "allowed")
        or _differs("blocking checks", item.get("blocking"), details.get("blocking"))
        or _differs("publisher", item.get("by"), record["actor"]["user"])
        or _differs("time", item.get("time"), record.get("time"))
        or _within_as_of(record, report)
    )


def _query_rule(
    item: Mapping[str, Any], record: Mapping[str, Any], report: Mapping[str, Any]
) -> str | None:
    if record.get("action") != "query":
        return f"is a {record.get('action')!r} record, not query"
    return (
        _differs("user", item.get("user"), record["actor"]["user"])
        or _differs("decision", item.get("decision"), record.get("decision"))
        or _differs("dataset", item.get("dataset"), record["resource"]["dataset"])
        or _differs("columns", item.get("columns"), record["resource"]["columns"])
        or _differs("policy", item.get("policy"), record.get("policy"))
        or _differs("time", item.get("time"), record.get("time"))
        or _within_as_of(record, report)
    )


def read_report(text: bytes, *, where: str) -> dict[str, Any]:
    """A report file's JSON; `InvalidInput` naming the file when it is not JSON."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            f"{where}: not JSON ({exc}); only the json form of a report can be verified"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: not a JSON object")
    return data
