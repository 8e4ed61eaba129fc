"""`steward lineage job` and `steward lineage run`: one job, its tasks, one run, from a server."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.tree import Tree

from steward.cli.client import DEFAULT_URL, Client, TokenOption, UrlOption
from steward.errors import InvalidInput

AsJson = Annotated[bool, typer.Option("--json", help="Print the server's answer as JSON.")]


def _job_path(namespace: str, name: str | None) -> str:
    if name is None:
        namespace, _, name = namespace.rpartition("/")
    if not namespace or not name:
        raise InvalidInput("job: give NAMESPACE NAME, or NAMESPACE/NAME")
    return f"/api/v1/jobs/{quote(namespace, safe='')}/{quote(name, safe='')}"


def _dataset(ref: dict[str, Any]) -> str:
    return f"[cyan]{ref['namespace']}[/cyan] {ref['name']}"


def _state(run: dict[str, Any] | None) -> str:
    return f" [dim]({run['state']})[/dim]" if run and run.get("state") else ""


def _graph_tree(answer: dict[str, Any]) -> Tree:
    job = answer["job"]
    root = Tree(
        f"[magenta]job[/magenta] {job['namespace']} {job['name']}{_state(job['latestRun'])}"
    )
    reads = root.add(f"reads ({len(answer['inputs'])})")
    for ref in answer["inputs"]:
        reads.add(_dataset(ref))
    writes = root.add(f"writes ({len(answer['outputs'])})")
    for ref in answer["outputs"]:
        writes.add(_dataset(ref))
    tasks = root.add(f"tasks ({len(answer['tasks'])})")
    for task in answer["tasks"]:
        branch = tasks.add(f"[magenta]{task['name']}[/magenta]{_state(task['latestRun'])}")
        for ref in task["inputs"]:
            branch.add(f"reads {_dataset(ref)}")
        for ref in task["outputs"]:
            branch.add(f"writes {_dataset(ref)}")
    return root


def _job_tree(answer: dict[str, Any]) -> Tree:
    root = Tree(
        f"[magenta]job[/magenta] {answer['namespace']} {answer['name']}"
        f"{_state(answer['latestRun'])}"
    )
    if answer.get("description"):
        root.add(answer["description"])
    if answer["parent"]:
        root.add(f"parent {answer['parent']['namespace']} {answer['parent']['name']}")
    children = [f"{c['name']}{_state(c['latestRun'])}" for c in answer["children"]]
    _add_io_children_facets(root, answer, children)
    return root


def _run_tree(answer: dict[str, Any]) -> Tree:
    job = answer["job"]
    root = Tree(f"run {answer['runId']} of {job['namespace']} {job['name']}{_state(answer)}")
    for label in ("parent", "root"):
        ref = answer.get(label)
        if ref:
            root.add(f"{label} {ref['runId']} of {ref['job']['name']}{_state(ref)}")
    children = [f"{c['runId']} {c['job']['name']}{_state(c)}" for c in answer["children"]]
    _add_io_children_facets(root, answer, children)
    return root


def _add_io_children_facets(root: Tree, answer: dict[str, Any], children: list[str]) -> None:
    """What a job or run reads and writes, its children (as labelled) and its facet names."""
    for label, refs in (("reads", answer["inputs"]), ("writes", answer["outputs"])):
        for ref in refs:
            root.add(f"{label} {_dataset(ref)}")
    if children:
        branch = root.add(f"children ({len(children)})")
        for child in children:
            branch.add(child)
    if answer["facets"]:
        root.add("facets: " + ", ".join(sorted(answer["facets"])))


def _show(answer: dict[str, Any], tree: Tree, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer, indent=2))
    else:
        Console().print(tree)


def job(
    namespace: Annotated[str, typer.Argument(help="The job's namespace, or NAMESPACE/NAME.")],
    name: Annotated[str | None, typer.Argument(help="The job's name.")] = None,
    graph: Annotated[
        bool, typer.Option("--graph", help="Its tasks (child jobs) and what they read and write.")
    ] = False,
    as_json: AsJson = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """One job: facets, latest run, inputs, outputs, parent and children; --graph for a DAG."""
    client = Client(url, token)
    path = _job_path(namespace, name)
    answer = client.request(
        "GET", path + "/graph" if graph else path, params={"consistent": "true"}
    )
    client.close()
    _show(answer, _graph_tree(answer) if graph else _job_tree(answer), as_json)


def run(
    run_id: Annotated[str, typer.Argument(help="The run's id (a UUID).")],
    as_json: AsJson = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """One run: its state, facets, inputs, outputs, parent and root runs, child runs."""
    client = Client(url, token)
    answer = client.request(
        "GET", f"/api/v1/runs/{quote(run_id, safe='')}", params={"consistent": "true"}
    )
    client.close()
    _show(answer, _run_tree(answer), as_json)


def register(app: typer.Typer) -> None:
    """Add `job` and `run` to `steward lineage`."""
    app.command("job")(job)
    app.command("run")(run)
