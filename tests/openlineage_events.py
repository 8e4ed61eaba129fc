"""OpenLineage 2-0-2 events as the clients send them, for tests and benchmarks."""

from __future__ import annotations

import uuid
from typing import Any

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-0-1/X.json"}


def dataset(
    namespace: str,
    name: str,
    fields: list[str] | None = None,
    *,
    column_lineage: dict[str, list[tuple[str, str, str]]] | None = None,
    **facets: Any,
) -> dict[str, Any]:
    """A dataset with an optional schema and a column lineage facet.

    `column_lineage` maps an output field to (namespace, name, field) inputs, each
    with a DIRECT/IDENTITY transformation.
    """
    out: dict[str, Any] = {"namespace": namespace, "name": name, "facets": {}}
    if fields is not None:
        out["facets"]["schema"] = {
            **FACET,
            "fields": [{"name": f, "type": "VARCHAR", "description": f"the {f}"} for f in fields],
        }
    if column_lineage is not None:
        out["facets"]["columnLineage"] = {
            **FACET,
            "fields": {
                target: {
                    "inputFields": [
                        {
                            "namespace": ns,
                            "name": n,
                            "field": f,
                            "transformations": [
                                {
                                    "type": "DIRECT",
                                    "subtype": "IDENTITY",
                                    "description": "",
                                    "masking": False,
                                }
                            ],
                        }
                        for ns, n, f in sources
                    ]
                }
                for target, sources in column_lineage.items()
            },
        }
    for key, value in facets.items():
        out["facets"][key] = {**FACET, **value}
    return out


