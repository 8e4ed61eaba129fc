"""`steward lineage`: send events to a server and ask it upstream and downstream questions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from steward.cli.client import DEFAULT_URL, Client, TokenOption, UrlOption
from steward.cli.lineage_check import check_command
from steward.cli.lineage_sql import sql_command
from steward.errors import InvalidInput, StewardError

app = typer.Typer(help="OpenLineage events and the lineage graph.", no_args_is_help=True)
BATCH = 500
app.command("sql")(sql_command)
app.command("check")(check_command)


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


def _column_tree(graph: dict[str, Any], upstream: bool) -> Tree:
    """A column graph as a tree from the column asked about, each edge's transformations."""
    nodes = {node["id"]: node for node in graph["graph"]}

    def label(field_id: str) -> str:
        data = nodes[field_id]["data"]
        typed = f" [dim]{escape(str(data['fieldType']))}[/dim]" if data.get("fieldType") else ""
        column = escape(f"{data['dataset']}.{data['field']}")
        return f"[cyan]{column}[/cyan]{typed} [dim]{escape(data['namespace'])}[/dim]"

    def how(edge: dict[str, Any]) -> str:
        steps = []
        for step in edge.get("transformations") or []:
            kind = "/".join(str(step[k]) for k in ("type", "subtype") if step.get(k))
            steps.append(f"{kind} {step.get('description') or ''}".strip())
        said = ", ".join(s for s in steps if s) or edge.get("transformationType") or ""
        if edge.get("indirect"):
            said += " (indirect)"
        job = str(edge.get("job", "")).split(":", 2)[-1]
        arrow = "<-" if upstream else "->"
        return f" [magenta]{arrow} {escape(said.strip())} by {escape(job)}[/magenta]"

    start = graph["graph"][0]["id"]
    root = Tree(label(start))
    shown = {start}

    def grow(branch: Tree, field_id: str) -> None:
        for edge in nodes[field_id]["inEdges" if upstream else "outEdges"]:
            nxt = edge["origin" if upstream else "destination"]
            if nxt in shown:
                branch.add(label(nxt) + how(edge) + " [dim](shown above)[/dim]")
                continue
            shown.add(nxt)
            grow(branch.add(label(nxt) + how(edge)), nxt)

    grow(root, start)
    return root


def _show(graph: dict[str, Any], fmt: str, tree: Tree) -> None:
    """Print a lineage answer as `fmt`: a text tree, JSON, or a Mermaid or DOT diagram."""
    from steward.lineage.draw import draw

    if fmt == "json":
        print(json.dumps(graph, indent=2))
    elif fmt in ("mermaid", "dot"):
        print(draw(graph, "dot" if fmt == "dot" else "mermaid"), end="")
    else:
        Console().print(tree)


def _format(fmt: str, as_json: bool) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    return "json" if as_json else fmt


def _ask(
    node: str,
    depth: str,
    url: str,
    token: str | None,
    as_of: str | None,
    upstream: bool,
    fmt: str,
) -> None:
    client = Client(url, token)
    params = {"nodeId": node, "depth": depth, "direction": "upstream" if upstream else "downstream"}
    if as_of:
        params["asOf"] = as_of
    # Consistent: the graph holds every event the server has acknowledged (what was just sent).
    graph = client.request("GET", "/api/v1/lineage", params={**params, "consistent": "true"})
    client.close()
    _show(graph, fmt, _tree(graph, graph["graph"][0]["id"], upstream))


Depth = Annotated[str, typer.Option(help="Lineage steps to follow, or 'all'.")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="The graph as it was at this time.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the graph as JSON (--format json).")]
FORMATS = ("text", "json", "mermaid", "dot")
Format = Annotated[
    str,
    typer.Option("--format", help="text (a tree), json, mermaid (flowchart LR) or dot (Graphviz)."),
]
NodeArg = Annotated[
    str,
    typer.Argument(
        help="A catalog name (lake.sales.orders), dataset:NAMESPACE:NAME, job:NAMESPACE:NAME,"
        " or NAMESPACE/NAME."
    ),
]


@app.command("upstream")
def upstream(
    node: NodeArg,
    depth: Depth = "20",
    as_of: AsOf = None,
    as_json: AsJson = False,
    fmt: Format = "text",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Where NODE comes from: the jobs and datasets it is made from, as a tree."""
    _ask(node, depth, url, token, as_of, upstream=True, fmt=_format(fmt, as_json))


@app.command("downstream")
def downstream(
    node: NodeArg,
    depth: Depth = "20",
    as_of: AsOf = None,
    as_json: AsJson = False,
    fmt: Format = "text",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """What reads NODE: the jobs and datasets made from it, as a tree."""
    _ask(node, depth, url, token, as_of, upstream=False, fmt=_format(fmt, as_json))


@app.command("column")
def column(
    column: Annotated[
        str,
        typer.Argument(
            help="DATASET.COLUMN (a catalog name or dataset node id, then the column;"
            " a nested path is allowed) or datasetField:NAMESPACE:NAME:FIELD."
        ),
    ],
    downstream: Annotated[
        bool, typer.Option("--downstream", help="What is made from the column instead.")
    ] = False,
    depth: Depth = "20",
    as_of: AsOf = None,
    as_json: AsJson = False,
    fmt: Format = "text",
    url: UrlOption = DEFAULT_URL,
    token: TokenOption = None,
) -> None:
    """Where a column comes from (or, --downstream, what is made of it), with transformations."""
    chosen = _format(fmt, as_json)
    client = Client(url, token)
    params = {
        "nodeId": column,
        "depth": depth,
        "direction": "downstream" if downstream else "upstream",
    }
    if as_of:
        params["asOf"] = as_of
    graph = client.request("GET", "/api/v1/column-lineage", params={**params, "consistent": "true"})
    client.close()
    _show(graph, chosen, _column_tree(graph, upstream=not downstream))


from steward.cli import lineage_jobs  # noqa: E402 (its commands join this app)

lineage_jobs.register(app)


@app.command("normalise")
def normalise_command(
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", help="Keep building the graph as events arrive (what `serve` runs)."
        ),
    ] = False,
    parent: Annotated[
        int | None,
        typer.Option(hidden=True, help="Stop when this process (the server) is gone."),
    ] = None,
) -> None:
    """Build the lineage graph from the raw events not yet applied (the local store)."""
    import os

    from steward.cli.context import steward_from_env
    from steward.lineage.normaliser import follow as follow_log
    from steward.lineage.normaliser import normalise_pending

    steward = steward_from_env()
    try:
        if follow:
            import gc

            # Batches allocate many short-lived objects: collect rarely, as `serve` does
            # (api.server.tune_gc_for_serving, not imported here to start without FastAPI).
            gc.freeze()
            gc.set_threshold(50_000, 50, 100)
            # One line, once the store is open: `steward serve` waits for it before listening.
            print("following", flush=True)
            follow_log(
                steward.store, stopping=lambda: parent is not None and os.getppid() != parent
            )
        else:
            applied = normalise_pending(steward.store)
            Console(stderr=True).print(f"applied {applied} raw events to the graph")
    finally:
        steward.close()


@app.command("replay")
def replay_command() -> None:
    """Rebuild the lineage graph from the raw event log (stop the server first)."""
    from steward.cli.context import steward_from_env
    from steward.lineage.replay import replay

    steward = steward_from_env()
    try:
        applied = replay(steward.store)
    finally:
        steward.close()
    Console(stderr=True).print(f"replayed {applied} raw events into the graph")
