"""Pictures of the graphs of :mod:`checker.outputs.graphs`, drawn with matplotlib alone (no Graphviz).

Each picture is a :class:`matplotlib.figure.Figure` drawn on the Agg/SVG
canvases, never through pyplot, so no global figure state is touched.  The
drawing works in inches: one data unit is one inch of the figure, so text
sizes (points) and node sizes agree at any figure size.  Positions are
computed here: a trace reads left to right by step, wrapping into rows; its
neighbourhood fans each state's alternatives below it; an explored state
graph is drawn in BFS layers by depth.  :func:`figure_bytes` writes SVG
that is byte-identical from run to run (fixed hash salt, no date, text as
text) and PNG.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # matplotlib is imported by the functions that draw: it costs ~1 s
    import networkx as nx
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PictureFormat = Literal["svg", "png"]
PICTURE_FORMATS: tuple[PictureFormat, ...] = ("svg", "png")

ACTOR_COLOURS = {"guest": "#1f77b4", "worker": "#2ca02c", "device": "#9467bd",
                 "control": "#8c564b"}
"""Colour of each actor of the vhost model; other actors take :data:`PALETTE` in order."""
PALETTE = ("#ff7f0e", "#17becf", "#bcbd22", "#e377c2", "#7f7f7f", "#d62728")
VIOLATION_COLOUR = "#d62728"
CYCLE_COLOUR = "#ff7f0e"
OFF_TRACE_COLOUR = "#9a9a9a"
PNG_DPI = 100
MAX_INCHES = 200.0
"""Largest figure side; bigger drawings are scaled down to fit."""

Position = tuple[float, float]


def actor_colour(actor: str, actors: Sequence[str] = ()) -> str:
    """The colour an actor's steps are drawn in (grey for no actor)."""
    if actor in ACTOR_COLOURS:
        return ACTOR_COLOURS[actor]
    others = [a for a in actors if a not in ACTOR_COLOURS]
    if actor in others:
        return PALETTE[others.index(actor) % len(PALETTE)]
    return "#555555"


def figure_bytes(fig: Figure, fmt: PictureFormat) -> bytes:
    """The figure as SVG (deterministic: fixed hash salt, no date, text kept as text) or PNG."""
    if fmt not in PICTURE_FORMATS:
        raise ValueError(f"unknown picture format {fmt!r} (known: svg, png)")
    buf = io.BytesIO()
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": "vhostmc", "svg.fonttype": "none"}):
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None})
            return compact_svg(buf.getvalue().decode("utf-8")).encode("utf-8")
        fig.savefig(buf, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buf.getvalue()


_LONG_DECIMAL = re.compile(r"(\d+\.\d)\d+")
_BETWEEN_TAGS = re.compile(r">\s+<")
_PATH_BREAKS = re.compile(r" ?\n(?=[LMQCz ])")


def compact_svg(svg: str) -> str:
    """Matplotlib's SVG with coordinates rounded to 0.1 pt and layout whitespace removed
    (about half the size; the drawing is the same to the eye)."""
    svg = _LONG_DECIMAL.sub(r"\1", svg)
    svg = _PATH_BREAKS.sub(" ", svg)
    return _BETWEEN_TAGS.sub("><", svg)


def inch_axes(width: float, height: float, x0: float, y_top: float) -> tuple[Figure, Axes]:
    """A figure ``width`` x ``height`` inches whose axes map one data unit to one inch.

    Data x runs from ``x0`` to ``x0 + width``, y from ``y_top - height`` to
    ``y_top``; the axes are invisible.  Sizes beyond :data:`MAX_INCHES` are
    scaled down (the drawing keeps its proportions, text shrinks with it).
    """
    scale = min(1.0, MAX_INCHES / max(width, height))
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * scale, height * scale))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(x0, x0 + width)
    ax.set_ylim(y_top - height, y_top)
    ax.set_axis_off()
    ax.set_autoscale_on(False)  # patches go in with add_artist: no data limits to update
    return fig, ax


