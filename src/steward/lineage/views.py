"""How datasets, jobs and runs read in API answers, fetched in batches by id."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.lineage.run_facets import NOT_YET_REPORTED
from steward.lineage.scope import Sight
from steward.store import fast
from steward.store.schema import (
    dataset_fields,
    dataset_owners,
    dataset_run_facets,
    dataset_symlinks,
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
from steward.store.sets import among_parameter, id_list


def iso(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with `Z`."""
    return None if value is None else value.isoformat() + "Z"


# Statements built once per dialect, the ids bound as one parameter (`:ids`).
@cache
def _statements(dialect: str) -> dict[str, Any]:
    def ids(column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
        return among_parameter(column, "ids", dialect)

    as_of = sa.bindparam("as_of", type_=sa.DateTime)
    d, j, r, v = datasets.c, jobs.c, runs.c, dataset_versions.c
    run_columns = (
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
    newest_run = (
        sa.select(r.job_id, sa.func.max(r.created_at).label("created"))
        .where(ids(r.job_id), r.created_at <= as_of)
        .group_by(r.job_id)
        .subquery()
    )
    return {
        "current_versions": sa.select(d.id, d.current_version_id).where(ids(d.id)),
        "versions_as_of": sa.select(v.dataset_id, sa.func.max(v.id))
        .where(ids(v.dataset_id), v.created_at <= as_of)
        .group_by(v.dataset_id),
        "fields": sa.select(
            dataset_fields.c.version_id,
            dataset_fields.c.name,
            dataset_fields.c.type,
            dataset_fields.c.description,
        )
        .where(ids(dataset_fields.c.version_id))
        .order_by(dataset_fields.c.version_id, dataset_fields.c.ordinal),
        "tags": sa.select(
            dataset_tags.c.dataset_id,
            dataset_tags.c.key,
            dataset_tags.c.value,
            dataset_tags.c.field,
        ).where(ids(dataset_tags.c.dataset_id)),
        "symlinks": sa.select(
            dataset_symlinks.c.dataset_id,
            dataset_symlinks.c.namespace,
            dataset_symlinks.c.name,
            dataset_symlinks.c.type,
        ).where(ids(dataset_symlinks.c.dataset_id)),
        "owners": sa.select(
            dataset_owners.c.dataset_id, dataset_owners.c.name, dataset_owners.c.type
        ).where(ids(dataset_owners.c.dataset_id)),
        "datasets": sa.select(
            d.id,
            d.name,
            d.description,
            d.source_name,
            d.created_at,
            d.updated_at,
            d.deleted_at,
            d.lifecycle_state,
            namespaces.c.name.label("namespace"),
        )
        .join(namespaces, namespaces.c.id == d.namespace_id)
        .where(ids(d.id)),
        "jobs": sa.select(
            j.id,
            j.name,
            j.description,
            j.job_type,
            j.integration,
            j.processing_type,
            j.source_code_location,
            j.created_at,
            j.updated_at,
            namespaces.c.name.label("namespace"),
            job_versions.c.version,
        )
        .join(namespaces, namespaces.c.id == j.namespace_id)
        .outerjoin(job_versions, job_versions.c.id == j.current_version_id)
        .where(ids(j.id)),
        "latest_runs": sa.select(*run_columns)
        .join(jobs, j.latest_run_id == r.run_id)
        .where(ids(j.id)),
        "runs_as_of": sa.select(*run_columns).join(
            newest_run,
            sa.and_(r.job_id == newest_run.c.job_id, r.created_at == newest_run.c.created),
        ),
    }


def _rows(conn: Connection, name: str, ids: Sequence[int], **values: Any) -> list[Any]:
    dialect = conn.dialect.name
    return fast.rows(conn, _statements(dialect)[name], {"ids": id_list(ids, dialect), **values})


def _version_ids(conn: Connection, ids: Sequence[int], as_of: datetime | None) -> dict[int, int]:
    """Schema version per dataset: the current one, or the newest created by `as_of`."""
    if as_of is None:
        return {d: v for d, v in _rows(conn, "current_versions", ids) if v is not None}
    return {d: v for d, v in _rows(conn, "versions_as_of", ids, as_of=as_of)}


def dataset_fields_by_version(
    conn: Connection, version_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """Fields of each schema version, in schema order."""
    fields: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if version_ids:
        for version_id, name, kind, description in _rows(conn, "fields", version_ids):
            fields[version_id].append({"name": name, "type": kind, "description": description})
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
        for dataset_id, key, value, field in _rows(conn, "tags", chunk):
            tags[dataset_id].append({"key": key, "value": value, "field": field})
        owners: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for dataset_id, name, kind in _rows(conn, "owners", chunk):
            owners[dataset_id].append({"name": name, "type": kind})
        symlinks: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for dataset_id, namespace, name, kind in _rows(conn, "symlinks", chunk):
            symlinks[dataset_id].append({"namespace": namespace, "name": name, "type": kind})
        for row in _rows(conn, "datasets", chunk):
            out[row.id] = {
                "id": {"namespace": row.namespace, "name": row.name},
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
                "symlinks": symlinks.get(row.id, []),
            }
    return out


def job_details(
    conn: Connection, ids: Sequence[int], as_of: datetime | None = None
) -> dict[int, dict[str, Any]]:
    """What a lineage node or a listing shows of each job, with its latest run by `as_of`."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), 50_000):
        chunk = list(ids[start : start + 50_000])
        if as_of is None:
            latest = {row.job_id: run_summary(row) for row in _rows(conn, "latest_runs", chunk)}
        else:
            found = _rows(conn, "runs_as_of", chunk, as_of=as_of)
            latest = {row.job_id: run_summary(row) for row in found}
        for row in _rows(conn, "jobs", chunk):
            out[row.id] = {
                "id": {"namespace": row.namespace, "name": row.name},
                "namespace": row.namespace,
                "name": row.name,
                "description": row.description,
                "type": row.job_type,
                "integration": row.integration,
                "processingType": row.processing_type,
                "location": row.source_code_location,
                "currentVersion": row.version,
                "createdAt": iso(row.created_at),
                # A job only named as a parent so far has not reported: no update time yet.
                "updatedAt": None if row.updated_at == NOT_YET_REPORTED else iso(row.updated_at),
                "latestRun": latest.get(row.id),
            }
    return out


def run_summary(row: Any) -> dict[str, Any]:
    """A run's id, state and times."""
    return {
        "id": row.run_id,
        "runId": row.run_id,
        "state": row.state,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "startedAt": iso(row.started_at),
        "endedAt": iso(row.ended_at),
        "nominalStartTime": iso(row.nominal_start_time),
        "nominalEndTime": iso(row.nominal_end_time),
        "parentRunId": row.parent_run_id,
    }


def run_details(
    conn: Connection, rows: Sequence[Any], sight: Sight | None = None
) -> list[dict[str, Any]]:
    """Runs with their state history, inputs, outputs, job version and facets.

    Of the inputs and outputs, those `sight` may not describe are left out.
    """
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
        found = conn.execute(
            sa.select(
                run_io.c.run_id,
                run_io.c.direction,
                run_io.c.dataset_id,
                namespaces.c.name.label("namespace"),
                datasets.c.name,
            )
            .join(datasets, datasets.c.id == run_io.c.dataset_id)
            .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
            .where(run_io.c.run_id.in_(run_ids))
            .order_by(run_io.c.id)
        ).all()
        shown = visible_datasets(conn, sight, {item.dataset_id for item in found})
        for item in found:
            if item.dataset_id in shown:
                entry = {"namespace": item.namespace, "name": item.name}
                io[item.run_id][item.direction].append(entry)
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


def visible_datasets(conn: Connection, sight: Sight | None, ids: Collection[int]) -> set[int]:
    """Of dataset `ids`, those `sight` may describe (all of them for None)."""
    if sight is None or not ids:
        return set(ids)
    hidden = sight.hidden(conn).datasets
    withheld = sight.withheld(conn, [i for i in ids if i not in hidden])
    return {i for i, columns in withheld.items() if columns is not None}


def job_facets(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each job's facets, the latest value of each (`sql`, `sourceCode`, `airflow` ...)."""
    if not ids:
        return {}
    query = sa.select(jobs.c.id, jobs.c.facets).where(jobs.c.id.in_(list(ids)))
    return {row.id: row.facets or {} for row in conn.execute(query)}


def dataset_facets(conn: Connection, ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Each dataset's facets: its own (latest per name) and the latest that runs reported.

    `facets` holds the dataset facets as last sent (schema and column lineage are in
    `fields` and the column graph); `inputFacets` and `outputFacets` the newest value of
    each input/output facet, with the run and job that reported it and when.
    """
    out: dict[int, dict[str, Any]] = {
        i: {"facets": {}, "inputFacets": {}, "outputFacets": {}} for i in ids
    }
    if not ids:
        return out
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        own = sa.select(datasets.c.id, datasets.c.facets).where(datasets.c.id.in_(chunk))
        for dataset_id, facets in conn.execute(own):
            out[dataset_id]["facets"] = facets or {}
        f = dataset_run_facets.c
        newest = (
            sa.select(
                f.id,
                sa.func.row_number()
                .over(
                    partition_by=(f.dataset_id, f.direction, f.name),
                    order_by=(f.event_time.desc(), f.id.desc()),
                )
                .label("n"),
            )
            .where(f.dataset_id.in_(chunk), f.direction.in_(["input", "output"]))
            .subquery()
        )
        rows = conn.execute(
            sa.select(
                f.dataset_id,
                f.direction,
                f.name,
                f.run_id,
                f.event_time,
                f.facet,
                namespaces.c.name.label("job_namespace"),
                jobs.c.name.label("job_name"),
            )
            .join(newest, sa.and_(newest.c.id == f.id, newest.c.n == 1))
            .outerjoin(jobs, jobs.c.id == f.job_id)
            .outerjoin(namespaces, namespaces.c.id == jobs.c.namespace_id)
        )
        for row in rows:
            job = None
            if row.job_name is not None:
                job = {"namespace": row.job_namespace, "name": row.job_name}
            out[row.dataset_id][f"{row.direction}Facets"][row.name] = {
                "facet": row.facet,
                "runId": row.run_id,
                "job": job,
                "eventTime": iso(row.event_time),
            }
    return out


def facets_as_seen(view: dict[str, Any], withheld: frozenset[str]) -> dict[str, Any]:
    """`dataset_facets` of one dataset without what they say of the `withheld` columns.

    Column tags, column metrics and assertions on a withheld column are left out.
    """
    if not withheld:
        return view

    def strip(name: str, facet: Any) -> Any:
        if not isinstance(facet, dict):
            return facet
        if name == "tags" and isinstance(facet.get("tags"), list):
            kept = [t for t in facet["tags"] if not _names_withheld(t, "field", withheld)]
            return {**facet, "tags": kept}
        if name == "dataQualityAssertions" and isinstance(facet.get("assertions"), list):
            kept = [a for a in facet["assertions"] if not _names_withheld(a, "column", withheld)]
            return {**facet, "assertions": kept}
        if name == "dataQualityMetrics" and isinstance(facet.get("columnMetrics"), dict):
            metrics = {c: m for c, m in facet["columnMetrics"].items() if c not in withheld}
            return {**facet, "columnMetrics": metrics}
        return facet

    return {
        "facets": {name: strip(name, value) for name, value in view["facets"].items()},
        **{
            kind: {
                name: {**entry, "facet": strip(name, entry["facet"])}
                for name, entry in view[kind].items()
            }
            for kind in ("inputFacets", "outputFacets")
        },
    }


def _names_withheld(item: Any, key: str, withheld: frozenset[str]) -> bool:
    return isinstance(item, dict) and item.get(key) in withheld
