"""The Z3 engines: backend, BMC and k-induction on tiny models, agreement with BFS on v9."""

from __future__ import annotations

from typing import Any

import pytest
import z3

from checker.engines.base import Limits, RunResult
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic.bmc import run_bmc
from checker.engines.symbolic.bounded import BoundedSearch, concrete_path
from checker.engines.symbolic.encoding import Z3, Z3Backend
from checker.engines.symbolic.intervals import Intervals
from checker.engines.symbolic.kinduction import LIVENESS_REASON, KindPropertyResult, run_kind
from checker.engines.symbolic.symexec import InstanceExec, execute
from checker.lang.model import Model, Params, action, bool_var, int_array, int_var
from checker.lang.spec import Property, invariant, properties_in
from checker.lang.view import ModelBug, StateView

# a query thread of the per-instance step case must never die with an exception
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")

# -- the backend ------------------------------------------------------------------


def _value(term: Any, **env: int) -> Any:
    """``term`` with the named Int constants replaced by values, simplified to a Python value."""
    pairs = [(z3.Int(k), z3.IntVal(v)) for k, v in env.items()]
    out = z3.simplify(z3.substitute(term, *pairs) if pairs else term)
    return z3.is_true(out) if z3.is_bool(out) else out.as_long()


def test_ite_concrete_condition_short_circuits() -> None:
    x = z3.Int("x")
    assert Z3.ite(True, x, 3) is x
    assert Z3.ite(False, x, 3) == 3
    assert _value(Z3.ite(x > 1, 10, 20), x=2) == 10
    assert _value(Z3.ite(x > 1, 10, 20), x=0) == 20


def test_ite_rejects_bool_int_mix() -> None:
    with pytest.raises(ModelBug):
        Z3.ite(z3.Bool("c"), z3.Int("x"), True)


def test_boolean_connectives_mix_python_and_z3() -> None:
    c = z3.Bool("c")
    assert Z3.and_() is True and Z3.or_() is False
    assert Z3.and_(True, c) is c and Z3.and_(False, c) is False
    assert Z3.or_(False, c) is c and Z3.or_(True, c) is True
    assert Z3.not_(Z3.not_(c)) is not None and Z3.not_(Z3.not_(c)).eq(c)
    assert Z3.not_(True) is False


def test_select_and_store_with_symbolic_index() -> None:
    i = z3.Int("i")
    arr = (z3.IntVal(5), z3.IntVal(6), z3.IntVal(7))
    for pos in range(3):
        assert _value(Z3.select(arr, i), i=pos) == 5 + pos
    assert _value(Z3.select(arr, i), i=9) == 7  # out of range: the last element
    assert Z3.select(arr, 1) is arr[1]
    stored = Z3.store(arr, i, 0)
    assert [_value(e, i=1) for e in stored] == [5, 0, 7]
    assert [_value(e, i=9) for e in stored] == [5, 6, 7]  # out of range: unchanged
    c = z3.Int("c") > 0
    cond = Z3.store_if(arr, c, i, 0)
    assert [_value(e, i=2, c=1) for e in cond] == [5, 6, 0]
    assert [_value(e, i=2, c=0) for e in cond] == [5, 6, 7]
    assert Z3.store_if(arr, False, 99, 0) is arr


def test_modulo_and_python_ints_mix() -> None:
    x = z3.Int("x")
    assert _value((x + 3) % 4, x=2) == 1
    assert _value((x + 4 - 1) % 4, x=0) == 3


def test_bitvector_backend_matches_python_arithmetic() -> None:
    bv = Z3Backend(bits=8)
    x, c = z3.BitVec("x", 8), z3.Bool("c")
    assert bv.ite(c, 1, 0).sort() == z3.BitVecSort(8)

    def at(term: Any, value: int) -> int:
        return z3.simplify(z3.substitute(term, (x, z3.BitVecVal(value, 8)))).as_signed_long()

    for value in (-3, -1, 0, 2, 5):
        assert at(x % 4, value) == value % 4  # bvsmod: the sign follows the divisor
        assert at((x + 4 - 1) % 4, value) == (value + 3) % 4
        assert z3.is_true(z3.simplify(z3.substitute(x < 2, (x, z3.BitVecVal(value, 8))))) == (
            value < 2
        )
    arr = tuple(z3.BitVecVal(v, 8) for v in (5, 6, 7))
    assert at(bv.select(arr, x), 1) == 6 and at(bv.store(arr, x, 0)[2], 2) == 0


