"""Houdini: the largest inductive subset of candidate invariants.

:func:`houdini` keeps the largest subset of the candidates (mined by
:mod:`checker.engines.symbolic.mining`) that, together with the property and
"no capacity hit, no write outside a type", is inductive: it asks Z3 for a
step from a state satisfying all of them to one violating some, drops those
the step violates, and repeats.  The candidates are true in the initial state
(it was seen), so what survives is an inductive invariant; the engine
re-checks it with a fresh solver (:mod:`checker.engines.symbolic.pdr`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import z3

from checker.engines.symbolic.bounded import new_solver
from checker.engines.symbolic.candidate import Candidate
from checker.engines.symbolic.limits import SolverGaveUp, check_deadline
from checker.engines.symbolic.reachable import Reachable
from checker.engines.symbolic.unroll import StepTemplate, Unrolling


@dataclass
class HoudiniResult:
    """What survived: the ``kept`` candidates; ``cti`` is ``None`` when the
    property (with the survivors) is inductive, else the model of a step from a
    state satisfying everything to one violating the property or safety."""

    kept: list[Candidate]
    cti: z3.ModelRef | None
    rounds: int
    unrolling: Unrolling
    k: int


def houdini(
    t: StepTemplate,
    must: Sequence[tuple[str, z3.BoolRef]],
    candidates: Sequence[Candidate],
    solve: Callable[[z3.Solver, z3.BoolRef], z3.ModelRef | None],
    deadline: float | None,
    k: int = 1,
    on_round: Callable[[int, int], None] | None = None,
    reachable: Reachable | None = None,
) -> HoudiniResult:
    """The largest subset of ``candidates`` k-inductive (over simple paths) together
    with ``must`` (the property and safety, never dropped); ``solve(solver, goal)`` is
    a model or ``None``.  ``on_round(rounds, left)`` is called after each round that
    drops or blocks candidates (``left``: how many remain), so a run cut by the time limit has
    said how far it got.  A CTI's last step is from ``u.flat(k - 1)`` to
    ``u.flat(k)`` of the result's unrolling ``u``.

    With ``reachable`` (every reachable class known), a step whose path starts from a
    state of no reachable class drops nothing: the region around that state is
    blocked instead, as one more candidate (:meth:`Reachable.block`; at most
    :data:`MAX_BLOCKS` of them, none dropped before), so facts fall only to steps from
    reachable states."""
    u = Unrolling(t.model, tag="^h", template=t)
    solver = new_solver()
    solver.add(*u.ranges(0))
    for i in range(k):
        check_deadline(deadline)
        solver.add(*u.transition(i, halt=False))
        solver.add(*(u.distinct(j, i + 1) for j in range(i + 1)))
    lits: list[z3.BoolRef] = []
    nexts: list[z3.BoolRef] = []
    active: list[int] = []

    def assume(term: z3.BoolRef) -> None:
        """``term`` holds on steps ``0 .. k - 1`` under a literal of its own, and is
        checked on step ``k``."""
        lit = z3.Bool(f"cand#{len(lits)}")
        for i in range(k):
            solver.add(z3.Implies(lit, u.at(term, i)))
        active.append(len(lits))
        lits.append(lit)
        nexts.append(u.at(term, k))

    for term in [*(term for _, term in must), *(c.term for c in candidates)]:
        assume(term)
    kept = list(candidates)
    rounds = 0
    blocks = 0
    given_up: set[str] = set()  # a region dropped once is not blocked again

    while True:
        rounds += 1
        check_deadline(deadline)
        goal = z3.Or(*(z3.Not(nexts[n]) for n in active))
        query = z3.Bool(f"round#{rounds}")
        solver.add(z3.Implies(query, goal))
        m = solve(solver, z3.And(query, *(lits[n] for n in active)))
        solver.add(z3.Not(query))
        if m is None:
            return HoudiniResult([kept[n - len(must)] for n in active if n >= len(must)],
                                 None, rounds, u, k)
        if reachable is not None and blocks < MAX_BLOCKS:
            region = _unknown_region(u, m, k, reachable)
            if region is not None and region.text not in given_up:
                blocks += 1
                assume(region.term)
                kept.append(region)
                if on_round is not None:
                    on_round(rounds, len(active) - len(must))
                continue
        broken = [n for n in active if z3.is_false(m.eval(nexts[n], model_completion=True))]
        if not broken:
            raise SolverGaveUp("Houdini made no progress (an evaluation disagrees with Z3)")
        if any(n < len(must) for n in broken):
            return HoudiniResult([kept[n - len(must)] for n in active if n >= len(must)],
                                 m, rounds, u, k)
        given_up.update(kept[n - len(must)].text for n in broken)
        active = [n for n in active if n not in set(broken)]
        if on_round is not None:
            on_round(rounds, len(active) - len(must))


MAX_BLOCKS = 5000
"""Regions Houdini blocks at most in one run; after that it drops facts as plain Houdini."""


def _unknown_region(u: Unrolling, m: z3.ModelRef, k: int, reachable: Reachable
                    ) -> Candidate | None:
    """The region to block around the first state of ``m``'s path (steps ``0 .. k - 1``)
    whose class no exploration reached, or ``None`` if every one is known."""
    for i in range(k):
        state = u.decode_state(m, i)
        if not reachable.known(state):
            return reachable.block(state)
    return None
