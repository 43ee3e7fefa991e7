"""One step from every state satisfying an invariant, one action at a time, with the
invariant's quantifiers grounded on demand.

The invariant is a list of properties (the ones to prove and their lemmas).  On a
:class:`~checker.engines.symbolic.unroll.StepTemplate` with the array layout (an array
is one Z3 array, so nothing grows with the ring but the arrays' contents) and grouped
actions (a parameterised action is asked once, on symbolic arguments), each action
asks: is there a state satisfying the invariant, typed, from which the action is
enabled and reaches a state that breaks the invariant, or stops at a model capacity,
or writes outside a type?  It is asked once per conjunct the action's writes change
(and once for the step's safety), in one solver per refinement round, the conjunct's
negation behind an assumption literal; a query still open after :data:`SPLIT_AFTER`
seconds is asked again per value of the action's widest argument.  The solver is
:func:`~checker.engines.symbolic.bounded.new_array_solver` (measured at ring 32 on the
guest's post: the avail ring's lemmas unsat in 0.3 s and 1 s, unknown after 30 s with
Z3's default solver; ``dp-count`` unknown with either until split per head, then 32
cases in 0.34 s).

The invariant's ``s.every`` are quantifiers (:class:`~checker.engines.symbolic.encoding.
QuantifyingBackend`), and so are the array types; :func:`~checker.engines.symbolic.
instantiate.ground` makes the query quantifier-free.  In the premise each quantifier is
replaced by its instances at the indices of the arrays it reads (:func:`~checker.
engines.symbolic.instantiate.index_pools`) and at the positions refinement added: that
weakens the premise, so ``unsat`` proves the action keeps the invariant.  In the goal a
quantifier becomes a Skolem constant, the position the successor breaks.

A conjunct's query that stays open past :data:`SPLIT_AFTER`, or whose candidate breaks
a lemma, is asked once on a *slice* of the premise (the invariant's conjuncts sharing a
state variable with it: a weaker premise, so unsat still proves it); a candidate that
breaks a lemma then sends the action back with the premise grounded one level deeper
(at the indices its instances read), and only after that are positions added.  When
no slice closes it, its goal is split into cases along the guarded writes of the value
it compares (:mod:`~checker.engines.symbolic.goalcases`), and each case is asked on a
slice grown from candidates, a conjunct at a time
(:meth:`GroundedStep.closed_on_grown_slice`): each case unsat proves the conjunct.

A satisfying premise is a *candidate*.  Its state (array elements outside their type,
possible where no type instance constrained them, set to the type's lowest value) is
judged exactly (:meth:`GroundedStep.false_parts`: Z3 on the constants pinned to it):
when it breaks an ``s.every`` of the invariant at some position, that position joins
the instances and the action is asked again (refinement).  When it satisfies the invariant, the action is fired on it concretely:
if the successor breaks the invariant (or the step stops at a capacity, or writes
outside a type) it is a real counterexample to induction; if not, the candidate tells
nothing more and the action stays *open*, as it does when Z3 answers ``unknown`` or
the rounds run out.  So "closed" is a proof and "broken" a replayed step; nothing else
is claimed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Literal

import z3

from checker.engines.symbolic.bounded import new_array_solver, solve
from checker.engines.symbolic.encoding import QuantifyingBackend
from checker.engines.symbolic.goalcases import case_queries
from checker.engines.symbolic.groups import Group, numeral
from checker.engines.symbolic.instantiate import (
    constant_names,
    ground,
    index_pools,
    is_numeral,
    subterm_ids,
)
from checker.engines.symbolic.limits import SolverGaveUp, one_line
from checker.engines.symbolic.localstep import conjuncts, int_value
from checker.engines.symbolic.symexec import property_term
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.expr import Value
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, ModelBug
from checker.semantics.states import fire

ROUNDS = 30
"""Refinement rounds per action before it is reported open."""

SPLIT_AFTER = 10.0
"""Seconds a query of a parameterised action runs before it is split per value of its
widest argument (:meth:`GroundedStep._solve`)."""

SLICE_BUDGET = 15.0
"""Seconds a conjunct's query may take on the premise cut down to the invariant's
conjuncts that share a state variable with it (:meth:`GroundedStep._closed_on_slice`)."""

DEEP_BUDGET = 2
"""A grown slice grounded two levels deep, the last resort, may take this many times
:data:`SLICE_BUDGET` (at ring 256 the hand-off's skb order closes so in 14.7 s)."""

NAMED_NUMERALS = 8
"""A query naming at most this many positions of an array as numerals has its slice's
outer quantifiers of a nest over that array instantiated there too
(:meth:`GroundedStep.named_numerals`)."""

GROW_ROUNDS = 24
"""Rounds a slice grown from candidates takes at most
(:meth:`GroundedStep.closed_on_grown_slice`; 14 close the skb case of
``tx_signal_used``'s ``no-double-use`` at ring 256)."""

SliceReport = Callable[[str, str, float], None]
"""Called with a solver's name, its answer and seconds after each slice query."""

GrowthReport = Callable[[int, int, bool, str, str, float], None]
"""Called with the round, the slice's conjuncts, whether grounded two levels deep, the
solver, its answer and seconds after each query of a growing slice."""

CASE_NAME_WIDTH = 60
"""Characters of a split case's name beyond which it is described, not printed
(:func:`_stored_at`)."""

Answer = Literal["closed", "broken", "open"]


@dataclass(frozen=True)
class ActionOutcome:
    """What the step case found for one action: ``closed`` (no step of it breaks the
    invariant: proved), ``broken`` (a counterexample to induction, replayed) or
    ``open`` (``why``: Z3's unknown, the time limit, the rounds used up, or a candidate
    that breaks nothing when fired)."""

    action: str
    answer: Answer
    queries: int
    """Solver queries asked (per changed conjunct, refinement round, case split and
    second solver)."""
    positions: int
    """Positions refinement added to the instances."""
    seconds: float
    why: str = ""


@dataclass(frozen=True)
class BrokenByStep:
    """A counterexample to induction: ``before`` satisfies the invariant, ``instance``
    fired on it reaches ``after``; ``broken`` says what fails (lemma names, or which
    of "no capacity hit" and "well typed" the step breaks)."""

    instance: ActionInstance
    before: State
    after: State | None
    broken: str


class GroundedStep:
    """The grounded step case of ``invariant`` on ``model`` (module docstring)."""

    def __init__(self, model: Model, invariant: Sequence[Property],
                 deadline: float | None = None, rounds: int = ROUNDS,
                 query_limit: float | None = None) -> None:
        self.model = model
        self.invariant = list(invariant)
        self.rounds = rounds
        self.query_limit = query_limit
        """Seconds one solver query may take (Z3's unknown past it: the action is
        open); ``None``: until the deadline."""
        self.t = StepTemplate(model, True, deadline, arrays=True, grouped=True)
        self.backend = QuantifyingBackend(self.t.bits)
        self.holds = self._holds(self.t.layout.state(self.t.cur))
        self.parts = [(p.name, part) for p, h in zip(self.invariant, self.holds)
                      for part in conjuncts([h])]
        typed = self._typed()
        self.premise = [*self.holds, *typed]
        self.part_vars = [constant_names(part) for _, part in self.parts]
        self.types = [(ty, constant_names(ty)) for ty in typed]
        self.flat_premise = [h for h in self.premise if not z3.is_quantifier(h)]
        self.sort = z3.BitVecSort(self.t.bits)
        self.premise_pools = index_pools(self.flat_premise, self.sort)
        self.premise_ids = subterm_ids(self.flat_premise)
        self.negated = [(name, z3.Not(goal), skolems) for name, (goal, skolems) in
                        ((name, ground(part, [], asserted=False)) for name, part in self.parts)]
        self.positions = max((v.size or 0 for v in model.vars), default=0)

    @property
    def actions(self) -> list[str]:
        """The actions asked about, in the model's order."""
        return [action_name(g) for g in self.t.groups]

    def check(self, deadline: float | None = None,
              done: Callable[[ActionOutcome, int, int], None] | None = None,
              ) -> tuple[list[ActionOutcome], BrokenByStep | None]:
        """Each action's outcome in the model's order, and the first counterexample to
        induction (the actions after it are not asked).  ``done(outcome, i, total)``
        is called as each action is answered.  Raises :class:`~checker.engines.
        symbolic.limits.SolverGaveUp` past ``deadline`` (the outcomes so far are in
        :attr:`answered`)."""
        self.answered: list[ActionOutcome] = []
        for i, g in enumerate(self.t.groups):
            outcome, cti = self._check_group(g, deadline)
            self.answered.append(outcome)
            if done is not None:
                done(outcome, i + 1, len(self.t.groups))
            if cti is not None:
                return self.answered, cti
        return self.answered, None

    def _holds(self, state: Any) -> list[z3.BoolRef]:
        return [property_term(self.model, p.predicate, state, self.t.enabled, self.t.bits,
                              self.backend) for p in self.invariant]

    def _typed(self) -> list[z3.BoolRef]:
        """Every scalar in its type, and per array one quantifier: every element in it."""
        t, b = self.t, self.backend
        out = t.layout.ranges(t.cur, elements=False)
        for (v, _), array in zip(t.layout.slots, t.layout.state(t.cur)):
            if v.size is not None and not v.is_bool:
                out.append(b.every(v.size, _in_type(b, array, v.lo, v.hi)))
        return out

    def _check_group(self, g: Group, deadline: float | None,
                     ) -> tuple[ActionOutcome, BrokenByStep | None]:
        """Each part of the invariant ``g`` changes (and the step's safety) asked on its
        own, in one solver per refinement round (a part's goal behind an assumption
        literal): a query per part is far smaller than one for them all."""
        began = time.monotonic()
        t = self.t
        safe = z3.Not(z3.Or(g.ex.ill_typed, *(c for _, c in g.ex.capacity_hits())))
        parts = [*self._changed(g), ("safe", safe)]
        lits = [z3.Bool(f"part#{i}") for i in range(len(parts))]
        goals = [z3.Not(ground(part, [], asserted=False)[0]) for _, part in parts]
        query = [g.domain(), g.ex.enabled,
                 *(z3.Implies(lit, goal) for lit, goal in zip(lits, goals))]
        pools = _merged(self.premise_pools, index_pools(query, self.sort, self.premise_ids))
        terms: list[z3.ExprRef] = [z3.BitVecVal(0, t.bits)]
        seen: set[int] = {0}
        deep = False
        pending = list(range(len(parts)))
        queries = 0
        sliced: set[int] = set()

        def by_slice(i: int) -> bool:
            """Part ``i`` closed on its slice of the premise (asked once per part)."""
            nonlocal queries
            if i in sliced:
                return False
            sliced.add(i)
            closed, asked = self._closed_on_slice(g, goals[i], deadline)
            queries += asked
            return closed

        def outcome(answer: Answer, why: str = "") -> ActionOutcome:
            return ActionOutcome(action_name(g), answer, queries, len(terms) - 1,
                                 time.monotonic() - began, why)

        for _ in range(self.rounds):
            solver = new_array_solver()
            grounded = self.grounded(self.premise, terms, pools, deadline)
            if deep:
                grounded = self.deeper(self.premise, terms, pools, grounded, deadline,
                                        self.premise_ids)
            solver.add(grounded, *query)
            fallback: z3.Solver | None = None
            while pending:
                i = pending[0]
                m, why, asked = self._solve(solver, g, lits[i], deadline,
                                            stuck=functools.partial(by_slice, i))
                queries += asked
                if why and by_slice(i):
                    m, why = None, ""
                if why:  # the same query once more on Z3's default solver
                    if fallback is None:
                        fallback = z3.Solver()
                        fallback.add(solver.assertions())
                    m, other, asked = self._solve(fallback, g, lits[i], deadline, split=False)
                    queries += asked
                    if other:
                        return outcome("open", f"{parts[i][0]}: Z3 answered {why}, and "
                                               f"{other} with its default solver"), None
                if m is None:
                    pending.pop(0)
                    continue
                before = self.clamped(t.layout.decode(m, t.cur))
                unmet, found = self.false_parts(before)
                if found - seen and by_slice(i):
                    pending.pop(0)
                    continue
                if found - seen and not deep:
                    deep = True
                    break  # ground again, at the indices the instances read too
                if found - seen:
                    terms += [z3.BitVecVal(p, t.bits) for p in sorted(found - seen)]
                    seen |= found
                    break  # ground again with the new positions
                cti, why = self._judged(self._instance(g, m), before, unmet)
                if cti is None:
                    return outcome("open", why), None
                return outcome("broken", cti.broken), cti
            if not pending:
                return outcome("closed"), None
        return outcome("open", f"{self.rounds} refinement rounds used up"), None

    def _closed_on_slice(self, g: Group, goal: z3.BoolRef, deadline: float | None,
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
        30 s on the array solver).  Anything else (sat, unknown) leaves the conjunct to
        the whole premise.  At ring
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
        closed, n = self._closed_by_cases(g, goal, deadline)
        return closed, asked + n

    def ask_slice(self, grounded: z3.BoolRef, query: Sequence[z3.BoolRef],
                  deadline: float | None, report: SliceReport | None = None,
                  budget: float | None = None) -> tuple[str, z3.ModelRef | None, int]:
        """``query`` on a ``grounded`` slice: on :func:`~checker.engines.symbolic.
        bounded.new_array_solver` and, if that gives up, as long on Z3's default
        solver; each at most ``budget`` seconds (default :data:`SLICE_BUDGET`; less when
        the query limit or what is left is less).  Returns the answer ("unsat", "sat" with its model, "unknown") and the
        queries asked; ``report(solver, answer, seconds)`` is called after each."""
        asked = 0
        for make in (new_array_solver, z3.Solver):
            solver = make()
            solver.add(grounded, *query)
            left = None if deadline is None else deadline - time.monotonic()
            given = min(b for b in (budget or SLICE_BUDGET, self.query_limit, left)
                        if b is not None)
            asked += 1
            began = time.monotonic()
            try:
                m = solve(solver, given)
            except SolverGaveUp as err:
                if str(err).startswith("memory limit"):
                    raise
                if report is not None:
                    report(make.__name__, "unknown", time.monotonic() - began)
                continue
            answer = "unsat" if m is None else "sat"
            if report is not None:
                report(make.__name__, answer, time.monotonic() - began)
            return answer, m, asked  # sat: the other solver would not say unsat
        return "unknown", None, asked

    def _closed_by_cases(self, g: Group, goal: z3.BoolRef, deadline: float | None,
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
            used = seed.union(*(self.part_vars[i] for i in chosen))
            premise = [*(self.parts[i][1] for i in sorted(chosen)),
                       *(ty for ty, vs in self.types if vs <= used)]
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
                if str(err).startswith("memory limit"):
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
        out = []
        for label, chosen in (
                ("within", [i for i, vs in enumerate(self.part_vars) if vs <= seed]),
                ("shares", [i for i, vs in enumerate(self.part_vars) if vs & seed])):
            used = seed.union(*(self.part_vars[i] for i in chosen))
            out.append((label, chosen, [*(self.parts[i][1] for i in chosen),
                                        *(ty for ty, vs in self.types if vs <= used)]))
        return out

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
        more = _merged(pools, index_pools([grounded], self.sort, skip))
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

    def _solve(self, solver: z3.Solver, g: Group, lit: z3.BoolRef, deadline: float | None,
               split: bool = True, stuck: Callable[[], bool] | None = None,
               ) -> tuple[z3.ModelRef | None, str, int]:
        """A model of ``solver`` with ``lit`` (``None``: unsat), why Z3 could not tell
        (``""``: it could), and the queries asked.  When the query is still open after
        :data:`SPLIT_AFTER` seconds, ``stuck()`` may settle it (true: unsat); if not and
        ``g`` has an argument (:func:`_widest`), it is asked again once per value of it (a
        store at a known position is easy where one at a symbolic position is not:
        ``dp-count``'s sum of guest bits at ring 32), unless ``split`` is false; else it
        is asked again with all its time, and if that fails too, once per value of the
        position the step stores at (:func:`_stored_at`)."""
        widest = _widest(g) if split else None
        stored = _stored_at(g, [v.name for v in self.model.vars]) if split and not g.params else None
        asked = 0
        short = widest is not None or stuck is not None  # a first try of SPLIT_AFTER
        cases: list[tuple[str, z3.BoolRef] | None] = [None]
        while cases:
            case = cases.pop(0)
            left = None if deadline is None else deadline - time.monotonic()
            cap = self.query_limit if self.query_limit is not None and (
                left is None or self.query_limit < left) else None
            budget = cap if cap is not None else left
            first, short = case is None and short, False
            if first and (budget is None or SPLIT_AFTER < budget):
                budget = SPLIT_AFTER
            asked += 1
            try:
                m = solve(solver, budget, lit, *([] if case is None else [case[1]]))
            except SolverGaveUp as err:
                if str(err).startswith("memory limit") or (
                        str(err) == "time limit" and budget == left and not first):
                    raise
                if first and str(err) == "time limit":
                    if stuck is not None and stuck():
                        return None, "", asked
                    if widest is None:
                        cases = [None]  # the same query, with all its time
                        continue
                    cases = _cases(widest)
                    continue
                if case is None and str(err) == "time limit" and stored is not None:
                    cases, stored = _cases(stored), None
                    continue
                where = "" if case is None else f" for {case[0]}"
                return None, (f"unknown after {budget:g}s{where}" if str(err) == "time limit"
                              else f"unknown ({one_line(str(err))})"), asked
            if m is not None:
                return m, "", asked
        return None, "", asked

    def _changed(self, g: Group) -> list[tuple[str, z3.BoolRef]]:
        """The invariant's conjuncts (named by their property) in the state ``g``
        reaches, those its writes change (the others are the premise's own terms:
        :mod:`checker.engines.symbolic.localstep`)."""
        writes = [(c, v) for c, v in zip(self.t.cur, g.ex.values) if not v.eq(c)]
        if not writes:
            return []
        out = []
        for name, part in self.parts:
            after = z3.substitute(part, *writes)
            if not after.eq(part):
                out.append((name, after))
        return out

    def clamped(self, state: State) -> State:
        """``state`` with each array element outside its type set to the type's lowest
        value (the array types are instantiated at the positions a query reads only)."""
        return tuple(val if v.size is None or v.is_bool
                     else tuple(x if v.lo <= x <= v.hi else v.lo for x in val)
                     for v, val in zip(self.model.vars, state))

    def false_parts(self, state: State) -> tuple[list[str], set[int]]:
        """The names of the properties false in the concrete ``state``, and the
        positions at which their ``every`` fail (:meth:`false_conjuncts`)."""
        indices, positions = self.false_conjuncts(state)
        names: list[str] = []
        for i in sorted(indices):
            names += [self.parts[i][0]] if self.parts[i][0] not in names else []
        return names, positions

    def false_conjuncts(self, state: State) -> tuple[set[int], set[int]]:
        """The indices in :attr:`parts` of the conjuncts false in the concrete
        ``state``, and the positions at which their ``every`` fail.  Z3 evaluates each
        conjunct's negation, its quantifiers made Skolem constants, on the constants
        pinned to ``state`` (a Python loop over every pair of ``heads[]`` slots takes
        half a minute at the kernel's UIO_MAXIOV, this a fraction of a second); only the
        Skolem constants of a false conjunct name positions."""
        solver = new_array_solver()
        solver.add(*self.t.layout.initial(self.t.cur, state))
        indices: set[int] = set()
        positions: set[int] = set()
        for i, (name, negated, skolems) in enumerate(self.negated):
            solver.push()
            solver.add(negated)
            answer = solver.check()
            if answer == z3.unknown:
                raise SolverGaveUp(f"evaluating {name}: {solver.reason_unknown()}")
            if answer == z3.sat:
                m = solver.model()
                indices.add(i)
                found = (int_value(m.eval(k, model_completion=True)) for k in skolems)
                positions.update(p for p in found if 0 <= p < self.positions)
            solver.pop()
        return indices, positions

    def _instance(self, g: Group, m: z3.ModelRef) -> ActionInstance:
        """The instance of ``g`` whose arguments ``m`` gives."""
        if not g.params:
            return g.instances[0]
        args = tuple((name, int_value(m.eval(c, model_completion=True))) for name, c in g.params)
        inst = g.instance(args)
        assert inst is not None, f"{g.spec.name}: no instance for {args}"
        return inst

    def _judged(self, inst: ActionInstance, before: State, unmet: list[str],
                ) -> tuple[BrokenByStep | None, str]:
        """``inst`` fired on ``before`` (whose false parts are ``unmet``) concretely: the
        counterexample to induction, or ``None`` and why the candidate is none."""
        if unmet:
            return None, (f"a candidate breaks {', '.join(unmet)} at no position "
                          "refinement can add")
        try:
            after = fire(self.model, inst, before)
        except CapacityReached as hit:
            return BrokenByStep(inst, before, None, f"no capacity hit ({hit.what})"), ""
        except ModelBug as bug:
            return BrokenByStep(inst, before, None, f"well-typed ({inst.label}: {bug})"), ""
        if after is None:
            return None, f"a candidate does not enable {inst.label} when fired"
        broken, _ = self.false_parts(after)
        if not broken:
            return None, "a candidate the refinement cannot exclude breaks nothing when fired"
        return BrokenByStep(inst, before, after, ", ".join(broken)), ""


def _widest(g: Group) -> tuple[str, z3.ExprRef, list[int]] | None:
    """The argument of ``g`` with the most values: its name, constant and values
    (``None`` when ``g`` has no argument)."""
    if not g.params:
        return None
    values = {name: sorted({dict(i.args)[name] for i in g.instances}) for name, _ in g.params}
    name, const = max(g.params, key=lambda nc: len(values[nc[0]]))
    return name, const, values[name]


def _cases(split: tuple[str, z3.ExprRef, list[int]]) -> list[tuple[str, z3.BoolRef] | None]:
    """One case per value of what a query is split on (:func:`_widest`,
    :func:`_stored_at`), named ``what = value``."""
    name, const, values = split
    return [(f"{name} = {v}", const == numeral(const, v)) for v in values]


def _stored_at(g: Group, names: Sequence[str]) -> tuple[str, z3.ExprRef, list[int]] | None:
    """What to split a query of an action without arguments on, when it stays open with
    all its time: the first symbolic position the step stores at (``g_owned[used[0]]``,
    the head the guest reclaims), with every value of its sort.  It is named by its
    text when that is one short line, else as "the position <array> is stored at" (the
    array among ``names``, the model's variables, in the order of ``g``'s values): a case
    name is printed in the reason an action stays open."""
    for name, value in zip(names, g.ex.values):
        term = value
        while z3.is_store(term):
            at = term.arg(1)
            if z3.is_bv(at) and not z3.is_bv_value(at):
                text = f"{at}"
                if "\n" in text or len(text) > CASE_NAME_WIDTH:
                    text = f"the position {name} is stored at"
                return text, at, list(range(2 ** at.size()))
            term = term.arg(0)
    return None


def _merged(a: dict[str, list[z3.ExprRef]], b: dict[str, list[z3.ExprRef]],
            ) -> dict[str, list[z3.ExprRef]]:
    """The index pools ``a`` and ``b`` together (each array's indices once, ``a``'s first)."""
    out = {name: list(terms) for name, terms in a.items()}
    for name, terms in b.items():
        known = {t.get_id() for t in out.get(name, ())}
        out.setdefault(name, []).extend(t for t in terms if t.get_id() not in known)
    return out


def action_name(g: Group) -> str:
    """The action a group stands for: its name with its parameters (``guest_post(h,
    large)``), or its one instance's label."""
    if g.params:
        return f"{g.spec.name}({', '.join(name for name, _ in g.params)})"
    return g.instances[0].label


def _in_type(b: QuantifyingBackend, array: Any, lo: int, hi: int) -> Callable[[Value], Value]:
    return lambda i: z3.And(b.select(array, i) >= lo, b.select(array, i) <= hi)
