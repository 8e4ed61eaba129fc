"""Reading lineage diagrams back as a reader would: DOT with pydot, Mermaid's structure."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pydot

_MERMAID_NODE = re.compile(r'(n\d+)(\["[^"]*"\]|\("[^"]*"\))')
_MERMAID_EDGE = re.compile(r'(n\d+) (-->|-\.->)(\|"[^"]*"\|)? (n\d+)')
_MERMAID_OTHER = re.compile(r'subgraph g\d+\["[^"]*"\]|end|classDef job .*|class [n\d,]+ job')


def parse_dot(text: str) -> Any:
    """`text` parsed by pydot (Graphviz's grammar), failing on anything it cannot read."""
    with warnings.catch_warnings():
        # pydot 4.0 still calls pyparsing 3.3's deprecated camelCase names.
        warnings.simplefilter("ignore", DeprecationWarning)
        parsed = pydot.graph_from_dot_data(text)
    assert parsed is not None
    assert len(parsed) == 1
    return parsed[0]


def dot_nodes(graph: Any) -> list[Any]:
    """The nodes of a parsed DOT graph and its clusters (not the `node` defaults)."""
    return [
        n
        for g in [graph, *graph.get_subgraphs()]
        for n in g.get_nodes()
        if n.get_name() not in ("node", "edge", "graph")
    ]


def mermaid_structure(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The node ids a `flowchart LR` declares and the edges it draws; any other line fails."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    declared: list[str] = []
    edges: list[tuple[str, str]] = []
    for line in (raw.strip() for raw in lines[1:]):
        if node := _MERMAID_NODE.fullmatch(line):
            declared.append(node[1])
        elif edge := _MERMAID_EDGE.fullmatch(line):
            edges.append((edge[1], edge[4]))
        else:
            assert _MERMAID_OTHER.fullmatch(line), line
    return declared, edges
