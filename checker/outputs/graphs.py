"""networkx graphs of a counterexample and of the explored state space, as text files.

Three graphs, all :class:`networkx.MultiDiGraph` with the same conventions
(every node has a short ``label``; every edge is a step with ``actor`` and
``action``, the action instance's label):

* :func:`trace_graph`: the counterexample itself, node ``i`` the state after
  step ``i``; a lasso's back edge is marked ``back=True``.
* :func:`neighbourhood_graph`: the trace with the other steps enabled in each
  of its states, leading off the trace (``on_trace=False``) or back to it.
* :func:`explored_graph`: every state the explicit search numbered, with the
  states violating a property marked (``vhostmc check --dump-graph``).

:func:`to_dot`, :func:`to_graphml` and :func:`to_json` write any of them;
:mod:`checker.outputs.pictures` draws them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # networkx is imported by the functions that build graphs (~0.5 s)
    import networkx as nx

from checker.engines.stategraph import StateGraph
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.semantics.canon import canonicalizer
from checker.semantics.compiledprops import invariant_checks
from checker.semantics.states import changed, compiles, expand, successors
from checker.traces.trace import Step, Trace


def trace_graph(model: Model, trace: Trace) -> nx.MultiDiGraph:
    """The trace as a graph: nodes are states, edges are steps.

    Node ``i`` is the state after step ``i`` (0 is the initial state), with
    every variable as an attribute and ``label`` "state i"; the last node
    carries ``violation`` (the explanation) and ``violates`` ([property]).
    Edge ``i-1 -> i`` carries step ``i``'s ``actor``, ``action`` (its label),
    ``function``, ``code`` and ``changes`` ("name: a -> b; ...").  For a
    lasso (``trace.loop`` set: the last state is state ``loop`` again, and
    the steps after ``loop`` repeat forever) node ``loop`` gets
    ``cycle_start=True`` and a step-less back edge ``n -> loop`` with
    ``back=True`` closes the cycle (a self-loop when ``loop == n``: the run
    stays there).
    """
    import networkx as nx

    g = nx.MultiDiGraph(revision=trace.revision, property=trace.property)
    for i, state in enumerate(trace.states):
        g.add_node(i, **_values(model, state), label=f"state {i}")
    for step in trace.steps:
        g.add_edge(step.index - 1, step.index, **_step_attrs(step))
    last = len(trace.steps)
    g.nodes[last]["violation"] = trace.explanation
    g.nodes[last]["violates"] = [trace.property]
    if trace.loop is not None:
        g.nodes[trace.loop]["cycle_start"] = True
        g.add_edge(last, trace.loop, **_back_edge_attrs(model, trace), back=True)
    return g


def neighbourhood_graph(model: Model, trace: Trace, max_alternatives: int = 6) -> nx.MultiDiGraph:
    """The trace inside its neighbourhood of the state graph.

    The trace's nodes and edges are :func:`trace_graph`'s, with
    ``on_trace=True``.  In each trace state every other enabled action
    instance (in :func:`checker.semantics.states.expand` order) is an alternative edge
    (``on_trace=False``): to the trace node of its successor when that is a
    trace state (its first position after state ``i``, else its last one), otherwise
    to an off-trace node (``on_trace=False``, labelled with the action that
    first reached it; one node per distinct state).  When a state has more
    than ``max_alternatives`` alternatives, the rest go to one node
    ``"+N more"`` with ``collapsed=N``.  For a trace of a reduced run the
    successors are canonical, as the trace's states are.
    """
    g = trace_graph(model, trace)
    for _, data in g.nodes(data=True):
        data["on_trace"] = True
    for _, _, data in g.edges(data=True):
        data["on_trace"] = True
    states = trace.states
    positions: dict[State, list[int]] = {}
    for i, state in enumerate(states):
        positions.setdefault(state, []).append(i)
    off_trace: dict[State, str] = {}
    canon = canonicalizer(model) if trace.reduced else None
    for i, state in enumerate(states):
        alternatives, hidden = _alternatives(model, state, _taken_labels(g, i),
                                             max_alternatives)
        for inst, nxt in alternatives:
            nxt = nxt if canon is None else canon(nxt)
            attrs = _instance_attrs(model, inst, state, nxt)
            if nxt in positions:
                target: int | str = _nearest_after(positions[nxt], i)
            elif nxt in off_trace:
                target = off_trace[nxt]
            else:
                target = off_trace[nxt] = f"s{i}.{len(off_trace)}"
                g.add_node(target, **_values(model, nxt), label=inst.label, on_trace=False,
                           from_state=i)
            g.add_edge(i, target, **attrs, on_trace=False)
        if hidden > 0:
            more = f"more{i}"
            g.add_node(more, label=f"+{hidden} more", on_trace=False, collapsed=hidden,
                       from_state=i)
            g.add_edge(i, more, actor="", action=f"{hidden} more actions", on_trace=False,
                       collapsed=hidden)
    return g


def _alternatives(model: Model, state: State, taken: set[str], keep: int,
                  ) -> tuple[list[tuple[ActionInstance, State]], int]:
    """The first ``keep`` enabled instances of ``state`` not in ``taken``, with their
    successors, and how many more there are. Only the kept successors are held: a
    model too large to compile is fired one instance at a time (at ring size 32768 a
    whole expansion holds 65 536 successors of about 200 000 scalars each, and the
    neighbourhood of a 15-step trace took the machine's 24 GB)."""
    kept: list[tuple[ActionInstance, State]] = []
    more = 0
    found = expand(model, state).successors if compiles(model) else successors(model, state)
    for inst, nxt in found:
        if inst.label in taken:
            continue
        if len(kept) < keep:
            kept.append((inst, nxt))
        else:
            more += 1
    return kept, more


def explored_graph(
    model: Model, graph: StateGraph, violations: dict[int, list[str]]
) -> nx.MultiDiGraph:
    """The whole explored state graph (like TLC's ``-dump dot``).

    Node ``i`` is state number ``i`` of ``graph`` with its ``depth``,
    ``expanded`` (whether its successors are recorded), every variable, and a
    ``label`` showing the state number and the model's ``presentation.key_variables``; states in
    ``violations`` carry ``violates`` (the property names).  Each recorded
    transition is an edge with ``actor`` and ``action``.
    """
    import networkx as nx

    g = nx.MultiDiGraph(revision=model.name, property="state-graph")
    keys = [v for v in model.presentation.key_variables if v in model.var_index] or [
        v.name for v in model.vars[:4]]
    for i, state in enumerate(graph.states):
        values = _values(model, state)
        shown = " ".join(f"{k}={_text(values[k])}" for k in keys)
        g.add_node(i, **values, depth=graph.depth[i], expanded=graph.is_expanded(i),
                   label=f"#{i} (depth {graph.depth[i]})\n{shown}")
        if i in violations:
            g.nodes[i]["violates"] = list(violations[i])
    for i in range(len(graph.states)):
        for k, j in graph.edges(i):
            inst = model.instances[k]
            g.add_edge(i, j, actor=inst.spec.actor, action=inst.label)
    return g


def violating_states(
    model: Model, graph: StateGraph, properties: Sequence[Property]
) -> dict[int, list[str]]:
    """``{state number: [names of the properties false in it]}`` over ``graph``'s states."""
    out: dict[int, list[str]] = {}
    checks = list(zip(properties, invariant_checks(model, properties).checks))
    for i, state in enumerate(graph.states):
        enabled = expand(model, state).enabled_actors
        names = [p.name for p, check in checks if not check(state, enabled)]
        if names:
            out[i] = names
    return out


# -- writers -----------------------------------------------------------------


def dot_quote(text: str) -> str:
    """``text`` as a DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: nx.MultiDiGraph) -> str:
    """Graphviz DOT of any graph of this module: nodes as boxes, steps as labelled edges.

    Violating nodes are red, a lasso's cycle start orange, off-trace nodes
    and alternative edges grey and dashed, a collapsed node dotted, a back
    edge dashed orange; an edge's tooltip is its patch code.
    """
    lines = [f"digraph {dot_quote(str(graph.graph.get('property', 'trace')))} {{",
             "  rankdir=TB;", "  node [shape=box, fontname=monospace, fontsize=9];"]
    for node, data in graph.nodes(data=True):
        label = str(data.get("label", node))
        style = []
        if data.get("violation"):
            label += f"\nVIOLATION: {data['violation']}"
        if data.get("violates"):
            style.append("color=red, penwidth=2")
        elif data.get("cycle_start"):
            style.append("color=orange, penwidth=2")
        if data.get("collapsed"):
            style.append("style=dotted")
        elif data.get("on_trace") is False:
            style.append("style=dashed, color=gray50, fontcolor=gray30")
        attrs = "".join(", " + s for s in style)
        lines.append(f"  {dot_quote(str(node))} [label={dot_quote(label)}{attrs}];")
    for u, v, data in graph.edges(data=True):
        label = _edge_text(data)
        if data.get("changes"):
            label += "\n" + str(data["changes"])
        attrs = f"label={dot_quote(label)}"
        if data.get("code"):
            attrs += f", tooltip={dot_quote(str(data['code']))}"
        if data.get("back"):
            attrs += ", style=dashed, color=orange, constraint=false"
        elif data.get("on_trace") is False:
            attrs += ", style=dashed, color=gray50, fontcolor=gray30"
        lines.append(f"  {dot_quote(str(u))} -> {dot_quote(str(v))} [{attrs}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(graph: nx.MultiDiGraph) -> str:
    """GraphML of a graph; arrays and lists become JSON strings (GraphML has no lists)."""
    import networkx as nx

    flat = nx.MultiDiGraph(**graph.graph)
    for node, data in graph.nodes(data=True):
        flat.add_node(node, **{k: _scalar(v) for k, v in data.items()})
    for u, v, data in graph.edges(data=True):
        flat.add_edge(u, v, **{k: _scalar(x) for k, x in data.items()})
    return "\n".join(nx.generate_graphml(flat)) + "\n"


def to_json(graph: nx.MultiDiGraph) -> str:
    """The graph as node-link JSON (``networkx.node_link_data``, edges under ``links``)."""
    import networkx as nx

    data = nx.node_link_data(graph, edges="links")
    return json.dumps(data, indent=1) + "\n"


# -- helpers -----------------------------------------------------------------


def _values(model: Model, state: State) -> dict[str, Any]:
    return {v.name: state[k] for k, v in enumerate(model.vars)}


def _changes_text(changes: Sequence[tuple[str, Any, Any]]) -> str:
    return "; ".join(f"{n}: {a} -> {b}" for n, a, b in changes)


def _step_attrs(step: Step) -> dict[str, Any]:
    return {"actor": step.actor, "action": step.label, "function": step.function,
            "code": step.code, "changes": _changes_text(step.changes)}


def _instance_attrs(model: Model, inst: ActionInstance, before: State,
                    after: State) -> dict[str, Any]:
    return {"actor": inst.spec.actor, "action": inst.label, "function": inst.spec.function,
            "code": inst.spec.code, "changes": _changes_text(list(changed(model, before, after)))}


def _back_edge_attrs(model: Model, trace: Trace) -> dict[str, Any]:
    """The edge closing a lasso: no step, the last state is state ``loop`` again.

    Should the last state differ from state ``loop`` (a lasso from elsewhere),
    its ``changes`` say how.
    """
    assert trace.loop is not None
    last, target = trace.states[-1], trace.states[trace.loop]
    action = ("stays here forever" if trace.loop == len(trace)
              else f"back to state {trace.loop} (repeat from step {trace.loop + 1})")
    return {"actor": "", "action": action, "function": "", "code": "",
            "changes": _changes_text(list(changed(model, last, target)))}


def _taken_labels(g: nx.MultiDiGraph, i: int) -> set[str]:
    """Labels of the trace's own steps out of trace node ``i``."""
    return {data["action"] for _, _, data in g.out_edges(i, data=True)}


def _nearest_after(indices: list[int], i: int) -> int:
    """Of the trace positions of a state, the first after ``i``, else the last before it."""
    later = [j for j in indices if j > i]
    return later[0] if later else indices[-1]


def _edge_text(data: dict[str, Any]) -> str:
    actor = data.get("actor")
    return f"[{actor}] {data.get('action', '')}" if actor else str(data.get("action", ""))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return "[" + ",".join(_text(v) for v in value) + "]"
    return str(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return json.dumps(list(value))
    return value
