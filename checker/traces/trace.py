"""Counterexample traces: the one object every engine produces and every output reads.

A :class:`Trace` is the initial state and a list of :class:`Step`; each step
names the actor, the action with its arguments, the kernel function and the
patch code it stands for, the variables it changed, and the state after it.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from checker.lang.model import ActionInstance, Model, State
from checker.lang.presentation import format_value
from checker.semantics.states import changed


@dataclass(frozen=True)
class Step:
    """One transition of a trace."""

    index: int
    actor: str
    action: str
    label: str
    args: dict[str, int]
    function: str
    code: str
    changes: tuple[tuple[str, Any, Any], ...]
    state: State


@dataclass
class Trace:
    """A run of the model from its initial state, ending in a violation."""

    revision: str
    params: dict[str, Any]
    property: str
    initial: State
    steps: list[Step] = field(default_factory=list)
    explanation: str = ""
    loop: int | None = None
    """For a lasso (a liveness counterexample): after the last step the run goes on from
    state ``loop`` (the last state equals it); ``loop == len(steps)``: it stays put."""
    property_args: dict[str, int] = field(default_factory=dict)
    """The arguments of the liveness property instance the trace violates."""
    reduced: bool = False
    """The states are canonical: dead values reset (docs/model.md, "Dead-value reduction");
    each is canon of the step from the one before."""
    shortest: bool = True
    """``False``: found by a search that does not guarantee the shortest trace (it is
    still a path of the model): see ``origin``."""
    origin: str = ""
    """With ``shortest`` false, how the trace was found: a reduced search (``--por``) or
    a lifted small-ring counterexample (``--lift-from``)."""

    def __len__(self) -> int:
        return len(self.steps)

    @builtins.property
    def states(self) -> list[State]:
        return [self.initial] + [s.state for s in self.steps]


def build_trace(
    model: Model,
    prop_name: str,
    initial: State,
    path: Sequence[tuple[ActionInstance, State]],
    explanation: str = "",
) -> Trace:
    """Assemble a trace from the instances fired and the states they reached."""
    trace = Trace(model.name, model.p.as_dict(), prop_name, initial, explanation=explanation)
    before = initial
    for i, (inst, after) in enumerate(path, start=1):
        trace.steps.append(
            Step(
                index=i,
                actor=inst.spec.actor,
                action=inst.spec.name,
                label=inst.label,
                args=inst.kwargs(),
                function=inst.spec.function,
                code=inst.spec.code,
                changes=tuple(changed(model, before, after)),
                state=after,
            )
        )
        before = after
    return trace


def render_text(trace: Trace, width: int = 100) -> str:
    """The counterexample as a reviewer reads it: one block per step."""
    title = f"Counterexample for {trace.property} on revision {trace.revision}"
    origin = f"{trace.origin}: " if trace.origin else ""
    note = "" if trace.shortest else f"; {origin}not necessarily the shortest"
    lines = [f"{title} ({len(trace)} steps{note})"]
    for step in trace.steps:
        if trace.loop is not None and step.index == trace.loop + 1:
            lines.append("     ---- cycle starts here: the steps below repeat forever ----")
        lines.append(f"{step.index:>3}. [{step.actor}] {step.label}  -- {step.function}")
        lines.append(f"       code: {shorten(step.code, width - 13)}")
        if step.changes:
            diffs = ", ".join(
                f"{name}: {format_value(a)} -> {format_value(b)}" for name, a, b in step.changes
            )
            lines.append(f"       changed: {shorten(diffs, width - 16)}")
        else:
            lines.append("       changed: nothing")
    if trace.loop is not None and trace.loop == len(trace):
        lines.append(f"     (lasso: the run stays in the state after step {trace.loop} forever)")
    elif trace.loop is not None:
        lines.append(f"     (lasso: steps {trace.loop + 1}..{len(trace)} repeat forever; the "
                     f"state after step {len(trace)} is the state after step {trace.loop})")
    if trace.explanation:
        lines.append(f"  => {trace.explanation}")
    return "\n".join(lines)


def shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: max(width - 3, 1)] + "..."
