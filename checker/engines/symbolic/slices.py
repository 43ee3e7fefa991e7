"""A conjunct's step query asked on a *slice* of the invariant: part of the premise.

A slice is a weaker premise than the whole invariant, so an unsat answer on it still
proves the conjunct after the action (:class:`SliceQueries`).  Three ways, tried in
order by :meth:`SliceQueries.closed_on_slice`: the conjuncts whose state variables all
occur in the query, then those sharing one with it (each grounded once and then two
levels deep); then the goal split into cases along the guarded writes of the value it
compares (:mod:`~checker.engines.symbolic.goalcases`), each case on a slice grown from
candidates, a conjunct at a time (:meth:`SliceQueries.closed_on_grown_slice`).  The
premise's quantifiers are grounded at the slice's index pools
(:func:`~checker.engines.symbolic.instantiate.index_pools`), an outer quantifier of a
nest also at the numerals the query names (:meth:`SliceQueries.named_numerals`).
docs/engines.md, "Splitting a goal into cases".
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet

import z3

from checker.engines.symbolic.bounded import new_array_solver, solve
from checker.engines.symbolic.goalcases import case_queries
from checker.engines.symbolic.groups import Group
from checker.engines.symbolic.instantiate import (
    constant_names,
    ground,
    index_pools,
    is_numeral,
    merged_pools,
)
from checker.engines.symbolic.limits import SolverGaveUp
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.model import State

SLICE_BUDGET = 15.0
"""Seconds a conjunct's query may take on the premise cut down to the invariant's
conjuncts that share a state variable with it (:meth:`SliceQueries.closed_on_slice`)."""

DEEP_BUDGET = 4
"""A grown slice grounded two levels deep, the last resort, may take this many times
:data:`SLICE_BUDGET` (less under a smaller query limit): at ring 256 the hand-off's
skb order closes so in 14.7 s and 25.7 s in two runs alone, and stayed open at twice
the budget in the CLI run."""

NAMED_NUMERALS = 8
"""A query naming at most this many positions of an array as numerals has its slice's
outer quantifiers of a nest over that array instantiated there too
(:meth:`SliceQueries.named_numerals`)."""

GROW_ROUNDS = 24
"""Rounds a slice grown from candidates takes at most
(:meth:`SliceQueries.closed_on_grown_slice`; 14 close the skb case of
``tx_signal_used``'s ``no-double-use`` at ring 256)."""

SliceReport = Callable[[str, str, float], None]
"""Called with a solver's name, its answer and seconds after each slice query."""

GrowthReport = Callable[[int, int, bool, str, str, float], None]
"""Called with the round, the slice's conjuncts, whether grounded two levels deep, the
solver, its answer and seconds after each query of a growing slice."""


class SliceQueries:
    """Slice queries of a grounded step case; :class:`~checker.engines.symbolic.
    groundstep.GroundedStep` provides the invariant's conjuncts and judges candidates."""

    t: StepTemplate
    parts: list[tuple[str, z3.BoolRef]]
    """The invariant's conjuncts, each with its property's name."""
    part_vars: list[frozenset[str]]
    """The state variables each conjunct of :attr:`parts` reads."""
    types: list[tuple[z3.BoolRef, frozenset[str]]]
    """The array types, each with the state variables it reads."""
    sort: z3.BitVecSortRef
    query_limit: float | None

    def false_conjuncts(self, state: State) -> tuple[set[int], set[int]]:
        """The conjuncts of :attr:`parts` false in ``state`` (and the positions)."""
        raise NotImplementedError

    def clamped(self, state: State) -> State:
        """``state`` with array elements outside their type set inside it."""
        raise NotImplementedError

    def budget(self, deadline: float | None, most: float | None = None,
               ) -> tuple[float | None, float | None]:
        """Seconds the next query may take (the least of ``most``, the query limit and
        what is left before ``deadline``; ``None``: no bound), and what is left."""
        left = None if deadline is None else deadline - time.monotonic()
        bounds = [b for b in (most, self.query_limit, left) if b is not None]
        return (min(bounds) if bounds else None), left

    def closed_on_slice(self, g: Group, goal: z3.BoolRef, deadline: float | None,
                        ) -> tuple[bool, int]:
        """Whether ``goal`` (a conjunct's negation after ``g``) is unsat on a *slice* of the
        premise, a weaker premise (so unsat is a proof).  Two slices, smaller first: the
        invariant's conjuncts whose state variables all occur in the query, then those
        sharing one with it; each with the types of the variables it reads, grounded
        once and then two levels deep, each query at most :data:`SLICE_BUDGET` seconds
        (or the query limit) on :func:`~checker.engines.symbolic.bounded.
        new_array_solver` and, if that gives up, as long on Z3's default solver (which
        bit-blasts a sum of 256 guest bits where the array solver does not: ``dp-count``
        after the worker's used-ring signal at ring 256, unsat in 12 s, unknown after
        30 s on the array solver).  When neither slice closes it, its cases are asked
        on grown slices (:meth:`closed_by_cases`).  At ring
        256 this keeps ``memory-safe`` after the device's completion in a fraction of a
        second (the whole premise: 73 s of grounding and 32 s of solving), and the
        worker's fetch's ``q-distinct`` in 2 s (unknown after 60 s on the whole
        premise or the larger slice).  Returns the answer and the queries asked."""
        query = [g.domain(), g.ex.enabled, goal]
        zero = [z3.BitVecVal(0, self.t.bits)]
        named = self.named_numerals(query)
        asked, tried = 0, [list(range(len(self.parts)))]
        for _, chosen, premise in self.slices(query):
            if chosen in tried:  # the whole premise, or the slice just asked
                continue
            tried.append(chosen)
            pools = self.slice_pools(premise, query)
            grounded = self.grounded(premise, zero, pools, deadline, named)
            for deep in (False, True):
                if deep:
                    grounded = self.deeper(premise, zero, pools, grounded, deadline,
                                           outer=named)
                answer, _, n = self.ask_slice(grounded, query, deadline)
                asked += n
                if answer == "unsat":
                    return True, asked
        closed, n = self.closed_by_cases(g, goal, deadline)
        return closed, asked + n

    def ask_slice(self, grounded: z3.BoolRef, query: Sequence[z3.BoolRef],
                  deadline: float | None, report: SliceReport | None = None,
                  budget: float | None = None) -> tuple[str, z3.ModelRef | None, int]:
        """``query`` on a ``grounded`` slice: on :func:`~checker.engines.symbolic.
        bounded.new_array_solver` and, if that gives up, as long on Z3's default
        solver; each at most ``budget`` seconds (default :data:`SLICE_BUDGET`; less when
        the query limit or what is left is less).  Returns the answer ("unsat", "sat"
        with its model, "unknown") and the queries asked; ``report(solver, answer,
        seconds)`` is called after each."""
        asked = 0
        for make in (new_array_solver, z3.Solver):
            solver = make()
            solver.add(grounded, *query)
            given, _ = self.budget(deadline, budget or SLICE_BUDGET)
            asked += 1
            began = time.monotonic()
            try:
                m = solve(solver, given)
            except SolverGaveUp as err:
                if err.by_memory_limit:
                    raise
                if report is not None:
                    report(make.__name__, "unknown", time.monotonic() - began)
                continue
            answer = "unsat" if m is None else "sat"
            if report is not None:
                report(make.__name__, answer, time.monotonic() - began)
            return answer, m, asked  # sat: the other solver would not say unsat
        return "unknown", None, asked

    def closed_by_cases(self, g: Group, goal: z3.BoolRef, deadline: float | None,
                        ) -> tuple[bool, int]:
        """Whether ``goal`` is unsat because each of its cases is
        (:func:`~checker.engines.symbolic.goalcases.goal_cases`: one per guarded write
        of the value it compares; the goal itself when it compares none), each case
        weakened, its disjuncts that differ only in an index asked as one, on a slice
        grown from candidates (:meth:`closed_on_grown_slice`).  The bookkeeping's
        ``q-window`` at ring 256, no case split: 5 rounds, unsat in 12 s.  ``tx_signal_used``'s ``no-double-use`` at ring
        256: the three ways ``vhost_add_used_and_signal`` records an error, each closed
        in seconds to a minute, where no slice of the whole goal closes.  Returns the
        answer and the queries asked; stops at the first case that stays open."""
        asked = 0
        for query in case_queries(goal):
            closed, n = self.closed_on_grown_slice(g, query, deadline)
            asked += n
            if not closed:
                return False, asked
        return True, asked

    def closed_on_grown_slice(self, g: Group, goal: z3.BoolRef, deadline: float | None,
                              report: GrowthReport | None = None) -> tuple[bool, int]:
        """Whether ``goal`` after ``g`` is unsat on a slice grown from candidates: the
        premise's conjuncts over the query's own state variables; while the answer is
        a candidate, the conjunct it breaks (judged on its concrete state,
        :meth:`false_conjuncts`) that is nearest the query (:meth:`_nearest`) is added,
        and when it breaks none that shares a variable with the slice, or when both
        solvers give up on it, the slice is grounded two levels deep from then on; at
        most :data:`GROW_ROUNDS` rounds.  Adding all the
        broken conjuncts at once was tried: at ring 256 the slice is then too large
        for either solver (docs/engines.md, "Splitting a goal into cases").  Returns the
        answer and the queries asked; ``report(round, conjuncts, level, solver, answer,
        seconds)`` is called after each query."""
        query = [g.domain(), g.ex.enabled, goal]
        seed = constant_names(z3.And(*query))
        chosen = {i for i, vs in enumerate(self.part_vars) if vs <= seed}
        zero = [z3.BitVecVal(0, self.t.bits)]
        named = self.named_numerals(query)
        deep, asked = False, 0
        for round_ in range(GROW_ROUNDS):
            premise, used = self._slice_premise(chosen, seed)
            pools = self.slice_pools(premise, query)
            grounded = self.grounded(premise, zero, pools, deadline, named)
            if deep:
                grounded = self.deeper(premise, zero, pools, grounded, deadline, outer=named)
            answer, m, n = self.ask_slice(grounded, query, deadline, None if report is None else
                                          functools.partial(report, round_, len(chosen), deep),
                                          SLICE_BUDGET * (DEEP_BUDGET if deep else 1))
            asked += n
            if answer == "unknown" and not deep:
                deep = True  # more instances: the same slice is often easy two levels deep
                continue
            if answer != "sat" or m is None:
                return answer == "unsat", asked
            try:
                broken, _ = self.false_conjuncts(
                    self.clamped(self.t.layout.decode(m, self.t.cur)))
            except SolverGaveUp as err:
                if err.by_memory_limit:
                    raise
                return False, asked
            nearest = self._nearest(broken - chosen, seed, used)
            if nearest is None:
                if deep:
                    return False, asked
                deep = True
            else:
                chosen.add(nearest)
        return False, asked

    def _nearest(self, broken: AbstractSet[int], seed: AbstractSet[str],
                 used: AbstractSet[str]) -> int | None:
        """Of the conjuncts ``broken`` that share a state variable with the slice
        (``used``), the one sharing most with the query (``seed``), then the one with
        fewest variables; ``None`` when none shares one."""
        near = [i for i in broken if self.part_vars[i] & used]
        if not near:
            return None
        return min(near, key=lambda i: (-len(self.part_vars[i] & seed), len(self.part_vars[i]), i))

    def slices(self, query: Sequence[z3.BoolRef],
               ) -> list[tuple[str, list[int], list[z3.BoolRef]]]:
        """The two slices of the premise for ``query``, smaller first: ``within`` (the
        invariant's conjuncts whose state variables all occur in it) and ``shares``
        (those sharing one with it), each as its label, the indices of its conjuncts
        in :attr:`parts`, and its premise (those conjuncts and the types of the
        variables they and the query read)."""
        seed = constant_names(z3.And(*query))
        return [(label, chosen, self._slice_premise(chosen, seed)[0]) for label, chosen in (
            ("within", [i for i, vs in enumerate(self.part_vars) if vs <= seed]),
            ("shares", [i for i, vs in enumerate(self.part_vars) if vs & seed]))]

    def _slice_premise(self, chosen: Sequence[int] | AbstractSet[int], seed: frozenset[str],
                       ) -> tuple[list[z3.BoolRef], frozenset[str]]:
        """The premise of the slice of conjuncts ``chosen`` (in :attr:`parts`' order)
        for a query reading the state variables ``seed``: those conjuncts and the types
        of the variables they and the query read; and those variables."""
        used = seed.union(*(self.part_vars[i] for i in chosen))
        return ([*(self.parts[i][1] for i in sorted(chosen)),
                 *(ty for ty, vs in self.types if vs <= used)], used)

    def slice_pools(self, premise: Sequence[z3.BoolRef], query: Sequence[z3.BoolRef],
                    ) -> dict[str, list[z3.ExprRef]]:
        """The index pools of a slice's ``premise`` (its quantifier-free part) and
        ``query``: where its first grounding instantiates."""
        return index_pools([*(h for h in premise if not z3.is_quantifier(h)), *query],
                           self.sort)

    def grounded(self, premise: Sequence[z3.BoolRef], terms: Sequence[z3.ExprRef],
                 pools: dict[str, list[z3.ExprRef]], deadline: float | None,
                 outer: dict[str, list[z3.ExprRef]] | None = None) -> z3.BoolRef:
        """``premise`` grounded at ``terms`` and the index ``pools`` (an outer quantifier
        of a nest also at the numerals ``outer`` has for its arrays:
        :meth:`named_numerals`)."""
        return ground(z3.And(*premise), terms, pools=pools, deadline=deadline, outer=outer)[0]

    def deeper(self, premise: Sequence[z3.BoolRef], terms: Sequence[z3.ExprRef],
               pools: dict[str, list[z3.ExprRef]], grounded: z3.BoolRef,
               deadline: float | None, skip: AbstractSet[int] = frozenset(),
               outer: dict[str, list[z3.ExprRef]] | None = None) -> z3.BoolRef:
        """``premise`` grounded again, one level deeper: also at the indices its instances
        in ``grounded`` (its grounding at ``pools``) read, such as ``skb_slot[k]`` inside
        ``dp-skbs``'s instance at ``k`` (subterms whose id is in ``skip``, whose indices
        ``pools`` already has, not looked into)."""
        more = merged_pools(pools, index_pools([grounded], self.sort, skip))
        return self.grounded(premise, terms, more, deadline, outer)

    def named_numerals(self, query: Sequence[z3.BoolRef]) -> dict[str, list[z3.ExprRef]]:
        """The numerals ``query`` reads each array at, for the arrays it reads at no more
        than :data:`NAMED_NUMERALS` of them: where a slice's outer quantifier of a nest
        is also instantiated.  After the device completes skb ``k``, the last skb's
        distance from the first is read at ``skb_slot[0]`` and ``skb_slot[1]`` (``k`` is
        0 or not), and the order of the pair (1, last) is what proves it; a count over
        an array's every position names too many to pair."""
        out = {}
        for name, pool in index_pools(query, self.sort).items():
            named = [x for x in pool if is_numeral(x)]
            if named and len(named) <= NAMED_NUMERALS:
                out[name] = named
        return out
