"""One step from every state satisfying an invariant, one action at a time, with the
invariant's quantifiers grounded on demand.

The invariant is a list of properties (the ones to prove and their lemmas).  On a
:class:`~checker.engines.symbolic.unroll.StepTemplate` with the array layout (an array
is one Z3 array, so nothing grows with the ring but the arrays' contents) and grouped
actions (a parameterised action is one query on symbolic arguments), each action asks:
is there a state satisfying the invariant, typed, from which the action is enabled and
reaches a state that breaks the invariant, or stops at a model capacity, or writes
outside a type?

The invariant's ``s.every`` are quantifiers (:class:`~checker.engines.symbolic.encoding.
QuantifyingBackend`), and so are the array types; :func:`~checker.engines.symbolic.
instantiate.ground` makes the query quantifier-free.  In the premise each quantifier is
replaced by its instances at the indices of the arrays it reads (:func:`~checker.
engines.symbolic.instantiate.index_pools`) and at the positions refinement added: that
weakens the premise, so ``unsat`` proves the action keeps the invariant.  In the goal a
quantifier becomes a Skolem constant, the position the successor breaks.

A satisfying premise is a *candidate*.  Its state (array elements outside their type,
possible where no type instance constrained them, set to the type's lowest value) is
judged on the concrete backend: when it breaks an ``s.every`` of the invariant at some
position, that position joins the instances and the action is asked again
(refinement).  When it satisfies the invariant, the action is fired on it concretely:
if the successor breaks the invariant (or the step stops at a capacity, or writes
outside a type) it is a real counterexample to induction; if not, the candidate tells
nothing more and the action stays *open*, as it does when Z3 answers ``unknown`` or
the rounds run out.  So "closed" is a proof and "broken" a replayed step; nothing else
is claimed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import z3

from checker.engines.symbolic.bounded import solve
from checker.engines.symbolic.encoding import QuantifyingBackend
from checker.engines.symbolic.groups import Group
from checker.engines.symbolic.instantiate import ground, index_pools, subterm_ids
from checker.engines.symbolic.limits import SolverGaveUp, one_line
from checker.engines.symbolic.symexec import property_term
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.expr import Value
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, ModelBug
from checker.semantics.states import fire

ROUNDS = 30
"""Refinement rounds per action before it is reported open."""

Answer = Literal["closed", "broken", "open"]


@dataclass(frozen=True)
class ActionOutcome:
    """What the step case found for one action: ``closed`` (no step of it breaks the
    invariant: proved), ``broken`` (a counterexample to induction, replayed) or
    ``open`` (``why``: Z3's unknown, the time limit, the rounds used up, or a candidate
    that breaks nothing when fired)."""

    action: str
    answer: Answer
    rounds: int
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
        self.premise = [*self.holds, *self._typed()]
        self.flat_premise = [h for h in self.premise if not z3.is_quantifier(h)]
        self.sort = z3.BitVecSort(self.t.bits)
        self.premise_pools = index_pools(self.flat_premise, self.sort)
        self.premise_ids = subterm_ids(self.flat_premise)
        self.negated = [(z3.Not(goal), skolems) for goal, skolems in
                        (ground(h, [], asserted=False) for h in self.holds)]

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
        began = time.monotonic()
        t = self.t
        safe = z3.Not(z3.Or(g.ex.ill_typed, *(c for _, c in g.ex.capacity_hits())))
        goal, _ = ground(z3.And(*self._changed(g), safe), [], asserted=False)
        query = [g.domain(), g.ex.enabled, z3.Not(goal)]
        pools = _merged(self.premise_pools, index_pools(query, self.sort, self.premise_ids))
        terms: list[z3.ExprRef] = [z3.BitVecVal(0, t.bits)]
        seen: set[int] = {0}

        def outcome(answer: Answer, rounds: int, why: str = "") -> ActionOutcome:
            return ActionOutcome(action_name(g), answer, rounds, len(terms) - 1,
                                 time.monotonic() - began, why)

        for rounds in range(1, self.rounds + 1):
            solver = z3.Solver()  # the SMT core: arrays (not new_solver's bit-blasting)
            solver.add(ground(z3.And(*self.premise), terms, pools=pools, deadline=deadline)[0],
                       *query)
            left = None if deadline is None else deadline - time.monotonic()
            capped = self.query_limit is not None and (left is None or self.query_limit < left)
            try:
                m = solve(solver, self.query_limit if capped else left)
            except SolverGaveUp as err:
                if str(err).startswith("memory limit") or (str(err) == "time limit"
                                                            and not capped):
                    raise
                why = (f"unknown after {self.query_limit:g}s" if str(err) == "time limit"
                       else f"unknown ({one_line(str(err))})")
                return outcome("open", rounds, f"Z3 answered {why}"), None
            if m is None:
                return outcome("closed", rounds), None
            before = self._clamped(t.layout.decode(m, t.cur))
            unmet, found = self.false_parts(before)
            positions = found - seen
            if positions:
                seen |= positions
                terms += [z3.BitVecVal(p, t.bits) for p in sorted(positions)]
                continue
            cti, why = self._judged(self._instance(g, m), before, unmet)
            if cti is None:
                return outcome("open", rounds, why), None
            return outcome("broken", rounds, cti.broken), cti
        return outcome("open", self.rounds, f"{self.rounds} refinement rounds used up"), None

    def _changed(self, g: Group) -> list[z3.BoolRef]:
        """The invariant's parts in the state ``g`` reaches, those its writes change
        (the others are the premise's own terms: :mod:`checker.engines.symbolic.
        localstep`)."""
        writes = [(c, v) for c, v in zip(self.t.cur, g.ex.values) if not v.eq(c)]
        after = [z3.substitute(h, *writes) if writes else h for h in self.holds]
        return [a for a, h in zip(after, self.holds) if not a.eq(h)]

    def _clamped(self, state: State) -> State:
        """``state`` with each array element outside its type set to the type's lowest
        value (the array types are instantiated at the positions a query reads only)."""
        return tuple(val if v.size is None or v.is_bool
                     else tuple(x if v.lo <= x <= v.hi else v.lo for x in val)
                     for v, val in zip(self.model.vars, state))

    def false_parts(self, state: State) -> tuple[list[str], set[int]]:
        """The names of the invariant's parts false in the concrete ``state``, and the
        positions at which their ``every`` fail.  Z3 evaluates each part's negation, its
        quantifiers made Skolem constants, on the constants pinned to ``state``: a
        Python loop over every pair of ``heads[]`` slots takes half a minute at the
        kernel's UIO_MAXIOV, this a fraction of a second."""
        pinned = self.t.layout.initial(self.t.cur, state)
        names: list[str] = []
        positions: set[int] = set()
        for p, (negated, skolems) in zip(self.invariant, self.negated):
            solver = z3.Solver()
            solver.add(*pinned, negated)
            answer = solver.check()
            if answer == z3.unknown:
                raise SolverGaveUp(f"evaluating {p.name}: {solver.reason_unknown()}")
            if answer == z3.sat:
                m = solver.model()
                names.append(p.name)
                positions.update(_int(m.eval(k, model_completion=True)) for k in skolems)
        return names, positions

    def _instance(self, g: Group, m: z3.ModelRef) -> ActionInstance:
        """The instance of ``g`` whose arguments ``m`` gives."""
        if not g.params:
            return g.instances[0]
        args = tuple((name, _int(m.eval(c, model_completion=True))) for name, c in g.params)
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


def _int(term: Any) -> int:
    return int(term.as_signed_long() if z3.is_bv(term) else term.as_long())