def test_intervals_narrow_by_conditions() -> None:
    x, c = z3.Int("x"), z3.Bool("c")
    iv = Intervals({x.get_id(): (0, 2)})
    assert iv.of(z3.simplify(z3.If(x > 0, x - 1, x))) == (0, 1)
    assert iv.of(z3.If(c, x - 1, x)) == (-1, 2)
    assert iv.of((x + 3) % 4) == (0, 3) and iv.of(x % 4) == (0, 2)
    assert iv.under(x >= 1, True).of(x) == (1, 2)
    assert iv.of(z3.Int("y")) is None
    xb = z3.BitVec("xb", 8)
    ivb = Intervals({xb.get_id(): (0, 2)})
    assert ivb.of(z3.simplify(z3.If(xb > 0, xb - 1, xb))) == (0, 1)
    assert ivb.of(z3.simplify((xb + 3) % 4)) == (0, 3)


# -- tiny models -------------------------------------------------------------------


class Counter(Model):
    """A 2-bit counter: x counts 0, 1, 2, 3, 0, ...; ``stop`` freezes it."""

    name = "counter"
    actors = ("tick", "env")

    def declare(self, p: Params) -> list[Any]:
        return [int_var("x", 0, 3), bool_var("stopped"), int_array("seen", 4, 0, 1)]

    @action("tick", "inc", "x = (x + 1) % 4")
    def inc(self, s: StateView) -> None:
        s.require(s.neg(s.stopped))
        s.x = (s.x + 1) % 4
        s.seen[s.x] = 1

    @action("env", "stop", "stopped = true")
    def stop(self, s: StateView) -> None:
        s.require(s.neg(s.stopped))
        s.stopped = True


@invariant("not-three", "x never reaches 3")
def not_three(s: StateView) -> Any:
    return s.x != 3


@invariant("seen-in-order", "3 is seen only after 2")
def seen_in_order(s: StateView) -> Any:
    return s.implies(s.seen[3] == 1, s.seen[2] == 1)


@invariant("ticking", "the counter can always tick unless stopped")
def ticking(s: StateView) -> Any:
    return s.any(s.enabled("tick"), s.stopped)


class Toggle(Model):
    """x toggles 0 <-> 1; the unreachable states 2 -> 3 -> 3 lead to the bad one."""

    name = "toggle"
    actors = ("a",)

    def declare(self, p: Params) -> list[Any]:
        return [int_var("x", 0, 3)]

    @action("a", "step", "x = next(x)")
    def step(self, s: StateView) -> None:
        s.x = s.ite(s.x == 0, 1, s.ite(s.x == 1, 0, 3))


@invariant("small", "x stays in {0, 1}")
def small(s: StateView) -> Any:
    return s.x <= 1


@invariant("not-three-toggle", "x is never 3")
def not_three_toggle(s: StateView) -> Any:
    return s.x != 3


class Bounded(Model):
    """A counter with a model capacity of 3, or (``limit``) that stops at 2."""

    name = "bounded"
    actors = ("a",)

    def declare(self, p: Params) -> list[Any]:
        return [int_var("x", 0, 3)]

    @action("a", "inc", "x++")
    def inc(self, s: StateView) -> None:
        s.capacity(s.x < 3, "counter")
        s.x = s.x + 1


class Stops(Model):
    """Counts to 2 and stops: every reachable state is within 2 steps."""

    name = "stops"
    actors = ("a",)

    def declare(self, p: Params) -> list[Any]:
        return [int_var("x", 0, 3)]

    @action("a", "inc", "x++ while x < 2")
    def inc(self, s: StateView) -> None:
        s.require(s.x < 2)
        s.x = s.x + 1


class Overflows(Model):
    """x counts up with no bound: the step from 3 writes 4, outside the type (a model bug)."""

    name = "overflows"
    actors = ("a",)

    def declare(self, p: Params) -> list[Any]:
        return [int_var("x", 0, 3)]

    @action("a", "inc", "x++")
    def inc(self, s: StateView) -> None:
        s.x = s.x + 1


@invariant("nonneg", "x >= 0")
def nonneg(s: StateView) -> Any:
    return s.x >= 0


