"""SIGINT and SIGTERM as a clean stop: the search ends, what was found is written.

:class:`Interrupts` installs handlers for SIGINT (Ctrl-C) and SIGTERM that
only record the signal; engines poll it (``EngineRequest.stop``) and end
their search, so ``result.json``, the summary and every trace already found
are still written, and the process then exits with :data:`SIGNAL_EXIT`
(130 for SIGINT, 143 for SIGTERM, the shell's convention).  A second signal
while the run is winding down aborts at once (:class:`Aborted`).  When the
engine does not poll (``hard=True``), the first signal aborts.
"""

from __future__ import annotations

import _thread
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from checker.outputs.summary import SIGNAL_EXIT

HANDLED = (signal.SIGINT, signal.SIGTERM)

REDELIVER_AFTER = 0.01
"""Seconds after an :class:`Aborted` was lost in a ``__del__`` before the signal is
delivered again (:func:`_redeliver_lost_abort`)."""

_raised: list[str] = []
"""The signals whose :class:`Aborted` a handler raised in this process (see
:func:`aborted_by`)."""


class Aborted(BaseException):
    """A signal ended the run before anything could be written (exit :data:`SIGNAL_EXIT`).

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way
    (user-code guards, error reporting) mistakes it for an error."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class Interrupts:
    """Records SIGINT/SIGTERM; calling it returns the signal's name once one arrived."""

    def __init__(self, hard: bool = False, announce: bool = True) -> None:
        self.received: str | None = None
        self.hard = hard
        """Abort on the first signal (for an engine that does not poll ``stop``)."""
        self.announce = announce
        self.on_signal: list[Callable[[str], None]] = []
        """Called (with the signal's name) when the first signal arrives."""

    def __call__(self) -> str | None:
        return self.received

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self.hard or self.received is not None:
            _raised.append(name)
            raise Aborted(name)
        self.received = name
        if self.announce:
            print(f"vhostmc: {name}: stopping the search and writing what was found "
                  "(send it again to abort at once)", file=sys.stderr, flush=True)
        for callback in self.on_signal:
            callback(name)

    @contextmanager
    def installed(self) -> Iterator[Interrupts]:
        """Handle SIGINT and SIGTERM inside the ``with`` block (main thread only).

        Python runs a signal's handler in the main thread between two bytecodes, so
        not while Z3 solves there: Z3 takes SIGINT itself during a query, but a
        SIGTERM would wait for the query to end (minutes at large ring sizes).  The
        signal also wakes a thread (``signal.set_wakeup_fd``) that interrupts the
        query being solved (:func:`checker.engines.symbolic.limits.interrupt_queries`);
        the handler then runs as soon as Z3 returns."""
        _raised.clear()  # a run's errors are judged by its own signals only
        previous = {sig: signal.getsignal(sig) for sig in HANDLED}
        previous_hook = sys.unraisablehook
        sys.unraisablehook = functools.partial(_redeliver_lost_abort, previous_hook)
        for sig in HANDLED:
            signal.signal(sig, self._handle)
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        previous_fd = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        watch = threading.Thread(target=_interrupt_on_wakeup, args=(read_end,),
                                 name="vhostmc-signal-watch", daemon=True)
        watch.start()
        try:
            yield self
        finally:
            signal.set_wakeup_fd(previous_fd)
            os.close(write_end)  # the watch reads end of file and ends
            watch.join()
            os.close(read_end)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            sys.unraisablehook = previous_hook


def _redeliver_lost_abort(previous: Callable[[sys.UnraisableHookArgs], object],
                          unraisable: sys.UnraisableHookArgs) -> None:
    """``sys.unraisablehook`` while the handlers are installed: an :class:`Aborted` that
    Python could not raise (the handler ran inside a ``__del__``, such as Z3's
    ``AstRef.__del__``, and Python reports and ignores exceptions there: seen under load
    as a run that went on for minutes after Ctrl-C) is delivered again to the main
    thread, whose handler raises it once this hook has returned (delivered by a timer
    thread :data:`REDELIVER_AFTER` seconds later: delivered at once, the handler would
    run inside the hook, where the exception is ignored again); anything else goes to
    ``previous``."""
    err = unraisable.exc_value
    if isinstance(err, Aborted):
        again = threading.Timer(REDELIVER_AFTER, _thread.interrupt_main,
                                args=(signal.Signals[err.name].value,))
        again.daemon = True
        again.start()
        return
    previous(unraisable)


def aborted_by() -> str | None:
    """The signal whose :class:`Aborted` a handler raised, if one did.

    The handler runs between two bytecodes, and when those are inside ctypes' argument
    conversion for a Z3 call, ctypes replaces the exception with an ``ArgumentError``
    ("argument 1: Aborted: SIGINT") that no longer is an :class:`Aborted`: an error
    that ends a run after this is the signal's doing, not a bug."""
    return _raised[-1] if _raised else None


def _interrupt_on_wakeup(fd: int) -> None:
    """Interrupt the running Z3 query for each signal number written to ``fd``, until
    its write end is closed."""
    while os.read(fd, 64):
        # looked up, not imported: starting the CLI loads no Z3, and without the
        # module loaded there is no query to interrupt
        limits = sys.modules.get("checker.engines.symbolic.limits")
        if limits is not None:
            limits.interrupt_queries()

__all__ = ["SIGNAL_EXIT", "Aborted", "Interrupts", "aborted_by"]
