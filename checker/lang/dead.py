"""Dead values: parts of the state the model can never read again.

A model may declare, with :func:`dead_when`, that a variable (or one element
of an array variable) is *dead* in a state: whatever it holds there, no
action, property or fairness condition can observe it before it is written
again.  Such a value only multiplies the state space, so the explorer may
replace it by a fixed *canonical* value (:mod:`checker.semantics.deadvalues`
checks the declarations against a model and resets dead values;
:mod:`checker.semantics.canon` builds the explorer's canonicalizer).
The declarations are written with the expression layer, like the model's
actions, so every engine evaluates them: the explicit engine runs them as
generated code, the Z3 proof (:mod:`checker.engines.symbolic.deadproof`)
checks that resetting dead values changes nothing any engine can see.

A declaration is only a claim; the proof decides whether it is used.  A
revision that reads a value its base declares dead makes the proof fail,
and the run goes on without the reduction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


def dead_when(
    var: str, when: Predicate, canonical: int | bool | None = None, why: str = ""
) -> DeadValue:
    """Declare ``var`` dead when ``when(s)`` (scalar) or ``when(s, i)`` (array element ``i``)
    holds; ``canonical`` is the value a dead one is reset to (it must fit the type;
    default False or 0, as in a fresh state)."""
    return DeadValue(var, when, canonical, why)