def _status(result: RunResult) -> dict[str, tuple[str, int | None]]:
    return {
        r.name: (r.status, len(r.trace) if r.trace is not None else None)
        for r in result.properties
    }


def test_execute_collects_guards_and_values() -> None:
    model = Counter()
    state = (z3.Int("x"), z3.Bool("stopped"), tuple(z3.Int(f"seen{i}") for i in range(4)))
    ex = execute(model, model.instance("inc"), state, {state[0].get_id(): (0, 3)})
    assert isinstance(ex, InstanceExec) and len(ex.guards) == 1 and not ex.caps
    assert _value(ex.values[0], x=3) == 0
    assert z3.is_false(ex.ill_typed)  # (x + 1) % 4 is within [0, 3]: no check needed
    bad = Overflows()
    x = z3.Int("x")
    ex = execute(bad, bad.instance("inc"), (x,), {x.get_id(): (0, 3)})
    assert _value(ex.ill_typed, x=3) is True and _value(ex.ill_typed, x=2) is False


def test_bmc_finds_shortest_counterexample() -> None:
    model = Counter()
    result = run_bmc(model, [not_three, seen_in_order, ticking], depth=5)
    assert result.engine == "bmc" and not result.complete
    got = _status(result)
    assert got["not-three"] == ("violated", 3)
    assert got["seen-in-order"][0] == "inconclusive"
    assert got["ticking"][0] == "inconclusive"
    trace = result.properties[0].trace
    assert trace is not None and [s.label for s in trace.steps] == ["inc"] * 3
    assert result.stats.max_depth == 5


def test_bmc_below_the_length_is_inconclusive() -> None:
    result = run_bmc(Counter(), [not_three], depth=2)
    assert result.properties[0].status == "inconclusive"
    assert result.properties[0].reason == "bounded to depth 2"
    assert result.bounds_hit == ["depth 2"]


def test_bmc_agrees_with_bfs_on_counter() -> None:
    model = Counter()
    props = [not_three, seen_in_order, ticking]
    bmc = run_bmc(model, props, depth=4)
    bfs = ExplicitChecker(model, props, limits=Limits(max_depth=4)).run()
    assert _status(bmc) == _status(bfs)


def test_kind_proves_inductive_and_reports_cti() -> None:
    result = run_kind(Toggle(), [small], max_k=1)
    assert result.properties[0].status == "holds"
    assert isinstance(result.properties[0], KindPropertyResult) and result.properties[0].k == 1
    # alone, not-three-toggle is not 1-inductive; with small in the same run, the two are
    # inductive together (small strengthens it) and both hold at k = 1
    together = run_kind(Toggle(), [small, not_three_toggle], max_k=1)
    assert [(r.status, getattr(r, "k", None)) for r in together.properties] == [
        ("holds", 1), ("holds", 1)]
    third = run_kind(Toggle(), [not_three_toggle], max_k=1).properties[0]
    assert third.status == "inconclusive" and isinstance(third, KindPropertyResult)
    assert third.cti is not None and [s["x"] for s in third.cti] == [2, 3]
    assert "k=1" in (third.reason or "")


def test_kind_needs_k2_for_the_unreachable_chain() -> None:
    result = run_kind(Toggle(), [not_three_toggle], max_k=3)
    assert result.engine == "kind" and result.complete
    (res,) = result.properties
    assert res.status == "holds" and isinstance(res, KindPropertyResult) and res.k == 2


def test_kind_strengthening_is_proved_and_used() -> None:
    result = run_kind(Toggle(), [not_three_toggle], max_k=1, strengthening=[small])
    assert result.properties[0].status == "holds"
    bad = run_kind(Counter(), [seen_in_order], max_k=3, strengthening=[not_three])
    assert bad.properties[0].status == "inconclusive"
    assert "not-three" in (bad.properties[0].reason or "")


def test_kind_finds_base_case_violation() -> None:
    result = run_kind(Counter(), [not_three], max_k=5)
    assert _status(result)["not-three"] == ("violated", 3)


