"""Validity queries of the reduction proofs: is a formula true in every well-typed state?

The dead-value proof (:mod:`checker.engines.symbolic.deadproof`) and the
symmetry proof (:mod:`checker.engines.symbolic.symproof`) ask one kind of
question many times: does ``same`` hold in every state whose scalars lie in
their declared ranges (and where the background's assumptions hold)?
:class:`ValidityChecker` asks each on a fresh finite-domain solver holding the
background and ``Not(same)`` (unsat: valid), checks the caller's interrupt
first, cuts each query's timeout to the caller's deadline, and counts queries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from checker.engines.symbolic.bounded import new_solver
from checker.engines.symbolic.limits import pass_on_interrupt
from checker.engines.symbolic.unroll import StepTemplate


class ProofCut(Exception):
    """The proof was stopped (an interrupt or the run's time limit) before it finished."""


def type_ranges(t: StepTemplate) -> list[z3.BoolRef]:
    """Each non-boolean scalar of the current state of ``t`` within its declared range."""
    return [z3.And(c >= var.lo, c <= var.hi)
            for (var, _), c in zip(t.scalars, t.cur) if not var.is_bool]


@dataclass
class ValidityChecker:
    """Asks validity queries over ``background``; ``stop`` (an interrupt: its reason, or
    ``None``) and ``deadline`` (a ``time.monotonic()`` instant) are checked first."""

    background: Sequence[z3.BoolRef]
    stop: Callable[[], str | None] | None = None
    deadline: float | None = None
    queries: int = 0

    def check(self, same: z3.BoolRef, seconds: float) -> tuple[z3.CheckSatResult, z3.Solver]:
        """Z3's answer on ``background & Not(same)`` within ``seconds`` (at most the time
        left), and the solver (its model is a state where ``same`` fails).  Raises
        :class:`ProofCut` when interrupted or past the deadline."""
        self._stop_if_asked()
        if self.deadline is not None:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ProofCut("the time limit")
            seconds = min(seconds, left)
        solver = new_solver()
        solver.set("timeout", max(1, int(seconds * 1000)))
        solver.add(*self.background)
        solver.add(z3.Not(same))
        self.queries += 1
        answer = solver.check()
        if answer == z3.unknown:  # a SIGINT Z3 took goes to Python's handler: stop() sees it
            pass_on_interrupt(solver.reason_unknown())
            self._stop_if_asked()
        return answer, solver

    def _stop_if_asked(self) -> None:
        """Raise :class:`ProofCut` when ``stop`` reports an interrupt."""
        why = self.stop() if self.stop is not None else None
        if why is not None:
            raise ProofCut(f"interrupted ({why})")
