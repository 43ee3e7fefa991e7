"""The pdr engine: proofs by mined invariants (checked), CTIs, BMC counterexamples;
its verdicts agree with the explicit engine's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checker.engines.base import EngineRequest, Limits, RunResult
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic.mining import explore
from checker.engines.symbolic.pdr import PdrEngine, PdrPropertyResult, run_pdr
from checker.lang.model import Model, Params, action, int_var
from checker.lang.spec import Property, invariant, properties_in
from checker.lang.view import ModelBug, StateView
from checker.runs.environments import ENVIRONMENTS
from tests.test_symbolic import (
    Bounded,
    Counter,
    Overflows,
    Toggle,
    _status,
    nonneg,
    not_three,
    not_three_toggle,
    seen_in_order,
    small,
    ticking,
)


def test_pdr_proves_with_a_mined_invariant_and_writes_it() -> None:
    result = run_pdr(Toggle(), [not_three_toggle, small], invariant="mined")
    assert _status(result) == {"not-three-toggle": ("holds", None), "small": ("holds", None)}
    res = result.properties[0]
    assert isinstance(res, PdrPropertyResult)
    assert (res.reason or "").startswith("proved: inductive invariant")
    text = res.evidence["invariant.txt"]
    assert "x <= 1" in text and "re-checked by fresh solvers" in text
    assert result.complete


def test_pdr_reports_the_counterexample_to_induction() -> None:
    # mined from the initial state only, with 1-induction: x == 0 is dropped, and
    # "x != 3" alone is not inductive (the unreachable 2 -> 3)
    result = run_pdr(Toggle(), [not_three_toggle], depth=4, mine_states=1, max_k=1)
    (res,) = result.properties
    assert res.status == "inconclusive" and isinstance(res, PdrPropertyResult)
    assert "not 1-inductive" in (res.reason or "") and "BMC: " in (res.reason or "")
    cti = res.evidence["cti.txt"]
    assert cti.startswith("# counterexample to induction for not-three-toggle: from states "
                          "where the invariant holds, step breaks not-three-toggle")
    assert "first state:\n  x = 2" in cti
    assert "step: step\n  x: 2 -> 3" in cti


def test_pdr_reports_each_houdini_round_as_it_goes() -> None:
    # the same run: round 1 drops the facts of the initial state, round 2 finds the CTI
    phases: list[str] = []
    rounds: list[int] = []
    result = run_pdr(Toggle(), [not_three_toggle], depth=4, mine_states=1, max_k=1,
                     progress=lambda st: (phases.append(st.phase), rounds.append(st.transitions)))
    assert phases[0].startswith("pdr: Houdini round 1 at k = 1 done, ")
    assert phases[0].endswith(" candidate facts left")
    assert rounds[0] == 1 and result.stats.transitions == 2


def test_pdr_runs_houdini_at_k_1_before_the_largest_k() -> None:
    # k = 1 ends on the counterexample to induction 2 -> 3 after 2 rounds; k = 2 then
    # starts again from every candidate (x == 0 holds vacuously on two distinct states)
    phases: list[str] = []
    result = run_pdr(Toggle(), [not_three_toggle], depth=4, mine_states=1, max_k=2,
                     progress=lambda st: phases.append(st.phase))
    assert phases[0] == "pdr: Houdini round 1 at k = 1 done, 0 candidate facts left"
    assert result.stats.transitions == 3 and result.stats.max_depth == 2
    (res,) = result.properties
    assert "not 2-inductive with the 1 mined facts kept" in (res.reason or "")


def test_pdr_stops_at_k_1_when_that_proves() -> None:
    result = run_pdr(Toggle(), [not_three_toggle, small], max_k=4, invariant="mined")
    assert {r.status for r in result.properties} == {"holds"}
    assert result.stats.max_depth == 1


def test_pdr_cut_inside_houdini_keeps_the_rounds_done(monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.engines.symbolic import pdr
    from checker.engines.symbolic.limits import SolverGaveUp

    calls: list[int] = []
    real = pdr.solve

    def gives_up_on_the_second_query(solver: Any, left: Any, goal: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise SolverGaveUp("time limit")
        return real(solver, left, goal)

    monkeypatch.setattr(pdr, "solve", gives_up_on_the_second_query)
    result = run_pdr(Toggle(), [not_three_toggle], depth=4, mine_states=1, max_k=1)
    assert result.properties[0].status == "inconclusive"
    assert result.stats.transitions == 1 and result.stats.max_depth == 1


def test_pdr_agrees_with_explicit_on_the_counter() -> None:
    props = [not_three, seen_in_order, ticking]
    pdr = run_pdr(Counter(), props)
    bfs = ExplicitChecker(Counter(), props).run()
    assert _status(pdr) == _status(bfs)
    assert _status(pdr)["not-three"] == ("violated", 3)
    assert _status(pdr)["seen-in-order"] == ("holds", None)


def test_pdr_never_proves_past_a_capacity() -> None:
    pdr = run_pdr(Bounded(), [nonneg])
    bfs = ExplicitChecker(Bounded(), [nonneg]).run()
    assert _status(pdr) == _status(bfs) == {"nonneg": ("inconclusive", None)}


def test_pdr_reports_an_ill_typed_write_as_a_model_bug() -> None:
    with pytest.raises(ModelBug):
        run_pdr(Overflows(), [nonneg])


def test_pdr_time_limit_is_inconclusive() -> None:
    result = run_pdr(Toggle(), [small], time_limit=1e-6)
    assert result.properties[0].status == "inconclusive"
    assert "time limit" in (result.properties[0].reason or "")


def _v(revision: str, **params: Any) -> tuple[Any, list[Property]]:
    from models.v3_1 import V3_1
    from models.v9 import V9
    from specs import zerocopy

    model = (V9 if revision == "v9" else V3_1)(params)
    return model, [p for p in properties_in(zerocopy) if not p.is_liveness]


@pytest.mark.slow
def test_pdr_finds_the_v9_violation_at_the_bfs_length() -> None:
    model, props = _v("v9", ring_size=1, max_backend_changes=1, release="no", send_failures=0)
    props = [p for p in props if p.name == "no-stuck-waiter"]
    pdr = run_pdr(model, props, depth=5)
    assert _status(pdr) == {"no-stuck-waiter": ("violated", 3)}
    assert _status(ExplicitChecker(model, props, limits=Limits(max_depth=5)).run()) == _status(pdr)


@pytest.mark.slow
def test_pdr_proves_v3_1_datapath_ring1_as_explicit(tmp_path: Path) -> None:
    model, props = _v("v3.1", ring_size=1, max_backend_changes=0, release="no", send_failures=0)
    props = [p for p in props if p.name in ("no-double-use", "memory-safe")]
    pdr: RunResult = run_pdr(model, props, invariant="mined")
    assert _status(pdr) == _status(ExplicitChecker(model, props).run())
    assert {r.status for r in pdr.properties} == {"holds"}


def test_pdr_summary_names_mined_states_and_houdini_rounds() -> None:
    from checker.outputs.summary import _work_line

    doc = {"engine": "pdr", "stats_unit": "depth", "complete": True, "bounds_hit": [],
           "stats": {"states": 3599, "transitions": 7, "max_depth": 1, "seconds": 2.0}}
    assert _work_line(doc) == (
        "pdr: 3599 states explored to mine candidate invariants, induction tried up to k=1, "
        "7 Houdini rounds in 2.0s; search complete")
    doc["engine"] = "bmc"
    assert _work_line(doc).startswith("bmc: depth 1 reached, 7 solver queries")
    doc["engine"] = "kind"
    assert _work_line(doc).startswith("kind: k = 1..1 finished, 7 solver queries")
    doc["stats"]["max_depth"] = 0  # the time limit cut the first step case
    assert _work_line(doc).startswith("kind: no k finished, 7 solver queries")
    doc["stats"]["max_depth"] = 1
    doc["engine"], doc["stats"]["transitions"] = "pdr", 0  # proved by the explored classes
    assert _work_line(doc) == "pdr: 3599 states explored, no Houdini round in 2.0s; search complete"
    doc["complete"] = False  # only a liveness property is open, and no bound was hit
    doc["properties"] = [{"status": "holds", "reason": "proved"},
                         {"status": "inconclusive", "reason": "pdr checks invariants only"}]
    assert _work_line(doc).endswith("search incomplete (pdr checks invariants only)")


def test_pdr_proves_the_rest_when_one_property_is_not_inductive() -> None:
    # mined from the initial state only: "x != 3" has a counterexample to induction
    # (2 -> 3) and stays inconclusive; "x >= 0" is then proved on its own
    result = run_pdr(Toggle(), [not_three_toggle, nonneg], depth=4, mine_states=1, max_k=1)
    status = {r.name: r.status for r in result.properties}
    assert status == {"not-three-toggle": "inconclusive", "nonneg": "holds"}
    nonneg_result = result.properties[1]
    assert isinstance(nonneg_result, PdrPropertyResult)
    assert "invariant.txt" in nonneg_result.evidence
    assert "counterexample to induction" in (result.properties[0].reason or "")


class ToggleAndSwap(Model):
    """x toggles as in Toggle; y and z (both 0) swap: "y != 3" needs the fact "z == 0"."""

    name = "toggle-and-swap"
    actors = ("a",)

    def declare(self, p: Params) -> list[Any]:
        return [int_var("x", 0, 3), int_var("y", 0, 3), int_var("z", 0, 3)]

    @action("a", "step", "x = next(x)")
    def step(self, s: StateView) -> None:
        s.x = s.ite(s.x == 0, 1, s.ite(s.x == 1, 0, 3))

    @action("a", "swap", "y, z = z, y")
    def swap(self, s: StateView) -> None:
        s.y, s.z = s.z, s.y


@invariant("y-not-three", "y is never 3")
def y_not_three(s: StateView) -> Any:
    return s.y != 3


def test_pdr_retries_from_the_survivors_and_keeps_the_greatest_inductive_subset() -> None:
    # mined from the initial state only: "x != 3" has a counterexample to induction;
    # the retry for "y != 3" starts from the first run's survivors and keeps what a run
    # of "y != 3" alone keeps from every candidate
    both = run_pdr(ToggleAndSwap(), [not_three_toggle, y_not_three], depth=4, mine_states=1,
                   max_k=1)
    assert {r.name: r.status for r in both.properties} == {
        "not-three-toggle": "inconclusive", "y-not-three": "holds"}
    alone = run_pdr(ToggleAndSwap(), [y_not_three], depth=4, mine_states=1, max_k=1)

    def facts(result: RunResult) -> list[str]:
        prop = next(p for p in result.properties if p.name == "y-not-three")
        assert isinstance(prop, PdrPropertyResult)
        return [line for line in prop.evidence["invariant.txt"].splitlines()
                if not line.startswith("#")]

    assert facts(both) == facts(alone)
    assert "z == 0" in facts(both)
    # "x == 0" was dropped in the first run, so the retry needs no round to drop it
    retry = next(p for p in both.properties if p.name == "y-not-three")
    assert isinstance(retry, PdrPropertyResult)
    assert "survived 1 Houdini rounds" in retry.evidence["invariant.txt"]
    assert "survived 2 Houdini rounds" in facts_header(alone)


def facts_header(result: RunResult) -> str:
    """The invariant file of ``result``'s first property."""
    prop = result.properties[0]
    assert isinstance(prop, PdrPropertyResult)
    return prop.evidence["invariant.txt"]


