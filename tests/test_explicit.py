"""The explicit explorer on the hand-computed reference models (tests/reference_models.py).

Every number asserted here is derived in the docstring of the reference
model it is about; none was copied from a run of the explorer.
"""

from __future__ import annotations

from collections import Counter as Multiset

import pytest
from reference_models import (
    Bounded,
    BrokenLock,
    Cells,
    Counter,
    Lock,
    TwoSpeed,
    cells_in_range,
    counter_live,
    lock_consistent,
    mutual_exclusion,
    n_nonnegative,
    n_not_2,
    not_all_two,
    reset_enabled,
    x_in_range,
    x_not,
    x_not_4,
    x_not_bad,
)

from checker.engines.base import Limits, RunResult, Stats
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import Model
from checker.lang.spec import Property, invariant
from checker.outputs.graphs import trace_graph as to_graph
from checker.semantics.states import expand, fire, from_dict, initial_state
from checker.traces.trace import Trace, build_trace, render_text


def run(model: Model, props: list[Property], search: str = "bfs", **limits: float) -> RunResult:
    return ExplicitChecker(model, props, search=search, limits=Limits(**limits)).run()  # type: ignore[arg-type]


def result(res: RunResult, name: str):
    (found,) = [p for p in res.properties if p.name == name]
    return found


def replay(model: Model, trace: Trace) -> None:
    """Every step of ``trace`` is a transition of ``model`` from the previous state."""
    before = trace.initial
    assert before == initial_state(model)
    for step in trace.steps:
        inst = model.instance(step.label)
        assert inst.spec.actor == step.actor
        assert fire(model, inst, before) == step.state
        before = step.state


@invariant("x-at-most-4", "x <= 4 (holds on TwoSpeed)")
def x_at_most_4(s):
    return s.x <= 4


# -- exact reachable state spaces ----------------------------------------------------

EXHAUSTIVE = [
    # model, properties that hold, states, transitions, BFS max depth (see reference_models)
    pytest.param(Counter(), [x_in_range], 4, 7, 3, id="counter-M4"),
    pytest.param(Counter({"modulus": 6}), [x_in_range], 6, 11, 5, id="counter-M6"),
    pytest.param(TwoSpeed(), [x_at_most_4], 5, 7, 2, id="two-speed"),
    pytest.param(Lock(), [mutual_exclusion, lock_consistent], 8, 14, 3, id="lock-P2"),
    pytest.param(Lock({"procs": 3}), [mutual_exclusion, lock_consistent], 20, 48, 4,
                 id="lock-P3"),
    pytest.param(Cells({"cells": 1}), [cells_in_range], 3, 8, 1, id="cells-N1"),
    pytest.param(Cells(), [cells_in_range], 18, 48, 4, id="cells-N2"),
    pytest.param(Cells({"cells": 3}), [cells_in_range], 81, 216, 7, id="cells-N3"),
]


@pytest.mark.parametrize("model, props, states, transitions, depth", EXHAUSTIVE)
def test_bfs_exact_state_space(model, props, states, transitions, depth) -> None:
    res = run(model, props)
    assert res.engine == "explicit"
    assert res.complete is True
    assert res.bounds_hit == []
    assert (res.stats.states, res.stats.transitions, res.stats.max_depth) == (
        states, transitions, depth)
    assert res.stats.queue == 0
    assert [p.status for p in res.properties] == ["holds"] * len(props)
    assert all(p.trace is None and p.reason is None for p in res.properties)


@pytest.mark.parametrize("model, props, states, transitions, depth", EXHAUSTIVE)
def test_dfs_visits_the_same_state_space(model, props, states, transitions, depth) -> None:
    res = run(model, props, search="dfs")
    assert res.complete is True
    assert (res.stats.states, res.stats.transitions) == (states, transitions)
    # DFS depths are discovery depths: never below the BFS (shortest) ones
    assert res.stats.max_depth >= depth
    assert [p.status for p in res.properties] == ["holds"] * len(props)


# -- shortest counterexamples -----------------------------------------------------------

def test_bfs_counter_counterexample_is_the_unique_shortest() -> None:
    res = run(Counter(), [x_not_bad])
    r = result(res, "x-not-bad")
    assert r.status == "violated"
    assert r.trace is not None and len(r.trace) == 3
    assert [s.label for s in r.trace.steps] == ["inc", "inc", "inc"]
    assert [s.state for s in r.trace.steps] == [(1,), (2,), (3,)]
    assert r.trace.explanation == "x reached the bad value 3"


