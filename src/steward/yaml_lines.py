"""Line numbers in YAML files people write (policies, checks): errors say where.

A file is composed to YAML nodes (which carry their marks) besides being loaded; a
place in the loaded data, as a path of keys and indexes, is found back in the nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml


def find_node(node: yaml.Node | None, loc: Sequence[Any]) -> yaml.Node | None:
    """The node at path `loc` (mapping keys and sequence indexes), if it exists."""
    for step in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            node = node.value[step] if step < len(node.value) else None
        else:
            return None
    return node


def line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int:
    """The line (1-based) of the deepest node on path `loc` that exists."""
    best = node
    for depth in range(len(loc), -1, -1):
        found = find_node(node, loc[:depth])
        if found is not None:
            best = found
            break
    return best.start_mark.line + 1 if best is not None else 1


class NotYaml(ValueError):
    """Text that is not YAML; `message` is `NAME:LINE: not YAML: why`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def compose(text: str, *, name: str) -> tuple[yaml.Node | None, Any]:
    """`text` as YAML nodes (with their lines) and as data; `NotYaml` names the line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise NotYaml(f"{name}:{line}: not YAML: {exc.problem or exc}") from None
