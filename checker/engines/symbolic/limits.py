"""The time limit of the Z3 engines, honoured while formulas are built as well as solved."""

from __future__ import annotations

import signal
import time

Z3_KEYBOARD = "interrupted from keyboard"
"""Z3's ``reason_unknown`` when SIGINT arrived while it was solving: Z3 installs its
own SIGINT handler for the length of a ``check``, so Python's never runs."""


class SolverGaveUp(Exception):
    """Z3 answered ``unknown``, or the time limit ran out (while solving or while
    building formulas)."""


def check_deadline(deadline: float | None) -> None:
    """Raise :class:`SolverGaveUp` (``"time limit"``) once ``deadline`` (a
    ``time.monotonic()`` value) has passed."""
    if deadline is not None and time.monotonic() >= deadline:
        raise SolverGaveUp("time limit")


def one_line(text: str, limit: int = 200) -> str:
    """``text``'s first line, cut to ``limit`` characters (Z3's ``reason_unknown`` can
    run to thousands of lines)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def pass_on_interrupt(reason: str) -> None:
    """When Z3 gave up because it took a SIGINT (``reason`` is :data:`Z3_KEYBOARD`),
    raise the signal again for Python's handler: vhostmc's (``checker.cli.interrupts``)
    aborts a Z3 engine's run with exit 130, or records the stop for an explicit run;
    Python's default raises ``KeyboardInterrupt``.  Without this a Ctrl-C while Z3
    solves ended the run as if Z3 had just given up (exit 3, or the explicit search
    going on without its reduction)."""
    if Z3_KEYBOARD in reason:
        signal.raise_signal(signal.SIGINT)