@pytest.mark.parametrize("modulus", [2, 5, 7])
def test_bfs_counter_length_follows_the_modulus(modulus: int) -> None:
    r = result(run(Counter({"modulus": modulus}), [x_not_bad]), "x-not-bad")
    assert r.status == "violated"
    assert len(r.trace) == modulus - 1
    assert r.trace.steps[-1].state == (modulus - 1,)


def test_violation_in_the_initial_state_has_an_empty_trace() -> None:
    r = result(run(Counter({"bad": 0}), [x_not_bad]), "x-not-bad")
    assert r.status == "violated"
    assert len(r.trace) == 0
    assert r.trace.states == [(0,)]
    assert render_text(r.trace).splitlines()[0] == (
        "Counterexample for x-not-bad on revision counter (0 steps)")


def test_bfs_two_speed_takes_the_jumps() -> None:
    r = result(run(TwoSpeed(), [x_not_4]), "x-not-4")
    assert [s.label for s in r.trace.steps] == ["jump", "jump"]


def test_bfs_broken_lock_counterexample() -> None:
    model = BrokenLock()
    r = result(run(model, [mutual_exclusion]), "mutual-exclusion")
    assert r.status == "violated"
    assert len(r.trace) == 4
    labels = [s.label for s in r.trace.steps]
    assert Multiset(labels) == Multiset(["want(i=0)", "want(i=1)", "enter(i=0)", "enter(i=1)"])
    assert labels[-1].startswith("enter")
    assert r.trace.steps[-1].state == ((2, 2), True)
    assert r.trace.explanation == "2 processes are CRITICAL"
    replay(model, r.trace)


@pytest.mark.parametrize("cells, length", [(1, 1), (2, 3), (3, 5)])
def test_bfs_cells_counterexample(cells: int, length: int) -> None:
    r = result(run(Cells({"cells": cells}), [not_all_two]), "not-all-two")
    assert r.status == "violated"
    assert len(r.trace) == length == 2 * cells - 1
    assert [s.label for s in r.trace.steps] == ["put(v=2)", "move"] * (cells - 1) + ["put(v=2)"]
    assert r.trace.steps[-1].state[0] == (2,) * cells


VIOLATED = [
    # model, property, BFS (shortest) length
    pytest.param(Counter, x_not_bad, 3, id="counter"),
    pytest.param(TwoSpeed, x_not_4, 2, id="two-speed"),
    pytest.param(BrokenLock, mutual_exclusion, 4, id="broken-lock"),
    pytest.param(Cells, not_all_two, 3, id="cells"),
    pytest.param(Bounded, n_not_2, 2, id="bounded"),
]


@pytest.mark.parametrize("make, prop, shortest", VIOLATED)
def test_dfs_finds_the_violation_too(make, prop: Property, shortest: int) -> None:
    model = make()
    bfs = result(run(model, [prop]), prop.name)
    dfs = result(run(model, [prop], search="dfs"), prop.name)
    assert bfs.status == dfs.status == "violated"
    assert len(bfs.trace) == shortest
    assert len(dfs.trace) >= shortest
    # the DFS trace is a real run of the model ending in a violating state
    replay(model, dfs.trace)
    replay(model, bfs.trace)


@pytest.mark.parametrize("search", ["bfs", "dfs"])
def test_lock_and_broken_lock_verdicts_agree_across_searches(search: str) -> None:
    assert result(run(Lock(), [mutual_exclusion], search), "mutual-exclusion").status == "holds"
    assert result(run(BrokenLock(), [mutual_exclusion], search),
                  "mutual-exclusion").status == "violated"


# -- several properties in one run -----------------------------------------------------

def test_one_run_checks_several_properties_independently() -> None:
    props = [x_not(2), x_in_range, x_not(1), x_not_bad]
    res = run(Counter(), props)
    assert [p.name for p in res.properties] == ["x-not-2", "x-in-range", "x-not-1", "x-not-bad"]
    assert [p.status for p in res.properties] == ["violated", "holds", "violated", "violated"]
    lengths = {p.name: len(p.trace) for p in res.properties if p.trace is not None}
    assert lengths == {"x-not-1": 1, "x-not-2": 2, "x-not-bad": 3}
    for p in res.properties:
        if p.trace is not None:
            assert p.trace.property == p.name
            assert p.trace.steps[-1].state == (len(p.trace),)
    assert result(res, "x-not-2").trace.explanation == "x reached 2"
    # the property that holds needed the whole space
    assert res.complete is True
    assert (res.stats.states, res.stats.transitions) == (4, 7)


