"""A model's dead-value declarations, checked and applied to a state.

The declarations are data of the model language (:mod:`checker.lang.dead`);
here they meet a model: :func:`checked_declarations` resolves each to its
state variable (and refuses a bad one), :func:`reset_dead` resets every dead
value on a state view of any backend (concrete, code-emitting or Z3), and
:func:`assumptions` lists the invariants the dead-value proof may assume.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.lang.dead import Assumption, DeadValue
from checker.lang.model import Model, ModelError, Var


def canonical_value(decl: DeadValue, var: Var) -> int | bool:
    """The value ``decl`` resets a dead ``var`` to: its ``canonical``, else the
    variable's default (False, or 0 clamped into its range)."""
    if decl.canonical is not None:
        return decl.canonical
    return False if var.is_bool else min(max(0, var.lo), var.hi)


def assumptions(model: Model) -> list[Assumption]:
    """The :class:`Assumption` entries among ``model.dead_values()``."""
    return [d for d in model.dead_values() if isinstance(d, Assumption)]


def checked_declarations(model: Model) -> list[tuple[DeadValue, int, Var]]:
    """``(declaration, slot, variable)`` for each of ``model``'s dead-value declarations.

    Raises :class:`checker.lang.model.ModelError` for a declaration naming no
    state variable, declaring one variable twice, or a canonical value outside
    the variable's type.
    """
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
        if not var.in_range(canonical_value(decl, var)):
            raise ModelError(f"dead-value declaration of {model.name}: canonical value "
                             f"{canonical_value(decl, var)!r} of '{decl.var}' is outside its type "
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
        value = canonical_value(decl, var)
        if var.size is None:
            setattr(s, decl.var, s.ite(deads[0], value, getattr(s, decl.var)))
        else:
            arr = getattr(s, decl.var)
            for i, dead in enumerate(deads):
                arr.set_if(dead, i, value)
