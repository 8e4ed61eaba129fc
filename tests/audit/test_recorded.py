"""What other parts of Steward write to the audit log: tokens, failed tokens, lineage ingest."""

from __future__ import annotations

from fastapi.testclient import TestClient

from steward.api import create_app
from steward.app import Steward
from steward.audit.log import AuditFilter, list_records
from steward.audit.refusals import RefusedTokens
from steward.identity.tokens import create_token, revoke_token
from tests.audit.conftest import ANA
from tests.openlineage_events import dataset, run_event


def records(steward: Steward, **where: str) -> list[dict[str, object]]:
    with steward.store.read() as conn:
        return [r.to_json() for r in list_records(conn, AuditFilter(**where))]


def test_token_create_and_revoke_are_recorded_with_who_did_it(steward: Steward) -> None:
    issued = create_token(steward.store, user="carl", groups=["eu"], actor=ANA)
    revoke_token(steward.store, issued.token_id, actor=ANA)
    created, revoked = records(steward, action="token.*")[::-1]
    assert created["action"] == "token.create"
    assert created["actor"] == {"user": "ana", "groups": ["analysts"], "token_id": "tok_ana"}
    assert created["details"]["token_id"] == issued.token_id  # type: ignore[index]
    assert issued.secret not in str(created)
    assert revoked["action"] == "token.revoke"
    assert revoked["details"] == {"token_id": issued.token_id}


def test_a_refused_token_is_recorded_without_its_secret(steward: Steward) -> None:
    issued = create_token(steward.store, user="dora")
    revoke_token(steward.store, issued.token_id)
    headers = {"Authorization": f"Bearer {issued.secret}"}
    app = create_app(steward)
    app.state.refusals = RefusedTokens(clock=lambda: 60.0)  # no minute ends mid-test
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/v1/namespaces", headers=headers).status_code == 401
        bad = {"Authorization": "Bearer nope"}
        assert anonymous.get("/api/v1/datasets", headers=bad).status_code == 401
        # The second refusal from this client this minute is counted, not recorded yet.
        assert len(records(steward, action="auth.failed")) == 1
    # ... and summed up when the minute ends or, here, when the server stops.
    failed = records(steward, action="auth.failed")
    assert len(failed) == 2
    assert failed[1]["details"]["token_id"] == issued.token_id  # type: ignore[index]
    assert failed[1]["details"]["reason"] == "token revoked"  # type: ignore[index]
    assert failed[1]["details"]["path"] == "/api/v1/namespaces"  # type: ignore[index]
    assert failed[0]["details"]["more"] == 1  # type: ignore[index]
    assert failed[0]["details"]["client"] == "testclient"  # type: ignore[index]
    assert all(r["decision"] == "failed" for r in failed)
    assert issued.secret not in str(failed)


def test_lineage_ingest_is_one_record_per_request_not_per_event(
    steward: Steward, client: TestClient
) -> None:
    events = [
        run_event(f"job_{i}", inputs=[dataset("wh", "src")], outputs=[dataset("wh", f"o{i}")])
        for i in range(5)
    ]
    assert client.post("/api/v1/lineage/batch", json=events).status_code == 201
    assert client.post("/api/v1/lineage", json=events[0]).status_code == 201
    batch_record, single_record = records(steward, action="lineage.ingest")[::-1]
    assert batch_record["actor"]["user"] == "admin"  # type: ignore[index]
    assert batch_record["details"]["received"] == 5  # type: ignore[index]
    assert batch_record["details"]["stored"] == 5  # type: ignore[index]
    assert single_record["details"]["duplicates"] == 1  # type: ignore[index]


def test_a_refused_batch_leaves_no_audit_record(steward: Steward, client: TestClient) -> None:
    response = client.post("/api/v1/lineage/batch", json=[{"eventType": "START"}])
    assert response.status_code == 400
    assert records(steward, action="lineage.ingest") == []
