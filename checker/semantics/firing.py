"""One action instance fired on a concrete state, and the successors of a state.

The bottom of the semantics: :mod:`checker.semantics.compiled` and
:mod:`checker.semantics.states` both build on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from checker.lang.model import ActionInstance, Model, State
from checker.lang.view import Disabled, StateView


def fire(
    model: Model, inst: ActionInstance, state: State, view: StateView | None = None
) -> State | None:
    """The successor of ``state`` under ``inst``, or ``None`` when disabled.

    Raises :class:`CapacityReached` when the step would exceed a model bound.
    ``view`` is a scratch view to reuse; it is reset to ``state`` first.
    """
    if view is None:
        view = StateView(model, state)
    else:
        view.reset(state)
    try:
        inst.spec.body(view, **dict(inst.args))
    except Disabled:
        return None
    return view.values()


@dataclass
class Expansion:
    """The outgoing transitions of one state."""

    successors: list[tuple[ActionInstance, State]] = field(default_factory=list)
    enabled_actors: set[str] = field(default_factory=set)
    capacity_hits: list[str] = field(default_factory=list)
