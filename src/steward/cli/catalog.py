"""`steward catalog`: sync sources, show, describe, own, tag, term, classify; `steward search`.

These commands administer the local installation directly, as its administrator: the
author recorded with an edit is `--author`, else the operating-system user. `show` and
`search` read a running server instead with `--url`/`--token` (what that token may see).
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from steward.cli.client import RemoteUrlOption, TokenOption, remote
from steward.cli.context import out, steward_from_env

app = typer.Typer(
    help="The data catalog: sources, descriptions, owners, tags, PII.", no_args_is_help=True
)
err = Console(stderr=True)

Author = Annotated[
    str | None, typer.Option("--author", help="Who makes this edit (default: your OS user).")
]
Column = Annotated[
    str | None, typer.Option("--column", "-c", help="Apply to this column, not the dataset.")
]


def _local_admin(author: str | None) -> Any:
    from steward.identity.models import Principal

    return Principal(user=author or f"local:{getpass.getuser()}", is_admin=True)


def _edit(dataset: str, author: str | None, column: str | None, **change: Any) -> None:
    from steward.audit.log import record_change
    from steward.catalog.edits import ColumnEdit, DatasetEdit, edit_dataset

    steward = steward_from_env()
    steward.upgrade()
    if column is not None:
        edit = DatasetEdit(columns={column: ColumnEdit(**change)})
    else:
        edit = DatasetEdit(**change)
    view = edit_dataset(steward.store, dataset, edit, _local_admin(author), record=record_change)
    err.print(f"updated {escape(view['id'])}")


@app.command("sync")
def sync_command(
    source: Annotated[str | None, typer.Argument(help="One source; default: every source.")] = None,
) -> None:
    """Discover tables from the configured sources (incremental: unchanged tables are cheap)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from steward.policy.drift import active_drift
    from steward.schema.catalog_sync import sync_source

    # Filling the catalog from its sources is setting up: it may create the store.
    steward = steward_from_env(may_create=True)
    steward.upgrade()
    admin = _local_admin(None)
    names = [source] if source else steward.source_names()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        for name in names:
            task = bar.add_task(f"sync {name}", total=None)

            def report(done: int, total: int, task: Any = task) -> None:
                bar.update(task, completed=done, total=max(total, 1))

            opened = steward.source(name)
            try:
                synced = sync_source(steward.store, opened, actor=admin, progress=report)
            finally:
                opened.close()
            result, classified = synced.result, synced.classified
            if not result.added + result.changed + result.deleted:
                bar.update(task, completed=1, total=1)
            err.print(
                f"{name}: {result.listed} tables; {result.added} new, {result.changed} changed,"
                f" {result.deleted} gone, {result.unchanged} unchanged"
            )
            for change in result.columns:
                what = f"renamed from {change.was}" if change.was else "new"
                err.print(f"  {escape(change.table)}.{escape(change.column)}: {what}")
            for outcome in classified:
                changed = {c.column for c in result.columns if c.table == outcome.dataset}
                for finding in outcome.findings:
                    if finding.column in changed and not finding.kept_off:
                        err.print(
                            f"  {escape(outcome.dataset)}.{escape(finding.column)}: looks like"
                            f" {finding.tag} ({escape(finding.reason)})",
                            highlight=False,
                        )
    for drift in active_drift(steward.store):
        err.print(f"[yellow]warning:[/yellow] {escape(drift.message)}", highlight=False)


