"""What a caller sees of facets, quality and parents: the access policy's `describe`.

A dataset the caller may not describe is left out of job, run and DAG answers, and its
facets and quality values with it; of one they may describe, a denied column's
assertions and metrics are left out, as Steward's own checks' values are.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from pyiceberg.schema import Schema
from pyiceberg.types import LongType, NestedField, StringType

from steward.api import create_app
from steward.app import Steward
from steward.connectors.iceberg import lake_catalog
from steward.identity.tokens import create_token
from steward.policy.versions import apply
from tests.openlineage_events import FACET, airflow_dag_event, dataset, dbt_test_event, run_event

SECRET = ("s3://vault", "payroll")
POLICY = """
roles:
  readers: {users: [ann]}
grants:
  - roles: [readers]
    select: ["lake.crm.*"]
    describe: ["lake.crm.*"]
deny:
  - roles: [readers]
    columns: ["lake.crm.customers.email"]
"""


def as_user(steward: Steward, user: str) -> TestClient:
    token = create_token(steward.store, user=user, groups=[]).secret
    http = TestClient(create_app(steward), raise_server_exceptions=True)
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def get(client: TestClient, path: str, **params: Any) -> dict[str, Any]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


class World:
    def __init__(self, namespace: str, name: str) -> None:
        self.namespace, self.name = namespace, name
        self.dag_run, self.copy_run, self.test_run = (str(uuid.uuid4()) for _ in range(3))


@pytest.fixture
def world(steward: Steward, client: TestClient) -> World:
    catalog = lake_catalog(steward.settings.home)
    catalog.create_namespace("crm")
    catalog.create_table(
        "crm.customers",
        Schema(NestedField(1, "id", LongType()), NestedField(2, "email", StringType())),
    )
    assert client.post("/api/v1/sources/lake/sync").status_code == 200
    node = get(client, "/api/v1/datasets/lake.crm.customers")["nodeId"]
    _, rest = node.split(":", 1)
    namespace, name = rest.rsplit(":", 1)
    found = World(namespace, name)
    assertions = [
        {"assertion": "not_null", "column": "id", "success": True, "actual": "0"},
        {"assertion": "not_null", "column": "email", "success": False, "actual": "4"},
    ]
    copy = run_event(
        "sync.copy_customers",
        namespace="airflow",
        run_id=found.copy_run,
        inputs=[dataset(*SECRET, ["ssn"], storage={"storageLayer": "s3"})],
        outputs=[dataset(namespace, name, ["id", "email"])],
    )
    copy["run"]["facets"]["parent"] = {
        **FACET,
        "run": {"runId": found.dag_run},
        "job": {"namespace": "airflow", "name": "sync"},
    }
    metrics = run_event(
        "profile",
        inputs=[
            {
                **dataset(namespace, name),
                "inputFacets": {
                    "dataQualityMetrics": {
                        **FACET,
                        "rowCount": 60,
                        "columnMetrics": {"id": {"nullCount": 0}, "email": {"nullCount": 4}},
                    }
                },
            }
        ],
    )
    events = [
        airflow_dag_event("sync", found.dag_run),
        copy,
        dbt_test_event(
            namespace, name, assertions, job="crm.customers.test", run_id=found.test_run
        ),
        metrics,
    ]
    response = client.post("/api/v1/lineage/batch", content=orjson.dumps(events))
    assert response.status_code == 201, response.text
    apply(steward.store, POLICY, actor=None)
    return found


def test_a_reader_sees_quality_and_facets_without_the_denied_column(
    steward: Steward, world: World
) -> None:
    ann = as_user(steward, "ann")
    page = get(ann, "/api/v1/datasets/lake.crm.customers")
    checks = {c["check"]: c for c in page["quality"]}
    assert set(checks) == {"not_null(id)"}
    assert checks["not_null(id)"]["observed"] == "0"
    assert page["metrics"]["columnMetrics"] == {"id": {"nullCount": 0}}
    assertions = page["inputFacets"]["dataQualityAssertions"]["facet"]["assertions"]
    assert [a["column"] for a in assertions] == ["id"]
    listed = get(ann, "/api/v1/datasets", namespace=world.namespace)["datasets"]
    mine = next(d for d in listed if d["name"] == world.name)
    metrics = mine["inputFacets"]["dataQualityMetrics"]["facet"]
    assert metrics["columnMetrics"] == {"id": {"nullCount": 0}}


def test_datasets_a_caller_may_not_describe_are_left_out_of_job_run_and_dag_answers(
    steward: Steward, client: TestClient, world: World
) -> None:
    customers = {"namespace": world.namespace, "name": world.name}
    secret = {"namespace": SECRET[0], "name": SECRET[1]}
    # An admin sees every dataset.
    assert get(client, "/api/v1/jobs/airflow/sync.copy_customers")["inputs"] == [secret]
    assert get(client, "/api/v1/jobs/airflow/sync/graph")["inputs"] == [secret]
    full = get(client, "/api/v1/datasets/lake.crm.customers")
    assert {c["check"] for c in full["quality"]} == {"not_null(id)", "not_null(email)"}

    ann = as_user(steward, "ann")
    job = get(ann, "/api/v1/jobs/airflow/sync.copy_customers")
    assert (job["inputs"], job["outputs"]) == ([], [customers])
    assert job["parent"] == {"namespace": "airflow", "name": "sync"}
    run = get(ann, f"/api/v1/runs/{world.copy_run}")
    assert (run["inputs"], run["outputs"]) == ([], [customers])
    graph = get(ann, "/api/v1/jobs/airflow/sync/graph")
    assert graph["inputs"] == []
    assert graph["outputs"] == [customers]
    assert all(SECRET[0] not in edge["origin"] for edge in graph["edges"])

    eve = as_user(steward, "eve")
    assert eve.get("/api/v1/datasets/lake.crm.customers").status_code == 404
    graph = get(eve, "/api/v1/jobs/airflow/sync/graph")
    assert (graph["inputs"], graph["outputs"], graph["edges"]) == ([], [], [])
    test_run = get(eve, f"/api/v1/runs/{world.test_run}")
    assert test_run["inputs"] == []
    listed = get(eve, "/api/v1/datasets", namespace=world.namespace)["datasets"]
    shown = next(d for d in listed if d["name"] == world.name)
    assert shown["described"] is False
    assert not {"facets", "inputFacets", "outputFacets"} & set(shown)
