"""Listings and search over what lineage events have told Steward."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import NotFound
from steward.lineage.ingest import raw_event
from steward.lineage.scope import Hidden, Sight, posted_jobs, strip_dataset
from steward.lineage.views import (
    dataset_details,
    dataset_facets,
    facets_as_seen,
    iso,
    job_details,
    job_facets,
    run_details,
)
from steward.store.schema import (
    catalog_entries,
    dataset_fields,
    datasets,
    jobs,
    lineage_events,
    namespaces,
    runs,
)

# Every answer below takes the caller's `sight` (see `lineage.scope`); None shows all.


def _hidden(conn: Connection, sight: Sight | None) -> Hidden:
    return Hidden() if sight is None else sight.hidden(conn)


def list_namespaces(conn: Connection, sight: Sight | None = None) -> list[dict[str, Any]]:
    """Every namespace with how many datasets and jobs it holds (that the caller sees)."""
    hidden = _hidden(conn, sight)
    dataset_count = (
        sa.select(sa.func.count())
        .where(
            datasets.c.namespace_id == namespaces.c.id,
            datasets.c.id.not_in(sorted(hidden.datasets)),
        )
        .scalar_subquery()
    )
    job_count = (
        sa.select(sa.func.count())
        .where(jobs.c.namespace_id == namespaces.c.id, jobs.c.id.not_in(sorted(hidden.jobs)))
        .scalar_subquery()
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
    conn: Connection,
    table: sa.Table,
    namespace: str | None,
    limit: int,
    offset: int,
    hidden: frozenset[int],
) -> tuple[list[int], int]:
    query = sa.select(table.c.id).join(namespaces, namespaces.c.id == table.c.namespace_id)
    if hidden:
        query = query.where(table.c.id.not_in(sorted(hidden)))
    if namespace is not None:
        query = query.where(namespaces.c.name == namespace)
    total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    ids = conn.execute(
        query.order_by(namespaces.c.name, table.c.name).limit(limit).offset(offset)
    ).scalars()
    return list(ids), int(total)


def list_datasets(
    conn: Connection,
    *,
    namespace: str | None = None,
    limit: int = 100,
    offset: int = 0,
    sight: Sight | None = None,
) -> dict[str, Any]:
    """One page of datasets, by namespace and name; described as the caller may see them.

    Each with its facets (`facets`, `inputFacets`, `outputFacets`, see
    `views.dataset_facets`); none of a dataset the caller may not describe.
    """
    ids, total = _page(conn, datasets, namespace, limit, offset, _hidden(conn, sight).datasets)
    details = dataset_details(conn, ids)
    facets = dataset_facets(conn, ids)
    withheld: dict[int, frozenset[str] | None] = {i: frozenset() for i in ids}
    if sight is not None:
        withheld = sight.withheld(conn, ids)
    for i, view in details.items():
        denied = withheld[i]
        if denied is not None:
            view.update(facets_as_seen(facets[i], denied))
    if sight is not None:
        details = {i: strip_dataset(d, withheld[i]) for i, d in details.items()}
    return {"totalCount": total, "datasets": [details[i] for i in ids]}


def list_jobs(
    conn: Connection,
    *,
    namespace: str | None = None,
    limit: int = 100,
    offset: int = 0,
    sight: Sight | None = None,
) -> dict[str, Any]:
    """One page of jobs, by namespace and name, each with its facets."""
    ids, total = _page(conn, jobs, namespace, limit, offset, _hidden(conn, sight).jobs)
    details = job_details(conn, ids)
    for job_id, facets in job_facets(conn, ids).items():
        details[job_id]["facets"] = facets
    return {"totalCount": total, "jobs": [details[i] for i in ids]}


def list_runs(
    conn: Connection,
    namespace: str,
    job: str,
    *,
    limit: int = 100,
    offset: int = 0,
    sight: Sight | None = None,
) -> dict[str, Any]:
    """One job's runs, newest first, each with its state history and inputs and outputs."""
    job_id = conn.execute(
        sa.select(jobs.c.id)
        .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
        .where(namespaces.c.name == namespace, jobs.c.name == job)
    ).scalar()
    if job_id is None or job_id in _hidden(conn, sight).jobs:
        raise NotFound(f"job: no job {job!r} in namespace {namespace!r}")
    total = conn.execute(sa.select(sa.func.count()).where(runs.c.job_id == job_id)).scalar_one()
    rows = conn.execute(
        sa.select(runs)
        .where(runs.c.job_id == job_id)
        .order_by(runs.c.created_at.desc(), runs.c.run_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return {"totalCount": total, "runs": run_details(conn, rows, sight)}


def search(
    conn: Connection, q: str, *, limit: int = 50, sight: Sight | None = None
) -> dict[str, Any]:
    """Datasets and jobs whose name, description or (datasets) current field names contain `q`.

    Ranked: exact name, then name prefix, then name contains, then description or field.
    With a `sight`, other users' query lineage is left out, and a dataset the caller may
    not describe is found by its name only and shown without its description.
    """
    hidden = _hidden(conn, sight)
    described = None if sight is None else sight.describable(conn)
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
        details: list[sa.ColumnElement[bool]] = [
            table.c.description.ilike(pattern, escape="\\"),
        ]
        if table is datasets:
            details.append(
                sa.exists().where(
                    dataset_fields.c.version_id == datasets.c.current_version_id,
                    dataset_fields.c.name.ilike(pattern, escape="\\"),
                )
            )
        shown: sa.ColumnElement[bool] = sa.true()
        if described is not None and table is datasets:
            shown = datasets.c.id.in_(
                sa.select(catalog_entries.c.dataset_id).where(
                    catalog_entries.c.name.in_(sorted(described))
                )
            )
        excluded = hidden.datasets if table is datasets else hidden.jobs
        rows = conn.execute(
            sa.select(
                namespaces.c.name.label("namespace"),
                name,
                sa.case((shown, table.c.description), else_=None).label("description"),
                table.c.updated_at,
                rank.label("rank"),
            )
            .join(namespaces, namespaces.c.id == table.c.namespace_id)
            .where(
                sa.or_(name.ilike(pattern, escape="\\"), sa.and_(shown, sa.or_(*details))),
                table.c.id.not_in(sorted(excluded)),
            )
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
    sight: Sight | None = None,
) -> dict[str, Any]:
    """Raw events as received, newest event time first (Marquez's `/events/lineage`).

    With a `sight`, only the events of jobs the caller sent events for (`posted_jobs`):
    others' events, dataset events and other users' query runs are admins' to read.
    """
    e = lineage_events.c
    conditions: list[sa.ColumnElement[bool]] = []
    if sight is not None:
        own = posted_jobs(conn, sight.user)
        conditions.append((e.job_namespace + ":" + e.job_name).in_(sorted(own)))
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
