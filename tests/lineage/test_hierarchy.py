"""Parents and DAGs: an Airflow DAG run, its task runs and a Spark application one task
started, as the producers send them, whatever order they arrive in."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.openlineage_events import (
    airflow_dag_event,
    airflow_task_event,
    dataset,
    spark_event,
    statistics,
)

PG = "postgres://db:5432"
LAKE = "s3://lake"
DAG = "nightly_sales"


def send(client: TestClient, *events: dict[str, Any]) -> None:
    response = client.post("/api/v1/lineage/batch", content=orjson.dumps(list(events)))
    assert response.status_code == 201, response.text


def get(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class Dag:
    """Run ids of one DAG run: the DAG's, its two tasks' and the Spark application's."""

    def __init__(self) -> None:
        self.dag, self.extract, self.load, self.spark = (str(uuid.uuid4()) for _ in range(4))

    def task_events(self) -> list[dict[str, Any]]:
        return [
            airflow_task_event(
                DAG,
                "extract",
                self.extract,
                self.dag,
                sql="INSERT INTO staging.sales SELECT * FROM public.sales",
                inputs=[dataset(PG, "shop.public.sales", ["id", "amount"])],
                outputs=[dataset(PG, "shop.staging.sales", ["id", "amount"])],
                event_time="2024-05-01T09:05:00Z",
            ),
            airflow_task_event(
                DAG,
                "load",
                self.load,
                self.dag,
                sql="CALL load_to_lake()",
                inputs=[dataset(PG, "shop.staging.sales")],
                event_time="2024-05-01T09:20:00Z",
            ),
            spark_event(
                "load_to_lake",
                self.spark,
                inputs=[
                    (
                        dataset(PG, "shop.staging.sales"),
                        {"inputStatistics": statistics("input", 9, 90)},
                    )
                ],
                outputs=[
                    (dataset(LAKE, "sales"), {"outputStatistics": statistics("output", 9, 70)})
                ],
                parent=("airflow", f"{DAG}.load", self.load),
                event_time="2024-05-01T09:15:00Z",
            ),
        ]

    def dag_events(self) -> list[dict[str, Any]]:
        tasks = {"extract": ["load"], "load": []}
        return [
            airflow_dag_event(DAG, self.dag, tasks=tasks, event_time="2024-05-01T09:00:00Z"),
            airflow_dag_event(
                DAG,
                self.dag,
                tasks=tasks,
                event_type="COMPLETE",
                event_time="2024-05-01T09:30:00Z",
            ),
        ]


@pytest.fixture(params=["parent first", "children first"])
def dag(request: pytest.FixtureRequest, client: TestClient) -> Dag:
    ran = Dag()
    if request.param == "parent first":
        send(client, *ran.dag_events())
        send(client, *ran.task_events())
    else:
        # Child runs before their parent's events: each child in its own request.
        for event in ran.task_events():
            send(client, event)
        send(client, *ran.dag_events())
    return ran


def test_a_dag_run_lists_its_task_runs_and_a_task_run_names_its_parent(
    client: TestClient, dag: Dag
) -> None:
    dag_run = get(client, f"/api/v1/runs/{dag.dag}")
    assert dag_run["job"]["name"] == DAG
    assert dag_run["state"] == "COMPLETE"
    assert [s["state"] for s in dag_run["states"]] == ["START", "COMPLETE"]
    assert dag_run["facets"]["airflowDagRun"]["dag"]["dag_id"] == DAG
    assert dag_run["facets"]["nominalTime"]["nominalStartTime"] == "2024-05-01T00:00:00.000Z"
    assert dag_run["parent"] is None
    children = {c["job"]["name"]: c for c in dag_run["children"]}
    assert set(children) == {f"{DAG}.extract", f"{DAG}.load"}
    assert children[f"{DAG}.extract"]["runId"] == dag.extract
    assert children[f"{DAG}.extract"]["state"] == "COMPLETE"

    task = get(client, f"/api/v1/runs/{dag.load}")
    assert task["parent"]["runId"] == dag.dag
    assert task["parent"]["job"] == {"namespace": "airflow", "name": DAG}
    assert task["parent"]["state"] == "COMPLETE"
    assert task["root"]["runId"] == dag.dag
    assert task["facets"]["airflow"]["task"]["task_id"] == "load"
    assert task["facets"]["processing_engine"]["name"] == "Airflow"
    # The Spark application the task started is the task run's child.
    assert [c["runId"] for c in task["children"]] == [dag.spark]
    spark = get(client, f"/api/v1/runs/{dag.spark}")
    assert spark["parent"]["job"]["name"] == f"{DAG}.load"


