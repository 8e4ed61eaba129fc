"""A dataset's upstream lineage checked against the policy in force at each run.

    evaluation = evaluate(steward, "dataset:ml:training_set")

reads like the steps it takes: walk the dataset's upstream lineage (as of now or a
time) -> find every run of every job on the way that wrote toward it -> know each run's
principal -> load the policy version in force when it ran -> decide, with the query
path's own decision, what that principal could read of each table the run read -> judge
the columns its column lineage says it read -> trace personal data (`pii.*` tags) down
column lineage to the dataset.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.catalog.views import describe_datasets, resolve_dataset
from steward.config import PrincipalMapping
from steward.governance.findings import judge_table
from steward.governance.models import (
    Evaluation,
    Finding,
    Owner,
    RunPrincipal,
    Step,
    UpstreamNode,
)
from steward.governance.pii_flow import trace_pii
from steward.governance.principals import run_principals
from steward.governance.reads import ColumnRead, transformations_of
from steward.lineage.aliases import any_grouped, catalog_entries_of, same_as
from steward.lineage.graph import lineage_graph
from steward.lineage.nodes import Node, dataset_names, node_id
from steward.policy.access import Caller, TableAccess
from steward.policy.decide import caller_for, decide
from steward.policy.load import load
from steward.policy.models import Policy
from steward.store import Store
from steward.store.schema import (
    api_tokens,
    column_edges,
    datasets,
    jobs,
    lineage_events,
    namespaces,
    policy_versions,
    run_io,
    runs,
)

if TYPE_CHECKING:
    from steward.app import Steward


def evaluate(
    steward_or_store: Steward | Store,
    dataset: str,
    as_of: datetime | None = None,
    *,
    mappings: Sequence[PrincipalMapping] | None = None,
) -> Evaluation:
    """Check `dataset`'s upstream lineage against policy, now or as of `as_of` (naive UTC).

    `dataset` is a catalog name (`lake.ml.training_set`) or a node id
    (`dataset:NS:NAME`). With a `Steward`, runs' principals are mapped by its settings'
    `lineage_principals`; with a bare `Store`, by `mappings`.
    """
    store, configured = _store_and_mappings(steward_or_store)
    chosen = list(mappings if mappings is not None else configured)
    with store.read() as conn:
        return _evaluate(conn, dataset, as_of, chosen)


def _store_and_mappings(
    steward_or_store: Steward | Store,
) -> tuple[Store, Sequence[PrincipalMapping]]:
    if isinstance(steward_or_store, Store):
        return steward_or_store, ()
    return steward_or_store.store, steward_or_store.settings.lineage_principals


def _evaluate(
    conn: Connection,
    dataset: str,
    as_of: datetime | None,
    mappings: Sequence[PrincipalMapping],
) -> Evaluation:
    evaluated_at = datetime.now(UTC).replace(tzinfo=None)
    target_id = resolve_dataset(conn, dataset)
    names = dataset_names(conn, [target_id])[target_id]
    start = Node("dataset", target_id, names["namespace"], names["name"])
    upstream = _upstream(conn, start, as_of)
    catalog = describe_datasets(conn, sorted(upstream.datasets))
    nodes = _nodes(upstream, catalog)
    target = next(n for n in nodes if n.node_id == start.node_id)
    runs_found = _runs_toward(conn, upstream, as_of)
    principals = run_principals(conn, [r.run_id for r in runs_found], mappings)
    judge = _Judge(conn, catalog)
    judge.load(runs_found)
    steps = tuple(
        judge.step(found, principals.get(found.run_id) or RunPrincipal(user=None), start)
        for found in runs_found
    )
    flows = trace_pii(conn, start, catalog, as_of)
    return Evaluation(
        dataset=target,
        as_of=as_of,
        evaluated_at=evaluated_at,
        nodes=nodes,
        steps=steps,
        pii_flows=flows,
    )


@dataclass(frozen=True)
class _Upstream:
    """The datasets and jobs reached walking upstream, by row id, with their node ids."""

    datasets: dict[int, str]
    jobs: dict[int, str]
    start: int
    # Every name of each dataset on the way (itself included): the graph shows one name
    # of a table that has several (`lineage.aliases`), and a run may have written it
    # under another (dbt-ol's warehouse relation, Spark's storage location).
    names: frozenset[int]
    job_names: dict[int, tuple[str, str]] = field(default_factory=dict)


def _upstream(conn: Connection, start: Node, as_of: datetime | None) -> _Upstream:
    graph = lineage_graph(conn, start, depth=None, direction="upstream", as_of=as_of)
    wanted: dict[str, list[tuple[str, str]]] = {"DATASET": [], "JOB": []}
    for item in graph["graph"]:
        wanted[item["type"]].append((item["data"]["namespace"], item["data"]["name"]))
    found_datasets = _ids(conn, datasets, wanted["DATASET"])
    found_jobs = _ids(conn, jobs, wanted["JOB"])
    shown = set(found_datasets.values())
    groups = same_as(conn, sorted(shown)) if any_grouped(conn) else {}
    return _Upstream(
        datasets={i: node_id("dataset", ns, n) for (ns, n), i in found_datasets.items()},
        jobs={i: node_id("job", ns, n) for (ns, n), i in found_jobs.items()},
        start=start.id,
        names=frozenset(shown.union(*groups.values())),
        job_names={i: pair for pair, i in found_jobs.items()},
    )


def _ids(conn: Connection, table: sa.Table, pairs: list[tuple[str, str]]) -> dict[Any, int]:
    if not pairs:
        return {}
    rows = conn.execute(
        sa.select(namespaces.c.name.label("namespace"), table.c.name, table.c.id)
        .join(namespaces, namespaces.c.id == table.c.namespace_id)
        .where(sa.tuple_(namespaces.c.name, table.c.name).in_(pairs))
    )
    return {(row.namespace, row.name): int(row.id) for row in rows}


def _nodes(upstream: _Upstream, catalog: dict[int, dict[str, Any]]) -> tuple[UpstreamNode, ...]:
    """The evaluated dataset first, then every other dataset and job by node id."""
    out: list[UpstreamNode] = []
    for dataset_id, nid in upstream.datasets.items():
        view = catalog[dataset_id]
        out.append(
            UpstreamNode(
                kind="dataset",
                node_id=nid,
                namespace=view["namespace"],
                name=view["datasetName"],
                catalog_name=view.get("name"),
                owners=tuple(
                    Owner(o["name"], o.get("kind") or "user", o.get("role") or "technical")
                    for o in sorted(
                        view.get("owners", []), key=lambda o: (o["name"], o.get("kind") or "")
                    )
                ),
            )
        )
    for job_id, nid in upstream.jobs.items():
        namespace, name = upstream.job_names[job_id]
        out.append(UpstreamNode(kind="job", node_id=nid, namespace=namespace, name=name))
    first = upstream.datasets[upstream.start]
    out.sort(key=lambda n: (n.node_id != first, n.kind, n.node_id))
    return tuple(out)


@dataclass(frozen=True)
class _FoundRun:
    run_id: str
    job_id: int
    job: str
    time: datetime  # when it ran: its start, else its first event
    last_event: datetime  # the time its latest event stated its lineage
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]  # only those on the way to the evaluated dataset
    latest: bool


def _runs_toward(conn: Connection, upstream: _Upstream, as_of: datetime | None) -> list[_FoundRun]:
    """Every run of an upstream job that wrote an upstream dataset (under any of its names),
    up to `as_of`, in time order."""
    if not upstream.jobs:
        return []
    io = run_io.c
    rows = conn.execute(
        sa.select(io.run_id, io.dataset_id, io.direction, io.event_time, runs.c.job_id)
        .join(runs, runs.c.run_id == io.run_id)
        .where(runs.c.job_id.in_(sorted(upstream.jobs)))
        .order_by(io.run_id, io.id)
    ).all()
    by_run: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = by_run.setdefault(
            row.run_id, {"job": row.job_id, "input": [], "output": [], "first": row.event_time}
        )
        item[row.direction].append(row.dataset_id)
        item["first"] = min(item["first"], row.event_time)
    toward = {
        run_id: item
        for run_id, item in by_run.items()
        if any(d in upstream.names for d in item["output"])
    }
    if not toward:
        return []
    times = conn.execute(
        sa.select(
            runs.c.run_id,
            runs.c.started_at,
            sa.func.max(lineage_events.c.event_time).label("last_event"),
        )
        .join(lineage_events, lineage_events.c.run_id == runs.c.run_id, isouter=True)
        .where(runs.c.run_id.in_(sorted(toward)))
        .group_by(runs.c.run_id, runs.c.started_at)
    ).all()
    found: list[_FoundRun] = []
    for timed in times:
        item = toward[timed.run_id]
        when = timed.started_at or item["first"]
        last = timed.last_event or item["first"]
        if as_of is not None and when > as_of:
            continue
        found.append(
            _FoundRun(
                run_id=timed.run_id,
                job_id=item["job"],
                job=upstream.jobs[item["job"]],
                time=when,
                last_event=min(last, as_of) if as_of is not None else last,
                inputs=tuple(sorted(set(item["input"]))),
                outputs=tuple(sorted({d for d in item["output"] if d in upstream.names})),
                latest=False,
            )
        )
    found.sort(key=lambda r: (r.time, r.job, r.run_id))
    newest: dict[int, str] = {}
    for run in found:
        newest[run.job_id] = run.run_id
    latest = set(newest.values())
    return [replace(r, latest=r.run_id in latest) for r in found]


@dataclass
class _Judge:
    """Judges runs. What every run needs is read once (`load`): the policy versions'
    times, the column edges of the jobs; versions, decisions, catalog names and token
    attributes are read once each, when first needed."""

    conn: Connection
    catalog: dict[int, dict[str, Any]]
    policies: dict[int, Policy] = field(default_factory=dict)
    decisions: dict[tuple[int, RunPrincipal, str], TableAccess] = field(default_factory=dict)
    columns: dict[int, list[tuple[str, frozenset[str]]]] = field(default_factory=dict)
    names: dict[int, dict[str, str]] = field(default_factory=dict)
    catalog_names: dict[int, str | None] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    # (created_at, version), oldest first.
    versions: list[tuple[datetime, int]] = field(default_factory=list)
    # Column edges by job: (in dataset, in field, out dataset, out field, transformations,
    # valid from, valid to).
    edges: dict[int, list[Any]] = field(default_factory=dict)

    def load(self, found: Sequence[_FoundRun]) -> None:
        """Read the policy versions' times and the column edges of the runs' jobs."""
        self.versions = [
            (row.created_at, int(row.version))
            for row in self.conn.execute(
                sa.select(policy_versions.c.created_at, policy_versions.c.version).order_by(
                    policy_versions.c.version
                )
            )
        ]
        job_ids = sorted({run.job_id for run in found})
        self.edges = defaultdict(list)
        c = column_edges.c
        for start in range(0, len(job_ids), 500):
            rows = self.conn.execute(
                sa.select(
                    c.job_id,
                    c.in_dataset_id,
                    c.in_field,
                    c.out_dataset_id,
                    c.out_field,
                    c.transformations,
                    c.transformation_type,
                    c.valid_from,
                    c.valid_to,
                )
                .where(c.job_id.in_(job_ids[start : start + 500]))
                .order_by(c.id)
            )
            for row in rows:
                self.edges[row.job_id].append(row)

    def step(self, run: _FoundRun, principal: RunPrincipal, start: Node) -> Step:
        version = self._version_at(run.time)
        base = Step(
            run_id=run.run_id,
            job=run.job,
            time=run.time,
            principal=principal,
            policy_version=version,
            verdict="unjudged",
            inputs=tuple(self._node_id(d) for d in run.inputs),
            outputs=tuple(self._node_id(d) for d in run.outputs),
            latest=run.latest,
        )
        if not principal.known:
            why = "no principal: its events were posted before Steward kept the poster, and no"
            why += " [[lineage.principals]] mapping names its job"
            return replace(base, notes=(why,))
        if version is None:
            return replace(base, notes=("no policy was applied yet then",))
        policy = self.policies[version]
        caller = self._caller(policy, principal)
        reads = self._reads(run)
        findings: list[Finding] = []
        notes: list[str] = []
        for dataset_id in run.inputs:
            catalog_name = self._catalog_name(dataset_id)
            if catalog_name is None:
                notes.append(
                    f"{self._node_id(dataset_id)} is not in the catalog: no policy governs it"
                )
                continue
            access = self._decide(version, policy, caller, principal, dataset_id, catalog_name)
            breaches, said = judge_table(
                access, reads.get(dataset_id, []), principal=principal.user or ""
            )
            notes += said
            findings += [
                Finding(
                    run_id=run.run_id,
                    job=run.job,
                    principal=principal.user,
                    dataset=catalog_name,
                    column=b.column,
                    rule=b.rule,
                    policy_version=version,
                    kind=b.kind,
                    message=f"run {run.run_id} of {run.job} as {principal.user}, policy"
                    f" v{version}: {b.message}",
                    target=start.node_id,
                )
                for b in breaches
            ]
        return replace(
            base,
            verdict="violation" if findings else "allowed",
            findings=tuple(findings),
            notes=tuple(notes),
        )

    def _node_id(self, dataset_id: int) -> str:
        if dataset_id not in self.names:
            self.names.update(dataset_names(self.conn, [dataset_id]))
        found = self.names[dataset_id]
        return node_id("dataset", found["namespace"], found["name"])

    def _catalog_name(self, dataset_id: int) -> str | None:
        """The catalog name of a dataset, or of another name of the same table (a Spark
        job's storage location for the metastore table the catalog holds); None for a
        name standing for several catalog tables, as the metadata views decide."""
        if dataset_id in self.catalog_names:
            return self.catalog_names[dataset_id]
        entry = catalog_entries_of(self.conn, [dataset_id]).get(dataset_id)
        found: str | None = None
        if entry is not None:
            member, found = entry
            if member not in self.catalog:
                self.catalog.update(describe_datasets(self.conn, [member]))
            if member != dataset_id and member in self.catalog:
                self.catalog[dataset_id] = self.catalog[member]
        self.catalog_names[dataset_id] = found
        return found

    def _version_at(self, when: datetime) -> int | None:
        """The policy version in force at `when`: the newest applied at or before it."""
        version = None
        for created_at, number in self.versions:
            if created_at > when:
                break
            version = number
        if version is not None and version not in self.policies:
            sources = self.conn.execute(
                sa.select(policy_versions.c.sources).where(policy_versions.c.version == version)
            ).scalar_one()
            # The hash key only changes a hash mask's value, never what a rule decides.
            self.policies[version] = load(dict(sources)).policy
        return version

    def _caller(self, policy: Policy, principal: RunPrincipal) -> Caller:
        token = principal.token_id
        if token is not None and token not in self.attributes:
            stored = self.conn.execute(
                sa.select(api_tokens.c.attributes).where(api_tokens.c.token_id == token)
            ).scalar()
            self.attributes[token] = {str(k): str(v) for k, v in dict(stored or {}).items()}
        attributes = self.attributes.get(token, {}) if token is not None else {}
        return caller_for(policy, principal.user or "", principal.groups, attributes)

    def _decide(
        self,
        version: int,
        policy: Policy,
        caller: Caller,
        principal: RunPrincipal,
        dataset_id: int,
        catalog_name: str,
    ) -> TableAccess:
        key = (version, principal, catalog_name)
        if key not in self.decisions:
            if dataset_id not in self.columns:
                view = self.catalog[dataset_id]
                self.columns[dataset_id] = [
                    (c["name"], frozenset(t["tag"] for t in c["tags"])) for c in view["columns"]
                ]
            self.decisions[key] = decide(
                policy, caller, catalog_name, self.columns[dataset_id], version=version
            )
        return self.decisions[key]

    def _reads(self, run: _FoundRun) -> dict[int, list[ColumnRead]]:
        """The input columns the run's column lineage names, by input dataset.

        The column edges of the run's job into its outputs that held when its latest
        event stated them: a run that repeats the lineage before it keeps the same edges.
        """
        outputs, inputs, when = set(run.outputs), set(run.inputs), run.last_event
        out: dict[int, list[ColumnRead]] = defaultdict(list)
        for row in self.edges.get(run.job_id, []):
            if row.out_dataset_id not in outputs or row.in_dataset_id not in inputs:
                continue
            if row.valid_from > when or (row.valid_to is not None and row.valid_to <= when):
                continue
            transformations = transformations_of(row.transformations, row.transformation_type)
            indirect = row.out_field is None or any(
                (t.type or "").upper() == "INDIRECT" for t in transformations
            )
            out[row.in_dataset_id].append(
                ColumnRead(row.in_dataset_id, row.in_field, transformations, indirect)
            )
        return out