def test_capacity_is_never_silently_cut() -> None:
    prop = [nonneg]
    bfs = ExplicitChecker(Bounded(), prop).run()
    assert bfs.properties[0].status == "inconclusive"
    # x reaches 3 after 3 steps, where inc stops at the capacity: no 4-step path exists,
    # yet nothing holds, exactly as in the explicit engine.
    bmc = run_bmc(Bounded(), prop, depth=5)
    assert bmc.bounds_hit == bfs.bounds_hit == ["model capacity: counter"]
    assert not bmc.complete and bmc.properties[0].status == "inconclusive"
    assert "model capacity reachable: counter" in (bmc.properties[0].reason or "")
    short = run_bmc(Bounded(), prop, depth=2)
    assert short.bounds_hit == ["depth 2"]
    kind = run_kind(Bounded(), prop, max_k=3)
    assert kind.properties[0].status == "inconclusive"
    assert "counter" in (kind.properties[0].reason or "")


@invariant("can-move", "the counter's actor is enabled")
def can_move(s: StateView) -> Any:
    return s.enabled("a")


def test_enabled_counts_a_capacity_stop_as_the_explicit_engine_does() -> None:
    # At x == 3, inc stops at its capacity: expand() reports actor "a" enabled.
    bfs = ExplicitChecker(Bounded(), [can_move]).run()
    bmc = run_bmc(Bounded(), [can_move], depth=5)
    assert _status(bmc) == _status(bfs) == {"can-move": ("inconclusive", None)}
    stuck = _status(run_bmc(Stops(), [can_move], depth=5))
    assert stuck == _status(ExplicitChecker(Stops(), [can_move]).run()) == {"can-move": ("violated", 2)}


def test_ill_typed_write_is_a_model_bug_not_a_cut() -> None:
    with pytest.raises(ModelBug):
        ExplicitChecker(Overflows(), [nonneg]).run()
    with pytest.raises(ModelBug, match="x := 4"):
        run_bmc(Overflows(), [nonneg], depth=6)
    with pytest.raises(ModelBug):  # expanding the state at depth 3 raises, as in BFS
        ExplicitChecker(Overflows(), [nonneg], limits=Limits(max_depth=3)).run()
    with pytest.raises(ModelBug):
        run_bmc(Overflows(), [nonneg], depth=3)
    assert run_bmc(Overflows(), [nonneg], depth=2).properties[0].status == "inconclusive"
    kind = run_kind(Overflows(), [nonneg], max_k=2)
    assert kind.properties[0].status == "inconclusive"
    assert "well-typed (inc: x := 4 is outside its type" in (kind.properties[0].reason or "")


def test_bmc_exhausts_a_finite_run() -> None:
    result = run_bmc(Stops(), [nonneg], depth=10)
    assert result.complete and result.properties[0].status == "holds"
    # the run stops after 2 steps; whether a longer path exists is asked at depths 1, 2, 4, ...
    assert result.stats.max_depth == 3


def test_concrete_path_answers_path_existence_without_the_solver() -> None:
    assert concrete_path(Stops(), 2) is True
    assert concrete_path(Stops(), 3) is False  # not found: the solver is then asked
    assert concrete_path(Counter(), 5) is True


def test_path_existence_answered_concretely_queries_nothing() -> None:
    search = BoundedSearch(Counter())
    search.extend()
    search.extend()
    assert search.path_exists() is True
    assert search.queries == 0


def test_progress_is_called_per_depth() -> None:
    depths: list[int] = []
    run_bmc(Counter(), [seen_in_order], depth=3, progress=lambda s: depths.append(s.max_depth))
    assert depths == [0, 1, 2, 3]


# -- agreement with the explicit engine on v9 ---------------------------------------


def _v9(**params: Any) -> tuple[Model, list[Property]]:
    from models.v9 import V9
    from specs import zerocopy

    return V9(params), properties_in(zerocopy)


AGREEMENT = [
    # (parameters, depth): BFS cut at the same depth; every shortest length below it must match
    ({"ring_size": 1, "max_backend_changes": 1, "release": "no", "send_failures": 0}, 8),
    ({"ring_size": 1}, 7),  # memory-safe needs 8 steps: inconclusive in both
    ({"ring_size": 2}, 5),
    ({"ring_size": 1, "guest": "rogue", "sndbuf": 2, "max_backend_changes": 0}, 8),
]


