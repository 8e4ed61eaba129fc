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
