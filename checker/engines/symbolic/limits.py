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


def one_line(text: str, limit: int = 200) -> str:
    """``text``'s first line, cut to ``limit`` characters (Z3's ``reason_unknown`` can
    run to thousands of lines)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."
