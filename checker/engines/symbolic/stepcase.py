"""k-induction's step case: ``k + 1`` consecutive typed states, the invariant true in the
first ``k`` and false in the last, shared by every property of a run.

At ``k = 1`` it asks one query per action instance on the conjuncts the instance can
change (:mod:`checker.engines.symbolic.localstep`) and judges the counterexample to
induction on the concrete backend; from ``k = 2`` on, one incremental solver holds the
unrolled premise states (simple paths: pairwise distinct).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import z3

from checker.engines.symbolic.bounded import new_solver, solve
from checker.engines.symbolic.localstep import BrokenStep, broken_step
from checker.engines.symbolic.unroll import (
    EncodingError,
    StepTemplate,
    Unrolling,
    model_bug,
    replay,
)
from checker.lang.model import Model, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, ModelBug, StateView
from checker.semantics.states import as_dict, fire, holds


class StepCase:
    """The incremental step-case unrolling, shared by every property."""

    def __init__(
        self,
        model: Model,
        template: StepTemplate,
        properties: Sequence[Property],
        strengthening: Sequence[Property],
        simple_path: bool = True,
    ) -> None:
        self.model = model
        self.u = Unrolling(model, tag="'", template=template)
        self.properties = list(properties)
        self.strengthening = list(strengthening)
        self.simple_path = simple_path
        self.solver = new_solver()
        self.solver.add(self.u.ranges(0))
        self.assume = {p.name: z3.Bool(f"assume {p.name}") for p in self.properties}
        self.k = 0
        self.queries = 0
        self.announce: Callable[[str], None] | None = None
        """Reports a phase of a long step case (set by :func:`run_kind`)."""

    def shared(self, i: int) -> list[z3.BoolRef]:
        """The part of every invariant that is not the property itself, at step ``i``."""
        return [*(self.u.holds(i, s) for s in self.strengthening), self.u.safe(i)]

    def extend(self) -> None:
        """Add one premise state: the invariants hold in ``s_k``, then a transition."""
        k = self.k
        for prop in self.properties:
            self.solver.add(z3.Implies(self.assume[prop.name], self.u.holds(k, prop)))
        self.solver.add(*self.shared(k))
        self.solver.add(*self.u.transition(k, halt=False))
        if self.simple_path:
            self.solver.add(*(self.u.distinct(i, k + 1) for i in range(k + 1)))
        self.k = k + 1

    def check(
        self, prop: Property, left: float | None
    ) -> tuple[list[dict[str, Any]], list[str], str] | None:
        """``None`` if ``prop``'s invariant is ``k``-inductive, else the CTI:
        its states, the actions between them, and which part of the invariant fails."""
        k = self.k
        if k == 1:
            return self._check_each_step(prop, left)
        goal = self.u.holds(k, prop)
        shared = self.shared(k)
        self.queries += 1
        lit = z3.Bool(f"step query#{self.queries}")  # not push/pop: see BoundedSearch.query
        self.solver.add(z3.Implies(lit, z3.Not(z3.And(goal, *shared))))
        try:
            m = solve(self.solver, left, self.assume[prop.name], lit)
        finally:
            self.solver.add(z3.Not(lit))
        if m is None:
            return None
        first, path = self.u.decode_path(m, k)
        replay(self.model, first, path)
        last = path[-1][1] if path else first
        states = [as_dict(self.model, first)] + [as_dict(self.model, s) for _, s in path]
        broken = [prop.name] if z3.is_false(m.eval(goal, model_completion=True)) else []
        broken += [
            s.name
            for s, term in zip(self.strengthening, shared)
            if z3.is_false(m.eval(term, model_completion=True))
        ]
        if not broken:
            broken = [self._unsafe(m, k, last)]
        return states, [inst.label for inst, _ in path], ", ".join(broken)

    def inductive_together(self, props: Sequence[Property], left: float | None) -> bool:
        """Whether ``props``, the strengthening properties and ``safe`` are inductive
        together (k = 1, one query per action instance): then each of ``props`` holds."""
        return self._broken_step(props, left) is None

    def _broken_step(self, props: Sequence[Property], left: float | None) -> BrokenStep | None:
        """A step from a typed state satisfying ``props``, the strengthening properties
        and ``safe`` to one that breaks them (:mod:`checker.engines.symbolic.localstep`)."""
        t = self.u.t
        lemmas = [t.holds(s) for s in self.strengthening]
        deadline = None if left is None else time.monotonic() + left
        self.queries += 1
        say = self.announce
        names = ", ".join(p.name for p in props)

        def progress(done: int, total: int, busy: list[str]) -> None:
            if say is not None:
                say(f"kind: step case for {names} at k = 1, {done} of {total} action "
                    f"instances checked (now: {', '.join(busy)})")

        return broken_step(t, [*(t.holds(p) for p in props), *lemmas, t.safe], deadline,
                           progress)

    def _check_each_step(
        self, prop: Property, left: float | None
    ) -> tuple[list[dict[str, Any]], list[str], str] | None:
        """The step case at k = 1, one query per action instance on the conjuncts it
        can change (:mod:`checker.engines.symbolic.localstep`); the CTI found is fired
        and judged on the concrete backend."""
        found = self._broken_step([prop], left)
        if found is None:
            return None
        try:
            after = fire(self.model, found.instance, found.before)
        except (CapacityReached, ModelBug) as err:
            raise EncodingError(f"a counterexample to induction of {prop.name} does not "
                                f"fire {found.instance.label}: {err}") from None
        if after is None:
            raise EncodingError(f"a counterexample to induction of {prop.name}: "
                                f"{found.instance.label} is not enabled in its state")
        enabled, unsafe = judged_steps(self.model, after)
        broken = [p.name for p in (prop, *self.strengthening)
                  if not holds(p, self.model, after, enabled)]
        if not broken:
            if unsafe is None:
                raise EncodingError(f"a counterexample to induction of {prop.name} "
                                    f"({found.instance.label}) breaks nothing when fired")
            broken = [unsafe]
        states = [as_dict(self.model, found.before), as_dict(self.model, after)]
        return states, [found.instance.label], ", ".join(broken)

    def _unsafe(self, m: z3.ModelRef, k: int, last: State) -> str:
        """Which of "no capacity hit" and "well typed" step ``k`` of ``m`` breaks."""
        for inst, cond in self.u.type_errors(k):
            if z3.is_true(m.eval(cond, model_completion=True)):
                bug = model_bug(self.model, inst, last)
                return f"well-typed ({inst.label}: {bug})"
        hit = [
            what
            for what, cond in self.u.capacity_hits(k).items()
            if z3.is_true(m.eval(cond, model_completion=True))
        ]
        return f"no capacity hit ({', '.join(hit)})"


def judged_steps(model: Model, state: State) -> tuple[set[str], str | None]:
    """Every action instance fired once on ``state``, on the concrete backend: the actors
    with an enabled instance (one that stops at a capacity or writes outside a type
    counts: its guards hold), and which of "no capacity hit" and "well typed" the first
    such instance breaks (``None``: neither)."""
    enabled: set[str] = set()
    unsafe: str | None = None
    view = StateView(model, state)
    for inst in model.instances:
        why: str | None = None
        try:
            fires = fire(model, inst, state, view) is not None
        except CapacityReached as hit:
            fires, why = True, f"no capacity hit ({hit.what})"
        except ModelBug as bug:
            fires, why = True, f"well-typed ({inst.label}: {bug})"
        if fires:
            enabled.add(inst.spec.actor)
        unsafe = unsafe or why
    return enabled, unsafe