def run_event(
    job: str,
    *,
    event_type: str = "COMPLETE",
    run_id: str | None = None,
    namespace: str = "etl",
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    event_time: str = "2024-05-01T10:00:00.000Z",
    job_facets: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A RunEvent of `job` in `namespace`."""
    return {
        "eventType": event_type,
        "eventTime": event_time,
        "producer": PRODUCER,
        "schemaURL": SCHEMA_URL,
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": {}},
        "job": {"namespace": namespace, "name": job, "facets": job_facets or {}},
        "inputs": inputs or [],
        "outputs": outputs or [],
    }


# -- producers' shapes: dbt-ol tests, Airflow DAG and task runs, Spark applications ----------

DBT_PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/dbt"
AIRFLOW_PRODUCER = "https://github.com/apache/airflow/tree/providers-openlineage/2.9.0"
SPARK_PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/spark"


def _facet(producer: str, schema: str, **fields: Any) -> dict[str, Any]:
    return {
        "_producer": producer,
        "_schemaURL": f"https://openlineage.io/spec/facets/{schema}",
        **fields,
    }


def dbt_test_event(
    namespace: str,
    name: str,
    assertions: list[dict[str, Any]],
    *,
    job: str,
    run_id: str | None = None,
    parent_run_id: str | None = None,
    event_time: str = "2024-05-01T10:00:00.000Z",
) -> dict[str, Any]:
    """The COMPLETE event dbt-ol emits per tested model after `dbt test`/`dbt build`.

    As `openlineage.common.provider.dbt.processor.parse_test` builds it: one input, the
    model, with the assertions as an input facet and (for older consumers) a dataset
    facet too; a TEST job named `<model>.build.test`; the dbt command's run as parent.
    """
    facet = _facet(
        DBT_PRODUCER,
        "1-1-0/DataQualityAssertionsDatasetFacet.json#/$defs/DataQualityAssertionsDatasetFacet",
        assertions=assertions,
    )
    event = run_event(
        job,
        namespace="dbt",
        run_id=run_id,
        event_time=event_time,
        inputs=[
            {
                "namespace": namespace,
                "name": name,
                "facets": {
                    "dataSource": _facet(
                        DBT_PRODUCER,
                        "1-0-1/DatasourceDatasetFacet.json",
                        name=namespace,
                        uri=namespace,
                    ),
                    "dataQualityAssertions": facet,
                },
                "inputFacets": {"dataQualityAssertions": facet},
            }
        ],
        job_facets={
            "jobType": _facet(
                DBT_PRODUCER,
                "2-0-3/JobTypeJobFacet.json",
                jobType="TEST",
                integration="DBT",
                processingType="BATCH",
            )
        },
    )
    event["producer"] = DBT_PRODUCER
    event["run"]["facets"]["dbt_version"] = _facet(DBT_PRODUCER, "dbt_version", version="1.11.0")
    if parent_run_id is not None:
        event["run"]["facets"]["parent"] = _facet(
            DBT_PRODUCER,
            "1-2-0/ParentRunFacet.json",
            run={"runId": parent_run_id},
            job={"namespace": "dbt", "name": "dbt-run-shop"},
        )
    return event


def airflow_dag_event(
    dag_id: str,
    run_id: str,
    *,
    event_type: str = "START",
    event_time: str = "2024-05-01T09:00:00.000Z",
    tasks: dict[str, list[str]] | None = None,
    namespace: str = "airflow",
) -> dict[str, Any]:
    """A DAG run's event as the Airflow provider emits it (job `dag_id`, jobType DAG).

    `tasks` maps each task id to its downstream task ids (the `airflow` job facet).
    """
    tree = {
        task: {"operator": "SQLExecuteQueryOperator", "downstream_task_ids": after}
        for task, after in (tasks or {}).items()
    }
    event = run_event(
        dag_id,
        namespace=namespace,
        run_id=run_id,
        event_type=event_type,
        event_time=event_time,
        job_facets={
            "jobType": _facet(
                AIRFLOW_PRODUCER,
                "2-0-3/JobTypeJobFacet.json",
                jobType="DAG",
                integration="AIRFLOW",
                processingType="BATCH",
            ),
            "airflow": _facet(
                AIRFLOW_PRODUCER,
                "1-0-0/AirflowJobFacet.json",
                taskTree={},
                taskGroups={},
                tasks=tree,
            ),
            "ownership": _facet(
                AIRFLOW_PRODUCER, "1-0-1/OwnershipJobFacet.json", owners=[{"name": "data-team"}]
            ),
            "documentation": _facet(
                AIRFLOW_PRODUCER, "1-0-1/DocumentationJobFacet.json", description="Nightly sales."
            ),
        },
    )
    event["producer"] = AIRFLOW_PRODUCER
    event["run"]["facets"] = {
        "airflowDagRun": _facet(
            AIRFLOW_PRODUCER,
            "1-0-0/AirflowDagRunFacet.json",
            dag={"dag_id": dag_id, "schedule_interval": "@daily", "tags": "['sales']"},
            dagRun={"run_id": f"scheduled__{event_time}", "run_type": "scheduled"},
        ),
        "nominalTime": _facet(
            AIRFLOW_PRODUCER,
            "1-0-1/NominalTimeRunFacet.json",
            nominalStartTime="2024-05-01T00:00:00.000Z",
        ),
        "processing_engine": _facet(
            AIRFLOW_PRODUCER,
            "1-1-1/ProcessingEngineRunFacet.json",
            version="3.1.0",
            name="Airflow",
            openlineageAdapterVersion="2.9.0",
        ),
    }
    return event


def airflow_task_event(
    dag_id: str,
    task_id: str,
    run_id: str,
    dag_run_id: str,
    *,
    sql: str,
    inputs: list[dict[str, Any]] | None = None,
    outputs: list[dict[str, Any]] | None = None,
    event_type: str = "COMPLETE",
    event_time: str = "2024-05-01T09:05:00.000Z",
    namespace: str = "airflow",
) -> dict[str, Any]:
    """A task run's event (job `dag_id.task_id`) whose parent and root are the DAG run."""
    event = run_event(
        f"{dag_id}.{task_id}",
        namespace=namespace,
        run_id=run_id,
        event_type=event_type,
        event_time=event_time,
        inputs=inputs,
        outputs=outputs,
        job_facets={
            "jobType": _facet(
                AIRFLOW_PRODUCER,
                "2-0-3/JobTypeJobFacet.json",
                jobType="TASK",
                integration="AIRFLOW",
                processingType="BATCH",
            ),
            "sql": _facet(
                AIRFLOW_PRODUCER, "1-1-0/SQLJobFacet.json", query=sql, dialect="postgres"
            ),
        },
    )
    event["producer"] = AIRFLOW_PRODUCER
    dag = {"namespace": namespace, "name": dag_id}
    event["run"]["facets"] = {
        "parent": _facet(
            AIRFLOW_PRODUCER,
            "1-2-0/ParentRunFacet.json",
            run={"runId": dag_run_id},
            job=dag,
            root={"run": {"runId": dag_run_id}, "job": dag},
        ),
        "airflow": _facet(
            AIRFLOW_PRODUCER,
            "1-1-0/AirflowRunFacet.json",
            dag={"dag_id": dag_id},
            dagRun={"dag_id": dag_id},
            task={"task_id": task_id, "operator_class": "SQLExecuteQueryOperator"},
            taskInstance={"try_number": 1},
            taskUuid=run_id,
        ),
        "processing_engine": _facet(
            AIRFLOW_PRODUCER,
            "1-1-1/ProcessingEngineRunFacet.json",
            version="3.1.0",
            name="Airflow",
            openlineageAdapterVersion="2.9.0",
        ),
    }
    return event


def spark_event(
    app: str,
    run_id: str,
    *,
    inputs: list[tuple[dict[str, Any], dict[str, Any]]],
    outputs: list[tuple[dict[str, Any], dict[str, Any]]],
    parent: tuple[str, str, str] | None = None,
    event_time: str = "2024-05-01T09:10:00.000Z",
    namespace: str = "spark",
) -> dict[str, Any]:
    """A Spark application's COMPLETE event: datasets with their input/output facets
    (`inputStatistics`/`outputStatistics` ...), `processing_engine` and `spark_properties`
    run facets; `parent` (namespace, job, runId) names the Airflow task that started it."""
    event = run_event(
        app,
        namespace=namespace,
        run_id=run_id,
        event_time=event_time,
        inputs=[{**ref, "inputFacets": facets} for ref, facets in inputs],
        outputs=[{**ref, "outputFacets": facets} for ref, facets in outputs],
        job_facets={
            "jobType": _facet(
                SPARK_PRODUCER,
                "2-0-3/JobTypeJobFacet.json",
                jobType="SQL_JOB",
                integration="SPARK",
                processingType="BATCH",
            )
        },
    )
    event["producer"] = SPARK_PRODUCER
    event["run"]["facets"] = {
        "processing_engine": _facet(
            SPARK_PRODUCER,
            "1-1-1/ProcessingEngineRunFacet.json",
            version="3.5.1",
            name="spark",
            openlineageAdapterVersion="1.54.0",
        ),
        "spark_properties": _facet(
            SPARK_PRODUCER,
            "spark_properties",
            properties={"spark.master": "local[2]", "spark.app.name": app},
        ),
    }
    if parent is not None:
        ns, job, parent_run = parent
        event["run"]["facets"]["parent"] = _facet(
            SPARK_PRODUCER,
            "1-2-0/ParentRunFacet.json",
            run={"runId": parent_run},
            job={"namespace": ns, "name": job},
        )
    return event


def statistics(producer_kind: str, rows: int, size: int) -> dict[str, Any]:
    """An `inputStatistics` or `outputStatistics` facet (`producer_kind` input or output)."""
    name = (
        "InputStatisticsInputDatasetFacet"
        if producer_kind == "input"
        else ("OutputStatisticsOutputDatasetFacet")
    )
    return _facet(SPARK_PRODUCER, f"1-0-2/{name}.json", rowCount=rows, size=size, fileCount=1)
