"""Concrete execution of a model: initial state, successors, property checks.

This is the concrete backend's side of the model contract; the explicit
explorer, ``vhostmc replay`` and the trace builder all go through it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from typing import Any

from checker.lang.expr import CONCRETE
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, StateView
from checker.semantics.compiled import compiled_expand
from checker.semantics.firing import Expansion, fire

__all__ = ["Expansion", "fire"]  # re-exported: the names most callers know


def default_value(model: Model, slot: int) -> Any:
    """0 (or False), clamped into the variable's range; arrays of that."""
    var = model.vars[slot]
    scalar: Any = False if var.is_bool else min(max(0, var.lo), var.hi)
    return scalar if var.size is None else (scalar,) * var.size


def initial_state(model: Model) -> State:
    """The model's initial state: defaults, then :meth:`Model.init`."""
    view = StateView(model, (default_value(model, i) for i in range(len(model.vars))))
    model.init(view)
    return view.values()


INTERPRET_ENV = "VHOSTMC_INTERPRET"
"""Set to 1 to make :func:`expand` interpret the model by default (for debugging)."""

COMPILED_BY_DEFAULT = os.environ.get(INTERPRET_ENV, "0") in ("", "0")
"""Whether :func:`expand` compiles by default: ``$VHOSTMC_INTERPRET`` when the process started."""

_MODE_ATTR = "_vhostmc_compiled_expand"

COMPILE_LIMIT = 1_000_000
"""The largest ``action instances x state scalars`` :func:`expand` compiles by default.
Compiling costs about 15 µs per pair (v9: 4 s at ring size 64, 286 268 pairs; a minute at
ring size 256 with the kernel's constants, 3 791 228 pairs) and pays only over many
expansions.  Past the limit the model is beyond explicit exploration, and the symbolic
engines expand a few states per trace (interpreted: 0.03 s each at ring size 256)."""


def _compile_pairs(model: Model) -> int:
    """``action instances x state scalars`` of ``model`` (computed once per model)."""
    pairs = model.__dict__.get("_vhostmc_compile_pairs")
    if pairs is None:
        pairs = len(model.instances) * sum(v.size or 1 for v in model.vars)
        model.__dict__["_vhostmc_compile_pairs"] = pairs
    return int(pairs)


def use_compiled(model: Model, compiled: bool | None) -> None:
    """Choose how :func:`expand` treats ``model``; ``None``: :data:`COMPILED_BY_DEFAULT`."""
    if compiled is None:
        model.__dict__.pop(_MODE_ATTR, None)
    else:
        model.__dict__[_MODE_ATTR] = compiled


def compiles(model: Model, compiled: bool | None = None) -> bool:
    """Whether ``model`` runs compiled: ``compiled`` if given, else the choice of
    :func:`use_compiled` for it, else :data:`COMPILED_BY_DEFAULT` for a model within
    :data:`COMPILE_LIMIT` (actions and properties alike: see :func:`expand`,
    :mod:`checker.semantics.compiledprops`)."""
    if compiled is None:
        default = COMPILED_BY_DEFAULT and _compile_pairs(model) <= COMPILE_LIMIT
        return bool(model.__dict__.get(_MODE_ATTR, default))
    return compiled


def expand(model: Model, state: State, compiled: bool | None = None) -> Expansion:
    """Every enabled action instance of ``state`` and its successor.

    ``compiled`` picks the engine: the action instances compiled to Python
    functions (:mod:`checker.semantics.compiled`, the default) or the model's methods
    interpreted on a concrete view (:func:`interpreted_expand`).  ``None``
    means the choice made by :func:`use_compiled` for this model, else
    :data:`COMPILED_BY_DEFAULT` (compiled unless ``$VHOSTMC_INTERPRET`` was
    set to something other than 0 when the process started).
    """
    if compiles(model, compiled):
        return compiled_expand(model, state)
    return interpreted_expand(model, state)


