"""Bounded lasso search (checker/engines/symbolic/lasso.py) against the explicit engine's fair-SCC search."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import pytest

from checker.engines.base import PropertyResult
from checker.engines.explicit.liveness import check_lasso
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic import lasso as bmclasso
from checker.engines.symbolic.bmc import run_bmc
from checker.engines.symbolic.kinduction import LIVENESS_REASON, run_kind
from checker.engines.symbolic.unroll import EncodingError
from checker.lang.fairness import Fair
from checker.lang.model import Model, ModelError, Params, Var, action, bool_var
from checker.lang.spec import Property, eventually, invariant, properties_in
from checker.lang.view import StateView
from checker.runs.userfiles import guarded
from checker.traces.trace import Trace
from tests.liveness_models import (
    SF_SERVER,
    WF_CLIENT,
    WF_NOISE,
    WF_SERVER,
    Server,
    eventually_req,
    served,
)

FAIRNESS: dict[str, list[Fair]] = {
    "none": [],
    "WF(server)+WF(noise)": [WF_SERVER, WF_NOISE],
    "SF(server)+WF(noise)": [SF_SERVER, WF_NOISE],
    "WF(server)": [WF_SERVER],
    "WF(client)": [WF_CLIENT],
}

# (fairness, property) -> BMC's verdict and lasso (steps, loop); None: no lasso within depth
EXPECTED: dict[tuple[str, str], tuple[int, int] | None] = {
    ("none", "served"): (1, 1),
    ("none", "eventually-req"): (0, 0),
    ("WF(server)+WF(noise)", "served"): (3, 1),
    ("WF(server)+WF(noise)", "eventually-req"): (2, 0),
    ("SF(server)+WF(noise)", "served"): None,
    ("SF(server)+WF(noise)", "eventually-req"): (2, 0),
    ("WF(server)", "served"): (2, 2),  # stops in (req, busy): shorter than explicit's 3
    ("WF(server)", "eventually-req"): (0, 0),
    ("WF(client)", "served"): (1, 1),
    ("WF(client)", "eventually-req"): None,
}


def _instances(model: Model, trace: Trace) -> list[int]:
    """The instance indices a trace fires."""
    index = {inst.label: inst.index for inst in model.instances}
    return [index[step.label] for step in trace.steps]


def assert_valid_lasso(
    model: Model, prop: Property, fairness: Sequence[Fair], result: PropertyResult
) -> Trace:
    """``result`` is a violation whose trace is a fair lasso for its property."""
    trace = result.trace
    assert result.status == "violated" and trace is not None and trace.loop is not None
    problems = check_lasso(model, prop, trace.property_args, fairness, trace.states,
                           _instances(model, trace), trace.loop)
    assert problems == []
    return trace


def both(
    model: Model, prop: Property, fairness: Sequence[Fair], depth: int
) -> tuple[PropertyResult, PropertyResult]:
    """The explicit engine's and BMC's result for ``prop``."""
    (explicit,) = ExplicitChecker(model, [prop], fairness=fairness).run().properties
    (bmc,) = run_bmc(model, [prop], depth=depth, fairness=fairness).properties
    return explicit, bmc


def assert_agree(
    model: Model, prop: Property, fairness: Sequence[Fair], depth: int
) -> tuple[PropertyResult, PropertyResult]:
    """Violated in both (BMC's lasso no longer, both valid) or BMC inconclusive."""
    explicit, bmc = both(model, prop, fairness, depth)
    if explicit.status == "violated":
        e_trace = assert_valid_lasso(model, prop, fairness, explicit)
        b_trace = assert_valid_lasso(model, prop, fairness, bmc)
        assert len(b_trace) <= len(e_trace)
    else:
        assert explicit.status == "holds"
        assert (bmc.status, bmc.reason) == ("inconclusive", f"no fair lasso within depth {depth}")
    return explicit, bmc


# -- the Server model: every fairness combination of its docstring ---------------------


@pytest.mark.parametrize("fair_name", list(FAIRNESS))
@pytest.mark.parametrize("prop", [served, eventually_req], ids=lambda p: p.name)
def test_server_agrees_with_explicit(fair_name: str, prop: Property) -> None:
    fairness = FAIRNESS[fair_name]
    _, bmc = assert_agree(Server(), prop, fairness, depth=6)
    expected = EXPECTED[(fair_name, prop.name)]
    got = None if bmc.trace is None else (len(bmc.trace), bmc.trace.loop)
    assert got == expected


def test_lasso_trace_carries_loop_args_and_explanation() -> None:
    model = Server()
    (result,) = run_bmc(model, [guarded(served, model)], depth=4,
                        fairness=[WF_SERVER, WF_NOISE]).properties
    trace = result.trace
    assert trace is not None
    assert [s.label for s in trace.steps] == ["request", "toggle", "toggle"]
    assert (trace.loop, trace.property_args) == (1, {})
    assert "repeats steps 2..3 forever" in trace.explanation


def test_invariants_and_liveness_in_one_run() -> None:
    @invariant("never-both", "no request while busy")
    def never_both(s: StateView) -> Any:
        return s.neg(s.all(s.req, s.busy))

    run = run_bmc(Server(), [never_both, served], depth=3, fairness=[WF_SERVER])
    assert run.engine == "bmc"
    assert [(r.name, r.status, len(r.trace or ())) for r in run.properties] == [
        ("never-both", "violated", 2), ("served", "violated", 2)]


def test_below_the_lasso_length_is_inconclusive() -> None:
    run = run_bmc(Server(), [served], depth=2, fairness=[WF_SERVER, WF_NOISE])
    (result,) = run.properties
    assert (result.status, result.reason) == ("inconclusive", "no fair lasso within depth 2")
    assert run.bounds_hit == ["depth 2"] and not run.complete


# -- a model whose runs all stop: the lasso search is exhaustive --------------------------


class Once(Model):
    """One step sets ``done``; then nothing can move."""

    name = "once"
    actors = ("a",)

    def declare(self, p: Params) -> Sequence[Var]:
        return [bool_var("done", "the step was taken")]

    @action("a", "finish", "done = 1;")
    def finish(self, s: StateView) -> None:
        s.require(s.neg(s.done))
        s.done = True


@eventually("finishes", "the step is eventually taken")
def finishes(s: StateView) -> Any:
    return s.done


def test_no_longer_path_makes_liveness_hold() -> None:
    model = Once()
    fair = [Fair("weak", "a runs", actors=("a",))]
    explicit, bmc = both(model, finishes, fair, depth=5)
    assert explicit.status == bmc.status == "holds"
    explicit, bmc = both(model, finishes, [], depth=5)
    assert explicit.status == bmc.status == "violated"
    assert bmc.trace is not None and (len(bmc.trace), bmc.trace.loop) == (0, 0)


def test_a_lasso_that_fails_the_concrete_check_is_an_encoding_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bmclasso, "check_lasso", lambda *args: ["the repeating part is not fair"])
    with pytest.raises(EncodingError, match="not a fair counterexample"):
        run_bmc(Server(), [served], depth=2, fairness=[])


