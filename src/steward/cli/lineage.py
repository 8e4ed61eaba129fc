"""`steward lineage`: send events to a server and ask it upstream and downstream questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.tree import Tree

from steward.cli.client import DEFAULT_URL, Client, TokenOption, UrlOption
from steward.errors import InvalidInput, StewardError

app = typer.Typer(help="OpenLineage events and the lineage graph.", no_args_is_help=True)
BATCH = 500


@app.command("send")
def send(
    files: Annotated[list[Path], typer.Argument(help="JSON or NDJSON files of events.")],
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Send OpenLineage events from files to a server, in batches, with a progress bar."""
    from rich.progress import Progress

    from steward.lineage.ingest import decode_events

    loaded: list[tuple[Path, list[Any]]] = []
    for path in files:
        try:
            body = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{path}: {exc.strerror}") from None
        try:
            loaded.append((path, decode_events(body)))
        except InvalidInput as exc:
            raise InvalidInput(f"{path}: {exc.message}") from None
    client = Client(url, token)
    stored = duplicates = 0
    total = sum(len(events) for _, events in loaded)
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("sending", total=total)
        for path, events in loaded:
            for start in range(0, len(events), BATCH):
                chunk = events[start : start + BATCH]
                try:
                    answer = client.request("POST", "/api/v1/lineage/batch", json=chunk)
                except StewardError as exc:
                    where = f"{path}, events {start}-{start + len(chunk) - 1}"
                    raise type(exc)(f"{where}: {exc.message}") from None
                stored += answer["stored"]
                duplicates += answer["duplicates"]
                progress.advance(task, len(chunk))
    client.close()
    Console(stderr=True).print(f"sent {total} events: {stored} stored, {duplicates} already known")


def _tree(graph: dict[str, Any], start: str, upstream: bool) -> Tree:
    nodes = {node["id"]: node for node in graph["graph"]}

    def label(node_id: str) -> str:
        node = nodes[node_id]
        kind = "[cyan]dataset[/cyan]" if node["type"] == "DATASET" else "[magenta]job[/magenta]"
        extra = ""
        if node["type"] == "JOB" and node["data"].get("latestRun"):
            extra = f" [dim]({node['data']['latestRun']['state']})[/dim]"
        if node["data"].get("deleted"):
            extra += " [red](deleted)[/red]"
        return f"{kind} {node_id.split(':', 1)[1]}{extra}"

    root = Tree(label(start))
    shown = {start}

    def grow(branch: Tree, node_id: str) -> None:
        edges = nodes[node_id]["inEdges" if upstream else "outEdges"]
        for edge in edges:
            nxt = edge["origin" if upstream else "destination"]
            if nxt in shown:
                branch.add(label(nxt) + " [dim](shown above)[/dim]")
                continue
            shown.add(nxt)
            grow(branch.add(label(nxt)), nxt)

    grow(root, start)
    return root


def _ask(
    node: str,
    depth: str,
    url: str,
    token: str | None,
    as_of: str | None,
    upstream: bool,
    as_json: bool,
) -> None:
    client = Client(url, token)
    params = {"nodeId": node, "depth": depth, "direction": "upstream" if upstream else "downstream"}
    if as_of:
        params["asOf"] = as_of
    graph = client.request("GET", "/api/v1/lineage", params=params)
    client.close()
    if as_json:
        print(json.dumps(graph, indent=2))
    else:
        Console().print(_tree(graph, graph["graph"][0]["id"], upstream))


Depth = Annotated[str, typer.Option(help="Lineage steps to follow, or 'all'.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="The graph as it was at this time.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the graph as JSON.")]


@app.command("upstream")
def upstream(
    node: Annotated[str, typer.Argument(help="dataset:NAMESPACE:NAME or job:NAMESPACE:NAME")],
    depth: Depth = "20",
    as_of: AsOf = None,
    as_json: AsJson = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Where NODE comes from: the jobs and datasets it is made from, as a tree."""
    _ask(node, depth, url, token, as_of, upstream=True, as_json=as_json)


@app.command("downstream")
def downstream(
    node: Annotated[str, typer.Argument(help="dataset:NAMESPACE:NAME or job:NAMESPACE:NAME")],
    depth: Depth = "20",
    as_of: AsOf = None,
    as_json: AsJson = False,
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """What reads NODE: the jobs and datasets made from it, as a tree."""
    _ask(node, depth, url, token, as_of, upstream=False, as_json=as_json)


from steward.cli import lineage_jobs  # noqa: E402 (its commands join this app)

lineage_jobs.register(app)