def interpreted_expand(model: Model, state: State) -> Expansion:
    """:func:`expand` by running every action instance's method on a concrete view.
    (Its own loop, not :func:`fire_each`: it is the interpreted explorer's hot path, and
    the generator cost 2-5% there in ``bench/explore.py``.)"""
    out = Expansion()
    view = StateView(model, state)
    for inst in model.instances:
        try:
            nxt = fire(model, inst, state, view)
        except CapacityReached as hit:
            out.enabled_actors.add(inst.spec.actor)
            out.capacity_hits.append(hit.what)
            continue
        if nxt is not None:
            out.successors.append((inst, nxt))
            out.enabled_actors.add(inst.spec.actor)
    return out


def enabled_actors(model: Model, state: State, compiled: bool | None = None) -> set[str]:
    """``expand(model, state, compiled).enabled_actors``; interpreted, without keeping
    the successors: each actor's instances are fired until one fires or hits a
    capacity.  What a property view of one state needs; at ring size 32768 the whole
    expansion of the initial state would hold 65 536 successors of about 200 000
    scalars each."""
    if compiles(model, compiled):
        return compiled_expand(model, state).enabled_actors
    out: set[str] = set()
    for inst, nxt, hit in fire_each(model, state, skip=lambda inst: inst.spec.actor in out):
        if nxt is not None or hit is not None:
            out.add(inst.spec.actor)
    return out


def successors(model: Model, state: State) -> Iterator[tuple[ActionInstance, State]]:
    """The successors :func:`expand` lists, interpreted, one at a time (a step that
    would hit a capacity is none): a walk that looks at a few of them does not hold
    them all."""
    return ((inst, nxt) for inst, nxt, _ in fire_each(model, state) if nxt is not None)


def fire_each(
    model: Model, state: State, skip: Callable[[ActionInstance], bool] | None = None,
    instances: Iterable[ActionInstance] | None = None,
) -> Iterator[tuple[ActionInstance, State | None, str | None]]:
    """Each action instance (of ``instances``, default the model's, in that order) fired
    on ``state``, one at a time, interpreted: the instance, its successor (``None`` when
    disabled) and the capacity it hit (``None`` when none).  An instance ``skip``
    accepts (asked when its turn comes) is not fired."""
    view = StateView(model, state)
    for inst in model.instances if instances is None else instances:
        if skip is not None and skip(inst):
            continue
        try:
            nxt, hit = fire(model, inst, state, view), None
        except CapacityReached as reached:
            nxt, hit = None, reached.what
        yield inst, nxt, hit


def property_view(model: Model, state: State, enabled_actors: AbstractSet[str]) -> StateView:
    """A read-only-by-convention view on which properties are evaluated.

    The explorer's per-state checks run the compiled form of the predicates
    (:mod:`checker.semantics.compiledprops`); this view is the interpreted one.
    """

    def enabled(actors: tuple[str, ...]) -> bool:
        return any(a in enabled_actors for a in actors)

    return StateView(model, state, CONCRETE, enabled)


def holds(
    prop: Property, model: Model, state: State, enabled_actors: AbstractSet[str]
) -> bool:
    """Whether ``prop`` holds in ``state``."""
    return holds_in(prop, property_view(model, state, enabled_actors))


def holds_in(prop: Property, view: StateView) -> bool:
    """Whether ``prop`` holds on ``view`` (one view serves every property of a state)."""
    value = prop.predicate(view)
    if not isinstance(value, bool):
        raise TypeError(f"property {prop.name} returned {type(value).__name__}, not a bool")
    return value


def as_dict(model: Model, state: State) -> dict[str, Any]:
    """``{variable: value}`` with arrays as lists, for traces and JSON."""
    return {
        var.name: list(value) if var.size is not None else value
        for var, value in zip(model.vars, state)
    }


def from_dict(model: Model, values: dict[str, Any]) -> State:
    """The inverse of :func:`as_dict`; ``KeyError`` names a missing variable."""
    out = []
    for var in model.vars:
        value = values[var.name]
        out.append(tuple(value) if var.size is not None else value)
    return tuple(out)


def changed(model: Model, before: State, after: State) -> Iterator[tuple[str, Any, Any]]:
    """``(name, old, new)`` for each variable (or array element) that differs."""
    for var, old, new in zip(model.vars, before, after):
        if old == new:
            continue
        if var.size is None:
            yield var.name, old, new
        else:
            for i, (a, b) in enumerate(zip(old, new)):
                if a != b:
                    yield f"{var.name}[{i}]", a, b
