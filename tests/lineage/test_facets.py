"""Facets producers send, surfaced: dbt-ol's test assertions beside Steward's checks on the
dataset page, metrics, Spark's input/output statistics and custom facets, job facets."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from steward.app import Steward
from steward.quality.history import record_results
from steward.quality.models import CheckResult
from tests.openlineage_events import (
    FACET,
    dataset,
    dbt_test_event,
    run_event,
    spark_event,
    statistics,
)

DUCK = "duckdb:///tmp/shop.duckdb"
ORDERS = "shop.main.orders"
ORDERS_NODE = f"dataset:{DUCK}:{ORDERS}"
TEST_JOB = "shop.main.shop.orders.build.test"


def send(client: TestClient, *events: dict[str, Any]) -> None:
    response = client.post("/api/v1/lineage/batch", content=orjson.dumps(list(events)))
    assert response.status_code == 201, response.text


def page(client: TestClient, ref: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/datasets/{ref}")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def listed(client: TestClient, namespace: str, name: str) -> dict[str, Any]:
    answer = client.get("/api/v1/datasets", params={"namespace": namespace}).json()
    return next(d for d in answer["datasets"] if d["name"] == name)


def not_null_id(success: bool) -> dict[str, Any]:
    return {
        "assertion": "not_null",
        "name": "not_null_orders_id",
        "column": "id",
        "success": success,
        "severity": "error",
        "actual": "0" if success else "3",
        "expected": "0",
    }


UNIQUE_ID = {"assertion": "unique", "column": "id", "success": True, "severity": None}
ROW_COUNT_WARN = {
    "assertion": "row_count",
    "name": "orders_not_empty",
    "success": False,
    "severity": "warn",
}


def test_dbt_tests_show_on_the_dataset_page_beside_stewards_checks_with_history_per_run(
    steward: Steward, client: TestClient
) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    send(
        client,
        run_event("shop.main.orders", namespace="dbt", outputs=[dataset(DUCK, ORDERS, ["id"])]),
        dbt_test_event(
            DUCK,
            ORDERS,
            [not_null_id(False), UNIQUE_ID, ROW_COUNT_WARN],
            job=TEST_JOB,
            run_id=first,
            event_time="2024-05-01T10:00:00Z",
        ),
    )
    # Steward's own check of the same dataset (a lineage-only dataset is named by node id).
    record_results(
        steward.store,
        [
            CheckResult(
                name="orders_fresh",
                dataset=ORDERS_NODE,
                column=None,
                kind="freshness",
                severity="error",
                status="pass",
                failures=0,
                observed=0,
                threshold="!=0",
                message="",
                how="steward",
            )
        ],
    )
    send(
        client,
        dbt_test_event(
            DUCK,
            ORDERS,
            [not_null_id(True), UNIQUE_ID],
            job=TEST_JOB,
            run_id=second,
            event_time="2024-05-02T10:00:00Z",
        ),
    )
    quality = {check["check"]: check for check in page(client, ORDERS_NODE)["quality"]}
    assert set(quality) == {"orders_fresh", "not_null_orders_id", "unique(id)", "orders_not_empty"}
    assert quality["orders_fresh"]["source"] == "steward"
    not_null = quality["not_null_orders_id"]
    assert not_null["source"] == "openlineage"
    assert (not_null["status"], not_null["success"], not_null["column"]) == ("pass", True, "id")
    # History is kept per run, newest first: the first run's failure is not overwritten.
    assert not_null["recent"] == ["pass", "fail"]
    assert not_null["runId"] == second
    assert not_null["job"] == {"namespace": "dbt", "name": TEST_JOB}
    assert not_null["ranAt"] == "2024-05-02T10:00:00Z"
    assert (not_null["observed"], not_null["expected"]) == ("0", "0")
    assert quality["unique(id)"]["recent"] == ["pass", "pass"]
    # A failed warn-severity assertion warns; only the first run reported it.
    assert quality["orders_not_empty"]["status"] == "warn"
    assert quality["orders_not_empty"]["runId"] == first


def test_metrics_are_the_newest_reported_and_shown_on_the_dataset_answers(
    client: TestClient,
) -> None:
    def metrics(rows: int, nulls: int, when: str) -> dict[str, Any]:
        event = run_event(
            "profile_orders",
            event_time=when,
            inputs=[
                {
                    **dataset(DUCK, ORDERS),
                    "inputFacets": {
                        "dataQualityMetrics": {
                            **FACET,
                            "rowCount": rows,
                            "bytes": rows * 10,
                            "columnMetrics": {
                                "id": {"nullCount": nulls, "distinctCount": rows - nulls},
                                "amount": {"nullCount": 0, "min": 1.5, "max": 99.0, "sum": 250.0},
                            },
                        }
                    },
                }
            ],
        )
        return event

    send(client, metrics(90, 1, "2024-05-02T10:00:00Z"), metrics(80, 4, "2024-05-01T10:00:00Z"))
    shown = page(client, ORDERS_NODE)["metrics"]
    # The newest by event time, though it arrived first.
    assert (shown["rowCount"], shown["bytes"]) == (90, 900)
    assert shown["columnMetrics"]["id"] == {"nullCount": 1, "distinctCount": 89}
    assert shown["columnMetrics"]["amount"]["max"] == 99.0
    assert shown["job"] == {"namespace": "etl", "name": "profile_orders"}
    entry = listed(client, DUCK, ORDERS)["inputFacets"]["dataQualityMetrics"]
    assert entry["facet"]["rowCount"] == 90
    assert entry["eventTime"] == "2024-05-02T10:00:00Z"


def test_spark_statistics_and_any_dataset_facet_are_returned_latest_per_name(
    client: TestClient,
) -> None:
    lake = "s3://lake"
    custom = {
        "storage": {**FACET, "storageLayer": "iceberg", "fileFormat": "parquet"},
        "catalog": {**FACET, "framework": "iceberg", "type": "rest", "name": "prod"},
        "datasetType": {**FACET, "datasetType": "TABLE", "subType": ""},
        "myco_freshness": {**FACET, "slaHours": 6},
    }
    runs = [str(uuid.uuid4()), str(uuid.uuid4())]
    for number, run_id in enumerate(runs, start=1):
        send(
            client,
            spark_event(
                "daily_agg",
                run_id,
                inputs=[
                    (
                        dataset(lake, "raw/events"),
                        {"inputStatistics": statistics("input", 1000 * number, 5000)},
                    )
                ],
                outputs=[
                    (
                        dataset(
                            lake,
                            "marts/daily",
                            version={**FACET, "datasetVersion": str(number)},
                            **{
                                k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")}
                                for k, v in custom.items()
                            },
                        ),
                        {"outputStatistics": statistics("output", 10 * number, 800)},
                    )
                ],
                event_time=f"2024-05-0{number}T09:10:00Z",
            ),
        )
    daily = listed(client, lake, "marts/daily")
    assert daily["facets"]["storage"]["storageLayer"] == "iceberg"
    assert daily["facets"]["catalog"]["name"] == "prod"
    assert daily["facets"]["datasetType"]["datasetType"] == "TABLE"
    assert daily["facets"]["myco_freshness"]["slaHours"] == 6
    assert daily["facets"]["version"]["datasetVersion"] == "2"
    out = daily["outputFacets"]["outputStatistics"]
    assert (out["facet"]["rowCount"], out["runId"]) == (20, runs[1])
    assert out["job"] == {"namespace": "spark", "name": "daily_agg"}
    raw = listed(client, lake, "raw/events")["inputFacets"]["inputStatistics"]
    assert (raw["facet"]["rowCount"], raw["runId"]) == (2000, runs[1])
    # The same facets on the catalog's dataset page.
    shown = page(client, f"dataset:{lake}:marts/daily")
    assert shown["facets"]["myco_freshness"]["slaHours"] == 6
    assert shown["outputFacets"]["outputStatistics"]["facet"]["rowCount"] == 20
    # The run keeps its own facets: the engine and Spark's properties.
    run = client.get(f"/api/v1/runs/{runs[0]}").json()
    assert run["facets"]["processing_engine"]["name"] == "spark"
    assert run["facets"]["spark_properties"]["properties"]["spark.app.name"] == "daily_agg"
    assert [o["name"] for o in run["outputs"]] == ["marts/daily"]


def test_job_facets_are_on_the_job_answers(client: TestClient) -> None:
    facets = {
        "sql": {**FACET, "query": "INSERT INTO marts.daily SELECT 1", "dialect": "trino"},
        "sourceCode": {**FACET, "language": "python", "sourceCode": "print(1)"},
        "sourceCodeLocation": {**FACET, "type": "git", "url": "https://git.example/etl"},
        "ownership": {**FACET, "owners": [{"name": "team:data", "type": "MAINTAINER"}]},
        "tags": {**FACET, "tags": [{"key": "tier", "value": "gold", "source": "USER"}]},
        "jobType": {**FACET, "jobType": "QUERY", "integration": "TRINO", "processingType": "BATCH"},
        "documentation": {**FACET, "description": "Builds the daily mart."},
        "myco_cost": {**FACET, "dollars": 3},
    }
    send(client, run_event("build_daily", job_facets=facets))
    job = client.get("/api/v1/jobs/etl/build_daily").json()
    assert job["facets"]["sql"]["query"] == "INSERT INTO marts.daily SELECT 1"
    assert job["facets"]["sql"]["dialect"] == "trino"
    assert set(facets) <= set(job["facets"])
    assert job["description"] == "Builds the daily mart."
    assert job["latestRun"]["state"] == "COMPLETE"
    listing = client.get("/api/v1/jobs", params={"namespace": "etl"}).json()["jobs"]
    assert listing[0]["facets"]["sourceCode"]["language"] == "python"


@pytest.mark.parametrize(
    ("assertion", "named"),
    [
        ({"assertion": "not_null", "column": "id"}, "success"),
        ({"success": True}, "assertion"),
    ],
)
def test_a_malformed_assertion_is_refused_naming_the_field(
    client: TestClient, assertion: dict[str, Any], named: str
) -> None:
    event = dbt_test_event(DUCK, ORDERS, [assertion], job=TEST_JOB)
    response = client.post("/api/v1/lineage", content=orjson.dumps(event))
    assert response.status_code == 400, response.text
    assert "dataQualityAssertions" in response.json()["error"]
    assert named in response.json()["error"]
    assert client.get("/api/v1/jobs/dbt/" + TEST_JOB).status_code == 404


def test_a_runs_facet_sent_twice_keeps_the_newest_event_whatever_the_order(
    client: TestClient,
) -> None:
    run_id = str(uuid.uuid4())

    def progress(event_type: str, rows: int, when: str) -> dict[str, Any]:
        event = spark_event(
            "stream_copy",
            run_id,
            inputs=[],
            outputs=[
                (dataset("s3://lake", "copy"), {"outputStatistics": statistics("output", rows, 1)})
            ],
            event_time=when,
        )
        event["eventType"] = event_type
        return event

    send(client, progress("COMPLETE", 500, "2024-05-01T10:00:00Z"))
    send(client, progress("RUNNING", 200, "2024-05-01T09:00:00Z"))
    entry = listed(client, "s3://lake", "copy")["outputFacets"]["outputStatistics"]
    assert (entry["facet"]["rowCount"], entry["eventTime"]) == (500, "2024-05-01T10:00:00Z")
    send(client, progress("COMPLETE", 700, "2024-05-01T11:00:00Z"))
    entry = listed(client, "s3://lake", "copy")["outputFacets"]["outputStatistics"]
    assert entry["facet"]["rowCount"] == 700


def test_assertions_sent_as_dataset_facets_count_too(client: TestClient) -> None:
    run_id = str(uuid.uuid4())
    as_run = run_event(
        "great_expectations_orders",
        run_id=run_id,
        inputs=[
            dataset(
                DUCK,
                ORDERS,
                dataQualityAssertions={"assertions": [{**UNIQUE_ID, "success": False}]},
            )
        ],
    )
    as_dataset = {
        "eventTime": "2024-05-02T10:00:00Z",
        "producer": "https://example.com/checker",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
        "dataset": dataset(
            DUCK,
            ORDERS,
            dataQualityAssertions={
                "assertions": [{"assertion": "row_count", "success": True, "name": "has_rows"}]
            },
        ),
    }
    send(client, as_run, as_dataset)
    quality = {check["check"]: check for check in page(client, ORDERS_NODE)["quality"]}
    assert quality["unique(id)"]["status"] == "fail"
    assert quality["unique(id)"]["runId"] == run_id
    assert quality["unique(id)"]["job"] == {"namespace": "etl", "name": "great_expectations_orders"}
    assert quality["has_rows"]["status"] == "pass"
    assert (quality["has_rows"]["runId"], quality["has_rows"]["job"]) == (None, None)