def test_a_job_answer_has_facets_latest_run_io_parent_and_children(
    client: TestClient, dag: Dag
) -> None:
    job = get(client, f"/api/v1/jobs/airflow/{DAG}")
    assert job["facets"]["airflow"]["tasks"]["extract"]["downstream_task_ids"] == ["load"]
    assert job["facets"]["ownership"]["owners"] == [{"name": "data-team"}]
    assert job["description"] == "Nightly sales."
    assert job["latestRun"]["runId"] == dag.dag
    assert job["latestRun"]["state"] == "COMPLETE"
    assert job["latestRun"]["facets"]["processing_engine"]["version"] == "3.1.0"
    assert job["parent"] is None
    assert [c["name"] for c in job["children"]] == [f"{DAG}.extract", f"{DAG}.load"]

    task = get(client, f"/api/v1/jobs/airflow/{quote(f'{DAG}.extract', safe='')}")
    assert task["facets"]["sql"]["query"] == "INSERT INTO staging.sales SELECT * FROM public.sales"
    assert task["type"] == "TASK"
    assert task["parent"] == {"namespace": "airflow", "name": DAG}
    assert task["inputs"] == [{"namespace": PG, "name": "shop.public.sales"}]
    assert task["outputs"] == [{"namespace": PG, "name": "shop.staging.sales"}]
    assert task["children"] == []


def test_what_a_dag_reads_and_writes_is_one_call(client: TestClient, dag: Dag) -> None:
    graph = get(client, f"/api/v1/jobs/airflow/{DAG}/graph")
    assert graph["job"]["name"] == DAG
    tasks = {t["name"]: t for t in graph["tasks"]}
    assert set(tasks) == {f"{DAG}.extract", f"{DAG}.load", "load_to_lake"}
    assert tasks[f"{DAG}.extract"]["latestRun"] == {
        "runId": dag.extract,
        "state": "COMPLETE",
        "updatedAt": "2024-05-01T09:05:00Z",
    }
    assert tasks["load_to_lake"]["parent"] == {"namespace": "airflow", "name": f"{DAG}.load"}
    assert tasks["load_to_lake"]["outputs"] == [{"namespace": LAKE, "name": "sales"}]
    # Staging is written inside the DAG, so it is not one of the DAG's inputs.
    assert graph["inputs"] == [{"namespace": PG, "name": "shop.public.sales"}]
    assert graph["outputs"] == [
        {"namespace": PG, "name": "shop.staging.sales"},
        {"namespace": LAKE, "name": "sales"},
    ]
    edges = {(e["origin"], e["destination"]) for e in graph["edges"]}
    assert (f"dataset:{PG}:shop.public.sales", f"job:airflow:{DAG}.extract") in edges
    assert ("job:spark:load_to_lake", f"dataset:{LAKE}:sales") in edges


def test_a_job_without_tasks_has_an_empty_graph(client: TestClient, dag: Dag) -> None:
    graph = get(client, f"/api/v1/jobs/airflow/{quote(f'{DAG}.extract', safe='')}/graph")
    assert graph["tasks"] == []
    assert graph["inputs"] == [{"namespace": PG, "name": "shop.public.sales"}]


@pytest.mark.parametrize(
    ("path", "status", "named"),
    [
        ("/api/v1/runs/not-a-uuid", 400, "runId"),
        (f"/api/v1/runs/{uuid.UUID(int=7)}", 404, "runId"),
        ("/api/v1/jobs/airflow/nope", 404, "nope"),
        ("/api/v1/jobs/airflow/nope/graph", 404, "nope"),
        ("/api/v1/jobs/airflow/x/y/z", 400, "path"),
        ("/api/v1/jobs/airflow/x/tree", 400, "path"),
    ],
)
def test_bad_or_unknown_ids_are_a_4xx_naming_them(
    client: TestClient, path: str, status: int, named: str
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert named in response.json()["error"]


def test_a_child_reported_before_its_parent_names_the_parent_not_yet_reported(
    client: TestClient,
) -> None:
    ran = Dag()
    send(client, ran.task_events()[0])
    task = get(client, f"/api/v1/runs/{ran.extract}")
    assert task["parent"] == {
        "id": ran.dag,
        "runId": ran.dag,
        "state": None,
        "job": {"namespace": "airflow", "name": DAG},
        "reported": False,
    }
    # The DAG is known as a parent: its tasks are listed before it reports.
    waiting = get(client, f"/api/v1/jobs/airflow/{DAG}")
    assert (waiting["latestRun"], waiting["updatedAt"]) == (None, None)
    assert [c["name"] for c in waiting["children"]] == [f"{DAG}.extract"]
    send(client, *ran.dag_events())
    reported = get(client, f"/api/v1/jobs/airflow/{DAG}")
    assert reported["latestRun"]["runId"] == ran.dag
    assert reported["updatedAt"] == "2024-05-01T09:30:00Z"
    assert reported["description"] == "Nightly sales."
    assert get(client, f"/api/v1/runs/{ran.extract}")["parent"]["reported"] is True
