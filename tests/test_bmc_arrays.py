"""BMC with model arrays as Z3 arrays (the array layout) against the flat layout and BFS.

Each environment at ring sizes 1 and 2: BMC's verdicts equal the explicit
engine's cut at the same depth, its trace lengths equal the BFS shortest,
and every BMC trace replays on the concrete model (BMC replays each one
before reporting it; the test replays it again).  The array layout is
checked at a smaller depth than the flat one: Z3's SMT core, which it needs,
is slower (docs/engines.md, "Arrays").  The array layout is checked grouped
(each parameterised action run once on symbolic arguments, BMC's default with
arrays; :mod:`checker.engines.symbolic.groups`) and ungrouped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import z3

from checker.cli import main
from checker.engines.base import Limits, RunResult
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic import groups
from checker.engines.symbolic.bmc import run_bmc
from checker.engines.symbolic.encoding import SymArray, Z3Backend, array_sort
from checker.engines.symbolic.guard import SymbolicMisuse
from checker.engines.symbolic.layout import (
    ArrayLayout,
    FlatLayout,
    bmc_uses_arrays,
    layout_for,
)
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.fairness import Fair
from checker.lang.model import Model, Params, action, bool_var, int_array, int_var
from checker.lang.spec import Property, eventually, invariant, leads_to, properties_in
from checker.lang.view import ModelBug, StateView
from checker.runs.environments import ENVIRONMENTS
from checker.semantics.states import fire
from checker.traces.trace import Trace
from tests.liveness_models import SF_SERVER, WF_NOISE, WF_SERVER, Server, eventually_req, served

# -- the backend on Z3 arrays --------------------------------------------------------


def _array(size: int = 4) -> SymArray:
    return SymArray(z3.Const("a", array_sort(size, False, 8)), size, 8)


def test_select_and_store_are_array_terms_not_if_chains() -> None:
    b, a = Z3Backend(8), _array()
    i = z3.BitVec("i", 8)
    got = b.select(a, i)
    assert z3.is_select(got) and got.arg(1).sort() == z3.BitVecSort(2)  # 2 bits index 0..3
    stored = b.store(a, i, 7)
    assert isinstance(stored, SymArray) and z3.is_store(stored.term)
    assert z3.simplify(b.select(b.store(a, 2, 5), 2)).as_long() == 5


def test_store_if_keeps_the_old_element_when_the_condition_fails() -> None:
    b, a = Z3Backend(8), _array()
    c, i = z3.Bool("c"), z3.BitVec("i", 8)
    out = b.store_if(a, c, i, 9)
    solver = z3.Solver()
    solver.add(z3.Not(c), b.select(out, i) != b.select(a, i))
    assert solver.check() == z3.unsat
    assert b.store_if(a, c, 4, 9) is a  # a conditional write out of range never happens


def test_concrete_index_out_of_range_raises_like_the_concrete_backend() -> None:
    b, a = Z3Backend(8), _array()
    with pytest.raises(IndexError):
        b.select(a, 4)
    with pytest.raises(IndexError):
        b.store(a, -1, 0)


def test_a_sym_array_is_a_sequence_for_model_code() -> None:
    a = _array(3)
    assert len(a) == 3
    cells = list(a)
    assert [z3.is_select(c) for c in cells] == [True] * 3
    assert [c.arg(1).as_long() for c in cells] == [0, 1, 2]


def test_delete_at_is_one_lambda_equal_to_the_element_wise_shift() -> None:
    """On a :class:`SymArray` the shift is one ``Lambda`` term; for every content and
    every ``k`` each in-range element equals the view's element-wise
    ``ite(j >= k, a[j + 1], a[j])`` (last: ``fill``), and a read of it names ``j + 1``."""
    b, a, k = Z3Backend(8), _array(), z3.BitVec("k", 8)
    moved = b.delete_at(a, k, 0)
    assert isinstance(moved, SymArray) and z3.is_quantifier(moved.term)
    assert moved.term.is_lambda()
    wise = [b.ite(j >= k, a.at(j + 1) if j + 1 < 4 else b.num(0), a.at(j)) for j in range(4)]
    solver = z3.Solver()
    solver.add(z3.Or(*(moved.at(j) != wise[j] for j in range(4))))
    assert solver.check() == z3.unsat
    assert "a[2]" in str(moved.at(1)) and not z3.is_quantifier(moved.at(1))
    assert b.delete_at((1, 2), k, 0) is None  # a tuple of terms: the view shifts it


def test_delete_at_on_the_concrete_backend_shifts_and_fills() -> None:
    model = Shifter()
    s = StateView(model, [0, (2, 1, 0)])
    s.delete_at("cells", 1)
    assert s.values() == (0, (2, 0, 0))
    with pytest.raises(ModelBug, match="pos is not an array variable"):
        s.delete_at("pos", 0)
    for k in range(-1, 5):  # the slice is the element-wise shift, in range or not
        s = StateView(model, [0, (2, 1, 0)])
        s.delete_at("cells", k)
        a = (2, 1, 0)
        assert s.values()[1] == tuple((a[j + 1] if j + 1 < 3 else 0) if j >= k else a[j]
                                      for j in range(3))


# -- a tiny model with every kind of array use ---------------------------------------


class Shifter(Model):
    """A ring of 3 cells: write at a symbolic position, shift the whole array (a
    whole-array assignment), iterate over it in a property."""

    name = "shifter"
    actors = ("a", "b")

    def declare(self, p: Params) -> list[Any]:
        return [int_var("pos", 0, 2), int_array("cells", 3, 0, 2)]

    def init(self, s: StateView) -> None:
        s.cells = [0, 0, 1]

    @action("a", "put", "cells[pos] = cells[pos] + 1; pos = (pos + 1) % 3")
    def put(self, s: StateView) -> None:
        s.require(s.cells[s.pos] < 2)
        s.cells[s.pos] = s.cells[s.pos] + 1
        s.pos = (s.pos + 1) % 3

    @action("b", "shift", "cells = cells[1:] + [0]")
    def shift(self, s: StateView) -> None:
        s.cells = [s.cells[i + 1] if i + 1 < 3 else 0 for i in range(3)]


@invariant("total-below-four", "the cells hold at most 3 in all")
def total_below_four(s: StateView) -> Any:
    total: Any = 0
    for c in s.cells:  # iterates the array: SymArray yields Select(a, i)
        total = total + c
    return total < 4


@invariant("a-two-somewhere-first", "cell 0 is never 2")
def first_not_two(s: StateView) -> Any:
    return s.cells[0] != 2


SHIFTER_PROPS = [total_below_four, first_not_two]


def _status(result: RunResult) -> dict[str, tuple[str, int | None]]:
    return {r.name: (r.status, len(r.trace) if r.trace else None) for r in result.properties}


def _replays(model: Model, trace: Trace) -> None:
    """Every step of ``trace`` fires on the concrete model and reaches the state shown."""
    state = trace.initial
    for step in trace.steps:
        state = fire(model, model.instance(step.label), state)
        assert state == step.state, step.label


def test_array_and_flat_layouts_agree_on_the_shifter() -> None:
    model = Shifter()
    arrays = run_bmc(model, SHIFTER_PROPS, depth=6, arrays=True)
    flat = run_bmc(model, SHIFTER_PROPS, depth=6, arrays=False)
    bfs = ExplicitChecker(model, SHIFTER_PROPS, limits=Limits(max_depth=6)).run()
    assert _status(arrays) == _status(flat) == _status(bfs)
    assert _status(arrays)["total-below-four"][0] == "violated"
    for r in arrays.properties:
        if r.trace is not None:
            _replays(model, r.trace)


def test_the_layout_choice_lives_in_layout_for() -> None:
    model = Shifter()
    assert isinstance(layout_for(model, 8, True), ArrayLayout)
    assert isinstance(layout_for(model, 8, False), FlatLayout)
    t = StepTemplate(model, arrays=True)
    assert [z3.is_array(c) for c in t.cur] == [False, True]
    assert len(StepTemplate(model).cur) == 4  # flat: pos, cells[0..2]


def test_bmc_takes_arrays_for_large_arrays_only() -> None:
    from models.v3_1 import V3_1

    assert not bmc_uses_arrays(Shifter())
    assert not bmc_uses_arrays(V3_1({"ring_size": 8}))  # heads[] has 32 entries
    assert bmc_uses_arrays(V3_1({"ring_size": 16}))  # 64


@pytest.mark.parametrize(("fairness", "prop"), [("WF(server)+WF(noise)", served),
                                                ("SF(server)+WF(noise)", served),
                                                ("WF(server)+WF(noise)", eventually_req)])
def test_the_lasso_search_runs_on_the_array_layout(fairness: str, prop: Property) -> None:
    fair = {"WF(server)+WF(noise)": [WF_SERVER, WF_NOISE],
            "SF(server)+WF(noise)": [SF_SERVER, WF_NOISE]}[fairness]
    got = run_bmc(Server(), [prop], depth=4, fairness=fair, arrays=True).properties[0]
    want = run_bmc(Server(), [prop], depth=4, fairness=fair, arrays=False).properties[0]
    assert got.status == want.status
    assert (got.trace and (len(got.trace), got.trace.loop)) == \
        (want.trace and (len(want.trace), want.trace.loop))


def test_a_truth_value_of_a_select_is_still_refused() -> None:
    @invariant("bad", "uses `if` on an element")
    def bad(s: StateView) -> Any:
        return s.cells[0] == 0 if s.cells[1] else True

    with pytest.raises(SymbolicMisuse, match="truth value"):
        run_bmc(Shifter(), [bad], depth=1, arrays=True)


# -- every environment of v9 at ring 1 and 2 ------------------------------------------


def _v9(env: str, ring: int) -> tuple[Model, list[Property]]:
    from models.v9 import V9
    from specs import zerocopy

    params = {**ENVIRONMENTS[env].switches, "ring_size": ring}
    return V9(params), [p for p in properties_in(zerocopy) if not p.is_liveness]


def _agree(model: Model, props: list[Property], depth: int, arrays: bool,
           grouped: bool | None = None) -> RunResult:
    """BMC and BFS cut at ``depth``: the same verdicts, lengths and bounds; traces replay."""
    bfs = ExplicitChecker(model, props, limits=Limits(max_depth=depth)).run()
    bmc = run_bmc(model, props, depth=depth, arrays=arrays, grouped=grouped)
    assert _status(bmc) == _status(bfs)
    for r in bmc.properties:
        if r.trace is not None:
            _replays(model, r.trace)
    return bmc


CASES = [(env, ring) for env in ENVIRONMENTS for ring in (1, 2)]


@pytest.mark.parametrize(("env", "ring"), CASES)
def test_flat_bmc_agrees_with_bfs_in_every_environment(env: str, ring: int) -> None:
    model, props = _v9(env, ring)
    _agree(model, props, 3, arrays=False)


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "ungrouped"])
@pytest.mark.parametrize(("env", "ring"), CASES)
def test_array_bmc_agrees_with_bfs_in_every_environment(
    env: str, ring: int, grouped: bool
) -> None:
    model, props = _v9(env, ring)
    if grouped:  # not vacuous: dev_complete(k) is one execution
        t = StepTemplate(model, arrays=True, grouped=True)
        assert any(g.params and g.spec.name == "dev_complete" for g in t.groups)
    _agree(model, props, 2, arrays=True, grouped=grouped)


@pytest.mark.parametrize(("env", "ring"), CASES)
def test_grouped_bmc_agrees_with_bfs_at_depth_three(env: str, ring: int) -> None:
    model, props = _v9(env, ring)
    _agree(model, props, 3, arrays=True, grouped=True)


@pytest.mark.parametrize("ring", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_array_bmc_finds_the_three_step_violation(ring: int) -> None:
    model, props = _v9("default", ring)
    bmc = _agree(model, props, 3, arrays=True)
    assert _status(bmc)["no-stuck-waiter"] == ("violated", 3)


@pytest.mark.slow
@pytest.mark.parametrize(("env", "ring"), CASES)
def test_array_bmc_agrees_with_bfs_deeper(env: str, ring: int) -> None:
    model, props = _v9(env, ring)
    _agree(model, props, 4, arrays=True)


# -- grouping: one execution per parameterised action ------------------------------------


def test_dev_complete_is_executed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """At ring 2 dev_complete has one instance per skb slot: run once when grouped,
    once per instance when not; guest_post_rogue (``if h < ring_size:``) falls back
    to one each."""
    from models.v9 import V9

    model = V9({"ring_size": 2, "guest": "rogue"})
    runs: dict[str, int] = {}
    real = groups.execute

    def counting(m: Model, inst: Any, *args: Any, **kwargs: Any) -> Any:
        runs[inst.spec.name] = runs.get(inst.spec.name, 0) + 1
        return real(m, inst, *args, **kwargs)

    monkeypatch.setattr(groups, "execute", counting)
    n = sum(1 for i in model.instances if i.spec.name == "dev_complete")
    assert n > 1
    t = StepTemplate(model, arrays=True, grouped=True)
    assert runs["dev_complete"] == 1
    assert runs["guest_post"] == 1
    posts = sum(1 for i in model.instances if i.spec.name == "guest_post_rogue")
    assert runs["guest_post_rogue"] == 1 + posts  # the symbolic try, then one per instance
    [dev] = [g for g in t.groups if g.spec.name == "dev_complete"]
    assert len(dev.instances) == n and [name for name, _ in dev.params] == ["k"]
    assert len(t.execs) == len(t.groups) == t.halt
    assert len(t.execs) == len(model.instances) - sum(len(g.instances) - 1 for g in t.groups)
    runs.clear()
    flat = StepTemplate(model, arrays=True)  # ungrouped: one run per instance
    assert runs["dev_complete"] == n and len(flat.execs) == len(model.instances)


class Picker(Model):
    """Four cells; ``take(k)`` takes from cell ``k`` (a capacity on how many are
    taken), ``fill(k)`` for k in (1, 3) refills an empty cell with ``k`` (a
    domain that is not a range), ``spill(k)`` writes ``k + 2`` (outside the cells'
    type for k = 2) and ``pick(k)`` branches on ``k`` in Python, so it cannot be
    grouped."""

    name = "picker"
    actors = ("taker", "filler", "spiller", "picker")

    def declare(self, p: Params) -> list[Any]:
        return [int_array("cells", 4, 0, 3), int_var("taken", 0, 4), bool_var("spilt"),
                int_var("picked", 0, 3)]

    def init(self, s: StateView) -> None:
        s.cells = [1, 0, 2, 0]

    @action("taker", "take", "cells[k]--; taken++", over=lambda p: {"k": range(4)})
    def take(self, s: StateView, k: int) -> None:
        s.require(s.cells[k] > 0)
        s.capacity(s.taken < 3, "taken")
        s.cells[k] = s.cells[k] - 1
        s.taken = s.taken + 1

    @action("filler", "fill", "cells[k] = k", over=lambda p: {"k": (1, 3)})
    def fill(self, s: StateView, k: int) -> None:
        s.require(s.all(s.cells[k] == 0, s.taken >= 2))
        s.cells[k] = k

    @action("spiller", "spill", "cells[k] = k + 2", over=lambda p: {"k": range(3)})
    def spill(self, s: StateView, k: int) -> None:
        s.require(s.all(s.spilt, s.cells[k] == 0))
        s.cells[k] = k + 2

    @action("picker", "pick", "picked = k ? 3 : 1", over=lambda p: {"k": range(2)})
    def pick(self, s: StateView, k: int) -> None:
        s.require(s.picked == 0)
        if k == 0:  # a Python branch on the argument: one execution per instance
            s.picked = 1
        else:
            s.picked = 3


@invariant("taker-enabled", "some take(k) can fire or stops at its capacity")
def taker_enabled(s: StateView) -> Any:
    return s.enabled("taker")


@invariant("never-three", "picked is never 3")
def never_three(s: StateView) -> Any:
    return s.picked != 3


@invariant("cell-three-empty", "cell 3 stays empty")
def cell_three_empty(s: StateView) -> Any:
    return s.cells[3] == 0


@invariant("taken-bounded", "at most 3 are taken")
def taken_bounded(s: StateView) -> Any:
    return s.taken <= 3


PICKER_PROPS = [taker_enabled, never_three, cell_three_empty]


def test_grouping_keeps_enabled_capacity_and_verdicts_of_the_picker() -> None:
    model = Picker()
    t = StepTemplate(model, arrays=True, grouped=True)
    shape = [(g.spec.name, len(g.instances), bool(g.params)) for g in t.groups]
    assert shape == [("take", 4, True), ("fill", 2, True), ("spill", 3, True),
                     ("pick", 1, False), ("pick", 1, False)]
    bfs = ExplicitChecker(model, PICKER_PROPS, limits=Limits(max_depth=6)).run()
    want = {"taker-enabled": ("violated", 3), "never-three": ("violated", 1),
            "cell-three-empty": ("violated", 3)}
    assert _status(bfs) == want
    for grouped in (True, False):
        bmc = run_bmc(model, PICKER_PROPS, depth=6, arrays=True, grouped=grouped)
        assert _status(bmc) == want, grouped
        for r in bmc.properties:
            assert r.trace is not None
            _replays(model, r.trace)
    cell = run_bmc(model, [cell_three_empty], depth=6, arrays=True, grouped=True)
    assert cell.properties[0].trace is not None
    assert [step.label for step in cell.properties[0].trace.steps][-1] == "fill(k=3)"
    # take(k) stops at its capacity once 3 are taken and a cell is refilled (depth 4).
    bfs = ExplicitChecker(model, [taken_bounded], limits=Limits(max_depth=5)).run()
    bmc = run_bmc(model, [taken_bounded], depth=5, arrays=True, grouped=True)
    assert bmc.bounds_hit == bfs.bounds_hit == ["depth 5", "model capacity: taken"]
    assert _status(bmc) == _status(bfs) == {"taken-bounded": ("inconclusive", None)}


class Spiller(Picker):
    """The picker whose spill can fire: spill(k=2) writes 4 into a cell of 0..3."""

    name = "spiller"

    def init(self, s: StateView) -> None:
        s.cells = [1, 0, 2, 0]
        s.spilt = True


def test_a_type_error_of_a_grouped_action_is_found_on_its_instance() -> None:
    with pytest.raises(ModelBug) as bfs:
        ExplicitChecker(Spiller(), PICKER_PROPS).run()
    with pytest.raises(ModelBug) as bmc:
        run_bmc(Spiller(), PICKER_PROPS, depth=4, arrays=True, grouped=True)
    # BMC re-fires the instance it decoded (unroll.model_bug): spill(k=0) or (k=1)
    # would not raise, and an EncodingError would say so.
    assert str(bmc.value) == str(bfs.value) == "cells := 4 is outside its type [0, 3]"


class Walker(Model):
    """pos walks 0 -> 1 -> 2 -> 0 by ``step(k)`` and back by ``back(k)`` (one instance
    per position each); ``stop`` ends the walk at 2."""

    name = "walker"
    actors = ("walker", "stopper")

    def declare(self, p: Params) -> list[Any]:
        return [int_var("pos", 0, 2), bool_var("stopped")]

    @action("walker", "step", "pos = (k + 1) % 3", over=lambda p: {"k": range(3)})
    def step(self, s: StateView, k: int) -> None:
        s.require(s.all(s.pos == k, s.neg(s.stopped)))
        s.pos = (k + 1) % 3

    @action("walker", "back", "pos = k - 1", over=lambda p: {"k": range(1, 3)})
    def back(self, s: StateView, k: int) -> None:
        s.require(s.all(s.pos == k, s.neg(s.stopped)))
        s.pos = k - 1

    @action("stopper", "stop", "stopped = 1")
    def stop(self, s: StateView) -> None:
        s.require(s.all(s.neg(s.stopped), s.pos == 2))
        s.stopped = True


@eventually("reaches-two", "pos eventually is 2")
def reaches_two(s: StateView) -> Any:
    return s.pos == 2


@leads_to("one-then-two", "pos 1 leads to pos 2")
def one_then_two(s: StateView) -> Any:
    return s.pos == 1, s.pos == 2


WF_EACH_STEP = Fair("weak", "each step(k) is taken when it stays enabled",
                    actions=("step",), each=True)
SF_EACH_STEP = Fair("strong", "each step(k) is taken when it is enabled again and again",
                    actions=("step",), each=True)
SF_STEPS = Fair("strong", "some step is taken when one is enabled again and again",
                actions=("step",))


@pytest.mark.parametrize(("fair", "want"), [
    ([], [("violated", (0, 0)), ("violated", (1, 1))]),  # stutter
    ([WF_EACH_STEP], [("violated", (2, 0)), ("violated", (2, 0))]),  # 0 -> 1 -> 0 -> ...
    ([SF_STEPS], [("violated", (2, 0)), ("violated", (2, 0))]),  # step(k=0) is taken
    ([SF_EACH_STEP], [("inconclusive", None), ("inconclusive", None)]),  # step(k=1) forced
], ids=["none", "wf-each-step", "sf-steps", "sf-each-step"])
def test_the_lasso_search_agrees_grouped_and_ungrouped(
    fair: list[Fair], want: list[tuple[str, Any]]
) -> None:
    """Fairness on single instances of a grouped action (``each=True``) and on all of
    them: the same lassos (length, loop) as the flat layout and as hand-worked."""
    model = Walker()
    assert any(g.params for g in StepTemplate(model, arrays=True, grouped=True).groups)
    props = [reaches_two, one_then_two]
    for kwargs in ({"arrays": True, "grouped": True}, {"arrays": True, "grouped": False},
                   {"arrays": False}):
        got = run_bmc(model, props, depth=4, fairness=fair, **kwargs)
        assert [(r.status, None if r.trace is None else (len(r.trace), r.trace.loop))
                for r in got.properties] == want, kwargs


# -- the kernel's constants -----------------------------------------------------------


def test_bmc_accepts_the_kernels_constants_and_honours_the_time_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ring 256, UIO_MAXIOV 1024, VHOST_MAX_PEND 128: accepted; the limit ends the run
    while the step is built, or (when an earlier test left its parts cached) at the
    first depth, so every property is inconclusive with the limit as its reason and
    the exit code is 3, not a crash."""
    with pytest.raises(SystemExit) as exc:
        main(["check", "--engine", "bmc", "--ring-size", "256", "--uio-maxiov", "1024",
              "--max-pend", "128", "--depth", "3", "--time-limit", "2",
              "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert exc.value.code == 3, err
    verdicts = [line for line in out.splitlines() if line.startswith("  ")
                and ("INCONCLUSIVE" in line or "VIOLATED" in line or "HOLDS" in line)]
    assert len(verdicts) == 6, out
    assert all("INCONCLUSIVE" in line and "time limit 2s" in line for line in verdicts), out
