"""``vhostmc check --dump-graph``: the state graph the explicit search explored, as files.

Like TLC's ``-dump dot``: every numbered state and every recorded
transition, with the states where a checked property is false marked, as
``state-graph.dot``, ``.graphml`` and ``.json`` (node-link), plus pictures
(``.svg``/``.png``, as ``--pictures`` asks) when the graph has at most
:data:`MAX_PICTURE_STATES` states: a bigger drawing is unreadable and slow,
so it is skipped and :attr:`StateGraphDump.note` says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from checker.engines.stategraph import StateGraph
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.outputs.files import write_atomic
from checker.outputs.graphs import explored_graph, to_dot, to_graphml, to_json, violating_states

STEM = "state-graph"
MAX_PICTURE_STATES = 400
"""Largest explored graph that is drawn (its text files are always written)."""


@dataclass
class StateGraphDump:
    """What :func:`write_state_graph` wrote."""

    states: int
    violating: int
    """States in which some property is false."""
    files: dict[str, str] = field(default_factory=dict)
    """``{format: path}``: ``dot``, ``graphml``, ``json``, and ``svg``/``png`` if drawn."""
    note: str | None = None
    """Why a picture asked for was not drawn, for stderr."""


def write_state_graph(
    model: Model, graph: StateGraph, properties: Sequence[Property], out_dir: Path,
    pictures: Sequence[str] = ("svg",),
) -> StateGraphDump:
    """Write ``graph`` into ``out_dir`` as ``state-graph.*`` (each file atomically).

    ``properties`` decide the violating states (evaluated on every state);
    ``pictures`` lists the picture formats wanted (``svg``, ``png``).
    """
    violations = violating_states(model, graph, properties)
    g = explored_graph(model, graph, violations)
    dump = StateGraphDump(len(graph), len(violations))
    for fmt, text in (("dot", to_dot(g)), ("graphml", to_graphml(g)), ("json", to_json(g))):
        dump.files[fmt] = _write(out_dir, fmt, text)
    if not pictures:
        return dump
    if len(graph) > MAX_PICTURE_STATES:
        dump.note = (f"{STEM} picture skipped: {len(graph)} states is more than "
                     f"{MAX_PICTURE_STATES} to draw; open {dump.files['dot']} with Graphviz "
                     f"or {dump.files['graphml']} with a graph viewer instead")
        return dump
    from checker.outputs.pictures import explored_picture  # matplotlib: only when drawing

    for fmt in pictures:
        dump.files[fmt] = _write(out_dir, fmt, explored_picture(g, fmt))  # type: ignore[arg-type]
    return dump


def _write(out_dir: Path, fmt: str, data: str | bytes) -> str:
    path = out_dir / f"{STEM}.{fmt}"
    write_atomic(path, data)
    return str(path)