# -- k-induction leaves liveness alone ----------------------------------------------------


def test_kind_reports_liveness_inconclusive() -> None:
    @invariant("anything", "true")
    def anything(s: StateView) -> Any:
        return True

    run = run_kind(Server(), [served, anything, eventually_req], max_k=2)
    assert [(r.name, r.status) for r in run.properties] == [
        ("served", "inconclusive"), ("anything", "holds"), ("eventually-req", "inconclusive")]
    assert run.properties[0].reason == LIVENESS_REASON and not run.complete
    only = run_kind(Server(), [served], max_k=2)
    assert [(r.status, r.reason) for r in only.properties] == [("inconclusive", LIVENESS_REASON)]
    with pytest.raises(ModelError, match="liveness property cannot strengthen"):
        run_kind(Server(), [anything], max_k=2, strengthening=[served])


# -- v9 at ring size 1 --------------------------------------------------------------------


def _v9(prop: str, **params: Any) -> tuple[Model, Property]:
    from models.v9 import V9
    from specs import zerocopy

    (found,) = [p for p in properties_in(zerocopy) if p.name == prop]
    return V9({"ring_size": 1, **params}), found


DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}


def test_v9_put_and_wait_terminates_lasso() -> None:
    model, prop = _v9("put-and-wait-terminates")
    fairness = model.fairness()
    explicit, bmc = assert_agree(model, prop, fairness, depth=9)
    assert explicit.trace is not None and bmc.trace is not None
    assert len(bmc.trace) == 5 == len(explicit.trace)  # both minimal here


def test_v9_datapath_put_and_wait_never_starts() -> None:
    model, prop = _v9("put-and-wait-terminates", **DATAPATH)
    assert_agree(model, prop, model.fairness(), depth=4)


@pytest.mark.slow
def test_v9_release_put_and_wait_lasso() -> None:
    model, prop = _v9("put-and-wait-terminates", max_backend_changes=0, send_failures=0)
    _, bmc = assert_agree(model, prop, model.fairness(), depth=8)
    assert bmc.trace is not None and len(bmc.trace) == 8


@pytest.mark.slow
def test_v9_no_leak_lasso() -> None:
    model, prop = _v9("no-leak")
    _, bmc = assert_agree(model, prop, model.fairness(), depth=14)
    assert bmc.trace is not None and len(bmc.trace) == 14
    assert bmc.trace.property_args == {"h": 0}


def test_lasso_terms_stop_at_the_time_limit() -> None:
    """Building an obligation's terms runs the property's Python code (seconds per head
    of no-leak at ring size 256): a passed deadline stops it, as it stops a query."""
    from checker.engines.symbolic.bounded import BoundedSearch
    from checker.engines.symbolic.limits import SolverGaveUp

    model = Server()
    search = BoundedSearch(model)
    lassos = bmclasso.LassoSearch(model, search.u, search.query, [served], [WF_SERVER],
                                  deadline=time.monotonic() - 1)
    with pytest.raises(SolverGaveUp, match="time limit"):
        lassos.check(2)
    assert search.queries == 0
