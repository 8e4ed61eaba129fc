"""How datasets, jobs and runs read in API answers, fetched in batches by id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.store.schema import (
    dataset_fields,
    dataset_owners,
    dataset_tags,
    dataset_versions,
    datasets,
    job_versions,
    jobs,
    namespaces,
    run_io,
    run_states,
    runs,
)
from steward.store.sets import among


def iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with `Z`."""
    return None if value is None else value.isoformat() + "Z"


def _version_ids(conn: Connection, ids: Sequence[int], as_of: datetime | None) -> dict[int, int]:
    """Schema version per dataset: the current one, or the newest created by `as_of`."""
    if as_of is None:
        rows = conn.execute(
            sa.select(datasets.c.id, datasets.c.current_version_id).where(
                among(datasets.c.id, ids, conn.dialect.name)
            )
        )
        return {d: v for d, v in rows if v is not None}
    newest = (
        sa.select(dataset_versions.c.dataset_id, sa.func.max(dataset_versions.c.id).label("v"))
        .where(
            among(dataset_versions.c.dataset_id, ids, conn.dialect.name),
            dataset_versions.c.created_at <= as_of,
        )
        .group_by(dataset_versions.c.dataset_id)
    )
    return {d: v for d, v in conn.execute(newest)}


def dataset_fields_by_version(
    conn: Connection, version_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """Fields of each schema version, in schema order."""
    fields: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not version_ids:
        return fields
    rows = conn.execute(
        sa.select(dataset_fields)
        .where(among(dataset_fields.c.version_id, version_ids, conn.dialect.name))
        .order_by(dataset_fields.c.version_id, dataset_fields.c.ordinal)
    )
    for row in rows:
        fields[row.version_id].append(
            {"name": row.name, "type": row.type, "description": row.description}
        )
    return fields


def dataset_details(
    conn: Connection, ids: Sequence[int], as_of: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """What a lineage node or a listing shows of each dataset."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 50_000):
        chunk = list(ids[start : start + 50_000])
        versions = _version_ids(conn, chunk, as_of)
        fields = dataset_fields_by_version(conn, list(versions.values()))
        tags: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in conn.execute(
            sa.select(dataset_tags).where(
                among(dataset_tags.c.dataset_id, chunk, conn.dialect.name)
            )
        ):
            tags[row.dataset_id].append({"key": row.key, "value": row.value, "field": row.field})
        owners: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in conn.execute(
            sa.select(dataset_owners).where(
                among(dataset_owners.c.dataset_id, chunk, conn.dialect.name)
            )
        ):
            owners[row.dataset_id].append({"name": row.name, "type": row.type})
        c = datasets.c
        rows = conn.execute(
            sa.select(
                c.id,
                c.name,
                c.description,
                c.source_name,
                c.created_at,
                c.updated_at,
                c.deleted_at,
                c.lifecycle_state,
                namespaces.c.name.label("namespace"),
            )
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .where(among(datasets.c.id, chunk, conn.dialect.name))
        )
        for row in rows:
            out[row.id] = {
                "namespace": row.namespace,
                "name": row.name,
                "description": row.description,
                "sourceName": row.source_name,
                "createdAt": iso(row.created_at),
                "updatedAt": iso(row.updated_at),
                "deleted": row.deleted_at is not None
                and (as_of is None or row.deleted_at <= as_of),
                "lifecycleState": row.lifecycle_state,
                "fields": fields.get(versions.get(row.id, -1), []),
                "tags": tags.get(row.id, []),
                "owners": owners.get(row.id, []),
            }
    return out


def job_details(
    conn: Connection, ids: Sequence[int], as_of: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """What a lineage node or a listing shows of each job, with its latest run by `as_of`."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 50_000):
        chunk = list(ids[start : start + 50_000])
        c = jobs.c
        rows = conn.execute(
            sa.select(
                c.id,
                c.name,
                c.description,
                c.job_type,
                c.integration,
                c.processing_type,
                c.source_code_location,
                c.created_at,
                c.updated_at,
                namespaces.c.name.label("namespace"),
                job_versions.c.version,
            )
            .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
            .outerjoin(job_versions, job_versions.c.id == jobs.c.current_version_id)
            .where(among(jobs.c.id, chunk, conn.dialect.name))
        )
        latest = _latest_runs(conn, chunk, as_of)
        for row in rows:
            out[row.id] = {
                "namespace": row.namespace,
                "name": row.name,
                "description": row.description,
                "type": row.job_type,
                "integration": row.integration,
                "processingType": row.processing_type,
                "location": row.source_code_location,
                "currentVersion": row.version,
                "createdAt": iso(row.created_at),
                "updatedAt": iso(row.updated_at),
                "latestRun": latest.get(row.id),
            }
    return out


def _latest_runs(
    conn: Connection, job_ids: list[int], as_of: datetime | None
) -> dict[int, dict[str, Any]]:
    r = runs.c
    columns = (
        r.run_id,
        r.job_id,
        r.state,
        r.created_at,
        r.updated_at,
        r.started_at,
        r.ended_at,
        r.nominal_start_time,
        r.nominal_end_time,
        r.parent_run_id,
    )
    if as_of is None:
        query = (
            sa.select(*columns)
            .join(jobs, jobs.c.latest_run_id == runs.c.run_id)
            .where(among(jobs.c.id, job_ids, conn.dialect.name))
        )
    else:
        newest = (
            sa.select(runs.c.job_id, sa.func.max(runs.c.created_at).label("created"))
            .where(among(runs.c.job_id, job_ids, conn.dialect.name), runs.c.created_at <= as_of)
            .group_by(runs.c.job_id)
            .subquery()
        )
        query = sa.select(*columns).join(
            newest, sa.and_(runs.c.job_id == newest.c.job_id, runs.c.created_at == newest.c.created)
        )
    return {row.job_id: run_summary(row) for row in conn.execute(query)}


def run_summary(row: Any) -> dict[str, Any]:
    """A run's id, state and times."""
    return {
        "id": row.run_id,
        "state": row.state,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "startedAt": iso(row.started_at),
        "endedAt": iso(row.ended_at),
        "nominalStartTime": iso(row.nominal_start_time),
        "nominalEndTime": iso(row.nominal_end_time),
        "parentRunId": row.parent_run_id,
    }


def run_details(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Runs with their state history, inputs, outputs, job version and facets."""
    run_ids = [row.run_id for row in rows]
    states: dict[str, list[dict[str, Any]]] = defaultdict(list)
    io: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"input": [], "output": []}
    )
    versions: dict[int, str] = {}
    if run_ids:
        for state in conn.execute(
            sa.select(run_states)
            .where(run_states.c.run_id.in_(run_ids))
            .order_by(run_states.c.event_time, run_states.c.id)
        ):
            states[state.run_id].append({"state": state.state, "eventTime": iso(state.event_time)})
        for item in conn.execute(
            sa.select(
                run_io.c.run_id,
                run_io.c.direction,
                namespaces.c.name.label("namespace"),
                datasets.c.name,
            )
            .join(datasets, datasets.c.id == run_io.c.dataset_id)
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .where(run_io.c.run_id.in_(run_ids))
            .order_by(run_io.c.id)
        ):
            io[item.run_id][item.direction].append({"namespace": item.namespace, "name": item.name})
        version_ids = {row.job_version_id for row in rows if row.job_version_id}
        if version_ids:
            query = sa.select(job_versions.c.id, job_versions.c.version).where(
                job_versions.c.id.in_(version_ids)
            )
            versions = {version_id: version for version_id, version in conn.execute(query)}
    return [
        {
            **run_summary(row),
            "jobVersion": versions.get(row.job_version_id),
            "states": states.get(row.run_id, []),
            "inputs": io[row.run_id]["input"],
            "outputs": io[row.run_id]["output"],
            "facets": row.facets,
        }
        for row in rows
    ]
