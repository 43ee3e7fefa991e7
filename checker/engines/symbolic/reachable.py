"""What a complete concrete exploration knows about reachability, for Houdini.

When the miner's breadth-first exploration (:func:`checker.engines.symbolic.mining.
explore`) ends because no new class is left, not because of its budget, the
classes it saw are all the reachable ones.  Houdini then asks, for the state a
counterexample step starts from, whether its class was seen
(:meth:`Reachable.known`).  If not, that state is unreachable, and instead of
dropping the facts its successor breaks, Houdini excludes a region around it that
holds no reachable class (:meth:`Reachable.block`): a few equalities of the state's
live values that every reachable class misses at least one of, found greedily.

Nothing here is trusted: a blocked region is one more candidate fact, dropped
like any other when a step from a known state enters it, and an invariant is
re-checked by fresh solvers before ``holds`` is printed
(:mod:`checker.engines.symbolic.pdr`).  The oracle only decides which facts
Houdini gives up, so that facts are dropped by steps from reachable states.
"""

from __future__ import annotations

import numpy as np
import z3

from checker.engines.symbolic.candidate import Candidate
from checker.engines.symbolic.mining import Exploration
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.model import ModelError, State
from checker.lang.view import StateView
from checker.semantics.deadvalues import checked_declarations

BLOCKED = "[no explored state]"
"""The mark ending a blocked region's text."""


class Reachable:
    """The classes of every reachable state (``seen`` under ``key``, from a complete
    :class:`~checker.engines.symbolic.mining.Exploration`): an oracle for which states
    no step from the initial state reaches."""

    def __init__(self, t: StepTemplate, explored: Exploration) -> None:
        self.t = t
        self.seen = explored.seen
        self.key = explored.key
        model = t.model
        self.rows = np.empty((len(self.seen), len(t.scalars)), dtype=np.int64)
        for i, k in enumerate(self.seen):  # row by row: no list of millions of tuples
            self.rows[i] = flatten(model, k)
        offsets = np.cumsum([0, *(v.size or 1 for v in model.vars)])
        try:
            self.dead = [(d, int(offsets[slot]), var) for d, slot, var in
                         checked_declarations(model)]
        except ModelError:
            self.dead = []

    def known(self, state: State) -> bool:
        """Whether ``state``'s class is one the exploration reached (a state the
        canon cannot take, being outside the model's types, is not known)."""
        try:
            return self.key(state) in self.seen
        except (IndexError, KeyError, TypeError, ValueError):
            return False

    def block(self, state: State) -> Candidate | None:
        """"Not in this region": a few equalities of ``state``'s live values (the values
        its dead-value declarations do not reset) that no reachable class has
        together, compared on canonical states (greedy: each time the equality the
        most remaining classes miss, then without those the others make redundant);
        ``None`` if none separates it from them."""
        flat = np.array([int(v) for v in flatten(self.t.model, state)], dtype=np.int64)
        try:
            canon = np.array([int(v) for v in flatten(self.t.model, self.key(state))],
                             dtype=np.int64)
        except (IndexError, KeyError, TypeError, ValueError):
            canon = flat  # a state the canon cannot take: compared as it is
        differs = (self.rows != canon) & self._live(state)
        left = np.ones(len(self.rows), dtype=bool)
        chosen: list[int] = []
        while left.any():
            hits = np.count_nonzero(differs[left], axis=0)
            best = int(np.argmax(hits))
            if hits[best] == 0:
                return None
            chosen.append(best)
            left &= ~differs[:, best]
        for i in list(chosen):  # greedy may pick an equality the later ones make redundant
            rest = [j for j in chosen if j != i]
            if rest and differs[:, rest].any(axis=1).all():
                chosen = rest
        chosen.sort()
        equal = [self._equals(i, int(flat[i])) for i in chosen]
        text = " and ".join(f"{self.t.scalars[i][1]} == {int(flat[i])}" for i in chosen)
        return Candidate(f"not ({text})  {BLOCKED}", z3.Not(z3.And(*equal)))

    def _live(self, state: State) -> np.ndarray:
        """Which flat positions of ``state`` hold live values (all, where a dead-value
        condition cannot be evaluated on it)."""
        live = np.ones(len(self.t.scalars), dtype=bool)
        try:
            view = StateView(self.t.model, state)
            for decl, start, var in self.dead:
                if var.size is None:
                    live[start] = not bool(decl.when(view))
                else:
                    for i in range(var.size):
                        live[start + i] = not bool(decl.when(view, i))
        except (IndexError, KeyError, TypeError, ValueError):
            live[:] = True
        return live

    def _equals(self, i: int, value: int) -> z3.BoolRef:
        """The template's scalar ``i`` equals ``value``."""
        const = self.t.cur[i]
        return const == bool(value) if self.t.scalars[i][0].is_bool else const == value
