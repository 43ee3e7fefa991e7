"""What the selector of a step chooses: one action instance, or a whole parameterised action.

A model action with ``over=`` has one :class:`checker.lang.model.ActionInstance`
per combination of argument values (``dev_complete(k)`` for ``k`` in
``range(device_capacity)``: 257 at the kernel's constants).  Without grouping
each instance's body is run on Z3 terms, and each is one value of the step's
selector.  With grouping (:class:`checker.engines.symbolic.unroll.StepTemplate`'s
``grouped``, which BMC sets when it uses the array layout), an action with
more than one instance is run **once**, its arguments being fresh Z3 constants
of the model's int sort (``dev_complete.k@cur``; instantiated per step like the
selector: ``dev_complete.k@3``), each constrained to exactly the values the
instances take (:meth:`Group.domain`).  The selector then picks a
:class:`Group`: an ungrouped instance, or a grouped action together with the
values of its argument constants.

Why it is exact: the argument constants range over exactly the instances'
argument values, and the body run on a constant ``k`` builds terms that,
with ``k`` replaced by a value ``v``, are the terms the run on ``v`` builds
(the body is the same Python code; it only combines ``k`` with Z3 operations,
since every Python-level use of it -- ``if k == 0:``, ``range(k)``, ``seq[k]``
-- raises :class:`checker.engines.symbolic.guard.SymbolicMisuse`).  So "the
group fires with ``k = v``" is "instance ``k = v`` fires", and one execution
on a symbolic argument equals the disjunction of the executions on each
value.  A body that raises :class:`SymbolicMisuse` on its symbolic arguments
(v9's ``guest_post``: ``if h < n:``) is run once per instance instead, which
is exact too.  Conditions that engines negate (an actor being enabled,
capacity hits, type errors) are taken per instance, by substituting each
instance's values (:meth:`Group.each_instance`), so they mean what they mean
without grouping.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from checker.engines.symbolic.guard import SymbolicMisuse
from checker.engines.symbolic.layout import Layout
from checker.engines.symbolic.limits import check_deadline
from checker.engines.symbolic.symexec import InstanceExec, execute
from checker.lang.expr import Value
from checker.lang.model import ActionInstance, ActionSpec, Model


def param_const(action: str, arg: str, suffix: str, bits: int | None) -> Any:
    """The Z3 constant of argument ``arg`` of ``action`` in the step named by ``suffix``
    (``dev_complete.k@cur``): the model's int sort (``bits``-wide bit-vector, or
    ``Int``), as the body mixes it with state ints.  The action's name keeps it
    apart from the state's constants (``name@suffix``: no dot)."""
    name = f"{action}.{arg}{suffix}"
    return z3.Int(name) if bits is None else z3.BitVec(name, bits)


def numeral(const: Any, value: int) -> Any:
    """``value`` in ``const``'s sort."""
    return z3.BitVecVal(value, const.size()) if z3.is_bv(const) else z3.IntVal(value)


def in_values(const: Any, values: Sequence[int]) -> z3.BoolRef:
    """``const`` is one of ``values``: ``lo <= const <= hi`` for a contiguous range,
    a disjunction of equalities otherwise."""
    lo, hi = min(values), max(values)
    if sorted(set(values)) == list(range(lo, hi + 1)):
        return z3.And(const >= lo, const <= hi)  # signed on bit-vectors, as model ints are
    return z3.Or(*(const == numeral(const, v) for v in sorted(set(values))))


