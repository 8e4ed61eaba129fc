"""A run id belongs to one job: an event naming it for another job is a 409, stores nothing."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.lineage.producers import AIRFLOW, SPARK, field, run_event, spark_table

RUN = str(uuid.uuid4())


def first() -> dict[str, Any]:
    return run_event(
        AIRFLOW,
        "airflow",
        "orders_dag.load",
        run_id=RUN,
        event_type="START",
        event_time="2024-05-01T10:00:00Z",
        outputs=[spark_table("s3://lake", "/orders", [field("id", "int")])],
    )


def second(time: str = "2024-05-01T10:05:00Z") -> dict[str, Any]:
    return run_event(
        SPARK,
        "spark",
        "orders_app.execute_insert",
        run_id=RUN,
        event_time=time,
        outputs=[spark_table("s3://lake", "/orders_copy", [field("id", "int")])],
    )


def counts(client: TestClient) -> tuple[int, int, int]:
    events = client.get("/api/v1/events/lineage").json()["totalCount"]
    jobs = client.get("/api/v1/jobs").json()["totalCount"]
    datasets = client.get("/api/v1/datasets").json()["totalCount"]
    return events, jobs, datasets


def test_a_run_id_reused_by_another_job_is_a_409_naming_both(client: TestClient) -> None:
    assert client.post("/api/v1/lineage", content=orjson.dumps(first())).status_code == 201
    before = counts(client)
    refused = client.post("/api/v1/lineage", content=orjson.dumps(second()))
    assert refused.status_code == 409, refused.text
    message = refused.text
    assert "airflow/orders_dag.load" in message
    assert "spark/orders_app.execute_insert" in message
    assert RUN in message
    assert counts(client) == before
    runs = client.get("/api/v1/jobs/airflow/orders_dag.load/runs").json()["runs"]
    assert [r["state"] for r in runs] == ["START"]


@pytest.mark.parametrize("earlier", ["existing", "new"])
def test_in_a_batch_the_409_names_the_event_and_nothing_is_stored(
    client: TestClient, earlier: str
) -> None:
    """Whichever of the two comes first in event time, the batch is refused whole, naming
    the event that arrived second (events are taken in order of arrival)."""
    late = "2024-05-01T10:05:00Z" if earlier == "existing" else "2024-05-01T09:55:00Z"
    batch = [first(), second(late)]
    before = counts(client)
    refused = client.post("/api/v1/lineage/batch", content=orjson.dumps(batch))
    assert refused.status_code == 409, refused.text
    assert "events[1]." in refused.text
    assert "airflow/orders_dag.load" in refused.text
    assert "spark/orders_app.execute_insert" in refused.text
    assert counts(client) == before == (0, 0, 0)


def test_the_same_job_may_send_its_run_again(client: TestClient) -> None:
    done = {**first(), "eventType": "COMPLETE", "eventTime": "2024-05-01T10:10:00Z"}
    batch = [first(), done]
    assert client.post("/api/v1/lineage/batch", content=orjson.dumps(batch)).status_code == 201
    runs = client.get("/api/v1/jobs/airflow/orders_dag.load/runs").json()["runs"]
    assert [r["state"] for r in runs] == ["COMPLETE"]
