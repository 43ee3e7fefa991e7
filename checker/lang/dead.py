"""Dead values: parts of the state the model can never read again.

A model may declare, with :func:`dead_when`, that a variable (or one element
of an array variable) is *dead* in a state: whatever it holds there, no
action, property or fairness condition can observe it before it is written
again.  Such a value only multiplies the state space, so the explorer may
replace it by a fixed *canonical* value (:mod:`checker.semantics.canon`).
The declarations are written with the expression layer, like the model's
actions, so every engine evaluates them: the explicit engine runs them as
generated code, the Z3 proof (:mod:`checker.engines.symbolic.deadproof`)
checks that resetting dead values changes nothing any engine can see.

A declaration is only a claim; the proof decides whether it is used.  A
revision that reads a value its base declares dead makes the proof fail,
and the run goes on without the reduction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checker.lang.model import Model, Var

Predicate = Callable[..., Any]
"""``when(s)`` for a scalar variable, ``when(s, i)`` for element ``i`` of an array."""


@dataclass(frozen=True)
class DeadValue:
    """``var`` (element ``i`` of it, for an array) is dead when ``when`` holds;
    the canonical value that replaces it then is ``canonical``."""

    var: str
    when: Predicate
    canonical: int | bool | None = None
    """``None``: the variable's default (False, or 0 clamped into its range)."""
    why: str = ""

    def canonical_for(self, var: Var) -> int | bool:
        """The value a dead ``var`` is reset to."""
        if self.canonical is not None:
            return self.canonical
        return False if var.is_bool else min(max(0, var.lo), var.hi)

    def describe(self) -> str:
        """One line for summaries and ``result.json``."""
        return f"{self.var}: {self.why}" if self.why else self.var


@dataclass(frozen=True)
class Assumption:
    """An invariant the dead-value proof may assume of ``s``: ``holds(s)`` must be true
    in the initial state and kept by every step, which the proof checks first (so it
    is proved inductive, never trusted).  Returned among the declarations."""

    name: str
    holds: Predicate
    why: str = ""


def assuming(name: str, holds: Predicate, why: str = "") -> Assumption:
    """An inductive invariant the dead-value proof may assume (see :class:`Assumption`);
    for declarations that are only right in states the model can reach."""
    return Assumption(name, holds, why)


def assumptions(model: Model) -> list[Assumption]:
    """The :class:`Assumption` entries among ``model.dead_values()``."""
    return [d for d in model.dead_values() if isinstance(d, Assumption)]


def dead_when(
    var: str, when: Predicate, canonical: int | bool | None = None, why: str = ""
) -> DeadValue:
    """Declare ``var`` dead when ``when(s)`` (scalar) or ``when(s, i)`` (array element ``i``)
    holds; ``canonical`` is the value a dead one is reset to (it must fit the type;
    default False or 0, as in a fresh state)."""
    return DeadValue(var, when, canonical, why)


def checked_declarations(model: Model) -> list[tuple[DeadValue, int, Var]]:
    """``(declaration, slot, variable)`` for each of ``model``'s dead-value declarations.

    Raises :class:`checker.lang.model.ModelError` for a declaration naming no
    state variable, declaring one variable twice, or a canonical value outside
    the variable's type.
    """
    from checker.lang.model import ModelError  # here: checker.lang.model imports this module

    out: list[tuple[DeadValue, int, Var]] = []
    seen: set[str] = set()
    decls: Sequence[DeadValue | Assumption] = model.dead_values()
    for decl in decls:
        if isinstance(decl, Assumption):
            continue
        slot = model.var_index.get(decl.var)
        if slot is None:
            raise ModelError(f"dead-value declaration of {model.name}: no state variable "
                             f"'{decl.var}'")
        if decl.var in seen:
            raise ModelError(f"dead-value declaration of {model.name}: '{decl.var}' is declared "
                             "twice")
        seen.add(decl.var)
        var = model.vars[slot]
        if not var.in_range(decl.canonical_for(var)):
            raise ModelError(f"dead-value declaration of {model.name}: canonical value "
                             f"{decl.canonical_for(var)!r} of '{decl.var}' is outside its type "
                             f"[{var.lo}, {var.hi}]")
        out.append((decl, slot, var))
    return out


def reset_dead(model: Model, s: Any) -> None:
    """Reset every dead value of the state on view ``s`` to its canonical value.

    Every predicate is evaluated on the state as it was on entry (all reads
    happen before the first write), so the order of the declarations does not
    matter.  Runs on any backend: concrete, code-emitting or Z3.
    """
    decls = checked_declarations(model)
    conds: list[tuple[DeadValue, Var, list[Any]]] = []
    for decl, _, var in decls:
        if var.size is None:
            conds.append((decl, var, [decl.when(s)]))
        else:
            conds.append((decl, var, [decl.when(s, i) for i in range(var.size)]))
    for decl, var, deads in conds:
        value = decl.canonical_for(var)
        if var.size is None:
            setattr(s, decl.var, s.ite(deads[0], value, getattr(s, decl.var)))
        else:
            arr = getattr(s, decl.var)
            for i, dead in enumerate(deads):
                arr.set_if(dead, i, value)
