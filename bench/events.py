"""Realistic OpenLineage events for benchmarks: 20-column schemas and column lineage.

A warehouse of `jobs` jobs, each reading two tables and writing one, runs over
and over (START then COMPLETE), as a scheduler would make it; the datasets' schemas
are stable between runs, as they are in production.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/integration/spark"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET = {"_producer": PRODUCER, "_schemaURL": "https://openlineage.io/spec/facets/1-1-1/X.json"}
COLUMNS = [f"column_{i:02d}" for i in range(20)]


def _schema() -> dict[str, Any]:
    return {
        **FACET,
        "fields": [
            {"name": c, "type": "VARCHAR" if i % 3 else "BIGINT", "description": f"The {c} value"}
            for i, c in enumerate(COLUMNS)
        ],
    }


def _column_lineage(inputs: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        **FACET,
        "fields": {
            c: {
                "inputFields": [
                    {
                        "namespace": ns,
                        "name": name,
                        "field": c,
                        "transformations": [
                            {
                                "type": "DIRECT",
                                "subtype": "IDENTITY" if i % 4 else "TRANSFORMATION",
                                "description": "" if i % 4 else f"upper({c})",
                                "masking": False,
                            }
                        ],
                    }
                    for ns, name in inputs
                ]
            }
            for i, c in enumerate(COLUMNS)
        },
    }


def events(count: int, *, jobs: int = 500, seed: int = 1) -> list[dict[str, Any]]:
    """`count` events (START/COMPLETE pairs) of `jobs` jobs over 3 x `jobs` tables."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    out: list[dict[str, Any]] = []
    run = 0
    while len(out) < count:
        job = rng.randrange(jobs)
        inputs = [
            ("postgres://warehouse:5432", f"analytics.raw.table_{(job * 3 + k) % (jobs * 3)}")
            for k in (1, 2)
        ]
        output = ("s3://lake", f"marts/table_{job}")
        run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        began = start + timedelta(seconds=run * 7)
        for state, when in (("START", began), ("COMPLETE", began + timedelta(seconds=5))):
            out.append(
                {
                    "eventType": state,
                    "eventTime": when.isoformat().replace("+00:00", "Z"),
                    "producer": PRODUCER,
                    "schemaURL": SCHEMA,
                    "run": {"runId": run_id, "facets": {}},
                    "job": {"namespace": "spark", "name": f"job_{job}", "facets": {}},
                    "inputs": [
                        {"namespace": ns, "name": name, "facets": {"schema": _schema()}}
                        for ns, name in inputs
                    ],
                    "outputs": [
                        {
                            "namespace": output[0],
                            "name": output[1],
                            "facets": {
                                "schema": _schema(),
                                "columnLineage": _column_lineage(inputs),
                            },
                        }
                    ],
                }
            )
        run += 1
    return out[:count]
