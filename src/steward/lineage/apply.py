"""Derive the lineage model from one validated event, inside the caller's transaction."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.lineage.edges import replace_column_edges, replace_job_edges
from steward.lineage.models import (
    Dataset,
    DatasetEvent,
    DatasetFacets,
    Event,
    Job,
    JobEvent,
    RunEvent,
    facets_of,
    to_utc,
)
from steward.store.schema import (
    dataset_fields,
    dataset_owners,
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
from steward.store.upsert import insert_ignoring_conflicts

# Facets kept elsewhere than the `facets` column: schema in versions, column lineage in edges.
_NOT_IN_FACETS = frozenset({"schema", "columnLineage"})
_TERMINAL = frozenset({"COMPLETE", "FAIL", "ABORT"})


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


def merge_facets(
    old: dict[str, Any],
    incoming: dict[str, Any],
    deleted: frozenset[str],
    *,
    newer: bool,
    skip: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Facets after an event: a newer event wins, an older one only fills facets not yet known."""
    merged = {k: v for k, v in old.items() if not (newer and k in deleted)}
    for name, value in incoming.items():
        if name in skip or name in deleted:
            continue
        if newer or name not in old:
            merged[name] = value
    return merged


class Applier:
    """Applies events to the normalized tables; ids found are remembered for the transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._namespaces: dict[str, int] = {}
        self._datasets: dict[tuple[str, str], int] = {}
        self._jobs: dict[tuple[str, str], int] = {}

    def apply(self, event: Event, data: dict[str, Any]) -> None:
        """Apply one event (a RunEvent, a DatasetEvent or a JobEvent); `data` is its raw JSON."""
        if isinstance(event, DatasetEvent):
            self.dataset(event.dataset, data["dataset"], event.eventTime, run_id=None)
        elif isinstance(event, RunEvent):
            self._run_event(event, data)
        elif isinstance(event, JobEvent):
            job_id = self.job(event.job, data["job"], event.eventTime)
            self._io(job_id, event, data, run_id=None)

    # -- identities ---------------------------------------------------------------------------

    def _get_or_create(self, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> int:
        where = [table.c[name] == value for name, value in key.items()]
        found = self.conn.execute(sa.select(table.c.id).where(*where)).scalar()
        if found is not None:
            return int(found)
        insert = insert_ignoring_conflicts(self.conn, table, list(key))
        self.conn.execute(insert.values(**key, **values))
        return int(self.conn.execute(sa.select(table.c.id).where(*where)).scalar_one())

    def namespace_id(self, name: str, when: datetime) -> int:
        """The id of namespace `name`, created on first sight."""
        if name not in self._namespaces:
            self._namespaces[name] = self._get_or_create(
                namespaces, {"name": name}, {"created_at": when}
            )
        return self._namespaces[name]

    def dataset_id(self, namespace: str, name: str, when: datetime) -> int:
        """The id of dataset `namespace`/`name`, created on first sight."""
        key = (namespace, name)
        if key not in self._datasets:
            self._datasets[key] = self._get_or_create(
                datasets,
                {"namespace_id": self.namespace_id(namespace, when), "name": name},
                {"created_at": when, "updated_at": when, "facets": {}},
            )
        return self._datasets[key]

    def job_id(self, namespace: str, name: str, when: datetime) -> int:
        """The id of job `namespace`/`name`, created on first sight."""
        key = (namespace, name)
        if key not in self._jobs:
            self._jobs[key] = self._get_or_create(
                jobs,
                {"namespace_id": self.namespace_id(namespace, when), "name": name},
                {"created_at": when, "updated_at": when, "facets": {}},
            )
        return self._jobs[key]

    # -- datasets -----------------------------------------------------------------------------

    def dataset(
        self, ref: Dataset, raw: dict[str, Any], when: datetime, *, run_id: str | None
    ) -> tuple[int, int | None]:
        """Create or update a dataset from its facets; returns its id and schema version id."""
        dataset_id = self.dataset_id(ref.namespace, ref.name, when)
        facets = ref.facets
        raw_facets, deleted = facets_of(raw)
        if not raw_facets:
            return dataset_id, None
        row = self.conn.execute(
            sa.select(
                datasets.c.facets, datasets.c.current_version_id, datasets.c.updated_at
            ).where(datasets.c.id == dataset_id)
        ).one()
        changes: dict[str, Any] = {}
        version_id = None
        newer = when >= row.updated_at
        if facets.schema_ is not None:
            version_id = self._schema_version(dataset_id, facets, when, run_id)
            if version_id != row.current_version_id and (newer or row.current_version_id is None):
                changes["current_version_id"] = version_id
        old: dict[str, Any] = dict(row.facets)
        new = merge_facets(old, raw_facets, deleted, newer=newer, skip=_NOT_IN_FACETS)
        if new != old:
            changes.update(self._dataset_facet_columns(dataset_id, facets, old, new, when))
            changes["facets"] = new
        if changes:
            changes["updated_at"] = max(when, row.updated_at)
            self.conn.execute(datasets.update().where(datasets.c.id == dataset_id).values(changes))
        return dataset_id, version_id

    def _dataset_facet_columns(
        self,
        dataset_id: int,
        facets: DatasetFacets,
        old: dict[str, Any],
        new: dict[str, Any],
        when: datetime,
    ) -> dict[str, Any]:
        """Columns and child rows for the facets the catalog queries; only those that changed."""
        changes: dict[str, Any] = {}

        def changed(name: str) -> bool:
            return old.get(name) != new.get(name)

        if changed("documentation"):
            changes["description"] = (
                facets.documentation.description if facets.documentation else None
            )
        if changed("dataSource"):
            source = facets.dataSource
            changes["source_name"] = source.name if source else None
            changes["source_uri"] = source.uri if source else None
        if changed("lifecycleStateChange"):
            change = facets.lifecycleStateChange
            state = change.lifecycleStateChange if change else None
            changes["lifecycle_state"] = state
            if state == "DROP":
                changes["deleted_at"] = when
            elif state in {"CREATE", "OVERWRITE"}:
                changes["deleted_at"] = None
        if changed("ownership"):
            owners = (facets.ownership.owners if facets.ownership else None) or []
            self._replace_rows(
                dataset_owners, dataset_id, [{"name": o.name, "type": o.type} for o in owners]
            )
        if changed("tags"):
            tags = (facets.tags.tags if facets.tags else None) or []
            rows = [
                {"key": t.key, "value": t.value, "source": t.source, "field": t.field} for t in tags
            ]
            self._replace_rows(dataset_tags, dataset_id, rows)
        if changed("symlinks"):
            links = (facets.symlinks.identifiers if facets.symlinks else None) or []
            rows = [{"namespace": s.namespace, "name": s.name, "type": s.type} for s in links]
            self._replace_rows(dataset_symlinks, dataset_id, rows)
        return changes

    def _replace_rows(self, table: sa.Table, dataset_id: int, rows: list[dict[str, Any]]) -> None:
        self.conn.execute(table.delete().where(table.c.dataset_id == dataset_id))
        if rows:
            self.conn.execute(table.insert(), [{"dataset_id": dataset_id, **r} for r in rows])

    def _schema_version(
        self, dataset_id: int, facets: DatasetFacets, when: datetime, run_id: str | None
    ) -> int:
        assert facets.schema_ is not None
        fields = [
            (f["name"], f.get("type"), f.get("description")) for f in facets.schema_.fields or []
        ]
        schema_hash = _digest(fields)
        found = self.conn.execute(
            sa.select(dataset_versions.c.id).where(
                dataset_versions.c.dataset_id == dataset_id,
                dataset_versions.c.schema_hash == schema_hash,
            )
        ).scalar()
        if found is not None:
            return int(found)
        version_id = int(
            self.conn.execute(
                dataset_versions.insert()
                .values(
                    dataset_id=dataset_id, schema_hash=schema_hash, created_at=when, run_id=run_id
                )
                .returning(dataset_versions.c.id)
            ).scalar_one()
        )
        if fields:
            self.conn.execute(
                dataset_fields.insert(),
                [
                    {"version_id": version_id, "ordinal": i, "name": n, "type": t, "description": d}
                    for i, (n, t, d) in enumerate(fields)
                ],
            )
        return version_id

    # -- jobs and runs ------------------------------------------------------------------------

    def job(self, ref: Job, raw: dict[str, Any], when: datetime) -> int:
        """Create or update a job from its facets; returns its id."""
        job_id = self.job_id(ref.namespace, ref.name, when)
        facets = ref.facets
        row = self.conn.execute(
            sa.select(jobs.c.facets, jobs.c.updated_at).where(jobs.c.id == job_id)
        ).one()
        old: dict[str, Any] = dict(row.facets)
        newer = when >= row.updated_at
        raw_facets, deleted = facets_of(raw)
        new = merge_facets(old, raw_facets, deleted, newer=newer)
        changes: dict[str, Any] = {}
        if when > row.updated_at:
            changes["updated_at"] = when
        if new != old:
            changes["facets"] = new
            doc, kind, code = facets.documentation, facets.jobType, facets.sourceCodeLocation
            changes["description"] = doc.description if doc else None
            changes["job_type"] = kind.jobType if kind else None
            changes["integration"] = kind.integration if kind else None
            changes["processing_type"] = kind.processingType if kind else None
            changes["source_code_location"] = (code.url or code.repoUrl) if code else None
        if changes:
            self.conn.execute(jobs.update().where(jobs.c.id == job_id).values(changes))
        return job_id

    def _run_event(self, event: RunEvent, data: dict[str, Any]) -> None:
        when = event.eventTime
        run_id = str(event.run.runId)
        job_id = self.job(event.job, data["job"], when)
        self._run(job_id, run_id, event, facets_of(data["run"])[0])
        if event.eventType:
            self.conn.execute(
                run_states.insert().values(run_id=run_id, state=event.eventType, event_time=when)
            )
        self._io(job_id, event, data, run_id=run_id)

    def _run(self, job_id: int, run_id: str, event: RunEvent, raw_facets: dict[str, Any]) -> None:
        when, state = event.eventTime, event.eventType
        facets = event.run.facets
        row = self.conn.execute(
            sa.select(runs.c.job_id, runs.c.state_time, runs.c.facets).where(
                runs.c.run_id == run_id
            )
        ).one_or_none()
        values: dict[str, Any] = {"updated_at": when}
        if state == "START":
            values["started_at"] = when
        elif state in _TERMINAL:
            values["ended_at"] = when
        if facets.nominalTime:
            values["nominal_start_time"] = to_utc(facets.nominalTime.nominalStartTime)
            end = facets.nominalTime.nominalEndTime
            values["nominal_end_time"] = to_utc(end) if end else None
        if facets.parent:
            values["parent_run_id"] = str(facets.parent.run.runId)
        if row is None:
            self.conn.execute(
                runs.insert().values(
                    run_id=run_id,
                    job_id=job_id,
                    state=state,
                    state_time=when if state else None,
                    created_at=when,
                    facets=raw_facets,
                    **values,
                )
            )
        else:
            if state and (row.state_time is None or when >= row.state_time):
                values.update(state=state, state_time=when)
            merged = {**row.facets, **raw_facets}
            if merged != row.facets:
                values["facets"] = merged
            self.conn.execute(runs.update().where(runs.c.run_id == run_id).values(values))
        self.conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.updated_at <= when)
            .values(latest_run_id=run_id)
        )

    def _io(
        self, job_id: int, event: RunEvent | JobEvent, data: dict[str, Any], *, run_id: str | None
    ) -> None:
        when = event.eventTime
        io: list[tuple[int, str]] = []
        io_names: dict[str, list[str]] = {"input": [], "output": []}
        for direction, refs, raws in (
            ("input", event.inputs, data.get("inputs") or []),
            ("output", event.outputs, data.get("outputs") or []),
        ):
            for ref, raw in zip(refs, raws, strict=True):
                dataset_id, version_id = self.dataset(ref, raw, when, run_id=run_id)
                io.append((dataset_id, direction))
                io_names[direction].append(f"{ref.namespace}:{ref.name}")
                if run_id is not None:
                    insert = insert_ignoring_conflicts(
                        self.conn, run_io, ["run_id", "dataset_id", "direction"]
                    )
                    self.conn.execute(
                        insert.values(
                            run_id=run_id,
                            dataset_id=dataset_id,
                            direction=direction,
                            dataset_version_id=version_id,
                            event_time=when,
                        )
                    )
        if io:
            replace_job_edges(self.conn, job_id, set(io), when=when, run_id=run_id)
        for ref in event.outputs:
            lineage = ref.facets.columnLineage
            if lineage is not None:
                out_id = self.dataset_id(ref.namespace, ref.name, when)
                resolve = lambda ns, name: self.dataset_id(ns, name, when)  # noqa: E731
                replace_column_edges(
                    self.conn, job_id, out_id, lineage, resolve, when=when, run_id=run_id
                )
        done = isinstance(event, JobEvent) or event.eventType == "COMPLETE"
        if io and done:
            self._job_version(job_id, event, io_names, run_id)

    def _job_version(
        self,
        job_id: int,
        event: RunEvent | JobEvent,
        io_names: dict[str, list[str]],
        run_id: str | None,
    ) -> None:
        code = event.job.facets.sourceCodeLocation
        location = (code.url or code.repoUrl) if code else None
        inputs, outputs = sorted(set(io_names["input"])), sorted(set(io_names["output"]))
        version = _digest([inputs, outputs, location, code.version if code else None])
        version_id = self._get_or_create(
            job_versions,
            {"job_id": job_id, "version": version},
            {
                "created_at": event.eventTime,
                "inputs": inputs,
                "outputs": outputs,
                "source_code_location": location,
            },
        )
        if run_id is not None:
            self.conn.execute(
                runs.update().where(runs.c.run_id == run_id).values(job_version_id=version_id)
            )
        self.conn.execute(
            jobs.update()
            .where(jobs.c.id == job_id, jobs.c.updated_at <= event.eventTime)
            .values(current_version_id=version_id)
        )
