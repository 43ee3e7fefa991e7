"""The time limit of the Z3 engines, honoured while formulas are built as well as solved."""

from __future__ import annotations

import time


class SolverGaveUp(Exception):
    """Z3 answered ``unknown``, or the time limit ran out (while solving or while
    building formulas)."""


def check_deadline(deadline: float | None) -> None:
    """Raise :class:`SolverGaveUp` (``"time limit"``) once ``deadline`` (a
    ``time.monotonic()`` value) has passed."""
    if deadline is not None and time.monotonic() >= deadline:
        raise SolverGaveUp("time limit")
