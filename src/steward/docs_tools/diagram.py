"""`docs/architecture/architecture.svg`, drawn from `docs/architecture/layers.yaml`.

No Graphviz: the layout is a fixed grid (a band per layer, its boxes side by side), so
the SVG is plain text that changes only when the source does, and a test can compare the
committed drawing with a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import yaml

SOURCE = Path("docs/architecture/layers.yaml")
DRAWING = Path("docs/architecture/architecture.svg")

WIDTH = 1000
LABEL_WIDTH = 150  # the band's name and what it is, left of its boxes
MARGIN = 12
GAP = 10  # between boxes
BOX_HEIGHT = 70
BAND_GAP = 26  # room for the arrow between two bands
CHAR_WIDTH = 6.2  # of the 11 px caption font, to wrap captions by words
TITLE_HEIGHT = 36


@dataclass(frozen=True)
class Box:
    """One package (or an outside system) in a band."""

    name: str
    what: str


@dataclass(frozen=True)
class Band:
    """A layer of Steward, or what is outside it (drawn dashed)."""

    name: str
    what: str
    boxes: tuple[Box, ...]
    outside: bool = False


def load_bands(source: str) -> tuple[str, tuple[Band, ...]]:
    """The title and bands of a layers YAML text."""
    data: dict[str, Any] = yaml.safe_load(source)
    bands = tuple(
        Band(
            name=str(band["name"]),
            what=str(band.get("what", "")),
            boxes=tuple(Box(str(b["name"]), str(b.get("what", ""))) for b in band["boxes"]),
            outside=bool(band.get("outside", False)),
        )
        for band in data["bands"]
    )
    return str(data.get("title", "")), bands


def packages(bands: tuple[Band, ...]) -> list[str]:
    """Names of Steward's own packages and modules, in the bands' order (outside excluded)."""
    return [box.name for band in bands if not band.outside for box in band.boxes]


def draw(source: str) -> str:
    """The SVG for a layers YAML text."""
    title, bands = load_bands(source)
    parts: list[str] = []
    y = TITLE_HEIGHT
    for index, band in enumerate(bands):
        if index:
            parts.append(_arrow(y - BAND_GAP + 4, y - 4, band.outside))
        parts.extend(_band(band, y))
        y += BOX_HEIGHT + BAND_GAP
    height = y - BAND_GAP + MARGIN
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{escape(title)}">\n'
        f"<title>{escape(title)}</title>\n"
        "<style>\n"
        "  text { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; fill: #1f2328; }\n"
        "  .name { font-size: 13px; font-weight: 600; }\n"
        "  .what { font-size: 11px; fill: #57606a; }\n"
        "  .band { font-size: 14px; font-weight: 700; }\n"
        "  .inside { fill: #ddf4ff; stroke: #0969da; }\n"
        "  .outside { fill: #f6f8fa; stroke: #8c959f; stroke-dasharray: 5 3; }\n"
        "  .arrow { stroke: #57606a; stroke-width: 1.5; fill: none; }\n"
        "</style>\n"
        '<rect width="100%" height="100%" fill="#ffffff"/>\n'
        f'<text class="band" x="{MARGIN}" y="22">{escape(title)}</text>\n'
    )
    return head + "\n".join(parts) + "\n</svg>\n"


def _band(band: Band, y: int) -> list[str]:
    parts = [f'<text class="band" x="{MARGIN}" y="{y + 24}">{escape(band.name)}</text>']
    parts.extend(
        f'<text class="what" x="{MARGIN}" y="{y + 40 + 13 * i}">{escape(line)}</text>'
        for i, line in enumerate(_wrap(band.what, LABEL_WIDTH - MARGIN))
    )
    count = len(band.boxes)
    left = LABEL_WIDTH
    width = (WIDTH - left - MARGIN - GAP * (count - 1)) / count
    kind = "outside" if band.outside else "inside"
    for i, box in enumerate(band.boxes):
        x = left + i * (width + GAP)
        parts.append(
            f'<rect class="{kind}" x="{x:.1f}" y="{y}" width="{width:.1f}" '
            f'height="{BOX_HEIGHT}" rx="6"/>'
        )
        centre = x + width / 2
        parts.append(
            f'<text class="name" x="{centre:.1f}" y="{y + 20}" text-anchor="middle">'
            f"{escape(box.name)}</text>"
        )
        for j, line in enumerate(_wrap(box.what, width - 8)[:3]):
            parts.append(
                f'<text class="what" x="{centre:.1f}" y="{y + 36 + 12 * j}" '
                f'text-anchor="middle">{escape(line)}</text>'
            )
    return parts


def _arrow(top: int, bottom: int, dashed: bool) -> str:
    x = LABEL_WIDTH + (WIDTH - LABEL_WIDTH - MARGIN) / 2
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<path class="arrow"{dash} d="M {x:.1f} {top} L {x:.1f} {bottom}"/>'
        f'<path class="arrow" d="M {x - 5:.1f} {bottom - 6} L {x:.1f} {bottom} '
        f'L {x + 5:.1f} {bottom - 6}"/>'
    )


def _wrap(text: str, width: float) -> list[str]:
    """Words of `text` in lines of at most `width` pixels of the caption font."""
    limit = max(int(width / CHAR_WIDTH), 8)
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= limit:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines
