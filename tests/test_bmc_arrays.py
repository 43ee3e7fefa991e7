"""BMC with model arrays as Z3 arrays (the array layout) against the flat layout and BFS.

Each environment at ring sizes 1 and 2: BMC's verdicts equal the explicit
engine's cut at the same depth, its trace lengths equal the BFS shortest,
and every BMC trace replays on the concrete model (BMC replays each one
before reporting it; the test replays it again).  The array layout is
checked at a smaller depth than the flat one: Z3's SMT core, which it needs,
is slower (docs/engines.md, "Arrays").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import z3

from checker.cli import main
from checker.engines.base import Limits, RunResult
from checker.engines.explicit.search import ExplicitChecker
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
from checker.lang.model import Model, Params, action, int_array, int_var
from checker.lang.spec import Property, invariant, properties_in
from checker.lang.view import StateView
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
    assert not bmc_uses_arrays(V3_1({"ring_size": 4}))  # heads[] has 16 entries
    assert bmc_uses_arrays(V3_1({"ring_size": 8}))  # 32


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


def _agree(model: Model, props: list[Property], depth: int, arrays: bool) -> RunResult:
    """BMC and BFS cut at ``depth``: the same verdicts, lengths and bounds; traces replay."""
    bfs = ExplicitChecker(model, props, limits=Limits(max_depth=depth)).run()
    bmc = run_bmc(model, props, depth=depth, arrays=arrays)
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


@pytest.mark.parametrize(("env", "ring"), CASES)
def test_array_bmc_agrees_with_bfs_in_every_environment(env: str, ring: int) -> None:
    model, props = _v9(env, ring)
    _agree(model, props, 2, arrays=True)


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


# -- the kernel's constants -----------------------------------------------------------


def test_bmc_accepts_the_kernels_constants_and_honours_the_time_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ring 256, UIO_MAXIOV 1024, VHOST_MAX_PEND 128: accepted; the step cannot be
    built within the limit (docs/engines.md, "Arrays"), so every property is
    inconclusive with that reason and the exit code is 3, not a crash."""
    with pytest.raises(SystemExit) as exc:
        main(["check", "--engine", "bmc", "--ring-size", "256", "--uio-maxiov", "1024",
              "--max-pend", "128", "--depth", "3", "--time-limit", "2",
              "--out", str(tmp_path / "o")])
    out, err = capsys.readouterr()
    assert exc.value.code == 3, err
    assert "memory-safe" in out and "INCONCLUSIVE" in out
    assert "ran out while building the transition formulas" in out