@dataclass(frozen=True, eq=False)  # compared by identity: its fields hold Z3 terms
class Group:
    """One value of the selector: ``instances`` run as one (``ex``).

    ``params`` is ``(argument name, template constant)`` per argument when the
    body ran on symbolic arguments, ``()`` for a single instance run on its own
    values (then ``instances`` has just that one, and ``ex.inst`` is it; for a
    grouped action ``ex.inst`` is its first instance)."""

    index: int
    ex: InstanceExec
    instances: tuple[ActionInstance, ...]
    params: tuple[tuple[str, Any], ...] = ()
    _by_args: dict[tuple[tuple[str, int], ...], ActionInstance] = field(
        default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_args.update((inst.args, inst) for inst in self.instances)

    @property
    def spec(self) -> ActionSpec:
        """The action the group's instances belong to."""
        return self.instances[0].spec

    def bindings(self, inst: ActionInstance) -> list[tuple[Any, Any]]:
        """``(constant, numeral)`` pairs that make the group's terms ``inst``'s."""
        args = inst.kwargs()
        return [(c, numeral(c, args[name])) for name, c in self.params]

    def of_instance(self, inst: ActionInstance, term: Any) -> Any:
        """The group's template ``term`` as it is for ``inst`` (its values substituted)."""
        return z3.substitute(term, *self.bindings(inst)) if self.params else term

    def each_instance(self, term: Any) -> Iterator[tuple[ActionInstance, Any]]:
        """``(instance, term for it)`` for each of the group's instances."""
        for inst in self.instances:
            yield inst, self.of_instance(inst, term)

    def picks(self, inst: ActionInstance) -> z3.BoolRef:
        """The argument constants hold ``inst``'s values (true when ungrouped)."""
        eqs = [c == v for c, v in self.bindings(inst)]
        return z3.And(*eqs) if eqs else z3.BoolVal(True)

    def domain(self) -> z3.BoolRef:
        """Each argument constant takes exactly the values the instances give it (their
        combinations are all instances: ``over`` is a product of the domains)."""
        out = [in_values(c, [dict(i.args)[name] for i in self.instances])
               for name, c in self.params]
        return z3.And(*out) if out else z3.BoolVal(True)

    def instance(self, args: tuple[tuple[str, int], ...]) -> ActionInstance | None:
        """The instance with argument values ``args`` (``None`` if it has none)."""
        return self._by_args.get(args)


def by_action(model: Model) -> Iterator[list[ActionInstance]]:
    """The model's instances, one list per action (instances of an action are adjacent)."""
    run: list[ActionInstance] = []
    for inst in model.instances:
        if run and inst.spec.name != run[0].spec.name:
            yield run
            run = []
        run.append(inst)
    if run:
        yield run


def fits(args: Iterable[tuple[tuple[str, int], ...]], bits: int | None) -> bool:
    """Whether every value of the ``(name, value)`` argument tuples ``args`` (of action
    instances, of obligations) fits the model's int sort (signed ``bits``)."""
    if bits is None:
        return True
    top = 1 << (bits - 1)
    return all(-top <= v < top for one in args for _, v in one)


def build_groups(
    model: Model, state: Sequence[Value], types: dict[int, tuple[int, int]],
    bits: int | None, deadline: float | None, layout: Layout, grouped: bool,
) -> list[Group]:
    """Run every action body on the symbolic ``state``: with ``grouped``, an action of
    more than one instance once on symbolic arguments (once per instance if its
    body raises :class:`SymbolicMisuse` on them), else once per instance.  The
    groups come in the order of ``model.instances`` (ungrouped: group ``i`` is
    instance ``i``)."""
    groups: list[Group] = []
    for insts in by_action(model):
        check_deadline(deadline)
        if grouped and len(insts) > 1 and fits((i.args for i in insts), bits):
            params = tuple((name, param_const(insts[0].spec.name, name, "@cur", bits))
                           for name, _ in insts[0].args)
            scope = dict(types)
            for name, c in params:
                values = [dict(i.args)[name] for i in insts]
                scope[c.get_id()] = (min(values), max(values))
            try:
                ex = execute(model, insts[0], state, scope, bits, deadline, layout,
                             args=dict(params))
            except SymbolicMisuse:
                pass  # the body needs concrete arguments: one execution per instance
            else:
                groups.append(Group(len(groups), ex, tuple(insts), params))
                continue
        for inst in insts:
            check_deadline(deadline)
            ex = execute(model, inst, state, types, bits, deadline, layout)
            groups.append(Group(len(groups), ex, (inst,)))
    return groups
