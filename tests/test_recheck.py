"""The independent re-check's consecution: one query per action instance, on threads."""

from __future__ import annotations

import time
from typing import Any

import pytest
import z3

from checker.engines.symbolic import recheck
from checker.engines.symbolic.limits import SolverGaveUp
from checker.engines.symbolic.unroll import StepTemplate
from tests.test_symbolic import Counter


def counter() -> tuple[StepTemplate, Any, Any]:
    """Counter's template (``inc`` and ``stop``) and its current ``x`` and ``stopped``."""
    t = StepTemplate(Counter(), True, None)
    assert [var.name for var, _ in t.scalars[:2]] == ["x", "stopped"]
    return t, t.cur[0], t.cur[1]


@pytest.mark.parametrize("threads", [1, 2])
def test_consecution_fails_exactly_when_some_instance_breaks_the_invariant(
    threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recheck, "CONSECUTION_THREADS", threads)
    t, x, stopped = counter()
    assert len(t.groups) == 2
    assert not recheck.consecution(t, x <= 2)  # inc: 2 -> 3
    assert not recheck.consecution(t, z3.Not(stopped))  # stop
    assert not recheck.consecution(t, z3.Implies(stopped, x == 1))  # stop at x = 0
    assert recheck.consecution(t, z3.BoolVal(True))
    assert recheck.consecution(t, z3.Or(x <= 2, x == 3))  # every typed state


def test_an_error_in_a_consecution_thread_is_raised_not_taken_for_unsat(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_solver(ctx: Any = None) -> Any:
        raise RuntimeError("no solver")

    monkeypatch.setattr(recheck, "CONSECUTION_THREADS", 2)
    monkeypatch.setattr(recheck, "new_solver", broken_solver)
    t, x, _ = counter()
    with pytest.raises(RuntimeError, match="no solver"):
        recheck.consecution(t, x >= 0)


def test_consecution_past_its_deadline_gives_up() -> None:
    t, x, _ = counter()
    with pytest.raises(SolverGaveUp, match="time limit"):
        recheck.consecution(t, x >= 0, deadline=time.monotonic() - 1)
