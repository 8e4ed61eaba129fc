"""`steward lineage job` and `steward lineage run` against a live `steward serve`."""

from __future__ import annotations

import json
import subprocess
import uuid

import httpx

from tests.e2e.conftest import STEWARD, Server
from tests.openlineage_events import airflow_dag_event, airflow_task_event, dataset

PG = "postgres://db:5432"


def cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STEWARD, "lineage", *args, "--url", server.url, "--token", server.token],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_what_a_dag_reads_and_writes_from_the_command_line(server: Server) -> None:
    dag_run, task_run = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        airflow_dag_event("nightly", dag_run),
        airflow_task_event(
            "nightly",
            "copy",
            task_run,
            dag_run,
            sql="INSERT INTO b SELECT * FROM a",
            inputs=[dataset(PG, "shop.public.a")],
            outputs=[dataset(PG, "shop.public.b")],
        ),
    ]
    sent = httpx.post(
        f"{server.url}/api/v1/lineage/batch",
        json=events,
        headers={"Authorization": f"Bearer {server.token}"},
    )
    assert sent.status_code == 201, sent.text

    graph = cli(server, "job", "airflow/nightly", "--graph", "--json")
    assert graph.returncode == 0, graph.stderr
    answer = json.loads(graph.stdout)
    assert [t["name"] for t in answer["tasks"]] == ["nightly.copy"]
    assert answer["inputs"] == [{"namespace": PG, "name": "shop.public.a"}]
    assert answer["outputs"] == [{"namespace": PG, "name": "shop.public.b"}]

    tree = cli(server, "job", "airflow", "nightly", "--graph")
    assert tree.returncode == 0, tree.stderr
    assert "nightly.copy" in tree.stdout
    assert "shop.public.a" in tree.stdout

    job = cli(server, "job", "airflow/nightly")
    assert job.returncode == 0, job.stderr
    assert "children (1)" in job.stdout
    assert "nightly.copy" in job.stdout

    run = cli(server, "run", dag_run)
    assert run.returncode == 0, run.stderr
    assert task_run in run.stdout
    assert "nightly.copy" in run.stdout

    missing = cli(server, "job", "airflow", "nope")
    assert missing.returncode != 0
    assert "nope" in missing.stderr
