"""Z3 queries on several threads, each thread with a Z3 context of its own.

Z3 runs the queries of different contexts in parallel, and the Python binding releases
the GIL while it solves, so threads are enough. A term is moved into a thread's context
with ``translate``; the caller's context must then be read by one thread at a time,
which :attr:`ContextThreads.lock` is for. What the threads share (a queue of queries,
what they found) is the caller's; this class holds what every such pool needs: the
contexts, the lock, stopping them all, the errors raised in them, and waiting for them
while a signal may arrive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import z3


class ContextThreads:
    """``count`` Z3 contexts, one per thread of :meth:`run`."""

    def __init__(self, count: int) -> None:
        self.contexts = [z3.Context() for _ in range(count)]
        self.lock = threading.Lock()
        """Held while a thread reads the caller's context or the shared state."""
        self.stopped = threading.Event()
        """Set by :meth:`halt`: threads should return at their next look."""
        self.failures: list[BaseException] = []
        """Errors raised in the threads (not those of queries halted on purpose), in the
        order they came; the caller raises the first again."""

    def halt(self, mine: z3.Context | None) -> None:
        """Tell every thread to stop, and interrupt the queries running in every context
        but ``mine`` (the caller's thread's own, which is not solving)."""
        self.stopped.set()
        for ctx in self.contexts:
            if ctx is not mine:
                ctx.interrupt()

    def fail(self, err: BaseException, mine: z3.Context) -> None:
        """Record ``err``, raised in the thread of context ``mine``, and halt the others;
        an error after :meth:`halt` is the interrupt's own and is dropped."""
        with self.lock:
            if self.stopped.is_set():
                return
            self.failures.append(err)
        self.halt(mine)

    def run(self, work: Callable[[int], None], tick: Callable[[], None] | None = None,
            every: float = 1.0) -> None:
        """Run ``work(i)`` on one thread per context ``i`` and return once all have ended,
        calling ``tick()`` every ``every`` seconds meanwhile. A signal's exception
        (``KeyboardInterrupt``, an abort) halts every query and is raised again with
        :attr:`lock` held, so that no thread is reading the caller's context by then."""
        threads = [threading.Thread(target=work, args=(i,), daemon=True)
                   for i in range(len(self.contexts))]
        for th in threads:
            th.start()
        try:
            self._wait(threads, tick, every)
        except BaseException:
            self.halt(None)
            with self.lock:
                raise

    @staticmethod
    def _wait(threads: Sequence[threading.Thread], tick: Callable[[], None] | None,
              every: float) -> None:
        """Return once every thread of ``threads`` has ended, calling ``tick()`` every
        ``every`` seconds meanwhile (where a signal handler may raise)."""
        for th in threads:
            while th.is_alive():
                th.join(every if tick is not None else None)
                if tick is not None and th.is_alive():
                    tick()