@app.command("show")
def show(
    dataset: Annotated[str, typer.Argument(help="A catalog name or a dataset node id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: RemoteUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Everything the catalog knows of one dataset, with its latest quality results."""
    client = remote(url, token)
    if client is not None:
        page = client.request("GET", f"/api/v1/datasets/{quote(dataset, safe='/:')}")
    else:
        page = _local_page(dataset)
    if as_json:
        print(json.dumps(page, indent=2))
        return
    description = (page["description"] or {}).get("text") or "(no description)"
    out().print(f"[bold]{escape(page['id'])}[/bold]  {page['kind'] or 'dataset'}")
    out().print(escape(description))
    owners = ", ".join(f"{o['name']} ({o['role']})" for o in page["owners"]) or "-"
    out().print(f"owners: {escape(owners)}   domain: {escape(page['domain'] or '-')}")
    out().print(f"tags: {escape(', '.join(t['tag'] for t in page['tags']) or '-')}")
    table = Table("column", "type", "description", "tags")
    for column in page["columns"]:
        text = (column["description"] or {}).get("text") or ""
        tags = ", ".join(t["tag"] for t in column["tags"])
        table.add_row(
            escape(column["name"]), escape(column["type"] or ""), escape(text), escape(tags)
        )
    out().print(table)
    for d in page["deprecations"]:
        what = f"column {d['column']}" if d.get("column") else "dataset"
        instead = f"; use {d['replacement']}" if d.get("replacement") else ""
        out().print(
            f"[yellow]deprecated[/yellow] {escape(what)}: sunset {d['sunset']}{escape(instead)}"
        )
    _print_quality(page.get("quality") or [])
    for direction in ("upstream", "downstream"):
        names = [n["name"] or n["nodeId"] for n in page[direction]]
        out().print(f"{direction}: {escape(', '.join(names) or '-')}")


def _local_page(dataset: str) -> dict[str, Any]:
    """The dataset's page from the local store, as GET /api/v1/datasets/{ref} shows an admin."""
    from steward.catalog.views import dataset_page
    from steward.quality.openlineage import dataset_quality_view
    from steward.schema.deprecations import deprecations, shown_with
    from steward.schema.history import dataset_id_of

    steward = steward_from_env()
    steward.upgrade()
    with steward.store.read() as conn:
        page: dict[str, Any] = dataset_page(conn, dataset)
        dataset_id = dataset_id_of(conn, dataset)
        page.update(dataset_quality_view(conn, page["id"], dataset_id))
        found = deprecations(conn, [dataset_id])[dataset_id]
        shown = shown_with(found, [c["name"] for c in page["columns"]])
    page["deprecations"] = [d.to_json() for d in shown]
    return page


QUALITY_COLORS = {"pass": "green", "warn": "yellow", "fail": "red", "error": "magenta"}


def _print_quality(checks: list[dict[str, Any]]) -> None:
    """Each check's latest result (Steward's runs and what producers reported)."""
    if not checks:
        out().print("quality: no results yet (steward quality run)")
        return
    table = Table("check", "source", "column", "status", "failures", "ran at", "message")
    for check in checks:
        status = str(check.get("status") or "")
        color = QUALITY_COLORS.get(status)
        shown_status = f"[{color}]{status}[/]" if color else escape(status)
        if check.get("flapping"):
            shown_status += " (flapping)"
        message = check.get("withheld") or check.get("message") or ""
        failures = check.get("failures")
        table.add_row(
            escape(str(check.get("check") or "")),
            escape(str(check.get("source") or "")),
            escape(str(check.get("column") or "")),
            shown_status,
            "" if failures is None else str(failures),
            escape(str(check.get("ranAt") or "")[:19]),
            escape(str(message)),
        )
    out().print("quality (latest results):")
    out().print(table)


@app.command("describe")
def describe(
    dataset: str,
    text: Annotated[str, typer.Argument(help="Markdown; an empty string removes yours.")],
    column: Column = None,
    author: Author = None,
) -> None:
    """Write a description of a dataset or one of its columns."""
    _edit(dataset, author, column, description=text)


@app.command("own")
def own(
    dataset: str,
    owner: Annotated[str, typer.Argument(help="A user name, or a group with --group.")],
    group: Annotated[bool, typer.Option("--group", help="The owner is a group.")] = False,
    role: Annotated[str, typer.Option(help="technical, business, steward ...")] = "technical",
    remove: Annotated[bool, typer.Option("--remove", help="Remove this owner.")] = False,
    author: Author = None,
) -> None:
    """Add (or remove) an owner of a dataset."""
    spec = {"name": owner, "kind": "group" if group else "user", "role": role}
    key = "removeOwners" if remove else "addOwners"
    _edit(dataset, author, None, **{key: [spec]})


@app.command("tag")
def tag(
    dataset: str,
    tags: Annotated[list[str], typer.Argument(help="Tags, e.g. pii.email gold.")],
    column: Column = None,
    remove: Annotated[
        bool, typer.Option("--remove", "--reject", help="Remove or reject these tags.")
    ] = False,
    author: Author = None,
) -> None:
    """Add tags to a dataset or a column, confirm proposed ones, or (--reject) reject them."""
    _edit(dataset, author, column, **{"removeTags" if remove else "addTags": tags})


@app.command("term")
def term(
    dataset: str,
    terms: Annotated[list[str], typer.Argument(help="Glossary terms.")],
    column: Column = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove these terms.")] = False,
    author: Author = None,
) -> None:
    """Link glossary terms to a dataset or a column."""
    _edit(dataset, author, column, **{"removeTerms" if remove else "addTerms": terms})


@app.command("domain")
def domain(
    dataset: str,
    name: Annotated[str, typer.Argument(help="The domain; an empty string clears it.")],
    author: Author = None,
) -> None:
    """Put a dataset in a domain (exported to Backstage as its system)."""
    _edit(dataset, author, None, domain=name)


@app.command("classify")
def classify_command(
    dataset: Annotated[str | None, typer.Argument(help="One dataset; default: all.")] = None,
    sample: Annotated[int, typer.Option(help="Rows sampled per table.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Tag PII columns from their names and a bounded sample; values are never stored."""
    from steward.audit.log import record_change
    from steward.catalog.pii import classify

    steward = steward_from_env()
    steward.upgrade()
    results = classify(
        steward.store,
        steward.source,
        dataset,
        principal=_local_admin(None),
        sample_size=sample,
        record=record_change,
    )
    if as_json:
        print(json.dumps([r.as_json() for r in results], indent=2))
        return
    table = Table("dataset", "column", "tag", "confidence", "reason")
    for result in results:
        for f in result.findings:
            tag_text = f.tag + (" (rejected by a human)" if f.kept_off else "")
            table.add_row(
                escape(result.dataset),
                escape(f.column),
                tag_text,
                f"{f.confidence:.2f}",
                escape(f.reason),
            )
    out().print(table)


def search_command(
    query: Annotated[str, typer.Argument(help="Words to find (prefixes match).")] = "",
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only datasets with this tag.")] = None,
    owner: Annotated[str | None, typer.Option(help="Only datasets this owner owns.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many results.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    url: RemoteUrlOption = None,
    token: TokenOption = None,
) -> None:
    """Search the catalog: names, descriptions, columns, tags and owners; best first."""
    client = remote(url, token)
    if client is not None:
        filters = {"source": source, "tag": tag, "owner": owner, "domain": domain}
        params = {"q": query, "limit": limit} | {k: v for k, v in filters.items() if v}
        found = client.request("GET", "/api/v1/catalog/search", params=params)["results"]
    else:
        found = _local_search(query, source, tag, owner, domain, limit)
    if as_json:
        print(json.dumps(found, indent=2))
        return
    table = Table("dataset", "source", "description", "deprecated")
    for item in found:
        sunset = f"sunset {item['deprecation']['sunset']}" if item["deprecation"] else ""
        table.add_row(
            escape(item["name"]),
            escape(item["source"] or ""),
            escape(item["description"] or ""),
            sunset,
        )
    out().print(table)


def _local_search(
    query: str,
    source: str | None,
    tag: str | None,
    owner: str | None,
    domain: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    from steward.catalog.search import SearchFilters, search
    from steward.schema.deprecations import by_catalog_name

    steward = steward_from_env()
    steward.upgrade()
    filters = SearchFilters(source=source, tag=tag, owner=owner, domain=domain)
    found: list[dict[str, Any]] = search(steward.store, query, filters=filters, limit=limit)
    with steward.store.read() as conn:
        marks = by_catalog_name(conn, [item["name"] for item in found])
    for item in found:
        own = [d for d in marks.get(item["name"], []) if d.column is None]
        item["deprecation"] = own[0].to_json() if own else None
    return found
