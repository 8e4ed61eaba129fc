"""The evidence report (its canonical JSON) rendered as Markdown or self-contained HTML.

Both render the JSON, never the store: what they show is what the JSON says. Only the
JSON is verified (`steward audit verify --evidence`); a rendering says so at its end.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

VERIFY_NOTE = (
    "Only the JSON form of this report can be verified: `steward evidence DATASET --format"
    " json > evidence.json` and `steward audit verify --evidence evidence.json"
    " --public-key KEY.pem`."
)


def _owners(node: Mapping[str, Any]) -> str:
    return ", ".join(o["name"] for o in node.get("owners", [])) or "(no owner)"


def _name(node: Mapping[str, Any]) -> str:
    return str(node.get("catalog_name") or node.get("id"))


def _seqs(item: Mapping[str, Any]) -> str:
    return ", ".join(f"#{s}" for s in item.get("records", [])) or "none"


def _principal(step: Mapping[str, Any]) -> str:
    p = step["principal"]
    if p.get("user") is None:
        return "unknown"
    groups = f" ({', '.join(p['groups'])})" if p.get("groups") else ""
    how = f", mapped by {p['mapping']}" if p.get("source") == "mapping" else ""
    return f"{p['user']}{groups}{how}"


def _path(flow: Mapping[str, Any]) -> str:
    hops = [flow["source"]]
    for edge in flow["path"]:
        kinds = "/".join(
            str(t.get("subtype") or t.get("type")) for t in edge.get("transformations", [])
        )
        hops.append(f"--{edge['job']} {kinds or '?'}--> {edge['to']}")
    return " ".join(hops)


def _cited(report: Mapping[str, Any]) -> dict[int, list[str]]:
    """Which statements cite each record: `run`, `policy v1`, `gate`, `query`."""
    cited: dict[int, list[str]] = {}
    named = [(f"run {s['run_id'][:8]}", s) for s in report["steps"]]
    named += [(f"policy v{p['version']}", p) for p in report["policies"]]
    named += [(f"gate {g['dataset']}", g) for g in report["quality_gates"]]
    named += [("query", q) for group in report["queries"] for q in group["shown"]]
    for label, item in named:
        for seq in item.get("records", []):
            cited.setdefault(seq, []).append(label)
    return cited


def sections(report: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """The report's tables: (title, column names, rows of text), in reading order."""
    nodes = report["upstream"]["nodes"]
    steps = report["steps"]
    label = {n["id"]: _name(n) for n in nodes}
    cited = _cited(report)
    out: list[tuple[str, list[str], list[list[str]]]] = [
        (
            "Upstream datasets and jobs",
            ["kind", "name", "owners"],
            [[n["kind"], _name(n), _owners(n)] for n in nodes],
        ),
        (
            "Lineage edges",
            ["from", "to"],
            [
                [label.get(e["from"], e["from"]), label.get(e["to"], e["to"])]
                for e in report["upstream"]["edges"]
            ],
        ),
        (
            "Personal data reaching the dataset",
            ["source", "target", "tags", "clear", "path"],
            [
                [f["source"], f["target"], ", ".join(f["tags"]), _yes(f["clear"]), _path(f)]
                for f in report["pii"]
            ],
        ),
        (
            "Runs on the way: principal, policy version, verdict",
            ["run", "job", "time", "principal", "posted by", "policy", "verdict", "records"],
            [
                [
                    s["run_id"],
                    s["job"],
                    s["time"] or "",
                    _principal(s),
                    ", ".join(s["posted_by"]) or "-",
                    f"v{s['policy_version']}" if s["policy_version"] else "none",
                    s["verdict"],
                    _seqs(s),
                ]
                for s in steps
            ],
        ),
        (
            "Findings",
            ["run", "kind", "dataset", "column", "rule", "policy", "message"],
            [
                [
                    s["run_id"],
                    f["kind"],
                    f["dataset"],
                    f["column"] or "(table)",
                    f["rule"],
                    f"v{f['policy_version']}",
                    f["message"],
                ]
                for s in steps
                for f in s["findings"]
            ],
        ),
        (
            "Policy versions in force",
            ["version", "applied", "by", "sha256", "files", "records"],
            [
                [
                    f"v{p['version']}",
                    p["applied_at"] or "",
                    p["author"] or "",
                    p["sha256"][:16],
                    ", ".join(p["sources"]),
                    _seqs(p),
                ]
                for p in report["policies"]
            ],
        ),
        (
            "Quality gates per published snapshot",
            ["dataset", "snapshot", "published", "blocking", "checks", "time", "by", "records"],
            [
                [
                    g["dataset"],
                    str(g["snapshot"] if g["published"] else g["branch_snapshot"]),
                    _yes(g["published"]),
                    ", ".join(g["blocking"]) or "-",
                    ", ".join(f"{c['check']} {c['status']}" for c in g.get("checks", [])),
                    g["time"],
                    g["by"] or "",
                    _seqs(g),
                ]
                for g in report["quality_gates"]
            ],
        ),
        (
            "Governed queries that read these datasets (newest first)",
            ["dataset", "time", "user", "decision", "columns", "policy", "records"],
            [
                [
                    q["dataset"] or "",
                    q["time"],
                    q["user"] or "",
                    q["decision"],
                    ", ".join(q["columns"]),
                    q["policy"] or "",
                    _seqs(q),
                ]
                for group in report["queries"]
                for q in group["shown"]
            ],
        ),
        (
            "Audit evidence: records and signed checkpoints",
            ["seq", "time", "actor", "action", "backs", "hash", "prev_hash"],
            [
                [
                    str(r["seq"]),
                    r["time"],
                    r["actor"]["user"] or "(steward)",
                    r["action"],
                    ", ".join(cited.get(r["seq"], [])) or "(chain to checkpoint)",
                    r["hash"],
                    r["prev_hash"],
                ]
                for r in report["proof"]["records"]
            ]
            + [
                [
                    str(c["seq"]),
                    c["signed_at"],
                    "(signing key)",
                    "checkpoint",
                    f"signed head at seq {c['seq']}",
                    c["head_hash"],
                    "",
                ]
                for c in report["proof"]["checkpoints"]
            ],
        ),
    ]
    return out


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _headline(report: Mapping[str, Any]) -> list[str]:
    summary = report["summary"]
    dataset = report["dataset"]
    key = report["proof"]["key"]
    return [
        f"Dataset: {_name(dataset)} ({dataset['id']}), owners: {_owners(dataset)}",
        f"As of: {report['as_of'] or 'now'}; generated {report['generated_at']}"
        f" by {report['generated_by'] or 'steward'}",
        f"Verdict: {report['verdict']}: {summary['findings']} findings over"
        f" {summary['runs']} runs of {summary['jobs']} jobs;"
        f" {summary['clear_pii_flows']} clear personal-data paths;"
        f" {summary['unbacked_runs']} runs without an audit record",
        f"Signing key: Ed25519, fingerprint {key['fingerprint']}",
    ]