def test_search_stops_once_every_property_is_violated() -> None:
    res = run(Counter({"modulus": 6}), [x_not(1), x_not(2)])
    assert [p.status for p in res.properties] == ["violated", "violated"]
    # state 2 is popped third (0, 1, 2); state 3 was found but never expanded
    assert res.stats.states == 4
    assert res.complete is False
    assert res.bounds_hit == []


# -- holds only on a complete search; limits ------------------------------------------

def test_holds_needs_the_whole_state_space() -> None:
    assert result(run(Counter(), [x_in_range], max_states=4), "x-in-range").status == "holds"
    cut = run(Counter(), [x_in_range], max_states=3)
    assert result(cut, "x-in-range").status == "inconclusive"
    assert cut.complete is False


def test_max_states_limit() -> None:
    res = run(Counter(), [x_in_range, x_not_bad], max_states=2)
    assert res.complete is False
    assert res.bounds_hit == ["2 states"]
    assert res.stats.states == 2
    for name in ("x-in-range", "x-not-bad"):
        r = result(res, name)
        assert r.status == "inconclusive"
        assert r.trace is None
        assert r.reason == "search cut by 2 states"


def test_max_depth_limit() -> None:
    res = run(Counter(), [x_in_range, x_not_bad], max_depth=2)
    assert res.complete is False
    assert res.bounds_hit == ["depth 2"]
    assert (res.stats.states, res.stats.max_depth) == (3, 2)
    assert result(res, "x-not-bad").status == "inconclusive"
    assert result(res, "x-not-bad").reason == "search cut by depth 2"


def test_violation_within_the_depth_limit_is_found() -> None:
    res = run(Counter(), [x_not_bad], max_depth=3)
    assert result(res, "x-not-bad").status == "violated"
    assert len(result(res, "x-not-bad").trace) == 3


def test_depth_limit_beyond_the_diameter_is_complete() -> None:
    res = run(Lock(), [mutual_exclusion], max_depth=4)
    assert res.complete is True
    assert result(res, "mutual-exclusion").status == "holds"


def test_depth_limit_equal_to_the_diameter_is_complete() -> None:
    # Counter's states are at depths 0..3; from x = 3, inc and reset both lead back to 0,
    # which is already visited, so a max_depth of 3 loses nothing.
    res = run(Counter(), [x_in_range], max_depth=3)
    assert res.stats.states == 4
    assert res.complete is True
    assert result(res, "x-in-range").status == "holds"


@invariant("p1-never-tries", "process 1 never leaves IDLE (false after want(i=1))")
def p1_never_tries(s):
    return s.pc[1] != 1


def test_unbounded_search_finds_want_1() -> None:
    r = result(run(Lock(), [p1_never_tries]), "p1-never-tries")
    assert [s.label for s in r.trace.steps] == ["want(i=1)"]


def test_states_counted_under_max_states_are_checked() -> None:
    # Expanding (0, 0) discovers (1, 0) and (0, 1): 3 states, all within max_states=3.
    # (0, 1) violates the property, but the run stops after expanding (1, 0).
    res = run(Lock(), [p1_never_tries], max_states=3)
    assert res.stats.states == 3
    r = result(res, "p1-never-tries")
    assert r.status == "violated"
    assert [s.label for s in r.trace.steps] == ["want(i=1)"]


def test_time_limit_zero() -> None:
    res = run(Counter(), [x_in_range], time_limit=0)
    assert res.complete is False
    assert res.bounds_hit == ["time limit 0s"]
    assert (res.stats.states, res.stats.transitions) == (1, 0)
    r = result(res, "x-in-range")
    assert r.status == "inconclusive"
    assert r.reason == "search cut by time limit 0s"


def test_generous_limits_change_nothing() -> None:
    res = run(Lock({"procs": 3}), [mutual_exclusion], max_states=20, max_depth=5,
              time_limit=60)
    assert res.complete is True
    assert (res.stats.states, res.stats.transitions) == (20, 48)


