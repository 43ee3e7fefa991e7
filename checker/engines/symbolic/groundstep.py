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
a lemma, is asked once on a *slice* of the premise (:mod:`~checker.engines.symbolic.
slices`) (the invariant's conjuncts sharing a
state variable with it: a weaker premise, so unsat still proves it); a candidate that
breaks a lemma then sends the action back with the premise grounded one level deeper
(at the indices its instances read), and only after that are positions added.  When
no slice closes it, its goal is split into cases along the guarded writes of the value
it compares (:mod:`~checker.engines.symbolic.goalcases`), and each case is asked on a
slice grown from candidates, a conjunct at a time
(:meth:`~checker.engines.symbolic.slices.SliceQueries.closed_on_grown_slice`): each case unsat proves the conjunct.

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
from dataclasses import dataclass
from typing import Any, Literal

import z3

from checker.engines.symbolic.bounded import new_array_solver, solve
from checker.engines.symbolic.encoding import QuantifyingBackend
from checker.engines.symbolic.groups import Group, numeral
from checker.engines.symbolic.instantiate import (
    constant_names,
    ground,
    index_pools,
    merged_pools,
    subterm_ids,
)
from checker.engines.symbolic.layout import largest_array
from checker.engines.symbolic.limits import SolverGaveUp, one_line
from checker.engines.symbolic.localstep import conjuncts, int_value
from checker.engines.symbolic.slices import SliceQueries
from checker.engines.symbolic.symexec import property_term
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.expr import Value
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, ModelBug
from checker.semantics.states import fire

ROUNDS = 30
"""Refinement rounds per action before it is reported open."""

NEVER_ENABLED_BUDGET = 0.5
"""Seconds the first round may spend asking whether an action fires at all from a state
satisfying the (grounded) invariant, before its conjuncts are asked one by one
(:meth:`GroundedStep._never_enabled`).  On the ring-256 data path that question is
unsat in 0.08 s for an action the environment disables (``set_backend_signal_used``:
one query, 20 s with its grounding, against 41 s for its 20 conjunct queries) and
unknown after 2 s for one it enables (``tx_lock``, ``tx_read_sock``): so little is lost
there.  At ring 2 the step case takes 17 s instead of 74 s."""

SPLIT_AFTER = 10.0
"""Seconds a query of a parameterised action runs before it is split per value of its
widest argument (:meth:`GroundedStep._solve`)."""

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


class GroundedStep(SliceQueries):
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
        self.positions = largest_array(model)

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
        parts = [*self.changed(g), ("safe", safe)]
        lits = [z3.Bool(f"part#{i}") for i in range(len(parts))]
        goals = [z3.Not(ground(part, [], asserted=False)[0]) for _, part in parts]
        query = [g.domain(), g.ex.enabled,
                 *(z3.Implies(lit, goal) for lit, goal in zip(lits, goals))]
        pools = merged_pools(self.premise_pools, index_pools(query, self.sort, self.premise_ids))
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
            closed, asked = self.closed_on_slice(g, goals[i], deadline)
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
            if not terms[1:] and not deep and self._never_enabled(solver, deadline):
                queries += 1
                return outcome("closed", "never enabled where the invariant holds"), None
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

    def _never_enabled(self, solver: z3.Solver, deadline: float | None) -> bool:
        """Whether ``solver`` (the grounded premise, the group's domain and guard, each
        part's goal behind its literal) is unsat with no literal assumed: the action
        fires from no state satisfying the invariant, so it breaks no part of it.  Every
        part's query is this one plus a goal, so unsat here is each of theirs.  Asked
        for at most :data:`NEVER_ENABLED_BUDGET` seconds; unknown is "no"."""
        budget, left = self.budget(deadline, NEVER_ENABLED_BUDGET)
        try:
            return solve(solver, budget) is None
        except SolverGaveUp as err:
            if err.by_memory_limit or budget == left:
                raise
            return False

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
            budget, left = self.budget(deadline)
            first, short = case is None and short, False
            if first and (budget is None or SPLIT_AFTER < budget):
                budget = SPLIT_AFTER
            asked += 1
            try:
                m = solve(solver, budget, lit, *([] if case is None else [case[1]]))
            except SolverGaveUp as err:
                if err.by_memory_limit or (
                        err.by_time_limit and budget == left and not first):
                    raise
                if first and err.by_time_limit:
                    if stuck is not None and stuck():
                        return None, "", asked
                    if widest is None:
                        cases = [None]  # the same query, with all its time
                        continue
                    cases = _cases(widest)
                    continue
                if case is None and err.by_time_limit and stored is not None:
                    cases, stored = _cases(stored), None
                    continue
                where = "" if case is None else f" for {case[0]}"
                return None, (f"unknown after {budget:g}s{where}" if err.by_time_limit
                              else f"unknown ({one_line(str(err))})"), asked
            if m is not None:
                return m, "", asked
        return None, "", asked

    def changed(self, g: Group) -> list[tuple[str, z3.BoolRef]]:
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


def action_name(g: Group) -> str:
    """The action a group stands for: its name with its parameters (``guest_post(h,
    large)``), or its one instance's label."""
    if g.params:
        return f"{g.spec.name}({', '.join(name for name, _ in g.params)})"
    return g.instances[0].label


def _in_type(b: QuantifyingBackend, array: Any, lo: int, hi: int) -> Callable[[Value], Value]:
    return lambda i: z3.And(b.select(array, i) >= lo, b.select(array, i) <= hi)
