"""Events shaped like real producers' (Spark, Hive, Trino, Airflow, Flink, dbt-ol).

Each follows the producer's integration test fixtures in the OpenLineage repository
(integration/spark/app/integrations/container/*.json, integration/hive/
hive-openlineage-hook/integrations/container/*.json, integration/flink/.../events/
*.json): how it names a table, which symlink it adds, how it states column lineage.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

SPARK = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/spark"
HIVE = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/hive"
FLINK = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/flink"
AIRFLOW = "https://github.com/apache/airflow/tree/providers-openlineage/1.14.0"
TRINO = "https://github.com/trinodb/trino/plugin/trino-openlineage"
DBT = "https://github.com/OpenLineage/OpenLineage/tree/1.24.2/integration/dbt"

_SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
_INTEGRATION = {SPARK: "SPARK", HIVE: "HIVE", FLINK: "FLINK", AIRFLOW: "AIRFLOW"}
_INTEGRATION |= {TRINO: "TRINO", DBT: "DBT"}


def facet(producer: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """A facet with the `_producer` and `_schemaURL` every producer sets."""
    return {
        "_producer": producer,
        "_schemaURL": f"https://openlineage.io/spec/facets/1-1-0/{name}.json",
        **body,
    }


def field(name: str, kind: str = "string", **more: Any) -> dict[str, Any]:
    """A schema field; `fields=[...]` nests a struct's, array's or map's members."""
    return {"name": name, "type": kind, **more}


def table(
    producer: str,
    namespace: str,
    name: str,
    fields: list[dict[str, Any]] | None = None,
    *,
    symlinks: Sequence[tuple[str, str, str]] = (),
    column_lineage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A dataset as `producer` names it, with its schema, symlinks and column lineage."""
    facets: dict[str, Any] = {}
    scheme = namespace.split("://", 1)[0]
    facets["dataSource"] = facet(
        producer, "DatasourceDatasetFacet", {"name": namespace, "uri": namespace or scheme}
    )
    if fields is not None:
        facets["schema"] = facet(producer, "SchemaDatasetFacet", {"fields": fields})
    if symlinks:
        identifiers = [{"namespace": ns, "name": n, "type": t} for ns, n, t in symlinks]
        facets["symlinks"] = facet(producer, "SymlinksDatasetFacet", {"identifiers": identifiers})
    if column_lineage is not None:
        facets["columnLineage"] = facet(producer, "ColumnLineageDatasetFacet", column_lineage)
    return {"namespace": namespace, "name": name, "facets": facets}


def spark_table(
    location: str,
    path: str,
    fields: list[dict[str, Any]] | None = None,
    *,
    metastore: tuple[str, str] | None = None,
    column_lineage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Spark's name for a table: its location (`file`, `/warehouse/db.db/t`), with a TABLE
    symlink to its metastore or catalog name when it has one."""
    links = [(metastore[0], metastore[1], "TABLE")] if metastore else []
    return table(SPARK, location, path, fields, symlinks=links, column_lineage=column_lineage)


def metastore_table(
    producer: str,
    metastore: str,
    name: str,
    fields: list[dict[str, Any]] | None = None,
    *,
    location: tuple[str, str] | None = None,
    column_lineage: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Hive hook's, Trino's or Airflow's name for a table: its metastore name, with a
    LOCATION symlink to where its files are when the producer knows it."""
    links = [(location[0], location[1], "LOCATION")] if location else []
    return table(producer, metastore, name, fields, symlinks=links, column_lineage=column_lineage)


def transformation(kind: str, subtype: str, description: str = "") -> dict[str, Any]:
    """One transformation of a column lineage input field."""
    return {"type": kind, "subtype": subtype, "description": description, "masking": False}


DIRECT_IDENTITY = transformation("DIRECT", "IDENTITY")


def input_field(
    namespace: str, name: str, column: str, *transformations: dict[str, Any]
) -> dict[str, Any]:
    """An input field of a ColumnLineageDatasetFacet 1-2-0."""
    return {
        "namespace": namespace,
        "name": name,
        "field": column,
        "transformations": list(transformations or [DIRECT_IDENTITY]),
    }


def run_event(
    producer: str,
    job_namespace: str,
    job: str,
    *,
    inputs: Sequence[dict[str, Any]] = (),
    outputs: Sequence[dict[str, Any]] = (),
    event_type: str = "COMPLETE",
    run_id: str | None = None,
    event_time: str = "2024-05-01T10:00:00.000Z",
    processing: str = "BATCH",
) -> dict[str, Any]:
    """A RunEvent as `producer` sends it."""
    return {
        "eventType": event_type,
        "eventTime": event_time,
        "producer": producer,
        "schemaURL": _SCHEMA_URL,
        "run": {"runId": run_id or str(uuid.uuid4()), "facets": {}},
        "job": {
            "namespace": job_namespace,
            "name": job,
            "facets": {
                "jobType": facet(
                    producer,
                    "JobTypeJobFacet",
                    {
                        "processingType": processing,
                        "integration": _INTEGRATION.get(producer, "SPARK"),
                        "jobType": "JOB",
                    },
                )
            },
        },
        "inputs": list(inputs),
        "outputs": list(outputs),
    }