# -- layouts -----------------------------------------------------------------


def trace_layout(g: nx.MultiDiGraph, per_row: int = 8, dx: float = 2.0,
                 dy: float = 1.4) -> dict[Any, Position]:
    """Trace node ``i`` in row ``i div per_row``; rows alternate direction (left to right first).

    The snake keeps every step a short arrow: the step from the end of a row
    to the next row goes straight down.
    """
    pos: dict[Any, Position] = {}
    for i in g.nodes:
        if isinstance(i, int):
            row, col = divmod(i, per_row)
            pos[i] = ((col if row % 2 == 0 else per_row - 1 - col) * dx, -row * dy)
    return pos


def neighbourhood_layout(g: nx.MultiDiGraph, per_row: int = 5, dx: float = 2.8,
                         dy: float = 0.42) -> dict[Any, Position]:
    """Trace nodes in bands of ``per_row`` (a snake, as :func:`trace_layout`); each state's
    alternatives below it.

    An off-trace node (``from_state`` = the trace state it was first reached
    from) sits in the column of that state, one ``dy`` below the previous.
    """
    trace_nodes = sorted(n for n, d in g.nodes(data=True) if d.get("on_trace", True)
                         and isinstance(n, int))
    below: dict[int, list[Any]] = {i: [] for i in trace_nodes}
    for node, data in g.nodes(data=True):
        if not data.get("on_trace", True):
            below[data["from_state"]].append(node)
    pos: dict[Any, Position] = {}
    top = 0.0
    for start in range(0, len(trace_nodes), per_row):
        band = trace_nodes[start:start + per_row]
        for k, i in enumerate(band):
            col = k if (start // per_row) % 2 == 0 else per_row - 1 - k
            pos[i] = (col * dx, top)
            for k, node in enumerate(below[i], start=1):
                pos[node] = (col * dx + 0.45, top - 0.3 - k * dy)
        top -= 1.4 + dy * max(len(below[i]) for i in band)
    return pos


def depth_layout(g: nx.MultiDiGraph, dx: float = 0.5, dy: float = 0.8) -> dict[Any, Position]:
    """BFS layers: a node at row ``depth``, the layer's nodes spread and centred by number."""
    layers: dict[int, list[Any]] = {}
    for node, data in g.nodes(data=True):
        layers.setdefault(int(data.get("depth", 0)), []).append(node)
    pos: dict[Any, Position] = {}
    for depth, nodes in layers.items():
        nodes.sort()
        left = -(len(nodes) - 1) * dx / 2
        for k, node in enumerate(nodes):
            pos[node] = (left + k * dx, -depth * dy)
    return pos


# -- drawing -------------------------------------------------------------------


def trace_picture(g: nx.MultiDiGraph, fmt: PictureFormat) -> bytes:
    """:func:`checker.outputs.graphs.trace_graph` drawn left to right, steps labelled with their actions."""
    pos = trace_layout(g)
    fig, ax = _canvas(pos, margin=(1.5, 0.9), title=_title(g, "trace"))
    _draw(ax, g, pos, radius=0.2, edge_font=6.5, label_width=26)
    return figure_bytes(fig, fmt)


def neighbourhood_picture(g: nx.MultiDiGraph, fmt: PictureFormat) -> bytes:
    """:func:`checker.outputs.graphs.neighbourhood_graph` with the alternatives fanned below each state."""
    pos = neighbourhood_layout(g)
    fig, ax = _canvas(pos, margin=(1.9, 0.9), title=_title(g, "trace and its neighbourhood"))
    _draw(ax, g, pos, radius=0.2, edge_font=5.5, label_width=26)
    return figure_bytes(fig, fmt)


def explored_picture(g: nx.MultiDiGraph, fmt: PictureFormat) -> bytes:
    """:func:`checker.outputs.graphs.explored_graph` in BFS layers; edge labels only on small graphs."""
    pos = depth_layout(g)
    fig, ax = _canvas(pos, margin=(0.6, 0.7), title=_title(g, "explored state graph"))
    labels = g.number_of_edges() <= 60
    depth = {n: d.get("depth", 0) for n, d in g.nodes(data=True)}
    _draw(ax, g, pos, radius=0.13, edge_font=4.5 if labels else 0.0, label_width=20,
          node_font=5.0, arc=lambda u, v: depth[v] != depth[u] + 1)
    return figure_bytes(fig, fmt)


def _title(g: nx.MultiDiGraph, what: str) -> str:
    prop = g.graph.get("property", "")
    revision = g.graph.get("revision", "")
    if what == "explored state graph":
        return (f"{what} of revision {revision}: {g.number_of_nodes()} states by BFS depth "
                f"(red: a property is false there; arcs: edges not one layer down)")
    return f"{what}: {prop} on revision {revision}"


def _canvas(pos: dict[Any, Position], margin: tuple[float, float],
            title: str) -> tuple[Figure, Axes]:
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    width = max(xs) - min(xs) + 2 * margin[0]
    height = max(ys) - min(ys) + 2 * margin[1] + 0.3
    fig, ax = inch_axes(width, height, min(xs) - margin[0], max(ys) + margin[1] + 0.3)
    ax.text(min(xs) - margin[0] + 0.15, max(ys) + margin[1] + 0.15, title, fontsize=9,
            va="top", ha="left", fontweight="bold")
    return fig, ax


def _draw(ax: Axes, g: nx.MultiDiGraph, pos: dict[Any, Position], radius: float,
          edge_font: float, label_width: int, node_font: float = 8.0,
          arc: Callable[[Any, Any], bool] | None = None) -> None:
    """Nodes as circles (off-trace ones as dots with their label beside), steps as arrows;
    ``arc(u, v)`` says which edges to bend (beside those :func:`_draw_edge` bends)."""
    actors = sorted({str(d.get("actor", "")) for _, _, d in g.edges(data=True)})
    sizes: dict[Any, float] = {}
    for node, data in g.nodes(data=True):
        if node not in pos:
            continue
        sizes[node] = _draw_node(ax, node, data, pos[node], radius, node_font, label_width)
    seen: dict[tuple[Any, Any], int] = {}
    for u, v, data in g.edges(data=True):
        if u not in pos or v not in pos:
            continue
        k = seen[(u, v)] = seen.get((u, v), -1) + 1
        # an alternative to an off-trace node: the node shows the action instead
        label = "" if g.nodes[v].get("on_trace", True) is False else _edge_label(data)
        bent = k + 1 if arc is not None and arc(u, v) else k
        _draw_edge(ax, pos[u], pos[v], data, (sizes[u], sizes[v]), bent, label, edge_font,
                   label_width, actor_colour(str(data.get("actor", "")), actors))


def _draw_node(ax: Axes, node: Any, data: dict[str, Any], xy: Position, radius: float,
               font: float, width: int) -> float:
    """Draw one node; returns its radius in inches (arrows stop at it)."""
    from matplotlib.patches import Circle

    x, y = xy
    if data.get("on_trace", True) is False:
        r = 0.06
        dotted = bool(data.get("collapsed"))
        ax.add_artist(Circle(xy, r, facecolor="white" if dotted else "#dddddd",
                            edgecolor=OFF_TRACE_COLOUR, linestyle=":" if dotted else "-",
                            zorder=3))
        ax.text(x + 0.12, y, _shorten(str(data.get("label", node)), 34), fontsize=5.5,
                va="center", ha="left", color="#444444", zorder=4)
        return r
    edge = "#333333"
    notes = []
    if data.get("violates"):
        edge = VIOLATION_COLOUR
        notes.append("violates " + ", ".join(map(str, data["violates"])))
    if data.get("cycle_start"):
        edge = CYCLE_COLOUR if not data.get("violates") else edge
        notes.append("cycle starts here")
    face = "#fde0dd" if data.get("violates") else "#e8f1fa"
    ax.add_artist(Circle(xy, radius, facecolor=face, edgecolor=edge,
                        linewidth=2.0 if notes else 0.8, zorder=3))
    ax.text(x, y, str(node), fontsize=font, ha="center", va="center", zorder=4)
    if notes and radius >= 0.2:  # small nodes: the colour alone says it
        text = "\n".join(textwrap.fill(n, width) for n in notes)
        # below and to the left: above is a lasso's self-loop, below right a neighbourhood fan
        ax.text(x + 0.1, y - radius - 0.06, text, fontsize=6, ha="right", va="top",
                color=edge, zorder=4)
    return radius


def _draw_edge(ax: Axes, a: Position, b: Position, data: dict[str, Any],
               radii: tuple[float, float], k: int, label: str, font: float, width: int,
               colour: str) -> None:
    """One arrow ``a -> b``, the ``k``-th between them, bent so parallels stay apart.

    Straight when it is the first between them; a back edge, a parallel edge
    and an alternative along a row of trace states are arcs.
    """
    from matplotlib.patches import FancyArrowPatch

    ra, rb = radii
    off = data.get("on_trace", True) is False
    back = bool(data.get("back"))
    style = "--" if off or back else "-"
    colour = CYCLE_COLOUR if back else (OFF_TRACE_COLOUR if off else colour)
    if a == b:
        _self_loop(ax, a, ra, colour, style, label, font, width)
        return
    dxy = (b[0] - a[0], b[1] - a[1])
    straight = not back and k == 0 and not (off and abs(dxy[1]) < 1e-9)
    rad = 0.0 if straight else -0.25 + 0.12 * k
    if back:  # bend below the row, sagging about half an inch however long the edge
        rad = math.copysign(min(0.3, 0.9 / math.hypot(*dxy)), dxy[0] or 1.0)
    ax.add_artist(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=8, linestyle=style,
                                 color=colour, linewidth=0.8,
                                 connectionstyle=f"arc3,rad={rad}", shrinkA=ra * 72 + 1,
                                 shrinkB=rb * 72 + 1, zorder=2))
    if not font or not label:
        return
    mx = (a[0] + b[0]) / 2 + rad * dxy[1] / 2
    my = (a[1] + b[1]) / 2 - rad * dxy[0] / 2
    if straight and abs(dxy[0]) < 1e-9:  # straight down: label left of the arrow
        ax.text(mx - 0.08, my, _fit(label, width), fontsize=font, ha="right",
                va="center", color=colour, zorder=4)
        return
    ax.text(mx, my + (0.06 if straight else 0.0), _fit(label, width), fontsize=font,
            ha="center", va="bottom" if straight else "center", color=colour, zorder=4)


def _self_loop(ax: Axes, xy: Position, r: float, colour: str, style: str, label: str,
               font: float, width: int) -> None:
    from matplotlib.patches import FancyArrowPatch

    x, y = xy
    a, b = (x - r * 0.7, y + r * 0.7), (x + r * 0.7, y + r * 0.7)
    ax.add_artist(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=7, linestyle=style,
                                 color=colour, linewidth=0.8, connectionstyle="arc3,rad=-1.8",
                                 zorder=2))
    if font and label:
        ax.text(x, y + r + 0.55 * r * math.pi, _fit(label, width), fontsize=font,
                ha="center", va="bottom", color=colour, zorder=4)


def _edge_label(data: dict[str, Any]) -> str:
    actor = data.get("actor")
    action = str(data.get("action", ""))
    return f"[{actor}] {action}" if actor else action


def _fit(label: str, width: int) -> str:
    """``label`` in lines of about ``width``: "[actor]" on a line of its own if need be,
    and an action label (``guest_post(h=0, large=1)``) never broken."""
    if len(label) <= width:
        return label
    if label.startswith("[") and "] " in label:
        actor, action = label.split("] ", 1)
        return f"{actor}]\n{action}"
    return textwrap.fill(label, width)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
