"""The model as Z3 formulas over a sequence of steps (shared by BMC and k-induction).

Step ``k`` has the Z3 constants of one state in a layout
(:mod:`checker.engines.symbolic.layout`): by default one constant per scalar
(``name@k``, arrays as ``name[i]@k``); with ``arrays=True`` (BMC) one per
variable, an array variable being one Z3 array constant (``name@k``).  Ints
are constrained to the variable's ``[lo, hi]`` (signed bit-vectors of
:func:`checker.engines.symbolic.encoding.int_bits` bits by default, Z3
``Int`` with ``bitvectors=False``); bools are ``Bool``.  The transition from step ``k`` to ``k+1`` has an ``Int``
selector ``sel@k`` naming the :class:`checker.lang.model.ActionInstance` that
fires (its ``index``; with ``grouped``, a
:class:`checker.engines.symbolic.groups.Group`, a parameterised action run once
with its arguments as constants fixed by the step too).  Every instance body is run once, on the symbolic
backend, over the constants of a generic step (:class:`StepTemplate`); the
selector must pick an enabled instance, and each next-state constant equals
the value the selected instance computes (an ``If`` over the selector that
lists only the instances that change that scalar).  One more selector
value, :attr:`StepTemplate.halt` (the number of instances), leaves the
state unchanged: BMC lets a path halt (and stay halted), so the state at
step ``k`` ranges over every state within ``k`` steps and every state has a
successor; the k-induction step case forbids it.  The template's terms
(transition, properties, capacity and type conditions) are instantiated
for step ``k`` by substitution, so the Python model code runs once per
model, not once per step.

Two things the concrete engine reports instead of exploring are kept as
conditions on a step, never silently cut: a capacity hit (the step stops at
``s.capacity``) and an ill-typed write (``ModelBug``).  Both are excluded
from the transition (as the concrete engine has no successor there either)
and checked by the engines at every step (:meth:`Unrolling.capacity_hits`,
:meth:`Unrolling.type_errors`).

Nothing here knows what the model or its properties mean: both are the
same Python code the explicit engine runs, evaluated on Z3 terms.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import z3

from checker.engines.base import EngineInternalError
from checker.engines.symbolic.encoding import int_bits, literal
from checker.engines.symbolic.groups import Group, build_groups, param_const
from checker.engines.symbolic.layout import layout_for
from checker.engines.symbolic.limits import check_deadline
from checker.engines.symbolic.symexec import property_term
from checker.lang.model import ActionInstance, Model, ModelError, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, ModelBug
from checker.semantics.states import (
    enabled_actors,
    fire,
    holds,
    initial_state,
    property_view,
)
from checker.traces.trace import Trace, build_trace


class SymbolicEngineError(EngineInternalError):
    """A Z3 engine failed internally (a bug in vhostmc, never a verdict)."""


class EncodingError(SymbolicEngineError):
    """A trace decoded from Z3 does not replay on the concrete model: the symbolic
    and concrete semantics disagree (a bug in vhostmc, not in the model)."""


@contextmanager
def internal_errors(engine: str) -> Iterator[None]:
    """Turn a crash inside engine ``engine`` (not bad input, not an exception raised
    in the user's own code) into one :class:`SymbolicEngineError` line."""
    try:
        yield
    except (ModelError, ModelBug, EngineInternalError, KeyboardInterrupt):
        raise
    except Exception as err:
        if _raised_in_user_code(err):
            raise
        text = str(err).strip().splitlines()
        detail = f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
        raise SymbolicEngineError(f"engine {engine} failed: {detail}") from err


def _raised_in_user_code(err: BaseException) -> bool:
    """Whether the traceback of ``err`` passes through code outside vhostmc and Z3."""
    import checker

    mine = (os.path.dirname(os.path.abspath(checker.__file__)),
            os.path.dirname(os.path.abspath(z3.__file__)))
    for frame, _ in traceback.walk_tb(err.__traceback__):
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(tuple(d + os.sep for d in mine)) and "site-packages" not in path \
                and not path.startswith(os.path.dirname(os.__file__)):
            return True
    return False


class StepTemplate:
    """One transition of the model as Z3 terms over template constants.

    The instance bodies and property predicates run once, here, on the
    constants of a generic step (``name@cur``, successor ``name@nxt``,
    selector ``sel@cur``); :class:`Unrolling` instantiates the resulting
    terms for step ``k`` with ``z3.substitute``, which is far cheaper than
    running the Python model code again.

    The selector picks one of ``groups``
    (:class:`checker.engines.symbolic.groups.Group`): each instance on its own,
    or with ``grouped`` (BMC with ``arrays``) each parameterised action run once
    on argument constants (``dev_complete.k@cur``) that the step also fixes.
    ``enabled``, ``capacity_hits``, ``type_errors`` and ``safe`` are per instance
    either way.
    """

    def __init__(
        self, model: Model, bitvectors: bool = True, deadline: float | None = None,
        arrays: bool = False, grouped: bool = False,
    ) -> None:
        self.model = model
        self.deadline = deadline
        self.bits = int_bits(model) if bitvectors else None
        self.layout = layout_for(model, self.bits, arrays)
        self.grouped = grouped
        self.scalars = self.layout.slots  # one per constant of a state
        self.cur = self.layout.consts("@cur")
        self.nxt = self.layout.consts("@nxt")
        state = self.layout.state(self.cur)
        types = self.layout.types(self.cur)
        self.groups = build_groups(model, state, types, self.bits, deadline, self.layout, grouped)
        self.execs = [g.ex for g in self.groups]  # one per instance unless grouped
        self.halt = len(self.groups)
        self.sel = self.selector_const("sel@cur")
        self._group_of = {inst.index: g for g in self.groups for inst in g.instances}
        self._enabled: dict[tuple[str, ...], z3.BoolRef] = {}
        self._inst_enabled: dict[int, z3.BoolRef] = {}
        self._holds: dict[int, z3.BoolRef] = {}
        self.transition = self._transition()
        self.capacity_hits = self._capacity_hits()
        self.type_errors = [
            (inst, cond) for g in self.groups if not z3.is_false(g.ex.ill_typed)
            for inst, cond in g.each_instance(g.ex.ill_typed)
        ]
        bad = [*self.capacity_hits.values(), *(c for _, c in self.type_errors)]
        self.safe = z3.Not(z3.Or(*bad)) if bad else z3.BoolVal(True)

    def selector_const(self, name: str) -> Any:
        """A selector constant: an ``Int`` in the flat layout, an unsigned bit-vector
        just wide enough for ``halt`` in the array layout (whose solver, Z3's SMT
        core, would otherwise bring in its arithmetic solver for it)."""
        if self.layout.arrays:
            return z3.BitVec(name, max(1, self.halt.bit_length()))
        return z3.Int(name)

    def enabled(self, actors: tuple[str, ...]) -> z3.BoolRef:
        """Some instance of ``actors`` fires or hits a capacity bound (what
        :func:`checker.semantics.states.expand` reports as the actor being enabled);
        a disjunction over the instances, so it may be negated."""
        if actors not in self._enabled:
            terms = [term for g in self.groups if g.spec.actor in actors
                     for _, term in g.each_instance(g.ex.enabled_or_hit)]
            self._enabled[actors] = z3.simplify(z3.Or(*terms)) if terms else z3.BoolVal(False)
        return self._enabled[actors]

    def group_of(self, inst: ActionInstance) -> Group:
        """The group (selector value) ``inst`` belongs to."""
        return self._group_of[inst.index]

    def instance_enabled(self, inst: ActionInstance) -> z3.BoolRef:
        """All guards of ``inst`` hold on the current state (it fires)."""
        if inst.index not in self._inst_enabled:
            g = self.group_of(inst)
            self._inst_enabled[inst.index] = z3.simplify(g.of_instance(inst, g.ex.enabled))
        return self._inst_enabled[inst.index]

    def fires(self, insts: Sequence[ActionInstance]) -> z3.BoolRef:
        """The step fires one of ``insts``: the selector picks its group and (for a
        grouped action) the argument constants its values."""
        chosen: dict[int, list[ActionInstance]] = {}
        for inst in insts:
            chosen.setdefault(self.group_of(inst).index, []).append(inst)
        out = []
        for idx, members in chosen.items():
            g = self.groups[idx]
            if len(members) == len(g.instances):  # the domain holds anyway
                out.append(self.sel == idx)
            else:
                out.append(z3.And(self.sel == idx, z3.Or(*(g.picks(i) for i in members))))
        return z3.Or(*out) if out else z3.BoolVal(False)

    def holds(self, prop: Property) -> z3.BoolRef:
        """``prop``'s predicate on the current state."""
        key = id(prop.predicate)
        if key not in self._holds:
            state = self.layout.state(self.cur)
            self._holds[key] = z3.simplify(
                property_term(self.model, prop.predicate, state, self.enabled, self.bits)
            )
        return self._holds[key]

    def _transition(self) -> z3.BoolRef:
        """The next state is the successor of the current one under the selected,
        enabled instance (or the same state, for ``halt``); an ``If`` per slot
        (scalar or array) lists only the instances that change it."""
        sel = self.sel
        out: list[z3.BoolRef] = (
            [z3.ULE(sel, self.halt)] if z3.is_bv(sel) else [sel >= 0, sel <= self.halt])
        # Argument constants lie in their domains, whichever group is selected (they
        # mean nothing then: conditions that are not the transition are per instance).
        out += [g.domain() for g in self.groups if g.params]
        out += [z3.Implies(sel == g.index, g.ex.enabled) for g in self.groups]
        self.next_arrays: dict[int, Any] = {}
        for j, (c, n) in enumerate(zip(self.cur, self.nxt)):
            if j % 64 == 0:
                check_deadline(self.deadline)
            groups: dict[int, tuple[Any, list[int]]] = {}
            for g in self.groups:
                v = g.ex.values[j]
                if not v.eq(c):
                    groups.setdefault(v.get_id(), (v, []))[1].append(g.index)
            value: Any = c
            for v, idxs in groups.values():
                value = z3.If(z3.Or(*(sel == i for i in idxs)), v, value)
            if self.layout.arrays and self.scalars[j][0].size is not None:
                self.next_arrays[j] = value  # a term, not a constant: see Unrolling.flat
            else:
                out.append(n == value)
        return z3.And(*out)

    def _capacity_hits(self) -> dict[str, z3.BoolRef]:
        """For each model capacity, when some instance stops at it."""
        hits: dict[str, list[z3.BoolRef]] = {}
        for g in self.groups:
            for what, cond in g.ex.capacity_hits():
                hits.setdefault(what, []).extend(term for _, term in g.each_instance(cond))
        return {what: z3.simplify(z3.Or(*conds)) for what, conds in hits.items()}


class Unrolling:
    """Per-step Z3 constants and the formulas that relate them."""

    def __init__(self, model: Model, tag: str = "", template: StepTemplate | None = None) -> None:
        self.model = model
        self.tag = tag
        self.t = template if template is not None else StepTemplate(model)
        self.scalars = self.t.scalars
        self._consts: list[tuple[Any, ...]] = []
        self._choices: list[list[tuple[Any, Any]]] = []

    # -- variables ----------------------------------------------------------
    def flat(self, k: int) -> tuple[Any, ...]:
        """The terms of step ``k``, one per slot of the layout (created on first use).

        Scalars are constants.  In the array layout an array is not a constant but
        a term: at step 0 the initial state's array, at step ``k + 1`` the
        transition's value of it instantiated at step ``k`` (``Store`` terms under
        ``If`` on the selector), so no array equality reaches the solver.  The
        array layout is therefore for searches from the initial state (BMC)."""
        while len(self._consts) <= k:
            n = len(self._consts)
            terms = list(self.t.layout.consts(f"{self.tag}@{n}"))
            if self.t.layout.arrays:
                init = initial_state(self.model) if n == 0 else None
                for j, (var, _) in enumerate(self.scalars):
                    if var.size is None:
                        continue
                    if init is not None:
                        terms[j] = self.t.layout.initial_array(var, init[j])
                    else:
                        check_deadline(self.t.deadline)
                        nxt = self.t.next_arrays.get(j, self.t.cur[j])
                        pairs = [*zip(self.t.cur, self._consts[n - 1]), *self.choice(n - 1)]
                        terms[j] = z3.substitute(nxt, *pairs)
            self._consts.append(tuple(terms))
        return self._consts[k]

    def state(self, k: int) -> tuple[Any, ...]:
        """Step ``k`` in the model's state layout (arrays as tuples of constants or
        :class:`checker.engines.symbolic.encoding.SymArray`)."""
        return self.t.layout.state(self.flat(k))

    def selector(self, k: int) -> Any:
        """The instance index fired from step ``k`` to ``k + 1``."""
        return self.t.selector_const(f"sel{self.tag}@{k}")

    def param(self, g: Group, name: str, k: int) -> Any:
        """Argument ``name`` of grouped action ``g`` in the step from ``k``."""
        return param_const(g.spec.name, name, f"{self.tag}@{k}", self.t.bits)

    def choice(self, k: int) -> list[tuple[Any, Any]]:
        """``(template constant, step k's)`` for the selector and the argument constants:
        what the step from ``k`` fires."""
        while len(self._choices) <= k:
            n = len(self._choices)
            pairs = [(self.t.sel, self.selector(n))]
            pairs += [(c, self.param(g, name, n)) for g in self.t.groups for name, c in g.params]
            self._choices.append(pairs)
        return self._choices[k]

    def at(self, term: z3.ExprRef, k: int) -> Any:
        """A template term instantiated for step ``k`` (successor ``k + 1``)."""
        check_deadline(self.t.deadline)
        pairs = [*zip(self.t.cur, self.flat(k)), *zip(self.t.nxt, self.flat(k + 1))]
        return z3.substitute(term, *pairs, *self.choice(k))

    def ranges(self, k: int, elements: bool = True) -> list[z3.BoolRef]:
        """The type constraints of step ``k``'s ints (``elements``: array elements too)."""
        return self.t.layout.ranges(self.flat(k), elements)

    def initial(self, k: int = 0) -> list[z3.BoolRef]:
        """Step ``k`` is the model's (concrete) initial state (in the array layout,
        step 0's arrays are the initial ones already)."""
        eqs = self.t.layout.initial(self.flat(k), initial_state(self.model))
        if not self.t.layout.arrays:
            return eqs
        return [e for (var, _), e in zip(self.scalars, eqs) if var.size is None]

    def same(self, i: int, j: int) -> z3.BoolRef:
        """Steps ``i`` and ``j`` are the same state (every scalar and array element)."""
        return z3.And(*self.t.layout.same(self.flat(i), self.flat(j)))

    def distinct(self, i: int, j: int) -> z3.BoolRef:
        """Steps ``i`` and ``j`` are different states."""
        return z3.Or(*(z3.Not(e) for e in self.t.layout.same(self.flat(i), self.flat(j))))

    # -- formulas at step k -----------------------------------------------------
    def holds(self, k: int, prop: Property) -> z3.BoolRef:
        """``prop``'s predicate at step ``k``."""
        return self.at(self.t.holds(prop), k)

    def transition(self, k: int, halt: bool, elements: bool = True) -> list[z3.BoolRef]:
        """Step ``k + 1`` is a successor of step ``k``, within its types (array
        elements only with ``elements``).  With ``halt`` the path may stop here
        (and then stays stopped); without, it may not."""
        out = [self.at(self.t.transition, k), *self.ranges(k + 1, elements)]
        if not halt:
            out.append(self.selector(k) != self.t.halt)
        elif k > 0:
            out.append(z3.Implies(self.selector(k - 1) == self.t.halt, self.selector(k) == self.t.halt))
        return out

    def moves(self, k: int) -> z3.BoolRef:
        """The step from ``k`` to ``k + 1`` fires an instance (does not halt)."""
        return self.selector(k) != self.t.halt

    def capacity_hits(self, k: int) -> dict[str, z3.BoolRef]:
        """For each model capacity, when some instance stops at it from step ``k``."""
        return {what: self.at(c, k) for what, c in self.t.capacity_hits.items()}

    def type_errors(self, k: int) -> list[tuple[ActionInstance, z3.BoolRef]]:
        """For each instance that may write outside a type, when it does so from step ``k``."""
        return [(inst, self.at(c, k)) for inst, c in self.t.type_errors]

    def safe(self, k: int) -> z3.BoolRef:
        """From step ``k`` no instance stops at a capacity or writes outside a type."""
        return self.at(self.t.safe, k)

    # -- decoding ----------------------------------------------------------------
    def decode_state(self, m: z3.ModelRef, k: int) -> State:
        """Step ``k`` of the Z3 model ``m`` as a concrete state."""
        return self.t.layout.decode(m, self.flat(k))

    def decode_path(
        self, m: z3.ModelRef, length: int, start: int = 0
    ) -> tuple[State, list[tuple[ActionInstance, State]]]:
        """Steps ``start .. start + length`` of ``m``: first state and (instance, state)
        pairs (halting steps left out)."""
        first = self.decode_state(m, start)
        path = []
        for k in range(start, start + length):
            inst = self.fired(m, k)
            if inst is not None:
                path.append((inst, self.decode_state(m, k + 1)))
        return first, path

    def fired(self, m: z3.ModelRef, k: int) -> ActionInstance | None:
        """The instance ``m`` fires from step ``k`` (``None``: the path halts there): the
        selected group's, with the argument values ``m`` gives a grouped action."""
        idx = m.eval(self.selector(k), model_completion=True).as_long()
        if idx == self.t.halt:
            return None
        g = self.t.groups[idx]
        args = tuple((name, literal(m.eval(self.param(g, name, k), model_completion=True)))
                     for name, _ in g.params)
        inst = g.instance(args) if g.params else g.instances[0]
        if inst is None:
            raise EncodingError(f"step {k} fires {g.spec.name} with {args}, not an instance")
        return inst


def replay(model: Model, first: State, path: Sequence[tuple[ActionInstance, State]]) -> None:
    """Re-execute ``path`` from ``first`` on the concrete backend; raise
    :class:`EncodingError` unless every step fires and reaches the decoded state."""
    cur = first
    for i, (inst, decoded) in enumerate(path, start=1):
        try:
            nxt = fire(model, inst, cur)
        except CapacityReached as hit:
            raise EncodingError(f"step {i} ({inst.label}) of a decoded trace hits {hit.what}") from None
        if nxt != decoded:
            raise EncodingError(
                f"step {i} ({inst.label}) of a decoded trace does not replay: "
                f"concrete {nxt!r}, symbolic {decoded!r}"
            )
        cur = nxt


def violation_trace(
    model: Model, prop: Property, first: State, path: Sequence[tuple[ActionInstance, State]]
) -> Trace | None:
    """The trace of ``path`` from ``first`` if its last state violates ``prop`` (judged
    concretely), else ``None``."""
    last = path[-1][1] if path else first
    enabled = enabled_actors(model, last)
    if holds(prop, model, last, enabled):
        return None
    view = property_view(model, last, enabled)
    return build_trace(model, prop.name, first, path, prop.describe_violation(view))


def model_bug(model: Model, inst: ActionInstance, state: State) -> ModelBug:
    """The ``ModelBug`` the concrete backend raises firing ``inst`` in ``state``;
    :class:`EncodingError` if it raises none (the type condition was wrong)."""
    try:
        fire(model, inst, state)
    except ModelBug as bug:
        return bug
    except CapacityReached:
        pass
    raise EncodingError(f"{inst.label} was decoded as writing outside a type but does not")