def to_markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown (GitHub tables)."""
    lines = [f"# Evidence: {_name(report['dataset'])}", ""]
    lines += [f"- {line}" for line in _headline(report)]
    for title, columns, rows in sections(report):
        lines += ["", f"## {title}", ""]
        if not rows:
            lines.append("None.")
            continue
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|" + "---|" * len(columns))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    lines += ["", "## What this report cannot show", ""]
    lines += [f"- {limit}" for limit in report["limits"]]
    lines += ["", VERIFY_NOTE, ""]
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1b1f24;max-width:1200px}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ccd}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ccd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#eef}td{word-break:break-word}
.violation{color:#b00020;font-weight:bold}.allowed{color:#1b6e20;font-weight:bold}
.note{color:#555}
"""


def to_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page: no script, no external asset."""
    e = html.escape
    verdict = str(report["verdict"])
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Evidence: {e(_name(report['dataset']))}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Evidence: {e(_name(report['dataset']))}</h1><ul>",
    ]
    for line in _headline(report):
        css = f' class="{verdict}"' if line.startswith("Verdict:") else ""
        parts.append(f"<li{css}>{e(line)}</li>")
    parts.append("</ul>")
    for title, columns, rows in sections(report):
        parts.append(f"<h2>{e(title)}</h2>")
        if not rows:
            parts.append("<p>None.</p>")
            continue
        parts.append(_html_table(columns, rows))
    parts.append("<h2>What this report cannot show</h2><ul>")
    parts += [f"<li>{e(limit)}</li>" for limit in report["limits"]]
    parts.append(f'</ul><p class="note">{e(VERIFY_NOTE)}</p></body></html>')
    return "\n".join(parts)


def _html_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(str(cell))}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
