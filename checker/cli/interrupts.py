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

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from checker.outputs.summary import SIGNAL_EXIT

HANDLED = (signal.SIGINT, signal.SIGTERM)


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
            raise Aborted(name)
        self.received = name
        if self.announce:
            print(f"vhostmc: {name}: stopping the search and writing what was found "
                  "(send it again to abort at once)", file=sys.stderr, flush=True)
        for callback in self.on_signal:
            callback(name)

    @contextmanager
    def installed(self) -> Iterator[Interrupts]:
        """Handle SIGINT and SIGTERM inside the ``with`` block (main thread only)."""
        previous = {sig: signal.getsignal(sig) for sig in HANDLED}
        for sig in HANDLED:
            signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

__all__ = ["SIGNAL_EXIT", "Aborted", "Interrupts"]
