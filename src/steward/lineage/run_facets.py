"""What a run tells about its datasets and its parent, written beside the lineage model.

Facets a run reports about a dataset are kept per run in `dataset_run_facets`, so the
history of dbt tests or row counts is not overwritten by the next run; a run's parent
(the ParentRunFacet: an Airflow task run's DAG run, a Spark job's Airflow task) and its
root are kept in `runs` columns, so children are found by index.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from steward.store.schema import dataset_run_facets

# Dataset facets that measure one run's data rather than describe the dataset.
MEASUREMENTS = frozenset({"dataQualityAssertions", "dataQualityMetrics"})

# A job first named as another run's parent has not reported yet: any event of its own
# is newer than this, so its facets and latest run come from its own events.
NOT_YET_REPORTED = datetime(1970, 1, 1)


def run_facet_rows(
    raw: dict[str, Any],
    direction: str | None,
    *,
    dataset_id: int,
    run_id: str | None,
    job_id: int | None,
    when: datetime,
) -> list[dict[str, Any]]:
    """Rows of `dataset_run_facets` for one dataset of an event (`raw` as sent).

    `direction` is input or output for a run's datasets, None for a DatasetEvent's. Each
    input/output facet is kept; a measurement sent as a dataset facet too, unless the
    same facet came as an input/output facet (dbt-ol sends its assertions both ways).
    """
    rows: list[dict[str, Any]] = []

    def add(kind: str, name: str, facet: Any) -> None:
        if isinstance(facet, dict) and facet.get("_deleted") is not True:
            rows.append(
                {
                    "dataset_id": dataset_id,
                    "direction": kind,
                    "name": name,
                    "run_id": run_id,
                    "job_id": job_id,
                    "event_time": when,
                    "facet": facet,
                }
            )

    own: dict[str, Any] = {}
    if direction is not None:
        own = raw.get("inputFacets" if direction == "input" else "outputFacets") or {}
        for name, facet in own.items():
            add(direction, name, facet)
    facets = raw.get("facets") or {}
    for name in sorted(MEASUREMENTS):
        if name in facets and name not in own:
            add("dataset", name, facets[name])
    return rows


def write_run_facets(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Store rows from `run_facet_rows`; of one run's facet, the newest event's stays."""
    if not rows:
        return
    # One row per key in this batch: the newest (a run's START and COMPLETE may both say).
    newest: dict[tuple[Any, ...], dict[str, Any]] = {}
    loose = []
    for row in rows:
        if row["run_id"] is None:
            loose.append(row)
            continue
        key = (row["run_id"], row["dataset_id"], row["direction"], row["name"])
        if key not in newest or row["event_time"] >= newest[key]["event_time"]:
            newest[key] = row
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(dataset_run_facets)
    t = dataset_run_facets.c
    upsert = insert.on_conflict_do_update(
        index_elements=[t.run_id, t.dataset_id, t.direction, t.name],
        set_={
            "facet": insert.excluded.facet,
            "event_time": insert.excluded.event_time,
            "job_id": insert.excluded.job_id,
        },
        where=insert.excluded.event_time >= t.event_time,
    )
    if newest:
        conn.execute(upsert, list(newest.values()))
    if loose:
        conn.execute(dataset_run_facets.insert(), loose)


def parent_columns(facets: Any, job_id_of: Any) -> dict[str, Any]:
    """`runs` columns from a run's ParentRunFacet (`facets.parent`), if it has one.

    `job_id_of(namespace, name)` gives a job's id, creating it when the parent's own
    events have not arrived yet: children may come first.
    """
    parent = facets.parent
    if parent is None:
        return {}
    values: dict[str, Any] = {
        "parent_run_id": str(parent.run.runId),
        "parent_job_id": job_id_of(parent.job.namespace, parent.job.name),
    }
    if parent.root is not None:
        values["root_run_id"] = str(parent.root.run.runId)
        values["root_job_id"] = job_id_of(parent.root.job.namespace, parent.root.job.name)
    return values
