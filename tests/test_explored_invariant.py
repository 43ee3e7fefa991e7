"""pdr's explored-classes invariant: the decision diagram, its re-check, and when pdr
proves by it, falls back to mined facts, or stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from checker.engines.symbolic import pdr, recheck
from checker.engines.symbolic.explored import ACCEPT, Node, check_classes, class_diagram
from checker.engines.symbolic.limits import SolverGaveUp
from checker.engines.symbolic.pdr import PdrPropertyResult, run_pdr
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.spec import properties_in
from tests.test_cli import run
from tests.test_symbolic import (
    Bounded,
    Counter,
    Toggle,
    _status,
    nonneg,
    not_three,
    not_three_toggle,
    seen_in_order,
    small,
)


def test_the_diagram_shares_equal_suffixes_and_lists_shared_values_apart() -> None:
    rows = np.array([[1, 7, 0], [0, 7, 1], [0, 7, 0], [1, 7, 1]])
    d = class_diagram(rows)
    assert d.classes == 4 and d.fixed == ((1, 7),)
    # both values of position 0 lead to the one node allowing 0 and 1 at position 2
    assert d.nodes == (Node(2, (0, 1), (ACCEPT, ACCEPT)), Node(0, (0, 1), (0, 0)))


def test_the_diagram_keeps_different_suffix_sets_apart() -> None:
    d = class_diagram(np.array([[0, 0], [0, 1], [1, 1], [1, 1]]))
    assert d.classes == 3
    assert d.nodes == (Node(1, (0, 1), (ACCEPT, ACCEPT)), Node(1, (1,), (ACCEPT,)),
                       Node(0, (0, 1), (0, 1)))


def test_one_class_is_its_shared_values_only() -> None:
    d = class_diagram(np.array([[3, 4], [3, 4]]))
    assert d.classes == 1 and d.fixed == ((0, 3), (1, 4)) and d.nodes == ()


def test_the_reachable_classes_pass_and_a_missing_one_fails_consecution() -> None:
    t = StepTemplate(Toggle(), True, None)
    goals = [("small", t.holds(small)), ("not-three", t.holds(not_three_toggle))]
    both = check_classes(t, np.array([[0], [1]]), t.cur, goals)
    assert both.failed is None and both.implied == ("small", "not-three")
    assert check_classes(t, np.array([[0]]), t.cur, goals).failed == "consecution"
    assert check_classes(t, np.array([[1]]), t.cur, goals).failed == "initiation"


def test_a_class_breaking_a_goal_does_not_prove_it() -> None:
    # 0 -> 1 -> 0 and the unreachable 2 -> 3 -> 3: {0, 1, 2, 3} is inductive, small fails
    t = StepTemplate(Toggle(), True, None)
    checked = check_classes(t, np.array([[0], [1], [2], [3]]), t.cur,
                            [("small", t.holds(small)), ("nonneg", t.holds(nonneg))])
    assert checked.failed is None and checked.implied == ("nonneg",)


def test_pdr_proves_by_the_explored_classes_and_writes_the_diagram() -> None:
    phases: list[str] = []
    seconds: list[float] = []
    result = run_pdr(Toggle(), [not_three_toggle, small],
                     progress=lambda st: (phases.append(st.phase), seconds.append(st.seconds)))
    assert _status(result) == {"not-three-toggle": ("holds", None), "small": ("holds", None)}
    res = result.properties[0]
    assert isinstance(res, PdrPropertyResult)
    assert res.reason == ("proved: the 2 explored classes (1-node decision diagram) are an "
                          "inductive invariant implying it, re-checked by fresh solvers")
    lines = res.evidence["invariant.txt"].splitlines()
    assert lines[-2:] == ["n0 x: 0 -> accept | 1 -> accept", "root: n0"]
    assert phases[0] == "pdr: checking that the 2 explored classes are an inductive invariant"
    assert seconds[0] > 0  # the time spent before the check (the line's "(Ns)")
    assert result.stats.transitions == 0  # no Houdini round


def test_pdr_proves_what_the_classes_imply_and_refutes_the_rest_by_bmc() -> None:
    phases: list[str] = []
    result = run_pdr(Counter(), [not_three, seen_in_order],
                     progress=lambda st: phases.append(st.phase))
    assert _status(result) == {"not-three": ("violated", 3), "seen-in-order": ("holds", None)}
    assert "pdr: BMC up to depth 30 for not-three (not implied by the classes)" in phases
    assert "explored classes" in (result.properties[1].reason or "")
    assert result.stats.transitions == 0  # a class breaks not-three: no Houdini round


def test_a_property_a_class_breaks_goes_to_bmc_and_says_why_when_too_shallow() -> None:
    (res,) = run_pdr(Counter(), [not_three], depth=2).properties
    assert res.status == "inconclusive"
    assert res.reason == ("not proved: a state in one of the 16 explored classes violates it; "
                          "BMC: bounded to depth 2")


def test_classes_past_a_capacity_prove_nothing_and_say_why() -> None:
    (res,) = run_pdr(Bounded(), [nonneg]).properties
    assert res.status == "inconclusive"
    assert (res.reason or "").endswith(
        "the 4 explored classes are no invariant proving it (safety fails)")


def test_a_time_limit_in_the_class_check_is_inconclusive(monkeypatch: pytest.MonkeyPatch) -> None:
    def gives_up(*args: Any) -> bool:
        raise SolverGaveUp("time limit")

    monkeypatch.setattr(recheck, "initiation", gives_up)
    (res,) = run_pdr(Toggle(), [small], time_limit=60).properties
    assert res.status == "inconclusive" and "time limit" in (res.reason or "")


def test_pdr_proves_the_v3_1_data_path_at_ring_1_by_its_dead_value_classes() -> None:
    from models.v3_1 import V3_1
    from specs import zerocopy

    model = V3_1({"ring_size": 1, "max_backend_changes": 0, "release": "no",
                  "send_failures": 0})
    props = [p for p in properties_in(zerocopy) if p.name in ("no-double-use", "memory-safe")]
    result = run_pdr(model, props)
    assert _status(result) == {"no-double-use": ("holds", None), "memory-safe": ("holds", None)}
    res = result.properties[0]
    assert isinstance(res, PdrPropertyResult)
    assert "the 3599 explored classes (423-node decision diagram)" in (res.reason or "")
    text = res.evidence["invariant.txt"]
    assert "the 43 values every class has" in text and text.endswith("root: n422\n")


def test_mined_skips_the_classes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdr, "check_classes", None)  # would raise if called
    result = run_pdr(Toggle(), [small], invariant="mined")
    assert result.properties[0].reason == (
        "proved: inductive invariant of 3 conjuncts, re-checked by fresh solvers")


SMALL = ["--revision", "v3.1", "--ring-size", "1", "--max-backend-changes", "0", "--release",
         "no", "--send-failures", "0", "--property", "memory-safe", "-q"]


def test_cli_pdr_writes_the_class_diagram_as_the_invariant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--engine", "pdr", *SMALL, "--out", str(tmp_path))
    assert code == 0 and "memory-safe  HOLDS" in out
    text = (tmp_path / "memory-safe.invariant.txt").read_text()
    assert text.startswith("# Invariant proving memory-safe on revision v3.1\n")
    assert "3599 classes" in text


def test_cli_invariant_mined_is_for_pdr_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", "--engine", "bmc", "--invariant", "mined", *SMALL,
                          "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert err == "vhostmc: error: --invariant applies to --engine pdr only\n"
    assert not (tmp_path / "o").exists()


def test_cli_invariant_reaches_the_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from checker.engines.base import PropertyResult, RunResult, Stats

    asked: list[str] = []

    def fake(model: Any, props: Any, depth: int, **kw: Any) -> RunResult:
        asked.append(kw["invariant"])
        return RunResult("pdr", True, Stats(), [PropertyResult("memory-safe", "holds")])

    monkeypatch.setattr(pdr, "run_pdr", fake)
    for choice in ("mined", "auto"):
        args = ["--invariant", choice] if choice != "auto" else []
        code, _, _ = run(capsys, "check", "--engine", "pdr", *args, *SMALL,
                          "--out", str(tmp_path / choice))
        assert code == 0
    assert asked == ["mined", "auto"]


@pytest.mark.slow
@pytest.mark.parametrize("revision", ["v9", "v3.1"])
@pytest.mark.parametrize("env", ["datapath", "bigring", "sendfail", "release"])
def test_pdr_decides_ring_2_as_explicit_where_the_exploration_completes(
    revision: str, env: str
) -> None:
    """At ring 2 the exploration completes within its budget in these environments
    (v3.1: 108 835, 2 535, 233 315 and 298 027 classes; v9 about as many): every
    invariant is decided, as the explicit engine decides it, violations at the BFS
    length.  (``release``: a 58 863-node diagram, whose consecution takes about two
    minutes on two threads.)"""
    from checker.engines.explicit.search import ExplicitChecker
    from checker.runs.environments import ENVIRONMENTS
    from models.v3_1 import V3_1
    from models.v9 import V9
    from specs import zerocopy

    model = (V9 if revision == "v9" else V3_1)({**ENVIRONMENTS[env].switches, "ring_size": 2})
    props = [p for p in properties_in(zerocopy) if not p.is_liveness]
    result = _status(run_pdr(model, props, depth=25, time_limit=600))  # release: 21 steps
    # explored by dead-value class, as the explicit engine does when its proof passes
    explicit = ExplicitChecker(model, props, canon=pdr._class_key(model)).run()
    assert result == _status(explicit)


def test_the_exploration_budget_is_in_scalars_and_never_below_the_mining_budget() -> None:
    from models.v3_1 import V3_1

    def budget(**params: Any) -> int:
        return pdr.exploration_budget(V3_1({"max_backend_changes": 0, "release": "no",
                                            "send_failures": 0, **params}))

    assert budget(ring_size=2) == 100_000_000 // 93  # a million classes of 93 scalars
    # 4 665 scalars a state at the kernel's constants: the mining budget stands
    assert budget(ring_size=256, uio_maxiov=1024, max_pend=128) == pdr.MINE_STATES == 200_000
