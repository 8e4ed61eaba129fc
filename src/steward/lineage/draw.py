"""Lineage answers drawn as diagrams: Mermaid `flowchart LR` and Graphviz DOT.

Pure functions from a graph answer (`GET /api/v1/lineage` or `/column-lineage`, the
Marquez-shaped `{"graph": [{id, type, data, inEdges, outEdges}]}`) to text. Node
identifiers in the output are generated (`n0`, `n1` ...), never taken from dataset
names, and every label is escaped, so any name (quotes, slashes, colons, `#`, HTML,
unicode) draws a valid diagram. Datasets are boxes labelled with their name and
namespace, jobs rounded boxes with their name; in a column graph each column sits in
a box of its dataset, and each edge carries its transformations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

DiagramFormat = Literal["mermaid", "dot"]
FORMATS: tuple[DiagramFormat, ...] = ("mermaid", "dot")


@dataclass(frozen=True)
class _Node:
    key: str  # the generated identifier
    label: str
    kind: Literal["dataset", "job", "field"]
    group: str | None = None  # for a column: its dataset's label


@dataclass(frozen=True)
class _Edge:
    origin: str
    destination: str
    label: str | None = None
    indirect: bool = False


@dataclass(frozen=True)
class _Diagram:
    nodes: tuple[_Node, ...]
    edges: tuple[_Edge, ...]
    groups: tuple[str, ...]  # dataset labels, for columns, in first-seen order


def draw(answer: Mapping[str, Any], fmt: DiagramFormat) -> str:
    """`answer` (a lineage or column-lineage graph) as Mermaid or DOT text."""
    diagram = _diagram(answer.get("graph") or [])
    return _mermaid(diagram) if fmt == "mermaid" else _dot(diagram)


def _label(node: Mapping[str, Any]) -> tuple[str, Literal["dataset", "job", "field"], str | None]:
    data = node.get("data") or {}
    kind = node.get("type")
    if kind == "DATASET_FIELD":
        dataset = f"{data.get('dataset', '')}\n{data.get('namespace', '')}"
        field = str(data.get("field", ""))
        typed = f"{field}: {data['fieldType']}" if data.get("fieldType") else field
        return typed, "field", dataset
    name = str(data.get("name") or node.get("id", ""))
    if kind == "JOB":
        return name, "job", None
    deleted = " (deleted)" if data.get("deleted") else ""
    return f"{name}{deleted}\n{data.get('namespace', '')}", "dataset", None


def _edge_label(edge: Mapping[str, Any]) -> tuple[str | None, bool]:
    """What an edge of a column graph says: its transformations, and whether indirect."""
    if "transformations" not in edge and "indirect" not in edge:
        return None, False
    said = []
    for step in edge.get("transformations") or []:
        words = "/".join(str(step[k]) for k in ("type", "subtype") if step.get(k))
        if step.get("description"):
            words = f"{words}: {step['description']}" if words else str(step["description"])
        if step.get("masking"):
            words += " (masking)"
        if words:
            said.append(words)
    if not said:
        for key in ("transformationType", "transformationDescription"):
            if edge.get(key):
                said.append(str(edge[key]))
    job = str(edge.get("job", "")).split(":", 2)[-1] if edge.get("job") else ""
    text = "; ".join(dict.fromkeys(said))
    if job:
        text = f"{text}\nby {job}" if text else f"by {job}"
    return (text or None), bool(edge.get("indirect"))


def _diagram(graph: Sequence[Mapping[str, Any]]) -> _Diagram:
    keys = {str(node["id"]): f"n{i}" for i, node in enumerate(graph)}
    nodes = []
    groups: list[str] = []
    for node in graph:
        label, kind, group = _label(node)
        if group is not None and group not in groups:
            groups.append(group)
        nodes.append(_Node(keys[str(node["id"])], label, kind, group))
    edges: dict[tuple[str, str, str | None], _Edge] = {}
    for node in graph:
        for edge in [*(node.get("inEdges") or []), *(node.get("outEdges") or [])]:
            origin, destination = keys.get(str(edge["origin"])), keys.get(str(edge["destination"]))
            if origin is None or destination is None:
                continue  # an edge to a node the answer leaves out (beyond its depth)
            said, indirect = _edge_label(edge)
            edges.setdefault(
                (origin, destination, said), _Edge(origin, destination, said, indirect)
            )
    return _Diagram(tuple(nodes), tuple(edges.values()), tuple(groups))


def _control(ch: str) -> bool:
    """A control character or line separator, which would break a diagram's line."""
    return ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029"


# Mermaid


def _mermaid_text(text: str) -> str:
    """`text` for a quoted Mermaid label: entity codes for what Mermaid would read."""
    out = []
    for ch in text:
        if ch == "\n":
            out.append("<br>")
        elif ch in '"#<>&`|;\\' or _control(ch):
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def _mermaid(diagram: _Diagram) -> str:
    lines = ["flowchart LR"]

    def shape(node: _Node) -> str:
        text = f'"{_mermaid_text(node.label)}"'
        return f"{node.key}({text})" if node.kind == "job" else f"{node.key}[{text}]"

    for index, group in enumerate(diagram.groups):
        lines.append(f'  subgraph g{index}["{_mermaid_text(group)}"]')
        lines += [f"    {shape(n)}" for n in diagram.nodes if n.group == group]
        lines.append("  end")
    lines += [f"  {shape(n)}" for n in diagram.nodes if n.group is None]
    for edge in diagram.edges:
        arrow = "-.->" if edge.indirect else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {edge.origin} {arrow}{label} {edge.destination}")
    jobs = [n.key for n in diagram.nodes if n.kind == "job"]
    if jobs:
        lines.append("  classDef job fill:#f3e8ff,stroke:#7c3aed")
        lines.append(f"  class {','.join(jobs)} job")
    return "\n".join(lines) + "\n"


# Graphviz DOT


def _dot_text(text: str) -> str:
    """`text` as a DOT quoted string: backslashes and quotes escaped, lines as `\\n`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = "".join(" " if _control(ch) and ch != "\n" else ch for ch in escaped)
    return '"' + escaped.replace("\n", "\\n") + '"'


def _dot(diagram: _Diagram) -> str:
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", shape=box];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]

    def statement(node: _Node) -> str:
        style = ', style="rounded,filled", fillcolor="#f3e8ff"' if node.kind == "job" else ""
        return f"{node.key} [label={_dot_text(node.label)}{style}];"

    for index, group in enumerate(diagram.groups):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={_dot_text(group)};")
        lines += [f"    {statement(n)}" for n in diagram.nodes if n.group == group]
        lines.append("  }")
    lines += [f"  {statement(n)}" for n in diagram.nodes if n.group is None]
    for edge in diagram.edges:
        attributes = []
        if edge.label:
            attributes.append(f"label={_dot_text(edge.label)}")
        if edge.indirect:
            attributes.append("style=dashed")
        suffix = f" [{', '.join(attributes)}]" if attributes else ""
        lines.append(f"  {edge.origin} -> {edge.destination}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
