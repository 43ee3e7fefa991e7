"""Interchangeable ids: a symmetry of the model the explorer may factor out.

A model may declare, with :func:`symmetric_ids`, that some ids (for vhost:
the descriptor heads ``0 .. n-1``) are interchangeable: renaming them by any
permutation ``pi`` -- in the variables that hold an id, the arrays indexed
by one and the arguments of the actions that name one -- maps each
transition to a transition and keeps every property's value.  The explorer
may then store one state per orbit (:mod:`checker.engines.symmetry`).

Like a dead-value declaration (:mod:`checker.lang.dead`) it is only a
claim: the Z3 proof (:mod:`checker.engines.symbolic.symproof`) decides
whether a run uses it, for every revision and its parameters.

A value variable may name, per array element, when the element holds an id
(``live``); elsewhere the element is left as it is (a stale entry the model
resets to 0, say).  ``live`` may only read variables that no permutation
changes (the proof checks it), so renaming stays a permutation of states.
Values outside ``0 .. count-1`` (a sentinel such as "any head >= num") are
never renamed.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checker.lang.model import Model, Var

Live = Callable[..., Any]
"""``live(s, k)``: element ``k`` of an array holds an id (``live(s)`` for a scalar)."""


@dataclass(frozen=True)
class IdValues:
    """State variable ``var`` holds ids (where ``live`` holds; everywhere when ``None``)."""

    var: str
    live: Live | None = None


@dataclass(frozen=True)
class SymmetricIds:
    """Ids ``0 .. count-1`` are interchangeable (see the module docstring)."""

    what: str
    count: int
    values: tuple[IdValues, ...]
    indexed: tuple[str, ...]
    """Arrays of ``count`` elements indexed by an id."""
    action_args: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Action name -> the keyword arguments that are ids."""
    why: str = ""

    def describe(self) -> str:
        """One line for summaries and ``result.json``."""
        return (f"{self.what} ids 0..{self.count - 1}: values of "
                f"{', '.join(v.var for v in self.values)}; indices of {', '.join(self.indexed)}")


def ids_in(var: str, live: Live | None = None) -> IdValues:
    """``var`` holds ids, in the elements where ``live(s, k)`` holds (everywhere: ``None``)."""
    return IdValues(var, live)


def symmetric_ids(what: str, count: int, values: Sequence[IdValues | str],
                  indexed: Sequence[str], action_args: Mapping[str, Sequence[str]] | None = None,
                  why: str = "") -> SymmetricIds:
    """Declare ids ``0 .. count-1`` interchangeable: ``values`` hold them, ``indexed``
    arrays are indexed by them, ``action_args`` name the actions' id arguments."""
    vals = tuple(v if isinstance(v, IdValues) else IdValues(v) for v in values)
    args = {k: tuple(v) for k, v in (action_args or {}).items()}
    return SymmetricIds(what, count, vals, tuple(indexed), args, why)


def declared_symmetry(model: Model) -> SymmetricIds | None:
    """``model.symmetric_ids()``, checked; ``None`` when the model declares none.

    Raises :class:`checker.lang.model.ModelError` for a declaration naming no state
    variable, an indexed array whose size is not the id count, a negative or
    Boolean value variable, or an unknown action."""
    from checker.lang.model import ModelError  # here: checker.lang.model imports this module

    hook = getattr(model, "symmetric_ids", None)
    decl: SymmetricIds | None = hook() if callable(hook) else None
    if decl is None:
        return None
    where = f"symmetry declaration of {model.name}"
    if decl.count < 1:
        raise ModelError(f"{where}: no ids (count {decl.count})")
    for v in decl.values:
        var = _var(model, v.var, where)
        if var.is_bool or var.lo < 0:
            raise ModelError(f"{where}: '{v.var}' cannot hold ids (type [{var.lo}, {var.hi}])")
    for name in decl.indexed:
        var = _var(model, name, where)
        if var.size != decl.count:
            raise ModelError(f"{where}: '{name}' has {var.size} elements, not one per id "
                             f"({decl.count})")
    actions = {spec.name for spec in model.action_specs}
    for name in decl.action_args:
        if name not in actions:
            raise ModelError(f"{where}: no action '{name}'")
    return decl


def _var(model: Model, name: str, where: str) -> Var:
    from checker.lang.model import ModelError

    slot = model.var_index.get(name)
    if slot is None:
        raise ModelError(f"{where}: no state variable '{name}'")
    return model.vars[slot]


def permutations(count: int) -> list[tuple[int, ...]]:
    """Every permutation of ``0 .. count-1`` but the identity (``perm[i]`` is i's new name)."""
    ident = tuple(range(count))
    return [p for p in itertools.permutations(range(count)) if p != ident]


def generators(count: int) -> list[tuple[int, ...]]:
    """The adjacent transpositions ``(i i+1)``: they generate every permutation."""
    out = []
    for i in range(count - 1):
        p = list(range(count))
        p[i], p[i + 1] = i + 1, i
        out.append(tuple(p))
    return out


def inverse(perm: Sequence[int]) -> tuple[int, ...]:
    """The inverse permutation."""
    inv = [0] * len(perm)
    for i, j in enumerate(perm):
        inv[j] = i
    return tuple(inv)


def permute(model: Model, decl: SymmetricIds, s: Any, perm: Sequence[int]) -> None:
    """Rename the ids of the state on view ``s`` by ``perm`` (``perm[i]``: the new id of i).

    Every read (values, ``live`` conditions) happens before the first write.
    Runs on any backend: concrete, code-emitting or Z3."""
    inv = inverse(perm)

    def renamed(old: Any) -> Any:
        out = old
        for i in range(decl.count):
            if perm[i] != i:
                out = s.ite(old == i, perm[i], out)
        return out

    writes: list[tuple[str, int | None, Any]] = []
    for v in decl.values:
        var = model.vars[model.var_index[v.var]]
        if var.size is None:
            old = getattr(s, v.var)
            new = renamed(old)
            writes.append((v.var, None, new if v.live is None else s.ite(v.live(s), new, old)))
            continue
        arr = getattr(s, v.var)
        for k in range(var.size):
            old = arr[k]
            new = renamed(old)
            writes.append((v.var, k, new if v.live is None else s.ite(v.live(s, k), new, old)))
    indexed = {name: [getattr(s, name)[i] for i in range(decl.count)] for name in decl.indexed}
    # a variable both indexed and holding ids: rename the values, then move them
    pending: dict[str, list[Any]] = {name: list(vals) for name, vals in indexed.items()}
    for name, pos, value in writes:
        if pos is None:
            setattr(s, name, value)
        elif name in pending:
            pending[name][pos] = value
        else:
            getattr(s, name)[pos] = value
    for name, vals in pending.items():
        setattr(s, name, [vals[inv[j]] for j in range(decl.count)])


def permuted_action_args(decl: SymmetricIds, name: str, args: Sequence[tuple[str, int]],
                         perm: Sequence[int]) -> tuple[tuple[str, int], ...]:
    """The arguments of action ``name`` with its id arguments renamed by ``perm``
    (values outside the ids, a sentinel, unchanged)."""
    ids = decl.action_args.get(name, ())
    return tuple((k, perm[v] if k in ids and 0 <= v < decl.count else v) for k, v in args)