@pytest.mark.slow
@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_pdr_never_contradicts_explicit_in_any_environment(env: str) -> None:
    """v9 at ring 1 in every named environment, the four invariants: each verdict
    pdr reaches within its budget is the explicit engine's, a violation at the
    BFS length (pdr may also stay inconclusive: it is then not compared)."""
    model, props = _v("v9", **{**ENVIRONMENTS[env].switches, "ring_size": 1})
    pdr = _status(run_pdr(model, props, depth=20, time_limit=240))
    explicit = _status(ExplicitChecker(model, props).run())
    decided = {name: verdict for name, verdict in pdr.items() if verdict[0] != "inconclusive"}
    assert decided == {name: explicit[name] for name in decided}


class OneStep(Model):
    """x goes 0 -> 1 and stops; the unreachable 2 -> 3 breaks "x != 3" under induction."""

    name = "one-step"
    actors = ("a",)

    def declare(self, p: Params) -> list[Any]:
        return [int_var("x", 0, 3)]

    @action("a", "step", "x = 1 from 0, 3 from 2 or 3")
    def step(self, s: StateView) -> None:
        s.require(s.x != 1)
        s.x = s.ite(s.x == 0, 1, 3)


def test_pdr_keeps_bmc_holds_when_induction_fails_on_a_shallow_model() -> None:
    # mined from the initial state only: "x != 3" has a counterexample to induction
    # (2 -> 3); BMC then finds no path of 2 steps, so every reachable state was checked
    result = run_pdr(OneStep(), [not_three_toggle], depth=4, mine_states=1, max_k=1)
    (res,) = result.properties
    assert res.status == "holds"
    assert result.complete
    assert not isinstance(res, PdrPropertyResult) or "cti.txt" not in res.evidence


def test_pdr_says_when_its_exploration_budget_cut_the_explored_classes() -> None:
    # --max-states reaches run_pdr as the budget: one class of Toggle's two
    request = EngineRequest(Toggle(), [not_three_toggle], Limits(max_states=1), depth=4)
    (res,) = PdrEngine().run(request).properties
    assert res.status == "inconclusive"
    assert (res.reason or "").endswith(
        "; the exploration stopped at its budget of 1 classes, so the explored classes were "
        "not tried (--max-states N raises it: about 4 GB per million classes at ring size 2)")
    # within the budget the classes prove it; --invariant mined never tries them
    assert _status(PdrEngine().run(EngineRequest(Toggle(), [not_three_toggle], Limits(
        max_states=2)))) == {"not-three-toggle": ("holds", None)}
    mined = run_pdr(Toggle(), [not_three_toggle], depth=4, mine_states=1, max_k=1,
                    invariant="mined")
    assert "budget" not in (mined.properties[0].reason or "")


def test_pdr_exploration_keeps_a_key_per_class_and_the_first_states_flattened() -> None:
    explored = explore(Toggle(), 10, None, keep=1)
    assert explored.complete and explored.classes == 2
    assert explored.states == [(0,)]
