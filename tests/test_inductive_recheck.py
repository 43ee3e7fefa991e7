"""The inductive engine's independent re-check: before ``holds`` is printed, the proved
invariant is checked again on the flat encoding by fresh solvers, where the arrays
are small enough; a failure is an internal error, a time limit leaves it inconclusive."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.engines.base import RunResult
from checker.engines.symbolic import inductive
from checker.engines.symbolic.groundstep import ActionOutcome, GroundedStep
from checker.engines.symbolic.inductive import run_inductive
from checker.engines.symbolic.kinduction import KindPropertyResult
from checker.engines.symbolic.limits import SolverGaveUp
from checker.engines.symbolic.recheck import flat_recheck_applies, recheck_properties
from checker.engines.symbolic.unroll import SymbolicEngineError
from checker.lang.spec import Property, properties_in
from checker.runs.catalog import select_properties
from models.v3_1 import V3_1
from specs import zerocopy
from tests.test_inductive import LEMMAS, PARAMS

ROOT = Path(__file__).resolve().parent.parent
SPECS = [str(ROOT / "specs" / "datapath_invariant.py"),
         str(ROOT / "specs" / "datapath_quantified.py")]


def data_path(ring: int) -> V3_1:
    return V3_1({"ring_size": ring, **PARAMS})


def properties() -> list[Property]:
    return [p for p in properties_in(zerocopy) if p.name in ("no-double-use", "memory-safe")]


def lemmas(*names: str) -> list[Property]:
    return select_properties(list(names), SPECS)


@pytest.fixture(scope="module")
def closed() -> list[ActionOutcome]:
    """Every action's outcome of the ring-1 proof (all closed), asked once."""
    step = GroundedStep(data_path(1), [*properties(), *lemmas(*LEMMAS)])
    outcomes, cti = step.check()
    assert cti is None and {o.answer for o in outcomes} == {"closed"}
    return list(outcomes)


@pytest.fixture
def proved(monkeypatch: pytest.MonkeyPatch, closed: list[ActionOutcome]) -> None:
    """The step case answers at once with the ring-1 proof's outcomes."""
    monkeypatch.setattr(GroundedStep, "check", lambda self, *args: (closed, None))


def invariant_file(run: RunResult, i: int) -> str:
    """The invariant text a ``holds`` of property ``i`` comes with."""
    result = run.properties[i]
    assert isinstance(result, KindPropertyResult)
    return result.evidence["invariant.txt"]


def test_the_flat_recheck_passes_the_proved_invariant_and_fails_a_weaker_one() -> None:
    props = properties()
    assert recheck_properties(data_path(1), [*props, *lemmas(*LEMMAS)], props) is None
    # without q-window the device's completion breaks the invariant (the grounded step
    # finds the same counterexample to induction: tests/test_inductive.py)
    assert recheck_properties(data_path(1), [*props, *lemmas(*LEMMAS[:-1])], props) \
        == "consecution"


def test_the_flat_recheck_applies_up_to_ring_4_on_the_data_path() -> None:
    assert flat_recheck_applies(data_path(4))  # heads[]: 16 elements
    assert not flat_recheck_applies(data_path(8))  # 32


def test_holds_comes_with_the_recheck_line() -> None:
    run = run_inductive(data_path(1), properties(), lemmas(*LEMMAS))
    assert [p.status for p in run.properties] == ["holds", "holds"]
    text = invariant_file(run, 0)
    assert "# re-checked on the flat encoding by fresh solvers (initiation, consecution " \
        "per action instance, implies the properties and safe): passed in " in text


def test_above_the_bound_the_invariant_file_says_it_was_not_rechecked(
    monkeypatch: pytest.MonkeyPatch, proved: None,
) -> None:
    monkeypatch.setattr(inductive, "flat_recheck_applies", lambda model: False)
    run = run_inductive(data_path(1), properties(), lemmas(*LEMMAS))
    assert [p.status for p in run.properties] == ["holds", "holds"]
    assert "# not re-checked on the flat encoding: an array has more than 16 elements" \
        in invariant_file(run, 1)


def test_a_failed_recheck_is_an_internal_error_never_holds(
    monkeypatch: pytest.MonkeyPatch, proved: None,
) -> None:
    monkeypatch.setattr(inductive, "recheck_properties", lambda *args: "consecution")
    with pytest.raises(SymbolicEngineError,
                       match=r"fails its independent re-check on the flat encoding "
                             r"\(consecution\)"):
        run_inductive(data_path(1), properties(), lemmas(*LEMMAS))


def test_a_recheck_cut_by_the_time_limit_is_inconclusive(
    monkeypatch: pytest.MonkeyPatch, proved: None,
) -> None:
    def cut(*args: object) -> None:
        raise SolverGaveUp("time limit")

    monkeypatch.setattr(inductive, "recheck_properties", cut)
    run = run_inductive(data_path(1), properties(), lemmas(*LEMMAS), time_limit=600)
    assert [p.status for p in run.properties] == ["inconclusive", "inconclusive"]
    assert run.properties[0].reason == ("every action closes, but the invariant's "
                                        "independent re-check was cut (time limit 600s)")
    assert run.bounds_hit == ["time limit 600s"]