# -- model capacity --------------------------------------------------------------

def test_capacity_hit_makes_the_search_inconclusive() -> None:
    res = run(Bounded(), [n_nonnegative])
    assert res.complete is False
    assert res.bounds_hit == ["model capacity: pool of n"]
    assert (res.stats.states, res.stats.transitions, res.stats.max_depth) == (4, 6, 3)
    r = result(res, "n-nonnegative")
    assert r.status == "inconclusive"
    assert r.reason == "search cut by model capacity: pool of n"


def test_capacity_hit_does_not_hide_a_violation() -> None:
    res = run(Bounded(), [n_nonnegative, n_not_2])
    assert result(res, "n-not-2").status == "violated"
    assert [s.label for s in result(res, "n-not-2").trace.steps] == ["produce", "produce"]
    assert result(res, "n-nonnegative").status == "inconclusive"


def test_capacity_hit_in_the_initial_state() -> None:
    res = run(Bounded({"cap": 0}), [n_nonnegative])
    assert (res.stats.states, res.stats.transitions) == (1, 0)
    assert res.bounds_hit == ["model capacity: pool of n"]
    assert result(res, "n-nonnegative").status == "inconclusive"


def test_expand_reports_capacity_hits_and_enabled_actors() -> None:
    model = Bounded()
    full = expand(model, (3,))
    assert [(i.label, s) for i, s in full.successors] == [("consume", (2,))]
    assert full.capacity_hits == ["pool of n"]
    # the producer is enabled (its guard holds): only the model bound stops it
    assert full.enabled_actors == {"producer", "consumer"}
    empty = expand(model, (0,))
    assert [(i.label, s) for i, s in empty.successors] == [("produce", (1,))]
    assert empty.capacity_hits == []
    assert empty.enabled_actors == {"producer"}


def test_enabled_in_properties_reflects_the_expansion() -> None:
    res = run(Counter(), [counter_live, reset_enabled])
    assert result(res, "counter-live").status == "holds"
    r = result(res, "reset-enabled")
    assert r.status == "violated"
    assert len(r.trace) == 0  # x = 0 initially: reset is disabled


# -- traces -------------------------------------------------------------------------

def test_trace_steps_carry_the_action_metadata() -> None:
    trace = result(run(Counter(), [x_not_bad]), "x-not-bad").trace
    assert trace.revision == "counter"
    assert trace.params == {"modulus": 4, "bad": 3}
    assert trace.property == "x-not-bad"
    assert trace.initial == (0,)
    assert trace.loop is None
    assert trace.states == [(0,), (1,), (2,), (3,)]
    for i, step in enumerate(trace.steps, start=1):
        assert step.index == i
        assert step.actor == "inc"
        assert step.action == "inc"
        assert step.label == "inc"
        assert step.args == {}
        assert step.function == "counter_inc"
        assert step.code == "x = (x + 1) % M;"
        assert step.changes == (("x", i - 1, i),)
        assert step.state == (i,)


def test_trace_steps_with_arguments_and_array_changes() -> None:
    trace = result(run(Cells(), [not_all_two]), "not-all-two").trace
    put, move, put2 = trace.steps
    assert (put.actor, put.action, put.label, put.args) == ("writer", "put", "put(v=2)", {"v": 2})
    assert put.function == "cell_put"
    assert put.code == "if (!a[i]) a[i] = v;"
    assert put.changes == (("a[0]", 0, 2),)
    assert put.state == ((2, 0), 0)
    assert (move.actor, move.label, move.args) == ("cursor", "move", {})
    assert move.changes == (("i", 0, 1),)
    assert put2.changes == (("a[1]", 0, 2),)
    assert put2.state == ((2, 2), 1)
    assert trace.explanation == "every cell is 2: [2, 2]"


def test_render_text_counter() -> None:
    trace = result(run(Counter(), [x_not_bad]), "x-not-bad").trace
    assert render_text(trace).splitlines() == [
        "Counterexample for x-not-bad on revision counter (3 steps)",
        "  1. [inc] inc  -- counter_inc",
        "       code: x = (x + 1) % M;",
        "       changed: x: 0 -> 1",
        "  2. [inc] inc  -- counter_inc",
        "       code: x = (x + 1) % M;",
        "       changed: x: 1 -> 2",
        "  3. [inc] inc  -- counter_inc",
        "       code: x = (x + 1) % M;",
        "       changed: x: 2 -> 3",
        "  => x reached the bad value 3",
    ]


