"""Symbolic execution of one action instance, mirroring the concrete checks.

:func:`execute` runs an action body on a :class:`checker.lang.view.StateView`
over the Z3 backend and returns an :class:`InstanceExec`: the guards
(``require`` and ``capacity``, in program order), which of them are
capacities, the next-state terms, and the condition under which the
concrete backend would raise ``ModelBug`` because a write leaves its
variable's type.  The concrete view checks every write as it happens
(intermediate values included, and also writes made before a later
``require`` fails), so the symbolic one records every write with the
number of guards passed before it, and the condition is built from those.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from checker.engines.symbolic.encoding import Z3Backend, as_bool
from checker.engines.symbolic.guard import user_code
from checker.engines.symbolic.intervals import Intervals
from checker.engines.symbolic.layout import (  # flatten & co. re-exported for the engines
    FlatLayout,
    Layout,
    as_term,
    flatten,
    scalar_vars,
    unflatten,
)
from checker.engines.symbolic.limits import check_deadline
from checker.lang.expr import Value
from checker.lang.model import ActionInstance, Model, Var
from checker.lang.view import StateView

__all__ = ["InstanceExec", "as_term", "execute", "flatten", "property_term", "scalar_vars",
           "simplify_all", "unflatten"]

Write = tuple[Var, Value, Value, int]
"""``(variable, value, condition, guards passed)`` for one scalar write."""


@dataclass(frozen=True)
class InstanceExec:
    """What one action instance does from a symbolic state.

    ``guards`` are the ``require``/``capacity`` conditions in program order;
    ``caps`` the positions in ``guards`` that are capacity conditions, with
    their names.  ``values`` is the next state, one term per slot of the
    layout (:mod:`checker.engines.symbolic.layout`).  ``ill_typed`` is when the concrete
    backend would raise ``ModelBug`` (a write outside a type).  ``inst`` is the
    instance run (for a run on symbolic arguments, its action's first instance:
    the terms then stand for every instance, see
    :mod:`checker.engines.symbolic.groups`).
    """

    inst: ActionInstance
    guards: tuple[z3.BoolRef, ...]
    caps: tuple[tuple[int, str], ...]
    values: tuple[Any, ...]
    ill_typed: z3.BoolRef

    @property
    def enabled(self) -> z3.BoolRef:
        """Every guard holds: the step fires (the concrete ``fire`` returns a state)."""
        return z3.And(*self.guards) if self.guards else z3.BoolVal(True)

    def capacity_hits(self) -> list[tuple[str, z3.BoolRef]]:
        """For each capacity condition, when it is the first guard to fail
        (the concrete backend raises ``CapacityReached`` there)."""
        return [
            (what, z3.And(*self.guards[:pos], z3.Not(self.guards[pos])))
            for pos, what in self.caps
        ]

    @property
    def enabled_or_hit(self) -> z3.BoolRef:
        """The step fires or stops at a capacity bound: what the explicit
        engine counts as its actor being enabled."""
        cap_pos = {pos for pos, _ in self.caps}
        result: z3.BoolRef = z3.BoolVal(True)
        for pos in range(len(self.guards) - 1, -1, -1):
            g = self.guards[pos]
            result = z3.Or(z3.Not(g), result) if pos in cap_pos else z3.And(g, result)
        return result


class _Recorder(Z3Backend):
    """The Z3 backend, also recording element writes of arrays for one view."""

    def __init__(self, bits: int | None, deadline: float | None = None) -> None:
        super().__init__(bits)
        self.deadline = deadline
        self.view: StateView | None = None
        self.writes: list[Write] = []

    def _record(self, array: Any, cond: Value, value: Value) -> None:
        """Note a write of ``value`` (when ``cond``) into the variable holding ``array``."""
        view = self.view
        assert view is not None
        for slot, current in enumerate(view._vals):  # the view is ours, built in execute()
            if current is array:
                self.writes.append((view._m.vars[slot], value, cond, len(view.guards)))

    # The reads poll the deadline too: one step of a large model builds millions of
    # terms between two writes (v9's signal loop at ring size 32768).
    def ite(self, cond: Value, then: Value, other: Value) -> Value:
        """``Z3Backend.ite``, once the deadline is checked."""
        check_deadline(self.deadline)
        return super().ite(cond, then, other)

    def and_(self, *conds: Value) -> Value:
        """``Z3Backend.and_``, once the deadline is checked."""
        check_deadline(self.deadline)
        return super().and_(*conds)

    def or_(self, *conds: Value) -> Value:
        """``Z3Backend.or_``, once the deadline is checked."""
        check_deadline(self.deadline)
        return super().or_(*conds)

    def select(self, array: Any, index: Value) -> Value:
        """``Z3Backend.select``, once the deadline is checked."""
        check_deadline(self.deadline)
        return super().select(array, index)

    def store(self, array: Any, index: Value, value: Value) -> Any:
        """Record the write, then store."""
        check_deadline(self.deadline)
        self._record(array, True, value)
        return super().store(array, index, value)

    def store_if(self, array: Any, cond: Value, index: Value, value: Value) -> Any:
        """Record the conditional write, then store."""
        check_deadline(self.deadline)
        self._record(array, cond, value)
        return super().store_if(array, cond, index, value)

    def delete_at(self, array: Any, k: Value, fill: Value) -> Any:
        """Record the write of ``fill`` (the one value a shift brings in), then shift."""
        check_deadline(self.deadline)
        moved = super().delete_at(array, k, fill)
        if moved is not None:
            self._record(array, True, fill)
        return moved


class _RecordingView(StateView):
    """A symbolic view that records whole-variable writes in its backend."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        """Record the write (each element of an array), then assign."""
        rec = self._b
        slot = self._m.var_index.get(name)
        if isinstance(rec, _Recorder) and slot is not None:
            var = self._m.vars[slot]
            if var.size is not None:
                value = tuple(value)
            for v in [value] if var.size is None else value:
                rec.writes.append((var, v, True, len(self.guards)))
        super().__setattr__(name, value)


def simplify_all(terms: Sequence[z3.ExprRef]) -> list[z3.ExprRef]:
    """``z3.simplify`` of each term, in one call so shared subterms are simplified once."""
    if not terms:
        return []
    pack = z3.Function("pack", *(t.sort() for t in terms), z3.BoolSort())
    packed = z3.simplify(pack(*terms))
    return [packed.arg(i) for i in range(len(terms))]


def execute(
    model: Model,
    inst: ActionInstance,
    state: Sequence[Value],
    types: dict[int, tuple[int, int]],
    bits: int | None = None,
    deadline: float | None = None,
    layout: Layout | None = None,
    args: Mapping[str, Value] | None = None,
) -> InstanceExec:
    """Run ``inst`` on the symbolic ``state`` (in ``layout``'s form, by default
    :class:`checker.engines.symbolic.layout.FlatLayout`: arrays as tuples of terms;
    ints of ``bits`` bits, or ``Int`` when ``None``).  The next state is one term
    per slot of the layout.

    ``types`` bounds the state's int constants (by AST id): writes that
    :class:`checker.engines.symbolic.intervals.Intervals` keeps within their type under the
    guards passed so far need no ``ill_typed`` term.

    ``args`` replaces ``inst``'s arguments (by name), e.g. with Z3 constants standing
    for every value of the action's domain (:mod:`checker.engines.symbolic.groups`); a
    body that cannot take a symbolic argument raises
    :class:`checker.engines.symbolic.guard.SymbolicMisuse`.
    """
    rec = _Recorder(bits, deadline)
    view = _RecordingView(model, state, rec)
    rec.view = view
    kwargs: Mapping[str, Value] = inst.kwargs() if args is None else args
    where = inst.label if args is None else f"{inst.spec.name}({', '.join(args)})"
    with user_code():
        inst.spec.body(view, **kwargs)
    cap_ids = [id(cond) for _, cond in view.caps]
    caps: list[tuple[int, str]] = []
    for pos, g in enumerate(view.guards):
        if len(caps) < len(cap_ids) and id(g) == cap_ids[len(caps)]:
            caps.append((pos, view.caps[len(caps)][0]))
    guards = [as_bool(g) for g in view.guards]
    lay = layout if layout is not None else FlatLayout(model, bits)
    values = lay.terms(view.values(), state, where, rec)
    terms = simplify_all([*guards, *values])
    guards, values = terms[: len(guards)], terms[len(guards) :]
    bad = z3.simplify(_ill_typed(rec, guards, types, where))
    return InstanceExec(inst, tuple(guards), tuple(caps), tuple(values), bad)


def _ill_typed(
    rec: _Recorder, guards: list[z3.BoolRef], types: dict[int, tuple[int, int]], where: str
) -> z3.BoolRef:
    """When some write ``rec`` recorded happens (its guards passed, its condition
    true) with a value outside its variable's type."""
    scopes: dict[int, Intervals] = {}
    out = []
    for var, value, cond, passed in rec.writes:
        check_deadline(rec.deadline)
        term = as_term(var, value, where, rec)
        if var.is_bool:
            continue
        if passed not in scopes:
            scopes[passed] = Intervals(types, budget=[5_000]).under_all(guards[:passed])
        scope = scopes[passed]
        if not isinstance(cond, bool):
            scope = scope.under(cond, True)
        elif not cond:
            continue
        span = scope.of(term)
        if span is not None and (span[0] > span[1] or var.lo <= span[0] <= span[1] <= var.hi):
            continue
        out.append(z3.And(*guards[:passed], as_bool(cond), z3.Or(term < var.lo, term > var.hi)))
    return z3.Or(*out) if out else z3.BoolVal(False)


def property_term(
    model: Model,
    predicate: Callable[[StateView], Any],
    state: Sequence[Value],
    enabled: Callable[[tuple[str, ...]], Value],
    bits: int | None = None,
    backend: Z3Backend | None = None,
) -> z3.BoolRef:
    """A property's predicate evaluated on a symbolic state, as a Z3 Boolean
    (``backend``: a :class:`Z3Backend` of ``bits`` unless given)."""
    with user_code():
        value = predicate(StateView(model, state, backend or Z3Backend(bits), enabled))
    return as_bool(value)
