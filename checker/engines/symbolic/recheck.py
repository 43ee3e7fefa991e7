"""The independent re-check of an invariant before pdr or inductive reports ``holds``.

Each check asks solvers made for it, sharing nothing with the search that
proposed the invariant: *initiation* (the initial state satisfies it),
*consecution* (every step from a typed state satisfying it reaches a state
satisfying it; one query per action instance, on threads) and *implication* (it
implies a goal).  Each honours the run's
deadline (:class:`checker.engines.symbolic.limits.SolverGaveUp` past it).

Consecution excludes steps whose successor leaves the variable types: such a
successor needs a write outside a type, which the engines' ``safe`` rules out in
the state the step leaves, so an invariant that implies ``safe`` covers them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import z3

from checker.engines.symbolic.bounded import new_solver, solve
from checker.engines.symbolic.encoding import Z3Backend
from checker.engines.symbolic.layout import largest_array
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.threads import ContextThreads
from checker.engines.symbolic.unroll import StepTemplate
from checker.engines.symbolic.validity import type_ranges
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.semantics.states import initial_state

CONSECUTION_THREADS = min(4, os.cpu_count() or 1)
"""Threads the consecution check spreads its per-instance queries over.  Measured on
the v3.1 ``release`` environment at ring 2 (a 58 863-node class diagram, 52 instances):
one query over every instance 531 s, one per instance 306 s in one thread, 128 s in
two (on small diagrams the single query is the faster: 5.1 s against 6.3 s on two
threads for the ring-2 data path's 6 319 nodes)."""


def _unsat(solver: z3.Solver, deadline: float | None) -> bool:
    """Whether ``solver``'s assertions have no model (within ``deadline``)."""
    left = None if deadline is None else deadline - time.monotonic()
    return solve(solver, left) is None


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
    """Every step (not the halt) from a typed state satisfying ``inv`` reaches one.

    One query per action instance (the selector fixed, so the transition simplifies to
    that instance's effect), spread over :data:`CONSECUTION_THREADS` threads, each with
    its own Z3 context (Z3 runs a context's queries in parallel with other contexts'
    and the Python binding releases the GIL while it solves).  The first instance
    found breaking ``inv`` interrupts the others."""
    base = z3.And(*type_ranges(t), inv, z3.Not(z3.substitute(inv, *zip(t.cur, t.nxt))))
    pending = [g.index for g in t.groups]
    pool = ContextThreads(min(CONSECUTION_THREADS, len(pending)))
    broken: list[int] = []
    # translated here, one context after the other: the main context is read by this
    # thread only
    terms = [[e.translate(ctx) for e in (base, t.transition, t.sel)] for ctx in pool.contexts]

    def work(i: int) -> None:
        ctx = pool.contexts[i]
        here, step, sel = terms[i]
        try:
            while True:
                with pool.lock:
                    if not pending or pool.stopped.is_set():
                        return
                    index = pending.pop()
                solver = new_solver(ctx)
                solver.add(here, z3.simplify(z3.substitute(step, (sel, sel.sort().cast(index)))))
                if not _unsat(solver, deadline):
                    with pool.lock:
                        broken.append(index)
                    pool.halt(ctx)
                    return
        except BaseException as err:  # noqa: BLE001 -- raised again by the calling thread
            pool.fail(err, ctx)

    pool.run(work)
    if pool.failures:
        raise pool.failures[0]
    return not broken


def implies(t: StepTemplate, inv: z3.BoolRef, goal: z3.BoolRef,
            deadline: float | None = None) -> bool:
    """Every typed state satisfying ``inv`` satisfies ``goal``."""
    solver = new_solver()
    solver.add(*type_ranges(t), inv, z3.Not(goal))
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


FLAT_RECHECK_UP_TO = 16
"""The largest array (elements) for which :func:`recheck_properties` is run by the
inductive engine: the flat encoding's re-check grows fast with the ring (v3.1 data
path, the seven lemmas of results/proofs.md: ring 1 0.3 s, ring 2 0.9 s, ring 4 (16
elements) 20 s, ring 8 (32) not done after 15 minutes)."""


def flat_recheck_applies(model: Model) -> bool:
    """Whether ``model``'s arrays are small enough for :func:`recheck_properties`."""
    return largest_array(model) <= FLAT_RECHECK_UP_TO


def recheck_properties(model: Model, invariant: Sequence[Property], goals: Sequence[Property],
                       deadline: float | None = None) -> str | None:
    """:func:`verify` of ``invariant`` (whose conjuncts include ``goals``) on a step
    built afresh in the flat layout (one constant per array element, no grounding,
    no slices): the predicates run again on its constants (:meth:`StepTemplate.holds`).
    ``None`` if it passes, else which check fails first."""
    t = StepTemplate(model, True, deadline)
    return verify(t, [t.holds(p) for p in invariant], z3.And(*(t.holds(p) for p in goals)),
                  deadline)