@pytest.mark.parametrize(("params", "depth"), AGREEMENT)
def test_bmc_agrees_with_bfs_on_v9(params: dict[str, Any], depth: int) -> None:
    model, props = _v9(**params)
    bfs = ExplicitChecker(model, props, limits=Limits(max_depth=depth)).run()
    bmc = run_bmc(model, props, depth=depth)
    _assert_agree(bmc, bfs, props)
    assert any(status == "violated" for status, _ in _status(bmc).values())
    assert bmc.bounds_hit == bfs.bounds_hit


def _assert_agree(bmc: RunResult, bfs: RunResult, props: list[Property]) -> None:
    """Invariants: the same verdicts and lengths.  Liveness: BMC finds every lasso the
    explicit engine finds (on its depth-cut graph), never longer (BMC's have fewest steps)."""
    got, want = _status(bmc), _status(bfs)
    for prop in props:
        if not prop.is_liveness:
            assert got[prop.name] == want[prop.name], prop.name
        elif want[prop.name][0] == "violated":
            assert got[prop.name][0] == "violated", prop.name
            assert (got[prop.name][1] or 0) <= (want[prop.name][1] or 0), prop.name


def test_int_sort_agrees_with_bitvectors() -> None:
    model, props = _v9(ring_size=1, max_backend_changes=1, release="no", send_failures=0)
    ints = run_bmc(model, props, depth=4, bitvectors=False)
    assert _status(ints) == _status(run_bmc(model, props, depth=4))
    assert _status(ints)["no-stuck-waiter"] == ("violated", 3)
    kind = run_kind(Toggle(), [not_three_toggle], max_k=2, bitvectors=False)
    assert kind.properties[0].status == "holds"


def test_kind_on_v9_finds_the_short_violation_and_keeps_ctis() -> None:
    model, props = _v9(ring_size=1, max_backend_changes=1, release="no", send_failures=0)
    result = run_kind(model, props, max_k=4)
    got = _status(result)
    assert got["no-stuck-waiter"] == ("violated", 3)
    live = {p.name for p in props if p.is_liveness}
    for r in result.properties:
        if r.name in live:
            assert (r.status, r.reason) == ("inconclusive", LIVENESS_REASON)
        elif r.status == "inconclusive":
            assert isinstance(r, KindPropertyResult) and r.cti is not None and len(r.cti) == 5
            assert "k=4" in (r.reason or "")


def test_time_limit_makes_bmc_inconclusive() -> None:
    model, props = _v9(ring_size=1)
    result = run_bmc(model, props, depth=50, time_limit=0.01)
    assert result.bounds_hit[0] == "time limit 0.01s"
    assert all(r.status == "inconclusive" for r in result.properties)


@pytest.mark.slow
def test_bmc_finds_the_v9_ring1_counterexamples_at_bfs_lengths() -> None:
    model, props = _v9(ring_size=1)
    props = [p for p in props if not p.is_liveness]  # lassos: tests/test_bmc_liveness.py
    bmc = run_bmc(model, props, depth=16)
    expected = {"memory-safe": 8, "no-stuck-waiter": 3, "no-quiescent-leak": 14}
    violated = {name: ("violated", n) for name, n in expected.items()}
    # no-double-use holds at ring 1 in today's model (the explicit search is complete);
    # BMC cannot say more than "none within 16 steps"
    assert _status(bmc) == {**violated, "no-double-use": ("inconclusive", None)}
    assert _status(ExplicitChecker(model, props).run()) == {**violated,
                                                           "no-double-use": ("holds", None)}


@pytest.mark.slow
def test_bmc_agrees_with_bfs_on_v9_ring2_depth16() -> None:
    model, props = _v9(ring_size=2)
    props = [p for p in props if not p.is_liveness]  # lassos: tests/test_bmc_liveness.py
    bmc = run_bmc(model, props, depth=16)
    bfs = ExplicitChecker(model, props, limits=Limits(max_depth=16)).run()
    assert _status(bmc) == _status(bfs)


def test_bmc_agrees_with_bfs_on_v3_1() -> None:
    from models.v3_1 import V3_1
    from specs import zerocopy

    model = V3_1({"ring_size": 1, "release": "no"})
    props = properties_in(zerocopy)
    bfs = ExplicitChecker(model, props, limits=Limits(max_depth=9)).run()
    bmc = run_bmc(model, props, depth=9)
    assert _status(bmc) == _status(bfs)
    assert _status(bmc)["memory-safe"] == ("violated", 8)
    assert bmc.bounds_hit == bfs.bounds_hit
