"""The independent re-check of an invariant before pdr reports ``holds``.

Each check is one query to a solver made for it, sharing nothing with the search
that proposed the invariant: *initiation* (the initial state satisfies it),
*consecution* (every step from a typed state satisfying it reaches a state
satisfying it) and *implication* (it implies a goal).  Each honours the run's
deadline (:class:`checker.engines.symbolic.limits.SolverGaveUp` past it).

Consecution excludes steps whose successor leaves the variable types: such a
successor needs a write outside a type, which the engines' ``safe`` rules out in
the state the step leaves, so an invariant that implies ``safe`` covers them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import z3

from checker.engines.symbolic.bmc import new_solver, solve
from checker.engines.symbolic.encoding import Z3Backend
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.unroll import StepTemplate
from checker.semantics.states import initial_state


def _unsat(solver: z3.Solver, deadline: float | None) -> bool:
    """Whether ``solver``'s assertions have no model (within ``deadline``)."""
    left = None if deadline is None else deadline - time.monotonic()
    return solve(solver, left) is None


def _ranges(t: StepTemplate) -> list[z3.BoolRef]:
    """Every int of the current state within its declared type."""
    return [z3.And(c >= var.lo, c <= var.hi)
            for (var, _), c in zip(t.scalars, t.cur) if not var.is_bool]


def initiation(t: StepTemplate, inv: z3.BoolRef, deadline: float | None = None) -> bool:
    """The initial state satisfies ``inv`` (a term over ``t``'s current state)."""
    backend = Z3Backend(t.bits)
    init = flatten(t.model, initial_state(t.model))
    at_init = z3.substitute(inv, *[(c, z3.BoolVal(v) if isinstance(v, bool) else backend.num(v))
                                   for c, v in zip(t.cur, init)])
    solver = new_solver()
    solver.add(z3.Not(at_init))
    return _unsat(solver, deadline)


def consecution(t: StepTemplate, inv: z3.BoolRef, deadline: float | None = None) -> bool:
    """Every step (not the halt) from a typed state satisfying ``inv`` reaches one."""
    solver = new_solver()
    solver.add(*_ranges(t), inv, t.transition, t.sel != t.halt)
    solver.add(z3.Not(z3.substitute(inv, *zip(t.cur, t.nxt))))
    return _unsat(solver, deadline)


def implies(t: StepTemplate, inv: z3.BoolRef, goal: z3.BoolRef,
            deadline: float | None = None) -> bool:
    """Every typed state satisfying ``inv`` satisfies ``goal``."""
    solver = new_solver()
    solver.add(*_ranges(t), inv, z3.Not(goal))
    return _unsat(solver, deadline)


def verify(t: StepTemplate, invariant: Sequence[z3.BoolRef], goal: z3.BoolRef,
           deadline: float | None = None) -> str | None:
    """``None`` if ``And(invariant)`` passes initiation, consecution and implies
    ``goal`` and ``safe``; else which check fails first."""
    inv = z3.And(*invariant)
    if not initiation(t, inv, deadline):
        return "initiation"
    if not consecution(t, inv, deadline):
        return "consecution"
    if not implies(t, inv, z3.And(goal, t.safe), deadline):
        return "implication"
    return None
