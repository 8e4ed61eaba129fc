"""One job, one run, and a parent job's tasks: what the ParentRunFacet tells.

A scheduler reports its own job (an Airflow DAG, `dag_id`) and, for each task it starts,
a child run whose ParentRunFacet names the parent run and job (`dag_id.task_id` under
`dag_id`); a task may start further jobs (a Spark application) naming the task as their
parent. `runs.parent_run_id` and `runs.parent_job_id` hold that relation, indexed, so
children are one lookup whichever arrived first.

Every answer takes the caller's `sight` (see `lineage.scope`): other users' query jobs are
not found, and datasets the caller may not describe are left out of inputs and outputs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from steward.errors import NotFound
from steward.lineage.nodes import node_id
from steward.lineage.scope import Hidden, Sight
from steward.lineage.views import (
    job_details,
    job_facets,
    run_details,
    run_summary,
    visible_datasets,
)
from steward.store.schema import datasets, jobs, lineage_edges, namespaces, runs

# A parent's descendants are followed this many levels down (DAG -> task -> Spark job ...).
MAX_DEPTH = 10


def _hidden(conn: Connection, sight: Sight | None) -> Hidden:
    return Hidden() if sight is None else sight.hidden(conn)


def _job_id(conn: Connection, namespace: str, name: str, sight: Sight | None) -> int:
    found = conn.execute(
        sa.select(jobs.c.id)
        .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
        .where(namespaces.c.name == namespace, jobs.c.name == name)
    ).scalar()
    if found is None or found in _hidden(conn, sight).jobs:
        raise NotFound(f"job: no job {name!r} in namespace {namespace!r}")
    return int(found)


def _names(conn: Connection, job_ids: Collection[int]) -> dict[int, dict[str, str]]:
    if not job_ids:
        return {}
    rows = conn.execute(
        sa.select(jobs.c.id, namespaces.c.name.label("namespace"), jobs.c.name)
        .join(namespaces, namespaces.c.id == jobs.c.namespace_id)
        .where(jobs.c.id.in_(sorted(job_ids)))
    )
    return {row.id: {"namespace": row.namespace, "name": row.name} for row in rows}


def _current_io(
    conn: Connection, job_ids: Collection[int], sight: Sight | None
) -> dict[int, dict[str, list[dict[str, str]]]]:
    """Each job's current inputs and outputs (the graph's open edges) the caller may see."""
    io: dict[int, dict[str, list[dict[str, str]]]] = {
        j: {"input": [], "output": []} for j in job_ids
    }
    if not job_ids:
        return io
    rows = conn.execute(
        sa.select(
            lineage_edges.c.job_id,
            lineage_edges.c.direction,
            lineage_edges.c.dataset_id,
            namespaces.c.name.label("namespace"),
            datasets.c.name,
        )
        .join(datasets, datasets.c.id == lineage_edges.c.dataset_id)
        .join(namespaces, namespaces.c.id == datasets.c.namespace_id)
        .where(lineage_edges.c.job_id.in_(sorted(job_ids)), lineage_edges.c.valid_to.is_(None))
        .order_by(namespaces.c.name, datasets.c.name)
    ).all()
    shown = visible_datasets(conn, sight, {row.dataset_id for row in rows})
    for row in rows:
        if row.dataset_id in shown:
            io[row.job_id][row.direction].append({"namespace": row.namespace, "name": row.name})
    return io


def _latest_runs(conn: Connection, job_ids: Collection[int]) -> dict[int, Any]:
    if not job_ids:
        return {}
    rows = conn.execute(
        sa.select(runs)
        .join(jobs, jobs.c.latest_run_id == runs.c.run_id)
        .where(jobs.c.id.in_(sorted(job_ids)))
    )
    return {row.job_id: row for row in rows}


def _child_jobs(conn: Connection, parent_ids: Collection[int]) -> dict[int, set[int]]:
    """The jobs whose runs name one of `parent_ids` as their parent job."""
    found: dict[int, set[int]] = defaultdict(set)
    if parent_ids:
        rows = conn.execute(
            sa.select(runs.c.parent_job_id, runs.c.job_id)
            .where(runs.c.parent_job_id.in_(sorted(parent_ids)))
            .distinct()
        )
        for parent, child in rows:
            if child != parent:
                found[parent].add(child)
    return found


def _parent_job(conn: Connection, job_id: int) -> int | None:
    """The parent job its newest run with a parent names."""
    found = conn.execute(
        sa.select(runs.c.parent_job_id)
        .where(runs.c.job_id == job_id, runs.c.parent_job_id.is_not(None))
        .order_by(runs.c.created_at.desc())
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def job_answer(
    conn: Connection, namespace: str, name: str, sight: Sight | None = None
) -> dict[str, Any]:
    """One job: its details and facets, latest run, current inputs and outputs, parent and
    child jobs (`GET /api/v1/jobs/{namespace}/{name}`)."""
    job_id = _job_id(conn, namespace, name, sight)
    hidden = _hidden(conn, sight).jobs
    answer = job_details(conn, [job_id])[job_id]
    answer["facets"] = job_facets(conn, [job_id]).get(job_id, {})
    latest = _latest_runs(conn, [job_id]).get(job_id)
    answer["latestRun"] = run_details(conn, [latest], sight)[0] if latest is not None else None
    io = _current_io(conn, [job_id], sight)[job_id]
    answer["inputs"], answer["outputs"] = io["input"], io["output"]
    parent = _parent_job(conn, job_id)
    answer["parent"] = None
    if parent is not None and parent not in hidden:
        answer["parent"] = _names(conn, [parent]).get(parent)
    children = sorted(_child_jobs(conn, [job_id]).get(job_id, set()) - hidden)
    details = job_details(conn, children)
    answer["children"] = sorted(
        (
            {
                "namespace": details[c]["namespace"],
                "name": details[c]["name"],
                "latestRun": details[c]["latestRun"],
            }
            for c in children
        ),
        key=lambda child: (child["namespace"], child["name"]),
    )
    return answer


def _run_row(conn: Connection, run_id: str) -> Any:
    return conn.execute(sa.select(runs).where(runs.c.run_id == run_id)).first()


def _run_ref(
    conn: Connection, run_id: str | None, fallback_job: Any, hidden: frozenset[int]
) -> Any:
    """A parent or root run: its summary and job if stored, else what the child's facet says."""
    if run_id is None:
        return None
    row = _run_row(conn, run_id)
    if row is not None:
        if row.job_id in hidden:
            return None
        return {
            **run_summary(row),
            "job": _names(conn, [row.job_id])[row.job_id],
            "reported": True,
        }
    job = fallback_job if isinstance(fallback_job, dict) else {}
    return {
        "id": run_id,
        "runId": run_id,
        "state": None,
        "job": {"namespace": job.get("namespace"), "name": job.get("name")},
        "reported": False,
    }


