"""Files a run writes: traces (ITF, DOT, GraphML, text) and the result document.

Every file is written atomically: to a temporary file in the same folder,
then renamed over the target, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import networkx as nx

from checker.trace import Trace


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that the file is either old or complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: nx.MultiDiGraph) -> str:
    """A Graphviz DOT rendering of a trace graph: states as boxes, steps as labelled edges."""
    lines = [f"digraph {dot_quote(graph.graph.get('property', 'trace'))} {{",
             "  rankdir=TB;", "  node [shape=box, fontname=monospace, fontsize=9];"]
    for node, data in graph.nodes(data=True):
        label = f"state {node}"
        attrs = ""
        if data.get("violation"):
            label += f"\\nVIOLATION: {data['violation']}"
            attrs = ", color=red, penwidth=2"
        lines.append(f"  {node} [label={dot_quote(label)}{attrs}];")
    for u, v, data in graph.edges(data=True):
        label = f"[{data['actor']}] {data['action']}\n{data['changes']}"
        lines.append(f"  {u} -> {v} [label={dot_quote(label)}, tooltip={dot_quote(data['code'])}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(graph: nx.MultiDiGraph) -> str:
    """GraphML of a trace graph; arrays become JSON strings (GraphML has no lists)."""
    flat = nx.MultiDiGraph(**graph.graph)
    for node, data in graph.nodes(data=True):
        flat.add_node(node, **{k: _scalar(v) for k, v in data.items()})
    for u, v, data in graph.edges(data=True):
        flat.add_edge(u, v, **{k: _scalar(x) for k, x in data.items()})
    return "\n".join(nx.generate_graphml(flat)) + "\n"


def _scalar(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    return value


def trace_stem(trace: Trace) -> str:
    """The file name stem of a trace: ``<revision>-n<ring>-<property>``."""
    ring = trace.params.get("ring_size", "x")
    return f"{trace.revision}-n{ring}-{trace.property}"
