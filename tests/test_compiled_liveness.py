"""Liveness on the compiled explorer (checker/engines/explicit/compiled/{livegraph,fairscc}.py)
against the Python explorer's fair-cycle search (checker/engines/explicit/liveness.py).

Both analyse the same graphs at the same checkpoints with the same choices, so
verdicts, state counts and every lasso (its steps, its loop) must be equal, and
each lasso must be a fair counterexample that replays on the model.  Numba
compiles each configuration once (cached in $VHOSTMC_CACHE or ~/.cache/vhostmc).
"""

from __future__ import annotations

import pytest
from liveness_models import (
    SERVER_CASE_IDS,
    SERVER_CASES,
    SF_SERVER,
    WF_NOISE,
    WF_SERVER,
    Server,
    eventually_req,
    served,
)

from checker.engines.base import EngineRequest, Limits, RunResult
from checker.engines.explicit import engine as engine_module
from checker.engines.explicit.engine import ENGINE
from checker.engines.explicit.liveness import FairnessMasks, check_lasso, obligations
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.fairness import Fair
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.runs.catalog import select_properties
from checker.runs.environments import ENVIRONMENTS, get_environment
from checker.runs.replay import replay
from checker.semantics.states import expand, fire, initial_state, property_view
from checker.traces.itf import to_itf

pytest.importorskip("numba")

from checker.engines.explicit.compiled.search import CompiledChecker

LIVE = select_properties(["no-leak", "put-and-wait-terminates"])


def outline(res: RunResult) -> tuple:
    """What both backends must agree on: counts, verdicts, each lasso step by step."""
    return (res.complete, tuple(res.bounds_hit), res.stats.states, res.stats.transitions,
            tuple((p.name, p.status, p.reason,
                   None if p.trace is None else tuple((s.label, s.state) for s in p.trace.steps),
                   None if p.trace is None else (p.trace.loop, p.trace.explanation))
                  for p in res.properties))


def lasso_shapes(res: RunResult) -> dict[str, tuple[str, int | None, int | None]]:
    return {p.name: (p.status, None if p.trace is None else len(p.trace),
                     None if p.trace is None else p.trace.loop) for p in res.properties}


def assert_fair_lassos(model: Model, res: RunResult, props: list[Property],
                       fairness: list[Fair]) -> None:
    """Every lasso steps through the model and is a fair counterexample (check_lasso)."""
    by_name = {p.name: p for p in props}
    for p in res.properties:
        if p.trace is None:
            continue
        trace = p.trace
        before = trace.initial
        assert before == initial_state(model)
        for step in trace.steps:
            assert fire(model, model.instance(step.label), before) == step.state
            before = step.state
        assert trace.loop is not None
        labels = [model.instance(s.label).index for s in trace.steps]
        assert check_lasso(model, by_name[p.name], trace.property_args, fairness,
                           trace.states, labels, trace.loop) == []


# -- tiny models with known fair and unfair cycles (tests/liveness_models.py) ------------

@pytest.mark.parametrize("fairness, expected", SERVER_CASES, ids=SERVER_CASE_IDS)
def test_server_lassos_equal_the_python_ones(fairness: list[Fair], expected: dict) -> None:
    model, props = Server(), [served, eventually_req]
    want = ExplicitChecker(model, props, fairness=fairness).run()
    got = CompiledChecker(model, props, fairness=fairness).run()
    assert lasso_shapes(got) == expected
    assert outline(got) == outline(want)
    assert_fair_lassos(model, got, props, fairness)


def test_strong_fairness_refines_the_component_weak_fairness_accepts() -> None:
    """SF(server) removes the states where serve is enabled and re-decomposes the rest:
    no fair cycle is left for ``served``; WF(server) keeps the toggling cycle."""
    model = Server()
    strong = CompiledChecker(model, [served], fairness=[SF_SERVER, WF_NOISE]).run()
    weak = CompiledChecker(model, [served], fairness=[WF_SERVER, WF_NOISE]).run()
    assert [p.status for p in strong.properties] == ["holds"]
    assert strong.complete is True
    trace = weak.properties[0].trace
    assert trace is not None
    assert [s.label for s in trace.steps] == ["request", "toggle", "toggle"]
    assert trace.loop == 1


