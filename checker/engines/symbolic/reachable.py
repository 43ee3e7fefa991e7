"""What a complete concrete exploration knows about reachability, for Houdini.

When the miner's breadth-first exploration (:func:`checker.engines.symbolic.mining.
explore_classes`) ends because no new class is left, not because of its budget, the
classes it saw are all the reachable ones.  Houdini then asks, for the state a
counterexample step starts from, whether its class was seen
(:meth:`Reachable.known`).  If not, that state is unreachable, and instead of
dropping the facts its successor breaks, Houdini excludes a region around it that
holds no explored state (:meth:`Reachable.block`): the fewest equalities of the
state that every explored state misses at least one of, found greedily.

Nothing here is trusted: a blocked region is one more candidate fact, dropped
like any other when a step from a known state enters it, and an invariant is
re-checked by fresh solvers before ``holds`` is printed
(:mod:`checker.engines.symbolic.pdr`).  The oracle only decides which facts
Houdini gives up, so that facts are dropped by steps from reachable states.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import z3

from checker.engines.symbolic.candidate import Candidate
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.model import State


class Reachable:
    """The classes (under ``key``) of every reachable state, and one explored state
    of each (``rows``, flattened, bools as 0/1)."""

    def __init__(self, t: StepTemplate, rows: Sequence[tuple[int, ...]], seen: set[State],
                 key: Callable[[State], State]) -> None:
        self.t = t
        self.rows = np.array(rows, dtype=np.int64).reshape(len(rows), len(t.scalars))
        self.seen = seen
        self.key = key

    def known(self, state: State) -> bool:
        """Whether ``state``'s class is one the exploration reached (a state the
        canon cannot take, being outside the model's types, is not known)."""
        try:
            return self.key(state) in self.seen
        except (IndexError, KeyError, TypeError, ValueError):
            return False

    def block(self, state: State) -> Candidate | None:
        """"Not in this region": a few of ``state``'s scalar equalities that no explored
        state satisfies together (greedy: each time the equality the most remaining
        explored states miss), or ``None`` if an explored state equals ``state``."""
        flat = np.array([int(v) for v in flatten(self.t.model, state)], dtype=np.int64)
        differs = self.rows != flat
        left = np.ones(len(self.rows), dtype=bool)
        chosen: list[int] = []
        while left.any():
            hits = np.count_nonzero(differs[left], axis=0)
            best = int(np.argmax(hits))
            if hits[best] == 0:
                return None
            chosen.append(best)
            left &= ~differs[:, best]
        chosen.sort()
        equal = [self._equals(i, int(flat[i])) for i in chosen]
        text = " and ".join(f"{self.t.scalars[i][1]} == {int(flat[i])}" for i in chosen)
        return Candidate(f"not ({text})  [no explored state]", z3.Not(z3.And(*equal)))

    def _equals(self, i: int, value: int) -> z3.BoolRef:
        """The template's scalar ``i`` equals ``value``."""
        const = self.t.cur[i]
        return const == bool(value) if self.t.scalars[i][0].is_bool else const == value
