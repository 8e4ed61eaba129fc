"""`steward evidence`: the report of a real chain, verified offline with only the public key.

The chain: an ETL job posts its run with its own token (reading customers.email as an
IDENTITY copy into the training table, against a policy that masks email for it), an
analyst runs a governed query on customers, and the report is built, rendered, and
verified by `steward audit verify --evidence` in a process with no store and no home.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.audit.checkpoints import Signer
from steward.catalog.edits import DatasetEdit, OwnerSpec, edit_dataset
from steward.connectors.iceberg import lake_catalog
from steward.governance.evidence import build_evidence
from steward.governance.evidence_render import to_html, to_markdown
from steward.governance.evidence_verify import verify_evidence
from steward.identity.models import EVIDENCE_READ, LINEAGE_WRITE
from steward.identity.tokens import authenticate, create_token
from steward.policy.versions import apply
from steward.quality.load import parse_checks
from steward.quality.publish import publish
from tests.cli_run import steward_cli
from tests.governance.conftest import ADMIN, POLICY, RunEtl

TRAINING = "dataset:ml:training_set"
CHECKS = """\
version: 1
datasets:
  - name: lake.crm.customers
    columns:
      - name: id
        checks: [not_null, unique]
"""
VERIFY = [sys.executable, "-m", "steward.cli", "audit", "verify", "--evidence"]


@pytest.fixture
def chain(lake: Steward, run_etl: RunEtl) -> Iterator[dict[str, Any]]:
    """A snapshot of customers published through its quality gate, the policy applied, the
    ETL run posted with its token, an analyst's governed query."""
    owner = DatasetEdit(addOwners=[OwnerSpec(name="crm-team", kind="group")])
    edit_dataset(lake.store, "lake.crm.customers", owner, ADMIN)
    catalog = lake_catalog(lake.settings.home)
    table = catalog.load_table("crm.customers")
    table.manage_snapshots().create_branch(table.current_snapshot().snapshot_id, "audit").commit()
    more = {"id": [7], "email": ["c@example.com"], "region": ["EU"]}
    table = catalog.load_table("crm.customers")
    table.append(pa.table(more, schema=table.schema().as_arrow()), branch="audit")
    published = publish(lake, parse_checks(CHECKS).datasets[0], "audit", actor=ADMIN)
    assert published.moved
    apply(lake.store, POLICY, actor=ADMIN)
    issued = create_token(lake.store, user="svc-etl", groups=["etl"], scopes=[LINEAGE_WRITE])
    run_id = run_etl(actor=authenticate(lake.store, issued.secret))
    analyst = create_token(lake.store, user="ana", groups=["analysts"]).secret
    with TestClient(create_app(lake)) as http:
        answer = http.post(
            "/api/v1/query",
            json={"sql": "SELECT id, email FROM lake.crm.customers"},
            headers={"Authorization": f"Bearer {analyst}"},
        )
        assert answer.status_code == 200, answer.text
        yield {"http": http, "run_id": run_id, "snapshot": published.main_after}


def _report(steward: Steward) -> dict[str, Any]:
    report = build_evidence(steward, TRAINING, generated_by="test").to_json()
    if os.environ.get("STEWARD_TEST_EVIDENCE_OUT"):  # to look at, or to quote in docs
        Path(os.environ["STEWARD_TEST_EVIDENCE_OUT"]).write_bytes(orjson.dumps(report))
    return report


def test_report_names_the_run_its_principal_and_the_records_backing_it(
    lake: Steward, chain: dict[str, Any]
) -> None:
    report = _report(lake)
    assert report["verdict"] == "violation"
    nodes = {n["catalog_name"] or n["id"]: n for n in report["upstream"]["nodes"]}
    assert nodes["lake.crm.customers"]["owners"] == [
        {"name": "crm-team", "kind": "group", "role": "technical"}
    ]
    assert {"from": nodes["lake.crm.customers"]["id"], "to": "job:etl:build_training"} in (
        report["upstream"]["edges"]
    )
    (step,) = [s for s in report["steps"] if s["run_id"] == chain["run_id"]]
    assert step["principal"]["user"] == "svc-etl"
    assert step["posted_by"] == ["svc-etl"]
    assert step["policy_version"] == 1
    finding = next(f for f in step["findings"] if f["column"] == "email")
    assert finding["kind"] == "masked-read-clear"
    assert finding["policy_version"] == 1
    records = {r["seq"]: r for r in report["proof"]["records"]}
    (ingest_seq,) = step["records"]
    assert records[ingest_seq]["action"] == "lineage.ingest"
    assert records[ingest_seq]["actor"]["user"] == "svc-etl"
    (policy,) = report["policies"]
    assert records[policy["records"][0]]["details"]["version"] == 1
    assert any("lake.crm.customers" in text for text in policy["sources"].values())
    (queries,) = [q for q in report["queries"] if q["dataset"] == "lake.crm.customers"]
    assert queries["total"] == 1
    assert queries["shown"][0]["user"] == "ana"
    assert queries["shown"][0]["decision"] == "masked"
    assert any(f["source"] == "lake.crm.customers.email" and f["clear"] for f in report["pii"])
    (gate,) = report["quality_gates"]
    assert gate["dataset"] == "lake.crm.customers"
    assert gate["published"] is True
    assert gate["snapshot"] == chain["snapshot"]
    assert records[gate["records"][0]]["action"] == "quality.publish"
    assert {(c["check"], c["status"]) for c in gate["checks"]} == {
        ("not_null(id)", "pass"),
        ("unique(id)", "pass"),
    }
    # Every cited record is in the proof, and the proof ends at signed checkpoints.
    items = report["steps"] + report["policies"] + report["quality_gates"]
    cited = {s for item in items for s in item["records"]}
    assert cited <= set(records)
    assert report["proof"]["checkpoints"][-1]["seq"] == max(records)