def test_render_text_booleans_self_loops_and_loops() -> None:
    model = Cells()
    clear = model.instance("clear")
    init = initial_state(model)
    assert fire(model, clear, init) == init  # a[0] != 2: set_if does nothing
    trace = build_trace(model, "not-all-two", init, [(clear, init)], "nothing happened")
    trace.loop = 0
    text = render_text(trace)
    assert "  1. [cleaner] clear  -- cell_clear" in text
    assert "       changed: nothing" in text
    assert "     ---- cycle starts here: the steps below repeat forever ----" in text
    assert ("     (lasso: steps 1..1 repeat forever; the state after step 1 is the state "
            "after step 0)") in text
    assert text.endswith("  => nothing happened")

    lock_trace = result(run(BrokenLock(), [mutual_exclusion]), "mutual-exclusion").trace
    enter = next(s for s in lock_trace.steps if s.label == "enter(i=0)")
    assert ("locked", False, True) in enter.changes
    # booleans print as C does: true/false
    assert "changed: pc[0]: 1 -> 2, locked: false -> true" in render_text(lock_trace)


def test_render_text_shortens_long_code() -> None:
    model = Cells()
    trace = result(run(model, [not_all_two]), "not-all-two").trace
    narrow = render_text(trace, width=30)
    # width - 13 = 17 columns for the code, the last three of them "..."
    assert "       code: if (!a[i]) a[i..." in narrow.splitlines()


def test_to_graph_counter() -> None:
    model = Counter()
    trace = result(run(model, [x_not_bad]), "x-not-bad").trace
    g = to_graph(model, trace)
    assert g.number_of_nodes() == 4
    assert g.number_of_edges() == 3
    assert g.graph == {"revision": "counter", "property": "x-not-bad"}
    assert [g.nodes[i]["x"] for i in range(4)] == [0, 1, 2, 3]
    assert g.nodes[3]["violation"] == "x reached the bad value 3"
    assert "violation" not in g.nodes[0]
    edges = list(g.edges(data=True))
    assert [(u, v) for u, v, _ in edges] == [(0, 1), (1, 2), (2, 3)]
    assert edges[0][2] == {
        "actor": "inc",
        "action": "inc",
        "function": "counter_inc",
        "code": "x = (x + 1) % M;",
        "changes": "x: 0 -> 1",
    }


def test_to_graph_cells_with_labels_and_arrays() -> None:
    model = Cells({"cells": 3})
    trace = result(run(model, [not_all_two]), "not-all-two").trace
    g = to_graph(model, trace)
    assert (g.number_of_nodes(), g.number_of_edges()) == (6, 5)
    assert g.nodes[5]["a"] == (2, 2, 2)
    assert g.nodes[5]["i"] == 2
    assert [d["action"] for _, _, d in g.edges(data=True)] == [
        "put(v=2)", "move", "put(v=2)", "move", "put(v=2)"]
    assert [d["changes"] for _, _, d in g.edges(data=True)][:2] == ["a[0]: 0 -> 2", "i: 0 -> 1"]


def test_progress_callback_receives_stats() -> None:
    seen: list[int] = []

    def progress(stats: Stats) -> None:
        assert isinstance(stats, Stats)
        seen.append(stats.states)

    res = ExplicitChecker(Lock({"procs": 3}), [mutual_exclusion], progress=progress,
                          progress_every=0.0).run()
    assert res.complete
    assert seen, "progress was never reported"
    assert seen == sorted(seen) and seen[-1] <= 20


def test_property_returning_a_non_bool_is_an_error() -> None:
    @invariant("x-itself", "returns an int")
    def x_itself(s):
        return s.x

    with pytest.raises(TypeError, match="property x-itself returned int, not a bool"):
        run(Counter(), [x_itself])


def test_traces_replay_from_dict_states() -> None:
    model = Lock()
    trace = result(run(BrokenLock(), [mutual_exclusion]), "mutual-exclusion").trace
    # the reference Lock refuses the last step of the BrokenLock counterexample
    before = trace.steps[-2].state
    assert before == from_dict(model, {"pc": [2, 1], "locked": True}) or before == from_dict(
        model, {"pc": [1, 2], "locked": True})
    assert fire(model, model.instance(trace.steps[-1].label), before) is None
