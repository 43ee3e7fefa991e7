"""Graphs of a counterexample and of the explored state space, and their files and pictures."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from checker.cli import main
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import Model
from checker.lang.spec import invariant
from checker.outputs.graphs import (
    explored_graph,
    neighbourhood_graph,
    to_dot,
    to_graphml,
    to_json,
    trace_graph,
    violating_states,
)
from checker.outputs.pictures import explored_picture, neighbourhood_picture, trace_picture
from checker.runs.catalog import load_revision, select_properties
from checker.semantics.states import as_dict, expand, fire, initial_state
from checker.traces.itf import decode_value
from checker.traces.trace import Trace, build_trace

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TINY = ["--ring-size", "1", "--max-backend-changes", "0", "--release", "no",
        "--send-failures", "0", "-q"]


def walk(model: Model, labels: list[str], prop: str = "by-hand") -> Trace:
    """The trace firing ``labels`` in order from the initial state."""
    state = initial_state(model)
    path = []
    for label in labels:
        inst = model.instance(label)
        nxt = fire(model, inst, state)
        assert nxt is not None, f"{label} is not enabled"
        path.append((inst, nxt))
        state = nxt
    return build_trace(model, prop, initial_state(model), path, "explained")


@pytest.fixture(scope="module")
def model() -> Model:
    return load_revision("v9")({"ring_size": 1})


@pytest.fixture(scope="module")
def trace(model: Model) -> Trace:
    """The shortest memory-safe counterexample at ring size 1 (a real one, 8 steps)."""
    (prop,) = select_properties(["memory-safe"], ())
    (result,) = ExplicitChecker(model, [prop]).run().properties
    assert result.trace is not None
    return result.trace


def test_trace_graph_has_one_node_per_state_and_one_edge_per_step(
    model: Model, trace: Trace
) -> None:
    g = trace_graph(model, trace)
    n = len(trace)
    assert n >= 3
    assert (g.number_of_nodes(), g.number_of_edges()) == (n + 1, n)
    edges = sorted(g.edges(data=True), key=lambda e: e[0])
    assert [(u, v) for u, v, _ in edges] == [(i, i + 1) for i in range(n)]
    assert [d["action"] for _, _, d in edges] == [s.label for s in trace.steps]
    assert [d["actor"] for _, _, d in edges] == [s.actor for s in trace.steps]
    assert [d["function"] for _, _, d in edges] == [s.function for s in trace.steps]
    for i, state in enumerate(trace.states):
        assert g.nodes[i]["label"] == f"state {i}"
        assert {k: g.nodes[i][k] for k in as_dict(model, state)} == {
            v.name: state[k] for k, v in enumerate(model.vars)}
    assert g.nodes[n]["violates"] == ["memory-safe"]
    assert g.nodes[n]["violation"] == trace.explanation
    assert not any(g.nodes[i].get("violates") for i in range(n))
    assert not any(d.get("back") for _, _, d in edges)


def test_lasso_has_a_back_edge_to_the_cycle_start(model: Model) -> None:
    trace = walk(model, ["guest_post(h=0, large=1)", "guest_kick", "worker_run_kick"])
    trace.loop = 1
    g = trace_graph(model, trace)
    back = [(u, v, d) for u, v, d in g.edges(data=True) if d.get("back")]
    assert [(u, v) for u, v, _ in back] == [(3, 1)]
    assert back[0][2]["action"] == "back to state 1 (repeat from step 2)"
    assert g.nodes[1]["cycle_start"] is True
    assert [n for n, d in g.nodes(data=True) if d.get("cycle_start")] == [1]
    assert g.number_of_edges() == len(trace) + 1
    assert 'style=dashed, color=orange' in to_dot(g)
    # a run that stays in its last state forever: a self-loop
    trace.loop = 3
    stays = [(u, v) for u, v, d in trace_graph(model, trace).edges(data=True) if d.get("back")]
    assert stays == [(3, 3)]


def test_neighbourhood_has_every_other_enabled_step(model: Model, trace: Trace) -> None:
    g = neighbourhood_graph(model, trace, max_alternatives=100)
    successors = expand(model, trace.initial).successors
    others = [(inst.label, nxt) for inst, nxt in successors if inst.label != trace.steps[0].label]
    assert len(others) == len(successors) - 1 >= 3
    off = [(v, d) for _, v, d in g.out_edges(0, data=True) if not d["on_trace"]]
    assert sorted(d["action"] for _, d in off) == sorted(label for label, _ in others)
    reached = dict(others)
    for target, data in off:
        expected = as_dict(model, reached[data["action"]])
        values = {k: g.nodes[target][k] for k in expected}
        assert values == {k: tuple(v) if isinstance(v, list) else v for k, v in expected.items()}
        if isinstance(target, int):  # a successor that is a trace state links to it
            assert trace.states[target] == reached[data["action"]]
        else:
            assert g.nodes[target]["on_trace"] is False
    trace_part = [(u, v) for u, v, d in g.edges(data=True) if d["on_trace"]]
    assert trace_part == [(i, i + 1) for i in range(len(trace))]
    assert all(g.nodes[i]["on_trace"] for i in range(len(trace) + 1))


def test_neighbourhood_collapses_the_alternatives_beyond_the_limit(
    model: Model, trace: Trace
) -> None:
    alternatives = len(expand(model, trace.initial).successors) - 1
    g = neighbourhood_graph(model, trace, max_alternatives=2)
    off = [v for _, v, d in g.out_edges(0, data=True) if not d["on_trace"]]
    assert len(off) == 3
    assert g.nodes["more0"]["collapsed"] == alternatives - 2
    assert g.nodes["more0"]["label"] == f"+{alternatives - 2} more"
    collapsed = {d["from_state"]: d["collapsed"] for _, d in g.nodes(data=True)
                 if d.get("collapsed")}
    for i, state in enumerate(trace.states):
        n_alt = len(expand(model, state).successors) - (1 if i < len(trace) else 0)
        assert collapsed.get(i, 0) == max(n_alt - 2, 0)


def test_graph_files_carry_the_same_graph(model: Model, trace: Trace) -> None:
    g = neighbourhood_graph(model, trace)
    data = json.loads(to_json(g))
    assert len(data["nodes"]) == g.number_of_nodes()
    assert len(data["links"]) == g.number_of_edges()
    steps = [d["action"] for d in data["links"] if d["on_trace"]]
    assert Counter(steps) == Counter(s.label for s in trace.steps)
    back = nx.parse_graphml(to_graphml(g))
    assert (back.number_of_nodes(), back.number_of_edges()) == (
        g.number_of_nodes(), g.number_of_edges())
    dot = to_dot(g)
    assert len(re.findall(r'^  "[^"]+" -> "[^"]+" \[', dot, re.MULTILINE)) == g.number_of_edges()
    for step in trace.steps:
        assert f"[{step.actor}] {step.label}" in dot
    assert "VIOLATION: " in dot and "color=red" in dot


def test_explored_graph_is_the_state_graph_with_violations_marked() -> None:
    model = load_revision("v9")({"ring_size": 1, "max_backend_changes": 0, "release": "no",
                                 "send_failures": 0, "initial_backend": "none"})

    @invariant("nothing-posted", "the avail ring stays empty")
    def nothing_posted(s):  # type: ignore[no-untyped-def]
        return s.avail_cnt == 0

    run = ExplicitChecker(model, [], record_graph=True).run()
    sg = run.graph
    assert sg is not None and len(sg) == run.stats.states
    violations = violating_states(model, sg, [nothing_posted])
    posted = {i for i, st in enumerate(sg.states) if st[model.var_index["avail_cnt"]] != 0}
    assert set(violations) == posted and posted
    g = explored_graph(model, sg, violations)
    assert g.number_of_nodes() == len(sg) and g.number_of_edges() == sg.edge_count
    assert {n for n, d in g.nodes(data=True) if d.get("violates")} == posted
    assert all(g.nodes[i]["violates"] == ["nothing-posted"] for i in posted)
    for i in range(len(sg)):
        assert g.nodes[i]["depth"] == sg.depth[i]
        assert sorted(d["action"] for _, _, d in g.out_edges(i, data=True)) == sorted(
            model.instances[k].label for k, _ in sg.edges(i))
    assert g.nodes[0]["label"].startswith("#0 (depth 0)\n")
    assert "avail_cnt=0" in g.nodes[0]["label"]
    svg = explored_picture(g, "svg")
    assert b"explored state graph of revision v9: 9 states" in svg


def test_pictures_show_the_steps_and_are_deterministic(model: Model, trace: Trace) -> None:
    g = trace_graph(model, trace)
    svg = trace_picture(g, "svg")
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    text = svg.decode()
    for step in trace.steps:
        assert step.label in text
    assert "violates memory-safe" in text
    assert trace_picture(g, "svg") == svg  # no date, fixed ids
    assert trace_picture(g, "png").startswith(PNG_MAGIC)
    hood = neighbourhood_graph(model, trace, max_alternatives=2)
    nsvg = neighbourhood_picture(hood, "svg").decode()
    assert "+" in nsvg and f"+{hood.nodes['more0']['collapsed']} more" in nsvg
    with pytest.raises(ValueError, match="unknown picture format"):
        trace_picture(g, "gif")  # type: ignore[arg-type]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_check_writes_graph_files_for_each_counterexample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(capsys, "check", "--ring-size", "1", "--property", "memory-safe",
                     "--out", str(tmp_path), "-q")
    assert code == 1
    stem = str(tmp_path / "v9-n1-memory-safe")
    doc = json.loads((tmp_path / "result.json").read_text())
    (prop,) = doc["properties"]
    files = prop["trace"]
    for kind in ("graph.json", "neighbourhood.dot", "neighbourhood.json", "graph.svg",
                 "neighbourhood.svg", "chart.svg"):
        assert files[kind] == f"{stem}.{kind}" and Path(files[kind]).is_file()
    assert "chart.png" not in files and not Path(f"{stem}.chart.png").exists()
    graph = json.loads(Path(f"{stem}.graph.json").read_text())
    assert len(graph["nodes"]) == prop["length"] + 1
    assert len(graph["links"]) == prop["length"]


def test_pictures_option_chooses_the_formats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", "--ring-size", "1", "--property", "memory-safe", "-q"]
    run(capsys, *args, "--pictures", "none", "--out", str(tmp_path / "none"))
    assert not list((tmp_path / "none").glob("*.svg"))
    assert (tmp_path / "none" / "v9-n1-memory-safe.graph.json").is_file()
    run(capsys, *args, "--pictures", "png", "--out", str(tmp_path / "png"))
    pngs = sorted(p.name for p in (tmp_path / "png").glob("*.png"))
    assert pngs == ["v9-n1-memory-safe.chart.png", "v9-n1-memory-safe.graph.png"]
    assert (tmp_path / "png" / pngs[0]).read_bytes().startswith(PNG_MAGIC)
    assert not list((tmp_path / "png").glob("*.svg"))


def test_dump_graph_writes_the_explored_state_graph(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "check", *TINY, "--initial-backend", "none", "--dump-graph",
                       "--out", str(tmp_path))
    assert code == 0
    doc = json.loads((tmp_path / "result.json").read_text())
    graph = json.loads((tmp_path / "state-graph.json").read_text())
    assert len(graph["nodes"]) == doc["stats"]["states"] == doc["state_graph"]["states"]
    assert len(graph["links"]) == doc["stats"]["transitions"]
    assert nx.parse_graphml((tmp_path / "state-graph.graphml").read_text()).number_of_nodes() \
        == doc["stats"]["states"]
    assert (tmp_path / "state-graph.dot").read_text().startswith("digraph")
    assert (tmp_path / "state-graph.svg").is_file() and "picture skipped" not in err


def test_dump_graph_marks_violating_states_and_skips_big_pictures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "check", "--ring-size", "1", "--release", "no", "--send-failures",
                       "0", "--property", "memory-safe", "--max-depth", "8", "--dump-graph",
                       "--out", str(tmp_path), "-q")
    assert code == 1
    doc = json.loads((tmp_path / "result.json").read_text())
    states = doc["stats"]["states"]
    assert states > 400
    lines = [line for line in err.splitlines() if "picture skipped" in line]
    assert lines == [(f"vhostmc: state-graph picture skipped: {states} states is more than 400 "
                      f"to draw; open {tmp_path / 'state-graph.dot'} with Graphviz or "
                      f"{tmp_path / 'state-graph.graphml'} with a graph viewer instead")]
    assert not (tmp_path / "state-graph.svg").exists()
    graph = json.loads((tmp_path / "state-graph.json").read_text())
    assert len(graph["nodes"]) == states
    bad = [n for n in graph["nodes"] if n.get("violates")]
    assert len(bad) == doc["state_graph"]["violating_states"] >= 1
    assert all(n["violates"] == ["memory-safe"] for n in bad)
    # the counterexample's last state is one of them
    itf = json.loads(Path(doc["properties"][0]["trace"]["itf"]).read_text())
    last = {k: _plain(decode_value(itf["states"][-1][k])) for k in itf["vars"]
            if not k.startswith("mbt::")}
    assert any(all(node[k] == v for k, v in last.items()) for node in bad)


def _plain(value: Any) -> Any:
    """A decoded ITF value as node-link JSON holds it (tuples as lists)."""
    return [_plain(v) for v in value] if isinstance(value, tuple) else value


def test_dump_graph_needs_the_explicit_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", *TINY, "--engine", "bmc", "--depth", "2",
                         "--dump-graph", "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        ("vhostmc: error: --dump-graph needs --engine explicit (--engine bmc explores no state "
         "graph)")]
    assert not (tmp_path / "o").exists()


def test_trace_graph_of_a_trace_with_no_steps(model: Model) -> None:
    empty = replace(walk(model, []), explanation="bad from the start")
    g = trace_graph(model, empty)
    assert list(g.nodes) == [0] and g.number_of_edges() == 0
    assert g.nodes[0]["violation"] == "bad from the start"
