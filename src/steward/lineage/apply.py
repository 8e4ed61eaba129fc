"""Derive the lineage model from one validated event, inside the caller's transaction.

Each event reads its job's row once and writes it back once; ids of namespaces,
datasets, jobs and versions come from `Known` when an earlier transaction stored them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import Conflict
from steward.lineage.aliases import join_named_by_symlinks, join_symlinked
from steward.lineage.edges import (
    column_lineage_heads_rows,
    current_edges,
    replace_column_edges,
    replace_job_edges,
)
from steward.lineage.fields import field_rows, schema_digest_form
from steward.lineage.known import Known, known_for
from steward.lineage.models import (
    Dataset,
    DatasetEvent,
    DatasetFacets,
    Event,
    Job,
    JobEvent,
    Poster,
    RunEvent,
    facets_of,
    to_utc,
)
from steward.lineage.pending import PendingRows
from steward.lineage.run_facets import (
    NOT_YET_REPORTED,
    parent_columns,
    run_facet_rows,
    write_run_facets,
)
from steward.store import fast
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

# Statements built once: building a SQLAlchemy statement costs more than running it on SQLite.
_DATASET_ROW = sa.select(
    datasets.c.facets, datasets.c.current_version_id, datasets.c.updated_at
).where(datasets.c.id == sa.bindparam("row_id"))
_JOB_ROW = sa.select(
    jobs.c.facets, jobs.c.updated_at, jobs.c.io_run_id, jobs.c.io_time, jobs.c.current_version_id
).where(jobs.c.id == sa.bindparam("row_id"))
_RUN_ROW = sa.select(runs.c.state_time, runs.c.facets, runs.c.job_id, runs.c.principal_user).where(
    runs.c.run_id == sa.bindparam("row_id")
)
# The same rows for many keys at once (`PendingRows.prefetch`).
_DATASET_ROWS = sa.select(*_DATASET_ROW.selected_columns, datasets.c.id.label("key")).where(
    datasets.c.id.in_(sa.bindparam("keys", expanding=True))
)
_JOB_ROWS = sa.select(*_JOB_ROW.selected_columns, jobs.c.id.label("key")).where(
    jobs.c.id.in_(sa.bindparam("keys", expanding=True))
)
_RUN_ROWS = sa.select(*_RUN_ROW.selected_columns, runs.c.run_id.label("key")).where(
    runs.c.run_id.in_(sa.bindparam("keys", expanding=True))
)
_UPDATE_JOB = jobs.update().where(jobs.c.id == sa.bindparam("row_id"))
_UPDATE_DATASET = datasets.update().where(datasets.c.id == sa.bindparam("row_id"))
_UPDATE_RUN = runs.update().where(runs.c.run_id == sa.bindparam("row_id"))
_INSERT_RUN = runs.insert()
_INSERT_RUN_STATE = run_states.insert()
_VERSION_ID = sa.select(dataset_versions.c.id).where(
    dataset_versions.c.dataset_id == sa.bindparam("dataset_id"),
    dataset_versions.c.schema_hash == sa.bindparam("schema_hash"),
)


class RunOfAnotherJob(Conflict):
    """A run id already stored for one job, sent again for another: a run has one job."""

    def __init__(self, existing: str, event: RunEvent, run_id: str) -> None:
        new = f"{event.job.namespace}/{event.job.name}"
        super().__init__(
            f"run.runId: run {run_id} belongs to job {existing}; this event names job {new}"
            " (a run id may not be reused by another job; send a new runId)"
        )
        self.existing, self.new = existing, new


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
    """Applies events to the normalized tables within one transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.known = known_for(conn.engine)
        self.learned = Known()
        self._run_io = insert_ignoring_conflicts(
            conn, run_io, ["run_id", "dataset_id", "direction"]
        )
        self.jobs = PendingRows(_JOB_ROW, _UPDATE_JOB)
        self.datasets = PendingRows(_DATASET_ROW, _UPDATE_DATASET)
        self.runs = PendingRows(_RUN_ROW, _UPDATE_RUN, _INSERT_RUN)
        self.heads = column_lineage_heads_rows()
        self.edges: dict[int, dict[tuple[int, str], int]] = {}
        self.run_states: list[dict[str, Any]] = []
        self.run_io: list[dict[str, Any]] = []
        self.run_facets: list[dict[str, Any]] = []

    def flush(self) -> None:
        """Write what the applied events changed; call once, before the transaction commits."""
        self.runs.flush(self.conn)
        fast.run(self.conn, _INSERT_RUN_STATE, self.run_states)
        fast.run(self.conn, self._run_io, self.run_io)
        self.jobs.flush(self.conn)
        self.datasets.flush(self.conn)
        self.heads.flush(self.conn)
        write_run_facets(self.conn, self.run_facets)
        self.run_states, self.run_io, self.run_facets = [], [], []

    def commit_learned(self) -> None:
        """Remember the ids this transaction stored; call only after it committed."""
        self.known.absorb(self.learned)

    def prefetch(self, events: list[Event]) -> None:
        """Read the rows of the known jobs and datasets and of the runs `events` name, a few
        queries for the batch (rather than a query for each on first use); what is not
        known yet is read on first use as before."""
        job_ids: set[int] = set()
        dataset_ids: set[int] = set()
        run_ids: set[str] = set()
        for event in events:
            refs = [event.dataset] if isinstance(event, DatasetEvent) else []
            if not isinstance(event, DatasetEvent):
                refs = [*event.inputs, *event.outputs]
                job_ids.add(self.known.get("job", (event.job.namespace, event.job.name)) or 0)
            if isinstance(event, RunEvent):
                run_ids.add(str(event.run.runId))
            for ref in refs:
                dataset_ids.add(self.known.get("dataset", (ref.namespace, ref.name)) or 0)
        job_ids.discard(0)
        dataset_ids.discard(0)
        self.jobs.prefetch(self.conn, job_ids, _JOB_ROWS)
        self.datasets.prefetch(self.conn, dataset_ids, _DATASET_ROWS)
        self.runs.prefetch(self.conn, run_ids, _RUN_ROWS)

    def apply(self, event: Event, data: dict[str, Any], poster: Poster | None = None) -> None:
        """Apply one event (a RunEvent, a DatasetEvent or a JobEvent); `data` is its raw JSON.

        `poster` is who posted it; a run keeps the poster of the first event that names it.
        """
        if isinstance(event, DatasetEvent):
            raw = data["dataset"]
            dataset_id, _ = self.dataset(event.dataset, raw, event.eventTime, run_id=None)
            self._run_facets(raw, None, dataset_id, None, None, event.eventTime)
            return
        when = event.eventTime
        job_id = self.job_id(event.job.namespace, event.job.name, when)
        job = self.jobs.get(self.conn, job_id)
        assert job is not None
        changes = self._job_changes(event.job, data["job"], job, when)
        run_id = None
        if isinstance(event, RunEvent):
            run_id = str(event.run.runId)
            self._run(job_id, run_id, event, facets_of(data["run"])[0], poster)
            if when >= job.updated_at:
                changes["latest_run_id"] = run_id
        self._io(job_id, job, event, data, run_id, changes)
        if changes:
            self.jobs.change(job_id, changes)

    # -- identities ---------------------------------------------------------------------------

    def _id(
        self, kind: str, key: Any, table: sa.Table, match: dict[str, Any], values: dict[str, Any]
    ) -> int:
        found = self.known.get(kind, key) or self.learned.get(kind, key)
        if found is not None:
            return found
        where = [table.c[name] == value for name, value in match.items()]
        row_id = self.conn.execute(sa.select(table.c.id).where(*where)).scalar()
        if row_id is None:
            insert = insert_ignoring_conflicts(self.conn, table, list(match))
            self.conn.execute(insert.values(**match, **values))
            row_id = self.conn.execute(sa.select(table.c.id).where(*where)).scalar_one()
            if kind == "dataset":
                join_named_by_symlinks(self.conn, int(row_id), key)
        self.learned.put(kind, key, int(row_id))
        return int(row_id)

    def namespace_id(self, name: str, when: datetime) -> int:
        """The id of namespace `name`, created on first sight."""
        return self._id("namespace", name, namespaces, {"name": name}, {"created_at": when})

    def dataset_id(self, namespace: str, name: str, when: datetime) -> int:
        """The id of dataset `namespace`/`name`, created on first sight."""
        return self._named_id("dataset", datasets, namespace, name, when)

    def job_id(self, namespace: str, name: str, when: datetime) -> int:
        """The id of job `namespace`/`name`, created on first sight."""
        return self._named_id("job", jobs, namespace, name, when)

    def _named_id(
        self, kind: str, table: sa.Table, namespace: str, name: str, when: datetime
    ) -> int:
        found = self.known.get(kind, (namespace, name))
        if found is not None:
            return found
        match = {"namespace_id": self.namespace_id(namespace, when), "name": name}
        values = {"created_at": when, "updated_at": when, "facets": {}}
        return self._id(kind, (namespace, name), table, match, values)

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
        row = self.datasets.get(self.conn, dataset_id)
        assert row is not None
        changes: dict[str, Any] = {}
        version_id = None
        newer = when >= row.updated_at
        if facets.schema_ is not None:
            version_id = self._schema_version(dataset_id, facets, when, run_id)
            if version_id != row.current_version_id and (newer or row.current_version_id is None):
                changes["current_version_id"] = version_id
        old: dict[str, Any] = row.facets
        new = merge_facets(old, raw_facets, deleted, newer=newer, skip=_NOT_IN_FACETS)
        if new != old:
            changes.update(self._dataset_facet_columns(dataset_id, facets, old, new, when))
            changes["facets"] = new
        stated = raw_facets.get("symlinks")
        if facets.symlinks and facets.symlinks.identifiers and stated != old.get("symlinks"):
            # Also when an older event states them: which names are one table does not age.
            links = [(s.namespace, s.name) for s in facets.symlinks.identifiers]
            join_symlinked(self.conn, dataset_id, links)
        if changes:
            changes["updated_at"] = max(when, row.updated_at)
            self.datasets.change(dataset_id, changes)
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
            doc = facets.documentation
            changes["description"] = doc.description if doc else None
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
            rows = [{"name": o.name, "type": o.type} for o in owners]
            self._replace_rows(dataset_owners, dataset_id, rows)
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
        tree = facets.schema_.fields or []
        schema_hash = _digest(schema_digest_form(tree))
        key = (dataset_id, schema_hash)
        found = self.known.get("version", key) or self.learned.get("version", key)
        if found is None:
            found = self.conn.execute(
                _VERSION_ID, {"dataset_id": dataset_id, "schema_hash": schema_hash}
            ).scalar()
        if found is None:
            found = self.conn.execute(
                dataset_versions.insert().returning(dataset_versions.c.id),
                {
                    "dataset_id": dataset_id,
                    "schema_hash": schema_hash,
                    "created_at": when,
                    "run_id": run_id,
                },
            ).scalar_one()
            rows = field_rows(tree)
            if rows:
                self.conn.execute(
                    dataset_fields.insert(), [{"version_id": found, **r} for r in rows]
                )
        self.learned.put("version", key, int(found))
        return int(found)

    # -- jobs and runs ------------------------------------------------------------------------

    def _job_changes(
        self, ref: Job, raw: dict[str, Any], row: Any, when: datetime
    ) -> dict[str, Any]:
        """What this event changes in the job's own columns."""
        facets = ref.facets
        old: dict[str, Any] = row.facets
        raw_facets, deleted = facets_of(raw)
        new = merge_facets(old, raw_facets, deleted, newer=when >= row.updated_at)
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
        return changes

    def _run(
        self,
        job_id: int,
        run_id: str,
        event: RunEvent,
        raw_facets: dict[str, Any],
        poster: Poster | None,
    ) -> None:
        when, state = event.eventTime, event.eventType
        facets = event.run.facets
        row = self.runs.get(self.conn, run_id)
        if row is not None and row.job_id != job_id:
            raise RunOfAnotherJob(self._job_name(row.job_id), event, run_id)
        values: dict[str, Any] = {"updated_at": when}
        if state == "START":
            values["started_at"] = when
        elif state in _TERMINAL:
            values["ended_at"] = when
        if facets.nominalTime:
            values["nominal_start_time"] = to_utc(facets.nominalTime.nominalStartTime)
            end = facets.nominalTime.nominalEndTime
            values["nominal_end_time"] = to_utc(end) if end else None
        values.update(parent_columns(facets, lambda ns, name: self._parent_job_id(ns, name, when)))
        if row is None:
            values.update(
                run_id=run_id,
                job_id=job_id,
                state=state,
                created_at=when,
                state_time=when if state else None,
                facets=raw_facets,
            )
            values.update((poster or Poster()).run_columns())
            self.runs.add(run_id, values)
        else:
            if poster is not None and poster.user is not None and row.principal_user is None:
                # A run made before posters were kept (or by Steward itself) learns one.
                values.update(poster.run_columns())
            if state and (row.state_time is None or when >= row.state_time):
                values.update(state=state, state_time=when)
            merged = {**row.facets, **raw_facets}
            if merged != row.facets:
                values["facets"] = merged
            self.runs.change(run_id, values)
        if state:
            self.run_states.append({"run_id": run_id, "state": state, "event_time": when})

    def _job_name(self, job_id: int) -> str:
        row = self.conn.execute(
            sa.select(namespaces.c.name.label("namespace"), jobs.c.name)
            .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
            .where(jobs.c.id == job_id)
        ).one()
        return f"{row.namespace}/{row.name}"

    def _io(
        self,
        job_id: int,
        job: Any,
        event: RunEvent | JobEvent,
        data: dict[str, Any],
        run_id: str | None,
        changes: dict[str, Any],
    ) -> None:
        when = event.eventTime
        io: list[tuple[int, str]] = []
        names: dict[str, list[str]] = {"input": [], "output": []}
        run_io_rows = []
        for direction, refs, raws in (
            ("input", event.inputs, data.get("inputs") or []),
            ("output", event.outputs, data.get("outputs") or []),
        ):
            for ref, raw in zip(refs, raws, strict=True):
                dataset_id, version_id = self.dataset(ref, raw, when, run_id=run_id)
                self._run_facets(raw, direction, dataset_id, run_id, job_id, when)
                io.append((dataset_id, direction))
                names[direction].append(f"{ref.namespace}:{ref.name}")
                run_io_rows.append(
                    {
                        "run_id": run_id,
                        "dataset_id": dataset_id,
                        "direction": direction,
                        "dataset_version_id": version_id,
                        "event_time": when,
                    }
                )
        if run_id is not None and run_io_rows:
            self.run_io.extend(run_io_rows)
        if io:
            if job_id not in self.edges:
                self.edges[job_id] = current_edges(self.conn, job_id)
            head = replace_job_edges(
                self.conn,
                job_id,
                set(io),
                (job.io_run_id, job.io_time),
                when=when,
                run_id=run_id,
                current=self.edges[job_id],
            )
            if head is not None:
                changes["io_run_id"], changes["io_time"] = head
        for ref in event.outputs:
            lineage = ref.facets.columnLineage
            if lineage is not None:
                out_id = self.dataset_id(ref.namespace, ref.name, when)
                replace_column_edges(
                    self.conn,
                    job_id,
                    out_id,
                    lineage,
                    lambda ns, name: self.dataset_id(ns, name, when),
                    when=when,
                    run_id=run_id,
                    heads=self.heads,
                )
        done = isinstance(event, JobEvent) or event.eventType == "COMPLETE"
        if io and done:
            version_id = self._job_version(job_id, event, names)
            if run_id is not None:
                self.runs.change(run_id, {"job_version_id": version_id})
            if when >= job.updated_at and version_id != job.current_version_id:
                changes["current_version_id"] = version_id

    def _job_version(
        self, job_id: int, event: RunEvent | JobEvent, names: dict[str, list[str]]
    ) -> int:
        code = event.job.facets.sourceCodeLocation
        location = (code.url or code.repoUrl) if code else None
        inputs, outputs = sorted(set(names["input"])), sorted(set(names["output"]))
        version = _digest([inputs, outputs, location, code.version if code else None])
        values = {
            "created_at": event.eventTime,
            "inputs": inputs,
            "outputs": outputs,
            "source_code_location": location,
        }
        match = {"job_id": job_id, "version": version}
        return self._id("job_version", (job_id, version), job_versions, match, values)

    # -- facets kept per run, and parents -------------------------------------------------------

    def _run_facets(
        self,
        raw: dict[str, Any],
        direction: str | None,
        dataset_id: int,
        run_id: str | None,
        job_id: int | None,
        when: datetime,
    ) -> None:
        """Keep the facets this event's run reported about one dataset (see `run_facets`)."""
        self.run_facets.extend(
            run_facet_rows(
                raw, direction, dataset_id=dataset_id, run_id=run_id, job_id=job_id, when=when
            )
        )

    def _parent_job_id(self, namespace: str, name: str, when: datetime) -> int:
        """The id of a parent (or root) job, created unreported if its events are yet to come."""
        found = self.known.get("job", (namespace, name))
        if found is not None:
            return found
        match = {"namespace_id": self.namespace_id(namespace, when), "name": name}
        values = {"created_at": when, "updated_at": NOT_YET_REPORTED, "facets": {}}
        return self._id("job", (namespace, name), jobs, match, values)
