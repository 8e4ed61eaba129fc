"""The queries-per-user-per-day chart as SVG geometry: stacked bars, one colour per user.

Pure layout (numbers in, rectangles out) so the template only draws; the same numbers
are shown as a table beside the chart for screen readers and for reading exact values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from steward.audit.dashboard import DailyCount

# Eight colours that stay apart for the common colour-vision deficiencies (Okabe-Ito,
# with black replaced by grey), each dark enough against white for a 3:1 contrast.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7f7f7f", "#b8860b")
OTHERS = "others"
WIDTH, HEIGHT = 900, 260
LEFT, BOTTOM, TOP = 48, 40, 12


@dataclass(frozen=True)
class Bar:
    """One user's part of one day's bar."""

    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Tick:
    """A value on the vertical axis, or a day under the bars."""

    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    """Everything the template draws."""

    width: int
    height: int
    bars: list[Bar]
    value_ticks: list[Tick]
    day_ticks: list[Tick]
    legend: list[tuple[str, str]]
    baseline: float
    left: float
    summary: str


def _step(peak: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        if peak / step <= 5:
            return step
    return max(1, peak // 5)


def chart(counts: list[DailyCount]) -> Chart:
    """Stacked bars: a day per bar, a user per segment; the busiest users get a colour
    each, the rest share one (`others`)."""
    per_user: dict[str, int] = defaultdict(int)
    for c in counts:
        per_user[c.user or "(no user)"] += c.queries
    ranked = sorted(per_user, key=lambda u: (-per_user[u], u))
    coloured = ranked[: len(PALETTE) - 1] if len(ranked) > len(PALETTE) else ranked
    colours = {user: PALETTE[i] for i, user in enumerate(coloured)}
    legend = [(colours[u], u) for u in coloured]
    if len(ranked) > len(coloured):
        legend.append((PALETTE[-1], OTHERS))
    days = sorted({c.day for c in counts})
    stacks: dict[str, dict[str, int]] = {day: defaultdict(int) for day in days}
    for c in counts:
        user = c.user or "(no user)"
        stacks[c.day][user if user in colours else OTHERS] += c.queries
    peak = max((sum(s.values()) for s in stacks.values()), default=0)
    step = _step(max(peak, 1))
    top = max(step, -(-peak // step) * step)
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(days), 1)
    bar_w = max(2.0, min(48.0, slot * 0.7))
    baseline = TOP + plot_h
    bars: list[Bar] = []
    day_ticks: list[Tick] = []
    every = max(1, len(days) // 12)
    for i, day in enumerate(days):
        x = LEFT + i * slot + (slot - bar_w) / 2
        y: float = baseline
        order = [u for u in coloured if u in stacks[day]]
        if OTHERS in stacks[day]:
            order.append(OTHERS)
        for user in order:
            value = stacks[day][user]
            h = plot_h * value / top
            y -= h
            colour = colours.get(user, PALETTE[-1])
            bars.append(Bar(x, y, bar_w, h, colour, f"{day}: {user}, {value} queries"))
        if i % every == 0:
            day_ticks.append(Tick(x + bar_w / 2, baseline + 16, day[5:]))
    value_ticks = [
        Tick(LEFT - 6, baseline - plot_h * v / top, str(v)) for v in range(0, top + 1, step)
    ]
    total = sum(per_user.values())
    summary = (
        f"{total} queries by {len(per_user)} users over {len(days)} days"
        if days
        else "no queries in this window"
    )
    return Chart(WIDTH, HEIGHT, bars, value_ticks, day_ticks, legend, baseline, LEFT, summary)
