"""A counterexample as a message sequence chart (as SPIN draws one), with one lane per actor.

:func:`sequence_chart` turns a :class:`checker.traces.trace.Trace` into plain data:
one lane per actor (in the model's order), one row per step (who moves,
the action, the kernel function, the patch statement, the watched variables
that changed) and the interactions between actors the step's data changes
show, as arrows.  The interactions, the watched variables and the lane
titles are the model's (``model.presentation``,
:class:`checker.lang.presentation.Presentation`): the one table that says
which change of which variable is a message from whom to whom; a rule whose
variable a revision lacks is skipped, so the chart works for any model (a
model that declares none gets rows and no arrows, and rows list every change).
:func:`render_chart` draws the chart as SVG or PNG with matplotlib.
"""

from __future__ import annotations

import builtins
import textwrap
from dataclasses import dataclass, field
from typing import Any

from checker.lang.model import Model
from checker.lang.presentation import InteractionRule, format_value
from checker.outputs.pictures import (
    CYCLE_COLOUR,
    VIOLATION_COLOUR,
    PictureFormat,
    actor_colour,
    figure_bytes,
    inch_axes,
)
from checker.traces.trace import Step, Trace, shorten

CODE_WIDTH = 90


@dataclass(frozen=True)
class Arrow:
    """An interaction: a message from lane ``source`` to lane ``target``."""

    source: str
    target: str
    label: str
    variables: tuple[str, ...]
    """The changed variables (elements) that show it."""


@dataclass(frozen=True)
class Row:
    """One step of the trace."""

    step: int
    actor: str
    action: str
    function: str
    code: str
    changes: tuple[str, ...]
    """The watched variables that changed, as ``"name: a -> b"``."""
    arrows: tuple[Arrow, ...]
    in_cycle: bool = False


@dataclass
class SequenceChart:
    """A trace as lanes and rows; plain data, drawn by :func:`render_chart`."""

    revision: str
    property: str
    lanes: tuple[str, ...]
    rows: list[Row]
    explanation: str = ""
    loop: int | None = None
    """For a lasso: rows of steps ``loop + 1 ..`` repeat forever."""
    lane_titles: dict[str, str] = field(default_factory=dict)
    """A title per lane (the model's; default: the actor's name)."""

    @builtins.property
    def cycle_text(self) -> str | None:
        """What the lasso repeats, in words (``None`` for a finite counterexample)."""
        if self.loop is None:
            return None
        n = len(self.rows)
        if self.loop >= n:
            return f"cycle: the run stays in the state after step {n} forever"
        return f"cycle: steps {self.loop + 1}..{n} repeat forever"


def sequence_chart(model: Model, trace: Trace) -> SequenceChart:
    """The chart of ``trace`` on ``model``: see the module docstring."""
    shown = model.presentation
    rules = [r for r in shown.interactions if r.variable in model.var_index
             and r.target in model.actors]
    watched = {v for v in shown.watched if v in model.var_index} or set(model.var_index)
    rows = [_row(step, rules, watched, trace.loop) for step in trace.steps]
    return SequenceChart(trace.revision, trace.property, tuple(model.actors), rows,
                         trace.explanation, trace.loop, dict(shown.lane_titles))


def _row(step: Step, rules: list[InteractionRule], watched: set[str], loop: int | None) -> Row:
    arrows: dict[str, tuple[list[str], list[str]]] = {}
    for rule in rules:  # in table order: the order of labels merged into one arrow
        for name, old, new in step.changes:
            if _base(name) == rule.variable and rule.matches(step.actor, old, new):
                labels, names = arrows.setdefault(rule.target, ([], []))
                if rule.label not in labels:
                    labels.append(rule.label)
                names.append(name)
    changes = tuple(f"{n}: {format_value(a)} -> {format_value(b)}"
                    for n, a, b in step.changes if _base(n) in watched)
    return Row(step.index, step.actor, step.label, step.function,
               shorten(step.code, CODE_WIDTH), changes,
               tuple(Arrow(step.actor, target, " + ".join(labels), tuple(names))
                     for target, (labels, names) in arrows.items()),
               loop is not None and step.index > loop)


def _base(name: str) -> str:
    """``a[2]`` -> ``a``."""
    return name.split("[", 1)[0]


# -- drawing -------------------------------------------------------------------

LANE_WIDTH = 1.9
ROW_HEIGHT = 0.55
TEXT_WIDTH = 6.4
STEP_COLUMN = 0.9


