"""The incremental BMC unrolling and its solver, shared by BMC, k-induction, pdr and
lifting.

:class:`BoundedSearch` holds one incremental solver with the initial state and the
transitions unrolled so far (:class:`checker.engines.symbolic.unroll.Unrolling`); a
path may halt, so step ``d`` ranges over the states within ``d`` steps of the initial
one.  :func:`new_solver` and :func:`new_array_solver` are the two solvers it uses (per
layout), :func:`solve` one query under the time left.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import z3

from checker.engines.symbolic.limits import (
    SolverGaveUp,
    interruptible,
    memory_reached,
    pass_on_interrupt,
)
from checker.engines.symbolic.unroll import (
    EncodingError,
    StepTemplate,
    Unrolling,
    model_bug,
    replay,
    violation_trace,
)
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.lang.view import ModelBug
from checker.semantics.states import initial_state, successors
from checker.traces.trace import Trace


def new_solver(ctx: z3.Context | None = None) -> z3.Solver:
    """A finite-domain solver (in ``ctx``, default: Z3's main context): every int is
    bounded, so Z3 bit-blasts to SAT (more than an order of magnitude faster here than
    its arithmetic solver)."""
    return z3.SolverFor("QF_FD", ctx=ctx)


def new_array_solver() -> z3.Solver:
    """Z3's SMT core for bit-vectors and arrays (the finite-domain solver rejects
    array terms), for :class:`checker.engines.symbolic.layout.ArrayLayout`, behind
    simplification and equation solving: the unrolling's next-state equations are
    substituted away before the core sees them.  Measured on the v3.1 data path
    (``bench/bmc.py``): depth 6 instead of 3 at ring sizes 8 and 16 within 60 s
    (``SolverFor("QF_ABV")`` spends a minute on depth 4).  The first simplification
    also rewrites a ``Select`` over ``Store`` and ``If`` terms into ``If`` terms over
    elements (``blast_select_store``, ``expand_select_ite``): one depth more at ring
    sizes 8, 16 and 256 within 60 s (docs/engines.md, "Arrays")."""
    return z3.Then(z3.With("simplify", blast_select_store=True, expand_select_ite=True),
                   "solve-eqs", "smt").solver()


def solve(
    solver: z3.Solver, left: float | None, *assumptions: z3.BoolRef
) -> z3.ModelRef | None:
    """A model of ``solver`` under ``assumptions``, ``None`` when unsat; raises
    :class:`SolverGaveUp` on ``unknown`` or when ``left`` seconds are used up."""
    if left is not None:
        if left <= 0:
            raise SolverGaveUp("time limit")
        solver.set("timeout", max(1, int(left * 1000)))
    with interruptible(solver.ctx):
        result = solver.check(*assumptions)
    if result == z3.unknown:
        why = solver.reason_unknown()
        pass_on_interrupt(why)
        memory = memory_reached()  # the memory limit's watch interrupted the query
        if memory is not None:
            raise memory
        timed_out = left is not None and ("cancel" in why or "timeout" in why)
        raise SolverGaveUp("time limit" if timed_out else why)
    return solver.model() if result == z3.sat else None


class BoundedSearch:
    """The incremental BMC unrolling: check the current depth, then extend it."""

    def __init__(
        self, model: Model, deadline: float | None = None, template: StepTemplate | None = None
    ) -> None:
        self.model = model
        self.u = Unrolling(model, template=template)
        self.arrays = self.u.t.layout.arrays
        self.solver = new_array_solver() if self.arrays else new_solver()
        self.solver.add(self.u.initial(0))
        self.solver.add(self.u.ranges(0, elements=not self.arrays))
        self.depth = 0
        self.unrolled = 0
        self.queries = 0
        self.capacity: list[str] = []
        self.found: dict[str, Trace] = {}
        """Every trace :meth:`check_depth` found, also those of a depth a limit cut."""
        self.deadline = deadline
        self._holds: dict[tuple[int, str], z3.BoolRef] = {}

    def holds_at(self, k: int, prop: Property) -> z3.BoolRef:
        """``prop`` at step ``k`` (cached)."""
        key = (k, prop.name)
        if key not in self._holds:
            self._holds[key] = self.u.holds(k, prop)
        return self._holds[key]

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def query(self, *extra: z3.BoolRef) -> z3.ModelRef | None:
        """A model of the unrolling (transitions up to the current depth) plus
        ``extra``, or ``None`` when unsat."""
        while self.unrolled <= self.depth:
            # Array elements need no type constraint: every state here is reached from
            # the concrete initial state by exact steps, and a step that would write
            # outside a type is found by check_depth first (a model bug).
            self.solver.add(*self.u.transition(self.unrolled, halt=True,
                                               elements=not self.arrays))
            self.unrolled += 1
        self.queries += 1
        if not extra:
            return solve(self.solver, self.remaining())
        # An activation literal instead of push/pop: popping makes the
        # finite-domain solver preprocess every assertion again.
        lit = z3.Bool(f"query#{self.queries}")
        self.solver.add(z3.Implies(lit, z3.And(*extra)))
        try:
            return solve(self.solver, self.remaining(), lit)
        finally:
            self.solver.add(z3.Not(lit))

    def check_depth(self, props: Sequence[Property]) -> dict[str, Trace]:
        """One query (repeated while sat) at the current depth: which of ``props``
        step ``depth`` can violate (returned, with traces), which model
        capacities a step from it can hit (added to ``capacity``), and whether a
        step from it can write outside a type (the concrete ``ModelBug`` is raised)."""
        d = self.depth
        found: dict[str, Trace] = {}
        pending = list(props)
        hits = {w: c for w, c in self.u.capacity_hits(d).items() if w not in self.capacity}
        errors = self.u.type_errors(d)
        while True:
            goals = z3.Or(*(z3.Not(self.holds_at(d, p)) for p in pending), *hits.values(),
                          *(c for _, c in errors))
            m = self.query(goals)
            if m is None:
                # Redundant (the unrolling already implies it), but a hint to the
                # solver at every later depth: step d violates nothing left.
                self.solver.add(z3.Not(goals))
                return found
            for inst, cond in errors:
                if z3.is_true(m.eval(cond, model_completion=True)):
                    first, path = self.u.decode_path(m, d)
                    replay(self.model, first, path)
                    raise model_bug(self.model, inst, path[-1][1] if path else first)
            for prop in list(pending):
                if z3.is_false(m.eval(self.holds_at(d, prop), model_completion=True)):
                    found[prop.name] = self.found[prop.name] = self.trace(m, prop)
                    pending.remove(prop)
            for what, cond in list(hits.items()):
                if z3.is_true(m.eval(cond, model_completion=True)):
                    self.capacity.append(what)
                    del hits[what]

    def trace(self, m: z3.ModelRef, prop: Property) -> Trace:
        """The path of ``m`` as a checked trace violating ``prop``."""
        first, path = self.u.decode_path(m, self.depth)
        replay(self.model, first, path)
        trace = violation_trace(self.model, prop, first, path)
        if trace is None:
            raise EncodingError(f"decoded trace ends in a state where {prop.name} holds")
        return trace

    def path_exists(self) -> bool:
        """Whether some path makes ``depth`` steps without halting (if not, every
        reachable state is within ``depth - 1`` steps: all are checked).  A path
        found by running the model concretely answers yes without the solver
        (for which this satisfiable query can be the hardest of all)."""
        if self.depth == 0 or concrete_path(self.model, self.depth):
            return True
        return self.query(self.u.moves(self.depth - 1)) is not None

    def extend(self) -> None:
        """Go one step deeper."""
        self.depth += 1


CONCRETE_PATH_BUDGET = 2_000
"""States :func:`concrete_path` expands at most before leaving the question to Z3."""


def concrete_path(model: Model, length: int) -> bool:
    """Whether a depth-first run of the concrete model from its initial state
    finds a path of ``length`` steps within :data:`CONCRETE_PATH_BUDGET`
    successors (``False`` also means "not found in budget", never "none").
    Successors are made one at a time: the first path is usually found at once,
    and at ring size 32768 a whole expansion would not fit in memory."""
    budget = CONCRETE_PATH_BUDGET
    if length == 0:
        return True
    stack = [successors(model, initial_state(model))]
    while stack and budget > 0:
        try:
            _, state = next(stack[-1])
        except StopIteration:
            stack.pop()
            continue
        except ModelBug:
            stack.pop()  # the unrolling excludes that step too
            continue
        budget -= 1
        if len(stack) == length:
            return True
        stack.append(successors(model, state))
    return False
