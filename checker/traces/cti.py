"""A counterexample to induction as text, the same for every Z3 engine that proves.

A counterexample to induction is a short path (one step for 1-induction) whose first
state satisfies the invariant tried and whose last state breaks part of it. Nothing
says the first state is reachable: it is evidence for a reviewer (which fact the
invariant lacks), not a violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.lang.presentation import Presentation


def cti_text(shown: Presentation, name: str, states: Sequence[dict[str, Any]],
             actions: Sequence[str], broken: str) -> str:
    """The path ``states`` (one more than ``actions``) as text: a header naming what
    ``name``'s invariant lacks (``broken``), the first state in full, then each action
    with the variables it changes (arrays element by element; named values as
    ``shown`` names them)."""
    say = shown.shown
    lines = [(f"# counterexample to induction for {name}: from states where the invariant "
             f"holds, {' -> '.join(actions)} breaks {broken} (the states may be unreachable)"),
             "first state:"]
    lines += [f"  {k} = {say(k, v)}" for k, v in states[0].items()]
    for action, before, after in zip(actions, states, states[1:]):
        lines.append(f"step: {action}")
        for key, new in after.items():
            old = before.get(key)
            if old == new:
                continue
            if isinstance(new, (list, tuple)) and isinstance(old, (list, tuple)):
                lines += [f"  {key}[{i}]: {say(key, a)} -> {say(key, b)}"
                          for i, (a, b) in enumerate(zip(old, new)) if a != b]
            else:
                lines.append(f"  {key}: {say(key, old)} -> {say(key, new)}")
    return "\n".join(lines) + "\n"