def test_the_graph_arrays_are_the_python_graph() -> None:
    """CSR rows (successor numbers and instances, in order), expanded flags, per-state
    premise/goal bits and enabled fairness groups equal the Python explorer's graph."""
    model = get_vhost("v3.1", "datapath", "weak")
    want = ExplicitChecker(model, [], record_graph=True).run().graph
    checker = CompiledChecker(model, LIVE)
    res = checker.run()
    graph = checker.graph
    assert graph is not None and want is not None
    assert res.stats.states == len(want) == graph.rows
    masks = FairnessMasks(model, model.fairness())
    obls = obligations(model, LIVE)
    for i in range(len(want)):
        lo, hi = int(graph.offsets[i]), int(graph.offsets[i + 1])
        row = [(int(k), int(j)) for k, j in zip(graph.acts[lo:hi], graph.succ[lo:hi])]
        assert row == list(want.edges(i))
        assert graph.expanded[i] == 1
        assert int(graph.en[i]) == masks.enabled(k for k, _ in row)
        state = want.states[i]
        view = property_view(model, state, expand(model, state).enabled_actors)
        for o, obl in enumerate(obls):
            premise, goal = obl.evaluate(view)
            bits = int(graph.oflags[i, o // 32]) >> (2 * (o % 32)) & 3
            assert bits == premise | goal << 1


# -- the vhost models ------------------------------------------------------------------

def test_v9_ring1_lasso_found_at_a_checkpoint_equals_python() -> None:
    """Unreduced v9 at ring 1 (6731 states): put-and-wait-terminates is violated at the first
    checkpoint (4096 expanded states), the same 5-step lasso as the Python explorer's."""
    model = get_vhost("v9", "default", "strong")
    props = LIVE[1:]
    want = ExplicitChecker(model, props).run()
    got = CompiledChecker(model, props).run()
    assert outline(got) == outline(want)
    assert lasso_shapes(got) == {"put-and-wait-terminates": ("violated", 5, 5)}
    assert got.stats.states < 6731  # stopped after the checkpoint that found it
    assert_fair_lassos(model, got, props, model.fairness())


def get_vhost(revision: str, env: str, mutex: str, ring: int = 1) -> Model:
    from checker.runs.catalog import load_revision

    return load_revision(revision)({"ring_size": ring, **get_environment(env).switches,
                                    "mutex_fairness": mutex})


def engine_pair(model: Model, props: list[Property]) -> tuple[RunResult, RunResult]:
    """Python and compiled runs through the engine (the dead-value reduction as decided)."""
    want = ENGINE.run(EngineRequest(model, props, backend="python"))
    got = ENGINE.run(EngineRequest(model, props, backend="compiled"))
    assert got.stats.backend == "compiled"
    return want, got


FAST = [("v9", "datapath", "strong"), ("v3.1", "datapath", "weak")]
SLOW = [(rev, env, mutex) for rev in ("v9", "v3.1") for env in ENVIRONMENTS
        for mutex in ("strong", "weak") if (rev, env, mutex) not in FAST]


@pytest.mark.parametrize("revision, env, mutex", FAST)
def test_vhost_ring1_liveness_equals_python(revision: str, env: str, mutex: str) -> None:
    model = get_vhost(revision, env, mutex)
    want, got = engine_pair(model, LIVE)
    assert outline(got) == outline(want)
    assert (got.reduction or {}).get("on") == (want.reduction or {}).get("on")
    for p, q in zip(got.properties, want.properties):
        if p.trace is not None:
            assert q.trace is not None and p.trace.reduced == q.trace.reduced
            assert replay(to_itf(model, p.trace)).ok is True


@pytest.mark.slow
@pytest.mark.parametrize("revision, env, mutex", SLOW)
def test_vhost_ring1_liveness_equals_python_everywhere(revision: str, env: str,
                                                        mutex: str) -> None:
    model = get_vhost(revision, env, mutex)
    want, got = engine_pair(model, LIVE)
    assert outline(got) == outline(want)


# -- limits, interrupts, memory ----------------------------------------------------------

def test_a_lasso_on_a_partial_graph_is_reported_and_valid() -> None:
    """Cut by a state limit, v9 still violates put-and-wait-terminates on the rows it has."""
    model = get_vhost("v9", "default", "strong")
    res = CompiledChecker(model, LIVE, Limits(max_states=3000)).run()
    assert res.complete is False
    assert [p.status for p in res.properties][1] == "violated"
    assert_fair_lassos(model, res, LIVE, model.fairness())


def test_liveness_is_inconclusive_when_the_search_is_cut_without_a_lasso() -> None:
    model = get_vhost("v3.1", "datapath", "weak")
    res = CompiledChecker(model, LIVE, Limits(max_states=500)).run()
    assert [p.status for p in res.properties] == ["inconclusive", "inconclusive"]
    assert res.properties[0].reason == "search cut by 500 states"


def test_graph_bytes_are_counted_in_the_table_bytes() -> None:
    model = get_vhost("v3.1", "datapath", "weak")
    res = CompiledChecker(model, LIVE).run()
    assert res.complete is True
    assert 0 < res.stats.graph_bytes < res.stats.table_bytes
    assert [p.status for p in res.properties] == ["holds", "holds"]


def test_a_memory_limit_too_small_for_the_graph_is_inconclusive() -> None:
    """The visited table fits, the graph does not: the run stops, nothing is decided."""
    model = get_vhost("v3.1", "datapath", "weak")
    full = CompiledChecker(model, LIVE).run()
    limit = full.stats.table_bytes - full.stats.graph_bytes + 2_000
    res = CompiledChecker(model, LIVE, table_limit=limit).run()
    assert res.complete is False
    assert any(b.startswith("memory limit") and b.endswith("(state graph)")
               for b in res.bounds_hit)
    assert [p.status for p in res.properties] == ["inconclusive", "inconclusive"]
    assert res.stats.table_bytes <= limit


def test_an_interrupt_during_the_analysis_leaves_liveness_undecided() -> None:
    """``stop`` says nothing during the search and SIGINT once the analysis polls it."""
    calls = {"n": 0}

    def stop() -> str | None:
        calls["n"] += 1
        return "SIGINT" if calls["n"] > 3 else None

    res = CompiledChecker(Server(), [served], fairness=[SF_SERVER, WF_NOISE], stop=stop).run()
    assert res.stopped == "SIGINT" and res.complete is False
    assert [p.status for p in res.properties] == ["inconclusive"]


def test_a_time_limit_is_inconclusive_with_its_bound() -> None:
    res = CompiledChecker(Server(), [served], Limits(time_limit=0),
                          fairness=[SF_SERVER, WF_NOISE]).run()
    assert res.complete is False
    assert res.bounds_hit == ["time limit 0s"]
    assert [p.status for p in res.properties] == ["inconclusive"]


# -- engine glue -----------------------------------------------------------------------

def test_auto_takes_compiled_for_liveness(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("VHOSTMC_BACKEND", raising=False)
    monkeypatch.setattr(engine_module, "SMALL_SPACE", 1)
    res = ENGINE.run(EngineRequest(Server(), [served], backend="auto"))
    assert res.stats.backend == "compiled"
    assert [p.status for p in res.properties] == ["violated"]
    res = ENGINE.run(EngineRequest(Server(), [served], backend="auto", search="dfs"))
    assert res.stats.backend == "python (compiled backend refused: it searches breadth-first only)"
    assert capsys.readouterr().err == ""


def test_properties_that_hold_make_no_lasso_arrays() -> None:
    from checker.engines.explicit.compiled.livegraph import SCRATCH

    checker = CompiledChecker(get_vhost("v3.1", "datapath", "weak"), LIVE)
    res = checker.run()
    assert [p.status for p in res.properties] == ["holds", "holds"]
    assert checker.graph is not None
    made = set(checker.graph._work)
    assert {name for name, _ in SCRATCH["decomposition"]} <= made
    assert not made & {"rev_src", *(name for name, _ in SCRATCH["lasso"])}


@pytest.mark.parametrize(("room", "expected"), [
    (10_000, 150), (149, 125), (124, 112), (111, 106), (105, 105)])
def test_graph_arrays_grow_by_what_fits_near_the_limit(room: int, expected: int) -> None:
    from checker.engines.explicit.compiled.livegraph import grown_capacity

    assert grown_capacity(100, 105, 16, lambda c: c <= room) == expected


def test_graph_arrays_that_cannot_hold_what_is_needed_stop_the_analysis() -> None:
    from checker.engines.explicit.compiled.livegraph import GraphFull, grown_capacity

    with pytest.raises(GraphFull):
        grown_capacity(100, 105, 16, lambda c: c <= 104)
