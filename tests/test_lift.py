"""Lifting small-ring counterexamples to a run's constants (checker/engines/symbolic/lift.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from checker.engines.base import EngineRequest, RunResult, Stats
from checker.engines.symbolic import lift as liftmod
from checker.engines.symbolic.bmc import run_bmc
from checker.engines.symbolic.bounded import BoundedSearch
from checker.engines.symbolic.lift import lift, small_counterexamples, small_model
from checker.lang.model import ModelError
from checker.lang.spec import Property, properties_in
from checker.traces.itf import to_itf
from checker.traces.trace import Trace
from models.v9 import V9
from specs import zerocopy


def _prop(name: str) -> Property:
    return next(p for p in properties_in(zerocopy) if p.name == name)


def test_small_model_keeps_the_switches_and_rederives_the_ring_constants() -> None:
    big = V9({"ring_size": 256, "uio_maxiov": 1024, "max_pend": 128, "guest": "rogue",
              "max_backend_changes": 0})
    small = small_model(big, 2).p.as_dict()
    assert small["ring_size"] == 2 and small["uio_maxiov"] == 8 and small["max_pend"] == 1
    assert small["guest"] == "rogue" and small["max_backend_changes"] == 0
    bigring = V9({"ring_size": 256, "uio_maxiov": 1, "max_pend": 0})
    kept = small_model(bigring, 2).p.as_dict()
    assert (kept["uio_maxiov"], kept["max_pend"], kept["signal_batch"]) == (1, 0, 1)
    assert kept["weight"] == 2 and kept["device_capacity"] == 3


def test_small_model_refuses_a_ring_that_is_not_smaller() -> None:
    with pytest.raises(ModelError, match=r"--lift-from 4 must be below --ring-size 4"):
        small_model(V9({"ring_size": 4}), 4)


def test_bmc_lifts_the_ring_1_counterexample_beyond_its_own_depth() -> None:
    """BMC to depth 2 cannot reach no-stuck-waiter's 3-step violation; lifted from ring
    size 1, it is found at ring size 4 with the same length, marked not shortest."""
    model = V9({"ring_size": 4})
    prop = _prop("no-stuck-waiter")
    plain = run_bmc(model, [prop], depth=2)
    assert plain.properties[0].status == "inconclusive"
    result = run_bmc(model, [prop], depth=2, lift_from=1)
    trace = result.properties[0].trace
    assert result.properties[0].status == "violated" and trace is not None
    assert len(trace) == 3 and trace.params["ring_size"] == 4
    assert [s.action for s in trace.steps] == ["set_backend", "put_and_wait_put",
                                               "put_and_wait_sleep"]
    assert not trace.shortest and trace.origin == "lifted from ring size 1"
    assert to_itf(model, trace)["#meta"]["origin"] == "lifted from ring size 1"


def test_a_guide_that_ends_before_the_violation_does_not_lift() -> None:
    prop = _prop("no-stuck-waiter")
    guide = small_counterexamples(V9({"ring_size": 1}), [prop], None)[prop.name]
    cut = dataclasses.replace(guide, steps=guide.steps[:2])
    model = V9({"ring_size": 4})
    assert lift(model, prop, cut, 1, lambda: BoundedSearch(model)) is None
    assert lift(model, prop, guide, 1, lambda: BoundedSearch(model)) is not None


def _guide() -> tuple[Property, Trace]:
    prop = _prop("no-stuck-waiter")
    return prop, small_counterexamples(V9({"ring_size": 1}), [prop], None)[prop.name]


def test_the_same_instances_fired_concretely_need_no_solver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prop, guide = _guide()
    monkeypatch.setattr(liftmod, "_solve_for", None)  # must not be called
    trace = lift(V9({"ring_size": 4}), prop, guide, 1, None)  # type: ignore[arg-type]
    assert trace is not None and [s.args for s in trace.steps] == [s.args for s in guide.steps]


def test_z3_finds_the_arguments_when_the_small_rings_do_not_exist() -> None:
    """A guide step whose arguments the large model has no instance for: the concrete
    route fails, and Z3 picks arguments that make the same actions violate."""
    prop, guide = _guide()
    first = dataclasses.replace(guide.steps[0], args={"to": 99}, label="set_backend(to=99)")
    doctored = dataclasses.replace(guide, steps=[first, *guide.steps[1:]])
    model = V9({"ring_size": 4})
    assert liftmod.fire_guide(model, doctored) is None
    trace = lift(model, prop, doctored, 1, lambda: BoundedSearch(model))
    assert trace is not None and len(trace) == 3
    assert trace.steps[0].action == "set_backend" and trace.steps[0].args != {"to": 99}


def test_a_lasso_lifts_as_a_checked_fair_lasso() -> None:
    model = V9({"ring_size": 3})
    prop = _prop("put-and-wait-terminates")
    result = run_bmc(model, [prop], depth=1, lift_from=1)
    trace = result.properties[0].trace
    assert result.properties[0].status == "violated" and trace is not None
    assert (len(trace), trace.loop) == (5, 5) and trace.origin == "lifted from ring size 1"
    assert "the run then stays forever in the state after step 5" in trace.explanation


def test_the_explicit_search_gets_half_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float | None] = []

    class Recording:
        def run(self, request: EngineRequest) -> RunResult:
            seen.append(request.limits.time_limit)
            return RunResult("explicit", True, Stats(), [])

    monkeypatch.setattr(liftmod, "ExplicitEngine", Recording)
    run_bmc(V9({"ring_size": 2}), [_prop("no-stuck-waiter")], depth=1, time_limit=100,
            lift_from=1)
    assert len(seen) == 1 and seen[0] is not None and 40 < seen[0] <= 50


@pytest.mark.slow
def test_v9_violations_lift_to_the_kernel_constants() -> None:
    """Ring 256, UIO_MAXIOV 1024, VHOST_MAX_PEND 128: F1 and F2 at their ring-1 lengths,
    replayed there.  F4's ring-1 path does not lift: it ends handle_tx's loop by the
    weight (``tx_sendmsg_ok_weight``, VHOST_NET_WEIGHT scaled to 1 packet at ring size
    1, 256 at 256); from ring 2 it does (results/lifted.md: every environment)."""
    model = V9({"ring_size": 256, "uio_maxiov": 1024, "max_pend": 128})
    props = [_prop(n) for n in ("memory-safe", "no-stuck-waiter", "no-quiescent-leak")]
    result = run_bmc(model, props, depth=1, lift_from=1)
    lengths = {r.name: len(r.trace) for r in result.properties if r.trace is not None}
    assert lengths == {"memory-safe": 8, "no-stuck-waiter": 3}
    assert result.properties[2].status == "inconclusive"


def test_a_time_limit_during_lifting_keeps_what_was_lifted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from checker.engines.symbolic.limits import SolverGaveUp

    real = liftmod.lift

    def stops_at_the_second(*args: Any, **kwargs: Any) -> Trace | None:
        if args[1].name == "memory-safe":
            raise SolverGaveUp("time limit")
        return real(*args, **kwargs)

    monkeypatch.setattr(liftmod, "lift", stops_at_the_second)
    props = [_prop("no-stuck-waiter"), _prop("memory-safe")]
    result = run_bmc(V9({"ring_size": 4}), props, depth=1, lift_from=1, time_limit=600)
    assert [r.status for r in result.properties] == ["violated", "inconclusive"]
    assert result.bounds_hit == ["time limit 600s"]
