"""The independent re-check's consecution: one query per action instance, on threads."""

from __future__ import annotations

import time
from typing import Any

import pytest
import z3

from checker.engines.symbolic import recheck
from checker.engines.symbolic.limits import SolverGaveUp
from checker.engines.symbolic.threads import ContextThreads
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


def test_a_signal_while_waiting_stops_every_solver_and_propagates(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[z3.Context] = []
    real = z3.Context.interrupt

    def record(ctx: z3.Context) -> None:
        stopped.append(ctx)
        real(ctx)

    def signal_arrives(*args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(recheck, "CONSECUTION_THREADS", 2)
    monkeypatch.setattr(z3.Context, "interrupt", record)
    monkeypatch.setattr(ContextThreads, "_wait", signal_arrives)
    t, x, _ = counter()
    with pytest.raises(KeyboardInterrupt):
        recheck.consecution(t, x >= 0)
    assert len(stopped) == 2 and stopped[0] is not stopped[1]


def test_a_thread_that_fails_halts_the_others_and_their_errors_are_dropped() -> None:
    pool = ContextThreads(2)

    def work(i: int) -> None:
        if i == 0:
            pool.fail(ValueError("first"), pool.contexts[0])
        else:  # waits for the halt, then fails as an interrupted query would
            assert pool.stopped.wait(5)
            pool.fail(RuntimeError("interrupted"), pool.contexts[1])

    pool.run(work)
    assert [str(e) for e in pool.failures] == ["first"]


class _KeyboardSolver:
    """A solver whose check Z3 ended on a SIGINT it took itself."""

    ctx = z3.main_ctx()

    def set(self, *args: Any) -> None:
        pass

    def check(self, *args: Any) -> Any:
        return z3.unknown

    def reason_unknown(self) -> str:
        return "interrupted from keyboard"


def test_a_sigint_z3_took_while_solving_is_raised_again_for_python() -> None:
    import signal

    from checker.engines.symbolic.bounded import solve

    seen: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with pytest.raises(SolverGaveUp, match="interrupted from keyboard"):
            solve(_KeyboardSolver(), None)  # type: ignore[arg-type]
    finally:
        signal.signal(signal.SIGINT, old)
    assert seen == [signal.SIGINT]
