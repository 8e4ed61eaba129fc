"""Listings and search over what lineage events have told Steward."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import NotFound
from steward.lineage.ingest import raw_event
from steward.lineage.views import dataset_details, iso, job_details, run_details
from steward.store.schema import dataset_fields, datasets, jobs, lineage_events, namespaces, runs


def list_namespaces(conn: Connection) -> list[dict[str, Any]]:
    """Every namespace with how many datasets and jobs it holds."""
    dataset_count = (
        sa.select(sa.func.count())
        .where(datasets.c.namespace_id == namespaces.c.id)
        .scalar_subquery()
    )
    job_count = (
        sa.select(sa.func.count()).where(jobs.c.namespace_id == namespaces.c.id).scalar_subquery()
    )
    rows = conn.execute(
        sa.select(
            namespaces.c.name,
            namespaces.c.created_at,
            dataset_count.label("d"),
            job_count.label("j"),
        ).order_by(namespaces.c.name)
    )
    return [
        {"name": r.name, "createdAt": iso(r.created_at), "datasets": r.d, "jobs": r.j} for r in rows
    ]


def _page(
    conn: Connection, table: sa.Table, namespace: str | None, limit: int, offset: int
) -> tuple[list[int], int]:
    query = sa.select(table.c.id).join(namespaces, namespaces.c.id == table.c.namespace_id)
    if namespace is not None:
        query = query.where(namespaces.c.name == namespace)
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    ids = conn.execute(
        query.order_by(namespaces.c.name, table.c.name).limit(limit).offset(offset)
    ).scalars()
    return list(ids), int(total)


def list_datasets(
    conn: Connection, *, namespace: str | None = None, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """One page of datasets, by namespace and name."""
    ids, total = _page(conn, datasets, namespace, limit, offset)
    details = dataset_details(conn, ids)
    return {"totalCount": total, "datasets": [details[i] for i in ids]}


def list_jobs(
    conn: Connection, *, namespace: str | None = None, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """One page of jobs, by namespace and name."""
    ids, total = _page(conn, jobs, namespace, limit, offset)
    details = job_details(conn, ids)
    return {"totalCount": total, "jobs": [details[i] for i in ids]}


def list_runs(
    conn: Connection, namespace: str, job: str, *, limit: int = 100, offset: int = 0
) -> dict[str, Any]:
    """One job's runs, newest first, each with its state history and inputs and outputs."""
    job_id = conn.execute(
        sa.select(jobs.c.id)
        .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
        .where(namespaces.c.name == namespace, jobs.c.name == job)
    ).scalar()
    if job_id is None:
        raise NotFound(f"job: no job {job!r} in namespace {namespace!r}")
    total = conn.execute(sa.select(sa.func.count()).where(runs.c.job_id == job_id)).scalar_one()
    rows = conn.execute(
        sa.select(runs)
        .where(runs.c.job_id == job_id)
        .order_by(runs.c.created_at.desc(), runs.c.run_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return {"totalCount": total, "runs": run_details(conn, rows)}


def search(conn: Connection, q: str, *, limit: int = 50) -> dict[str, Any]:
    """Datasets and jobs whose name, description or (datasets) current field names contain `q`.

    Ranked: exact name, then name prefix, then name contains, then description or field.
    """
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    prefix = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    results: list[dict[str, Any]] = []
    for kind, table in (("DATASET", datasets), ("JOB", jobs)):
        name = table.c.name
        rank = sa.case(
            (sa.func.lower(name) == q.lower(), 0),
            (name.ilike(prefix, escape="\\"), 1),
            (name.ilike(pattern, escape="\\"), 2),
            else_=3,
        )
        matches: list[sa.ColumnElement[bool]] = [
            name.ilike(pattern, escape="\\"),
            table.c.description.ilike(pattern, escape="\\"),
        ]
        if table is datasets:
            matches.append(
                sa.exists().where(
                    dataset_fields.c.version_id == datasets.c.current_version_id,
                    dataset_fields.c.name.ilike(pattern, escape="\\"),
                )
            )
        rows = conn.execute(
            sa.select(
                namespaces.c.name.label("namespace"),
                name,
                table.c.description,
                table.c.updated_at,
                rank.label("rank"),
            )
            .join(namespaces, namespaces.c.id == table.c.namespace_id)
            .where(sa.or_(*matches))
            .order_by(rank, name)
            .limit(limit)
        )
        for row in rows:
            results.append(
                {
                    "type": kind,
                    "namespace": row.namespace,
                    "name": row.name,
                    "nodeId": f"{kind.lower()}:{row.namespace}:{row.name}",
                    "description": row.description,
                    "updatedAt": iso(row.updated_at),
                    "rank": row.rank,
                }
            )
    results.sort(key=lambda r: (r["rank"], r["name"]))
    return {"totalCount": len(results[:limit]), "results": results[:limit]}


def list_events(
    conn: Connection,
    *,
    run_id: str | None = None,
    after: datetime | None = None,
    before: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Raw events as received, newest event time first (Marquez's `/events/lineage`)."""
    e = lineage_events.c
    conditions = []
    if run_id is not None:
        conditions.append(e.run_id == run_id)
    if after is not None:
        conditions.append(e.event_time >= after)
    if before is not None:
        conditions.append(e.event_time < before)
    total = conn.execute(
        sa.select(sa.func.count()).select_from(lineage_events).where(*conditions)
    ).scalar_one()
    rows = conn.execute(
        sa.select(e.payload)
        .where(*conditions)
        .order_by(e.event_time.desc(), e.id.desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return {"totalCount": total, "events": [raw_event(payload) for payload in rows]}