def run_answer(conn: Connection, run_id: str, sight: Sight | None = None) -> dict[str, Any]:
    """One run (`GET /api/v1/runs/{runId}`): its facets, states, inputs, outputs and job, its
    parent and root runs (from its ParentRunFacet) and its child runs."""
    row = _run_row(conn, run_id)
    hidden = _hidden(conn, sight).jobs
    if row is None or row.job_id in hidden:
        raise NotFound(f"runId: no run {run_id!r} has been seen")
    answer = run_details(conn, [row], sight)[0]
    answer["job"] = job_details(conn, [row.job_id])[row.job_id]
    facet = (row.facets or {}).get("parent")
    facet = facet if isinstance(facet, dict) else {}
    root: dict[str, Any] = facet["root"] if isinstance(facet.get("root"), dict) else {}
    answer["parent"] = _run_ref(conn, row.parent_run_id, facet.get("job"), hidden)
    answer["root"] = _run_ref(conn, row.root_run_id, root.get("job"), hidden)
    children = conn.execute(
        sa.select(runs)
        .where(runs.c.parent_run_id == row.run_id)
        .order_by(runs.c.created_at, runs.c.run_id)
    ).all()
    shown = [child for child in children if child.job_id not in hidden]
    names = _names(conn, {child.job_id for child in shown})
    answer["children"] = [{**run_summary(child), "job": names[child.job_id]} for child in shown]
    return answer


def _descendants(conn: Connection, job_id: int, hidden: frozenset[int]) -> dict[int, int]:
    """Every job below `job_id` (child -> its parent), followed `MAX_DEPTH` levels down."""
    parent_of: dict[int, int] = {}
    frontier = {job_id}
    for _ in range(MAX_DEPTH):
        found = _child_jobs(conn, frontier)
        frontier = set()
        for parent, children in found.items():
            for child in children - hidden:
                if child != job_id and child not in parent_of:
                    parent_of[child] = parent
                    frontier.add(child)
        if not frontier:
            break
    return parent_of


def job_graph(
    conn: Connection, namespace: str, name: str, sight: Sight | None = None
) -> dict[str, Any]:
    """A parent job (an Airflow DAG) and its tasks with what each reads and writes
    (`GET /api/v1/jobs/{namespace}/{name}/graph`).

    `inputs` are the datasets its tasks read that no task of it writes; `outputs` what
    they write; `edges` run dataset -> task -> dataset, by lineage node id.
    """
    job_id = _job_id(conn, namespace, name, sight)
    hidden = _hidden(conn, sight).jobs
    job = job_details(conn, [job_id])[job_id]
    job["facets"] = job_facets(conn, [job_id]).get(job_id, {})
    parent_of = _descendants(conn, job_id, hidden)
    task_ids = sorted(parent_of)
    names = _names(conn, [job_id, *task_ids])
    io = _current_io(conn, [job_id, *task_ids], sight)
    latest = _latest_runs(conn, task_ids)
    tasks = []
    for task_id in task_ids:
        run = latest.get(task_id)
        tasks.append(
            {
                **names[task_id],
                "parent": names[parent_of[task_id]],
                "inputs": io[task_id]["input"],
                "outputs": io[task_id]["output"],
                "latestRun": None
                if run is None
                else {
                    "runId": run.run_id,
                    "state": run.state,
                    "updatedAt": run_summary(run)["updatedAt"],
                },
            }
        )
    tasks.sort(key=lambda t: (t["namespace"], t["name"]))
    return {"job": job, "tasks": tasks, **_dag_io(names, io, [job_id, *task_ids])}


def _dag_io(
    names: dict[int, dict[str, str]],
    io: dict[int, dict[str, list[dict[str, str]]]],
    job_ids: Sequence[int],
) -> dict[str, Any]:
    def key(ref: dict[str, str]) -> tuple[str, str]:
        return ref["namespace"], ref["name"]

    written = {key(ref) for j in job_ids for ref in io[j]["output"]}
    read = {key(ref) for j in job_ids for ref in io[j]["input"]}
    edges = []
    for j in job_ids:
        job_node = node_id("job", names[j]["namespace"], names[j]["name"])
        for ref in io[j]["input"]:
            edges.append({"origin": node_id("dataset", *key(ref)), "destination": job_node})
        for ref in io[j]["output"]:
            edges.append({"origin": job_node, "destination": node_id("dataset", *key(ref))})

    def listed(keys: set[tuple[str, str]]) -> list[dict[str, str]]:
        return [{"namespace": ns, "name": n} for ns, n in sorted(keys)]

    return {"inputs": listed(read - written), "outputs": listed(written), "edges": edges}