def test_markdown_and_html_render_the_same_report(lake: Steward, chain: dict[str, Any]) -> None:
    report = _report(lake)
    markdown = to_markdown(report)
    page = to_html(report)
    for text in (markdown, page):
        assert chain["run_id"] in text
        assert "svc-etl" in text
        assert "masked-read-clear" in text
        assert report["proof"]["key"]["fingerprint"] in text
        assert "crm-team" in text
    assert "## Personal data reaching the dataset" in markdown
    # Self-contained: no script, no stylesheet or image fetched from anywhere.
    assert "<script" not in page
    assert "src=" not in page
    assert "href=" not in page


def _verify(home: Path, report_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`steward audit verify --evidence` with an empty HOME and no Steward settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
    env["HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return subprocess.run(
        [*VERIFY, str(report_file), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=home,
    )


@pytest.mark.slow
def test_report_verifies_offline_and_an_edited_record_does_not(
    lake: Steward, chain: dict[str, Any], tmp_path: Path
) -> None:
    auditor = tmp_path / "auditor"  # the auditor's machine: the file and the key, nothing else
    auditor.mkdir()
    key = auditor / "steward.pem"
    good = auditor / "evidence.json"
    home = lake.settings.home
    made = steward_cli(home, "evidence", TRAINING, "--format", "json", "--output", str(good))
    assert made.returncode == 0, made.stderr
    assert "verdict: violation" in made.stderr
    published = steward_cli(home, "audit", "public-key")
    assert published.returncode == 0, published.stderr
    key.write_text(published.stdout)
    report = orjson.loads(good.read_bytes())

    ok = _verify(auditor, good, "--public-key", str(key))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"{len(report['proof']['records'])} audit records chain to" in ok.stdout
    assert sorted(auditor.iterdir()) == sorted([key, good])  # no store, no home made

    step = next(s for s in report["steps"] if s["run_id"] == chain["run_id"])
    seq = step["records"][0]
    edited = copy.deepcopy(report)
    record = next(r for r in edited["proof"]["records"] if r["seq"] == seq)
    record["details"]["jobs"] = ["etl:something_else"]
    bad = auditor / "edited.json"
    bad.write_bytes(orjson.dumps(edited))
    failed = _verify(auditor, bad, "--public-key", str(key))
    assert failed.returncode == 1
    assert f"FAILED: record {seq}: its fields no longer hash to its hash" in failed.stdout


def test_tampered_signature_rehashed_record_or_unpinned_key_fails(
    lake: Steward, chain: dict[str, Any]
) -> None:
    from steward.audit.proof import ProofFails

    report = _report(lake)
    fingerprint = report["proof"]["key"]["fingerprint"]
    forged = copy.deepcopy(report)
    checkpoint = forged["proof"]["checkpoints"][-1]
    signature = checkpoint["signature"]
    checkpoint["signature"] = ("B" if signature[0] == "A" else "A") + signature[1:]
    with pytest.raises(
        ProofFails, match=f"checkpoint at seq {checkpoint['seq']}: signature does not verify"
    ):
        verify_evidence(forged, fingerprint=fingerprint)
    assert verify_evidence(report, fingerprint=fingerprint).fingerprint == fingerprint
    with pytest.raises(ProofFails, match=f"no trusted key.*{fingerprint}"):
        verify_evidence(report)
    seq = report["steps"][0]["records"][0]
    record = next(r for r in report["proof"]["records"] if r["seq"] == seq)
    record["hash"] = "0" * 64
    with pytest.raises(ProofFails, match=f"record {seq}: its fields no longer hash"):
        verify_evidence(report, fingerprint=fingerprint)


def test_as_of_a_time_the_report_holds_only_what_was_recorded_by_then(
    lake: Steward, chain: dict[str, Any]
) -> None:
    from steward.audit.log import AuditFilter, list_records

    with lake.store.read() as conn:
        (etl_ingest,) = list_records(conn, AuditFilter(action="lineage.ingest", user="svc-etl"))
    # After the ETL run was posted, before the analyst's query.
    report = build_evidence(lake, TRAINING, as_of=etl_ingest.time).to_json()
    assert report["as_of"] == etl_ingest.time.isoformat(timespec="microseconds") + "Z"
    assert [s["run_id"] for s in report["steps"]] == [chain["run_id"]]
    (customers,) = [q for q in report["queries"] if q["dataset"] == "lake.crm.customers"]
    assert customers["total"] == 0
    assert len(report["quality_gates"]) == 1
    pem = Signer.load(lake.settings.home).public_pem
    assert verify_evidence(report, public_pem=pem).statements == 3  # run, policy, gate
    later = copy.deepcopy(report)
    later["as_of"] = "2000-01-01T00:00:00.000000Z"
    with pytest.raises(Exception, match="after the report's as-of time"):
        verify_evidence(later, public_pem=pem)


def test_statement_edited_without_its_record_fails(lake: Steward, chain: dict[str, Any]) -> None:
    from steward.audit.proof import ProofFails

    report = _report(lake)
    pem = Signer.load(lake.settings.home).public_pem
    assert verify_evidence(report, public_pem=pem).statements >= 3
    edited = copy.deepcopy(report)
    step = next(s for s in edited["steps"] if s["run_id"] == chain["run_id"])
    step["principal"]["user"] = "someone-else"
    step["posted_by"] = ["someone-else"]
    with pytest.raises(ProofFails, match=f"record {step['records'][0]} says its poster"):
        verify_evidence(edited, public_pem=pem)
    policy = copy.deepcopy(report)
    name = next(iter(policy["policies"][0]["sources"]))
    policy["policies"][0]["sources"][name] += "\n# quietly changed\n"
    with pytest.raises(ProofFails, match="sha256 of the files"):
        verify_evidence(policy, public_pem=pem)


def test_api_serves_the_report_to_evidence_readers_only(
    lake: Steward, chain: dict[str, Any]
) -> None:
    http: TestClient = chain["http"]
    reader = create_token(lake.store, user="auditor", scopes=[EVIDENCE_READ]).secret
    other = create_token(lake.store, user="ana2", groups=["analysts"]).secret
    path = "/api/v1/evidence/dataset:ml:training_set"
    refused = http.get(path, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403
    assert "evidence:read" in refused.json()["error"]
    answer = http.get(path, headers={"Authorization": f"Bearer {reader}"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["generated_by"] == "auditor"

    pem = Signer.load(lake.settings.home).public_pem
    assert verify_evidence(report, public_pem=pem).records == len(report["proof"]["records"])
    page = http.get(path, params={"format": "html"}, headers={"Authorization": f"Bearer {reader}"})
    assert page.headers["content-type"].startswith("text/html")
    unknown = http.get(
        "/api/v1/evidence/lake.nowhere.table", headers={"Authorization": f"Bearer {reader}"}
    )
    assert unknown.status_code == 404
    assert "lake.nowhere.table" in unknown.json()["error"]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    return "x"  # None, or an empty list or object


def test_every_edit_to_a_proved_record_or_checkpoint_fails(
    lake: Steward, chain: dict[str, Any]
) -> None:
    from steward.audit.proof import ProofFails

    report = _report(lake)
    fingerprint = report["proof"]["key"]["fingerprint"]
    proved = [("proof", "records"), ("proof", "checkpoints")]
    paths = [p for part in proved for p in _leaves(report[part[0]][part[1]], part)]
    assert len(paths) > 100
    for path in paths:
        edited = copy.deepcopy(report)
        target = edited
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = _changed(target[path[-1]])
        try:
            verify_evidence(edited, fingerprint=fingerprint)
        except ProofFails:
            continue
        pytest.fail(f"editing {'.'.join(map(str, path))} still verifies")
    # Anything else edited (a statement, a finding) verifies or fails by name, never crashes;
    # a statement's backed field (run poster, policy sha256, gate snapshot ...) fails.
    backed = {
        ("policies", 0, "sha256"),
        ("quality_gates", 0, "snapshot"),
        ("steps", 0, "job"),
        ("steps", 0, "policy_version"),
        ("steps", 0, "findings", 0, "policy_version"),
    }
    others = [p for p in _leaves(report) if p[:2] not in proved]
    assert backed <= set(others)
    for path in others:
        edited = copy.deepcopy(report)
        target = edited
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = _changed(target[path[-1]])
        try:
            verify_evidence(edited, fingerprint=fingerprint)
        except ProofFails:
            continue
        assert path not in backed, f"editing {'.'.join(map(str, path))} still verifies"
        if os.environ.get("STEWARD_TEST_EVIDENCE_OUT"):
            print("unproved:", ".".join(map(str, path)))
