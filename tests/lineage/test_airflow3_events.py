"""The events a real Airflow 3.3.2 DAG run sent (`fixtures/airflow3_events.json`, saved by
tests/e2e/test_airflow.py), replayed into Steward in the order sent and in reverse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

EVENTS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "fixtures" / "airflow3_events.json").read_text()
)
DAG = next(e["job"] for e in EVENTS if e["job"]["facets"]["jobType"]["jobType"] == "DAG")
DAG_RUN = next(e["run"]["runId"] for e in EVENTS if e["job"]["name"] == DAG["name"])


def _sent(job: str, side: str) -> list[dict[str, str]]:
    """What the job's COMPLETE event named as its inputs or outputs."""
    (event,) = (e for e in EVENTS if e["job"]["name"] == job and e["eventType"] == "COMPLETE")
    return [{"namespace": d["namespace"], "name": d["name"]} for d in event[side]]


def _key(dataset: dict[str, str]) -> tuple[str, str]:
    return dataset["namespace"], dataset["name"]


@pytest.mark.parametrize("order", ["as sent", "reversed"])
def test_airflow_dag_run_answers_with_its_tasks_whatever_the_order(
    client: TestClient, order: str
) -> None:
    events = EVENTS if order == "as sent" else EVENTS[::-1]
    stored = client.post("/api/v1/lineage/batch", json=events)
    assert stored.status_code == 201, stored.text
    assert stored.json()["stored"] == len(EVENTS)

    run = client.get(f"/api/v1/runs/{DAG_RUN}").json()
    states = run["facets"]["airflowState"]["tasksState"]
    airflow_tasks = {f"{DAG['name']}.{task}" for task in states}
    assert {child["job"]["name"] for child in run["children"]} == airflow_tasks

    namespace, name = quote(DAG["namespace"], safe=""), quote(DAG["name"], safe="")
    graph = client.get(f"/api/v1/jobs/{namespace}/{name}/graph").json()
    parent = {"namespace": DAG["namespace"], "name": DAG["name"]}
    tasks = {t["name"]: t for t in graph["tasks"] if t["parent"] == parent}
    assert set(tasks) == airflow_tasks
    for task in airflow_tasks:
        assert tasks[task]["inputs"] == _sent(task, "inputs")
        assert tasks[task]["outputs"] == _sent(task, "outputs")
        assert tasks[task]["latestRun"]["state"] == "COMPLETE"
    written = [d for task in airflow_tasks for d in _sent(task, "outputs")]
    read = [d for task in airflow_tasks for d in _sent(task, "inputs") if d not in written]
    assert sorted(graph["inputs"], key=_key) == sorted(read, key=_key)
    assert sorted(graph["outputs"], key=_key) == sorted(written, key=_key)
