"""The time and memory limits of the Z3 engines, honoured while formulas are built as
well as solved."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import z3

from checker.engines.memory import memory_ceiling, peak_memory_mib

Z3_KEYBOARD = "interrupted from keyboard"
"""Z3's ``reason_unknown`` when SIGINT arrived while it was solving: Z3 installs its
own SIGINT handler for the length of a ``check``, so Python's never runs."""


class SolverGaveUp(Exception):
    """Z3 answered ``unknown``, or the time limit ran out (while solving or while
    building formulas), or the memory limit was reached."""

    @property
    def by_time_limit(self) -> bool:
        """The time given ran out (the run's, or the one query's budget)."""
        return str(self) == "time limit"

    @property
    def by_memory_limit(self) -> bool:
        """The run's memory limit was reached: it ends the search, never one query."""
        return str(self).startswith("memory limit")


GAVE_UP: tuple[type[Exception], ...] = (SolverGaveUp, z3.Z3Exception)
"""What a Z3 engine's search catches to stop early: pass the exception to :func:`gave_up`."""

MEMORY_POLL = 0.2
"""Seconds between two looks of :func:`memory_limit`'s watch at the process's memory."""


class _Watch:
    """The cap of one :func:`memory_limit` block, and whether the process reached it."""

    def __init__(self, cap_mib: int) -> None:
        self.cap_mib = cap_mib
        self.reached = False


_watches: list[_Watch] = []
"""The :func:`memory_limit` blocks running (innermost last)."""

_solving: list[z3.Context] = []
"""The context whose query :func:`interruptible` marks as running (empty: none)."""

_solving_lock = threading.Lock()


@contextmanager
def interruptible(ctx: z3.Context) -> Iterator[None]:
    """Mark the block as one Z3 query in ``ctx`` that the memory limit's watch may
    interrupt.  Only then: Z3 resets the context's error code when interrupted, so an
    interrupt while other calls run in the context could hide their errors."""
    with _solving_lock:
        _solving.append(ctx)
    try:
        yield
    finally:
        with _solving_lock:
            _solving.remove(ctx)  # not pop(): queries on other threads may overlap


def interrupt_queries() -> None:
    """Interrupt every Z3 query :func:`interruptible` marks as running (a signal's
    watch: Python runs its own handler only once Z3 returns)."""
    with _solving_lock:
        for ctx in _solving:
            ctx.interrupt()


@contextmanager
def memory_limit(mib: int | None) -> Iterator[int]:
    """Stop the Z3 engine's work once the process's peak resident memory reaches ``mib``
    MiB (``--memory-limit``; default: :func:`checker.engines.memory.memory_ceiling`), so
    that a formula too large for the machine ends the search with a result instead of
    the kernel's out-of-memory kill.  A thread looks every :data:`MEMORY_POLL` seconds.
    Once the cap is reached, it interrupts the query Z3 is solving
    (:func:`interruptible`), :func:`check_deadline` (which formula building polls)
    raises, and :func:`gave_up` names the limit.  Z3's own ``memory_max_size`` is not
    used: past it Z3 can abort the process (an ``out_of_memory_error`` no API call
    catches).  Yields the cap."""
    watch = _Watch(mib if mib is not None else memory_ceiling() >> 20)
    done = threading.Event()

    def look() -> None:
        while not done.wait(MEMORY_POLL):
            if watch.reached or peak_memory_mib() >= watch.cap_mib:
                watch.reached = True
                interrupt_queries()  # again at each look: a query may start later

    thread = threading.Thread(target=look, name="vhostmc-memory-limit", daemon=True)
    _watches.append(watch)
    thread.start()
    try:
        yield watch.cap_mib
    finally:
        done.set()
        thread.join()
        _watches.remove(watch)


def memory_reached() -> SolverGaveUp | None:
    """``SolverGaveUp("memory limit N MiB")`` once a :func:`memory_limit` cap is reached."""
    for watch in _watches:
        if watch.reached:
            return SolverGaveUp(f"memory limit {watch.cap_mib} MiB")
    return None


def gave_up(err: Exception) -> SolverGaveUp:
    """``err`` (one of :data:`GAVE_UP`) as the reason a search stops: the memory limit
    once it is reached (Z3 then fails with ``canceled`` or ``interrupted``); any other
    Z3 error is raised again (it is a bug, not a limit)."""
    memory = memory_reached()
    if memory is not None:
        return memory
    if isinstance(err, SolverGaveUp):
        return err
    raise err


def check_deadline(deadline: float | None) -> None:
    """Raise :class:`SolverGaveUp` (``"time limit"``) once ``deadline`` (a
    ``time.monotonic()`` value) has passed, or once the memory limit is reached
    (:func:`memory_limit`)."""
    if deadline is not None and time.monotonic() >= deadline:
        raise SolverGaveUp("time limit")
    memory = memory_reached()
    if memory is not None:
        raise memory


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
