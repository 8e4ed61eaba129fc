"""`steward export docs`: a browsable data dictionary, in markdown and in HTML.

One page per dataset (owner, purpose, columns with types, descriptions and PII tags,
upstream and downstream) and an index grouped by source. Descriptions are markdown;
the HTML renders them with raw HTML disabled, so a description cannot inject markup.
"""

from __future__ import annotations

import html
from collections import defaultdict
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from steward.catalog.views import describe_datasets, neighbours
from steward.connectors.backstage import entity_name
from steward.store import Store
from steward.store.schema import datasets

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;"
    "text-align:left;vertical-align:top}.pii{color:#a00;font-weight:bold}"
)


def _markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt

    rendered: str = MarkdownIt("commonmark", {"html": False}).render(text)
    return rendered


def _page_views(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        ids = [
            int(i)
            for i in conn.execute(
                sa.select(datasets.c.id).where(datasets.c.deleted_at.is_(None))
            ).scalars()
        ]
        views = []
        for start in range(0, len(ids), 1000):
            chunk = describe_datasets(conn, ids[start : start + 1000])
            for dataset_id, view in chunk.items():
                view.update(neighbours(conn, dataset_id))
                views.append(view)
    views.sort(key=lambda v: v["id"])
    return views


def _text(view: dict[str, Any]) -> str:
    return str((view.get("description") or {}).get("text") or "")


def _owners(view: dict[str, Any]) -> str:
    return ", ".join(f"{o['name']} ({o['role']})" for o in view["owners"]) or "none recorded"


def _link(node: dict[str, Any], ext: str) -> tuple[str, str]:
    label = node["name"] or node["nodeId"]
    return label, f"{entity_name(label)}.{ext}"


def _markdown(view: dict[str, Any]) -> str:
    lines = [f"# {view['id']}", ""]
    lines += [_text(view) or "_No description._", ""]
    lines += [f"- **Owners:** {_owners(view)}"]
    if view["domain"]:
        lines.append(f"- **Domain:** {view['domain']}")
    if view["source"]:
        lines.append(f"- **Source:** {view['source']} ({view['kind']})")
    tags = ", ".join(t["tag"] for t in view["tags"])
    if tags:
        lines.append(f"- **Tags:** {tags}")
    lines += ["", "## Columns", "", "| column | type | description | tags |", "|---|---|---|---|"]
    for column in view["columns"]:
        text = ((column["description"] or {}).get("text") or "").replace("\n", " ")
        ctags = ", ".join(t["tag"] for t in column["tags"])
        lines.append(f"| {column['name']} | {column['type'] or ''} | {text} | {ctags} |")
    for direction in ("upstream", "downstream"):
        lines += ["", f"## {direction.capitalize()}", ""]
        nodes = view[direction]
        lines += [f"- [{label}]({href})" for label, href in (_link(n, "md") for n in nodes)]
        if not nodes:
            lines.append("_None known._")
    return "\n".join(lines) + "\n"


def _html_page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )


def _html(view: dict[str, Any]) -> str:
    e = html.escape
    parts = ["<p><a href='index.html'>All datasets</a></p>", f"<h1>{e(view['id'])}</h1>"]
    parts.append(_markdown_html(_text(view)) if _text(view) else "<p><em>No description.</em></p>")
    parts.append(f"<p><strong>Owners:</strong> {e(_owners(view))}</p>")
    if view["domain"]:
        parts.append(f"<p><strong>Domain:</strong> {e(view['domain'])}</p>")
    rows = []
    for column in view["columns"]:
        text = (column["description"] or {}).get("text") or ""
        tags = ", ".join(
            f"<span class='pii'>{e(t['tag'])}</span>"
            if t["tag"].startswith("pii.")
            else e(t["tag"])
            for t in column["tags"]
        )
        rows.append(
            f"<tr><td>{e(column['name'])}</td><td>{e(column['type'] or '')}</td>"
            f"<td>{_markdown_html(text) if text else ''}</td><td>{tags}</td></tr>"
        )
    parts.append(
        "<h2>Columns</h2><table><tr><th>column</th><th>type</th><th>description</th>"
        f"<th>tags</th></tr>{''.join(rows)}</table>"
    )
    for direction in ("upstream", "downstream"):
        items = "".join(
            f"<li><a href='{e(href)}'>{e(label)}</a></li>"
            for label, href in (_link(n, "html") for n in view[direction])
        )
        parts.append(f"<h2>{direction.capitalize()}</h2><ul>{items or '<li>None known.</li>'}</ul>")
    return _html_page(view["id"], "".join(parts))


def write_docs(store: Store, directory: Path) -> int:
    """Write the data dictionary under `directory`; returns the number of datasets."""
    views = _page_views(store)
    directory.mkdir(parents=True, exist_ok=True)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for view in views:
        page = entity_name(view["id"])
        (directory / f"{page}.md").write_text(_markdown(view), encoding="utf-8")
        (directory / f"{page}.html").write_text(_html(view), encoding="utf-8")
        by_source[view["source"] or view["namespace"]].append(view)
    md = ["# Data dictionary", ""]
    body = ["<h1>Data dictionary</h1>"]
    for source, items in sorted(by_source.items()):
        md += [f"## {source}", "", "| dataset | owners | description |", "|---|---|---|"]
        body.append(f"<h2>{html.escape(source)}</h2><table>")
        for view in items:
            page = entity_name(view["id"])
            summary = _text(view).split("\n", 1)[0]
            md.append(f"| [{view['id']}]({page}.md) | {_owners(view)} | {summary} |")
            body.append(
                f"<tr><td><a href='{html.escape(page)}.html'>{html.escape(view['id'])}</a></td>"
                f"<td>{html.escape(_owners(view))}</td><td>{html.escape(summary)}</td></tr>"
            )
        md.append("")
        body.append("</table>")
    (directory / "index.md").write_text("\n".join(md), encoding="utf-8")
    (directory / "index.html").write_text(
        _html_page("Data dictionary", "".join(body)), encoding="utf-8"
    )
    return len(views)
