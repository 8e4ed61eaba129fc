"""Each raw event keeps who posted it and the audit record covering it; runs keep the poster."""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.identity.models import LINEAGE_WRITE
from steward.identity.tokens import create_token
from steward.store.schema import audit_records, lineage_events, runs
from tests.openlineage_events import dataset, run_event

RUN = "0c1d2e3f-4a5b-4c6d-8e7f-8091a2b3c4d5"


def test_raw_event_and_run_name_the_poster_and_the_audit_record(
    steward: Steward, anonymous: TestClient
) -> None:
    issued = create_token(
        steward.store, user="airflow", groups=["pipelines", "etl"], scopes=[LINEAGE_WRITE]
    )
    anonymous.headers["Authorization"] = f"Bearer {issued.secret}"
    events = [
        run_event("load", run_id=RUN, event_type="START", event_time="2024-05-01T00:00:00Z"),
        run_event(
            "load", run_id=RUN, outputs=[dataset("wh", "t", ["a"])], event_time="2024-05-01T00:05Z"
        ),
    ]
    response = anonymous.post("/api/v1/lineage/batch", content=orjson.dumps(events))
    assert response.status_code == 201, response.text

    with steward.store.read() as conn:
        raw = conn.execute(sa.select(lineage_events).order_by(lineage_events.c.id)).all()
        seq = conn.execute(
            sa.select(audit_records.c.seq).where(audit_records.c.action == "lineage.ingest")
        ).scalar_one()
        run = conn.execute(sa.select(runs).where(runs.c.run_id == RUN)).one()
    assert [r.principal_user for r in raw] == ["airflow", "airflow"]
    assert {r.principal_groups for r in raw} == {'["etl","pipelines"]'}
    assert {r.principal_token for r in raw} == {issued.token_id}
    assert {r.audit_seq for r in raw} == {seq}
    assert (run.principal_user, run.principal_groups, run.principal_token) == (
        "airflow",
        '["etl","pipelines"]',
        issued.token_id,
    )