def render_chart(chart: SequenceChart, fmt: PictureFormat) -> bytes:
    """The chart as SVG (byte-identical from run to run) or PNG; height grows with the rows."""
    lanes = chart.lanes
    x_of = {lane: STEP_COLUMN + (k + 0.5) * LANE_WIDTH for k, lane in enumerate(lanes)}
    text_x = STEP_COLUMN + len(lanes) * LANE_WIDTH + 0.2
    width = text_x + TEXT_WIDTH
    footer = _footer(chart)
    top, first = -0.35, -1.25  # title line, then the lane headers; rows start at ``first``
    bottom = first - len(chart.rows) * ROW_HEIGHT
    height = -bottom + 0.3 + 0.14 * footer.count("\n") + 0.4
    fig, ax = inch_axes(width, height, 0.0, 0.0)
    ax.text(0.15, top + 0.2, f"sequence chart: {chart.property} on revision {chart.revision} "
            f"({len(chart.rows)} steps)", fontsize=10, fontweight="bold", va="top")
    for lane in lanes:
        colour = actor_colour(lane, lanes)
        ax.plot([x_of[lane]] * 2, [first + 0.25, bottom], color=colour, linewidth=0.8,
                linestyle=(0, (4, 3)), zorder=1)
        ax.text(x_of[lane], first + 0.45, chart.lane_titles.get(lane, lane), fontsize=8,
                ha="center", va="center", color="white", fontweight="bold", zorder=3,
                bbox={"boxstyle": "round,pad=0.35", "facecolor": colour, "edgecolor": colour})
    ax.text(text_x, first + 0.45, "kernel function: patch code / watched variables changed",
            fontsize=7, va="center", color="#444444")
    for k, row in enumerate(chart.rows):
        _draw_row(ax, row, first - (k + 0.5) * ROW_HEIGHT, x_of, text_x, lanes)
    if chart.loop is not None and chart.loop < len(chart.rows):
        _draw_cycle(ax, chart, first, width)
    colour = CYCLE_COLOUR if chart.loop is not None and not chart.explanation else VIOLATION_COLOUR
    ax.text(0.15, bottom - 0.2, footer, fontsize=7.5, va="top", color=colour)
    return figure_bytes(fig, fmt)


def _footer(chart: SequenceChart) -> str:
    lines = []
    if chart.cycle_text is not None:
        lines.append(chart.cycle_text)
    if chart.explanation:
        lines += textwrap.wrap(f"=> {chart.explanation}", 150)
    return "\n".join(lines)


def _draw_row(ax: Any, row: Row, y: float, x_of: dict[str, float], text_x: float,
              lanes: tuple[str, ...]) -> None:
    colour = actor_colour(row.actor, lanes)
    ax.text(0.2, y + 0.09, f"{row.step}.", fontsize=7.5, ha="left", va="center", color="#333333")
    ax.text(x_of[row.actor], y + 0.09, textwrap.fill(row.action, 28), fontsize=6.5,
            ha="center", va="center", zorder=4,
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": colour})
    for k, arrow in enumerate(row.arrows):
        ya = y - 0.12 - 0.1 * k
        xa, xb = x_of[arrow.source], x_of[arrow.target]
        ax.annotate("", xy=(xb, ya), xytext=(xa, ya), zorder=3,
                    arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.0,
                                "shrinkA": 0, "shrinkB": 2})
        ax.text((xa + xb) / 2, ya - 0.01, arrow.label, fontsize=6, ha="center", va="top",
                color=colour, zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.3})
    changed = ", ".join(row.changes) if row.changes else "(no watched variable changed)"
    ax.text(text_x, y + 0.08, shorten(f"{row.function}: {row.code}", 120), fontsize=6,
            va="center", color="#333333")
    ax.text(text_x, y - 0.1, shorten(changed, 125), fontsize=6, va="center",
            color="#000000" if row.changes else "#888888", family="monospace")


def _draw_cycle(ax: Any, chart: SequenceChart, first: float, width: float) -> None:
    """Shade the rows that repeat and bracket them on the left with the cycle's label."""
    assert chart.loop is not None
    y_top = first - chart.loop * ROW_HEIGHT
    y_bottom = first - len(chart.rows) * ROW_HEIGHT
    ax.fill_between([0.05, width - 0.05], y_bottom, y_top, color=CYCLE_COLOUR, alpha=0.08,
                    linewidth=0, zorder=0)
    ax.plot([0.12, 0.08, 0.08, 0.12], [y_top, y_top, y_bottom, y_bottom], color=CYCLE_COLOUR,
            linewidth=1.5, zorder=2)
    ax.text(STEP_COLUMN - 0.1, y_top - 0.02, f"↻ {chart.cycle_text}", fontsize=6.5,
            ha="left", va="bottom", color=CYCLE_COLOUR, fontweight="bold", zorder=4)

