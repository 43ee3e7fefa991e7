"""What every engine shares: the request it gets, the result it returns, its protocol.

An engine is one object with a ``name``, a one-line ``description``, the set of
engine-specific ``options`` it accepts and a ``run(request)`` that returns a
:class:`RunResult`.  :mod:`checker.engines.registry` lists the engines; the CLI,
``result.json``, the HTML report and the matrix read everything they need from
there and from the result, so adding an engine touches no other layer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from checker.lang.model import Model
from checker.lang.spec import Property
from checker.traces.trace import Trace

if TYPE_CHECKING:
    from checker.engines.stategraph import StateGraph

Status = Literal["holds", "violated", "inconclusive"]


@dataclass(frozen=True)
class Limits:
    """Bounds on a search; ``None`` is unbounded."""

    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None
    memory_limit: int | None = None
    """MiB: the Python explorer stops when the process's peak resident memory passes it;
    the compiled backend does not grow its state table past it; the Z3 engines stop when
    Z3's own allocations reach it (default for both: 60% of the machine's memory,
    :func:`checker.engines.memory.default_memory_limit`)."""
    counted_from: float | None = None
    """The ``time.monotonic()`` instant ``time_limit`` counts from (default: when the engine
    starts); a run sets it to its own start, so that preparing the model counts too."""

    def deadline(self, start: float) -> float | None:
        """The ``time.monotonic()`` instant the time limit runs out, counted from
        ``counted_from`` (else ``start``, when the engine started); ``None`` without one."""
        if self.time_limit is None:
            return None
        return (self.counted_from or start) + self.time_limit


@dataclass
class Stats:
    states: int = 0
    transitions: int = 0
    max_depth: int = 0
    seconds: float = 0.0
    queue: int = 0
    phase: str = ""
    """What the explorer is doing besides exploring (a fair-cycle analysis), if anything."""
    backend: str = ""
    """Explicit engine: which explorer ran (``python`` or ``compiled``), and why not the
    compiled one when it was asked for and refused."""
    table_bytes: int = 0
    """Compiled explicit backend: bytes of the visited table (states, parents, index), and
    of the state graph when liveness properties are checked (``graph_bytes``)."""
    graph_bytes: int = 0
    """Compiled explicit backend with liveness: bytes of the state graph's arrays (CSR rows,
    per-state flags, the fair-cycle analysis's work arrays), included in ``table_bytes``."""
    workers: int = 1
    """Explicit engine: threads that explored (``--workers``; more than 1 only with the
    compiled backend)."""


@dataclass
class PropertyResult:
    name: str
    status: Status
    trace: Trace | None = None
    reason: str | None = None


@dataclass
class RunResult:
    """The outcome of one run over all selected properties."""

    engine: str
    complete: bool
    stats: Stats
    properties: list[PropertyResult]
    bounds_hit: list[str] = field(default_factory=list)
    graph: StateGraph | None = None
    """The explored state graph, when the checker was asked to record it."""
    stopped: str | None = None
    """Why the run was stopped early from outside (``SIGINT``, ``SIGTERM``), if it was."""
    coverage: list[tuple[int, int]] | None = None
    """Explicit engines: ``(transitions, new states)`` per action instance index: how often
    each instance fired from an explored state, and how many of those found a new state."""
    reduction: dict[str, Any] | None = None
    """Explicit engines: whether the dead-value reduction was on, its proof, why not
    (:mod:`checker.engines.reduction`); ``None`` for engines it does not apply to."""
    symmetry: dict[str, Any] | None = None
    """Explicit engine with ``--symmetry``: whether the symmetry reduction was on, its
    proof, why not (:mod:`checker.engines.symmetry`); ``None`` when not asked for."""
    por: dict[str, Any] | None = None
    """Explicit engine with ``--por``: whether the partial-order reduction was on, its
    tables' summary (safe actors and pc values, why others are not), why not
    (:mod:`checker.engines.explicit.compiled.flatpor`); ``None`` when not asked for."""


Progress = Callable[[Stats], None]


def announce(stats: Stats, progress: Progress | None, began: float, phase: str) -> None:
    """Report ``phase`` (a progress line of its own) with the time since ``began`` (a
    ``time.monotonic()`` instant)."""
    stats.seconds = time.monotonic() - began
    stats.phase = phase
    if progress is not None:
        progress(stats)
    stats.phase = ""

StopCheck = Callable[[], "str | None"]
"""Polled by engines: why the run must stop now (``SIGINT``), or ``None`` to go on."""

class EngineInternalError(RuntimeError):
    """An engine failed for a reason that is a bug in vhostmc, not a verdict and
    not bad input (the CLI prints one line and exits 4, never 1)."""

    exit_code = 4



EngineOption = Literal["search", "max_states", "max_depth", "dump_graph", "depth", "strengthen",
                       "memory_limit", "backend", "reduction", "workers", "symmetry", "por",
                       "invariant", "walks", "seed"]
"""Engine-specific options of ``vhostmc check`` (``--time-limit`` applies to every engine)."""


InvariantChoice = Literal["auto", "mined"]
"""pdr's ``--invariant``: the explored classes first when the exploration completes
(``auto``), or only mined facts (``mined``: a readable invariant, when Houdini finds one)."""


@dataclass
class EngineRequest:
    """Everything an engine needs for one run."""

    model: Model
    properties: Sequence[Property]
    limits: Limits = field(default_factory=lambda: Limits())
    search: str = "bfs"
    """Explicit engines: ``bfs`` (shortest traces) or ``dfs``."""
    depth: int | None = None
    """Symbolic engines: the unrolling depth / largest k."""
    strengthen: Sequence[Property] = ()
    """k-induction: extra invariants assumed and checked."""
    record_graph: bool = False
    """Explicit engines: keep the explored state graph in the result."""
    backend: str = "python"
    """Explicit engine: ``python`` (the reference explorer) or ``compiled`` (numba)."""
    reduction: bool = True
    """Explicit engines: store canonical states (dead values reset) if the Z3 proof that
    this changes nothing passes (:mod:`checker.engines.reduction`)."""
    workers: int = 1
    """Explicit engine, compiled backend: threads exploring in parallel (counts, verdicts
    and traces do not depend on it); the Python explorer runs on one."""
    symmetry: bool = False
    """Explicit engine: store one state per class of descriptor renamings if the Z3 proof
    that this changes nothing passes (:mod:`checker.engines.symmetry`); off by default."""
    por: bool = False
    """Explicit engine, compiled backend: partial-order reduction for invariants
    (:mod:`checker.engines.explicit.compiled.flatpor`); off by default."""
    invariant: InvariantChoice = "auto"
    """pdr: :data:`InvariantChoice`."""
    lift_from: int | None = None
    """bmc: first lift the explicit engine's counterexamples at this ring size
    (:mod:`checker.engines.symbolic.lift`)."""
    query_limit: float | None = None
    """inductive: seconds one solver query may take (past it the query's action is left
    open and the next is asked); ``None``: until the time limit."""
    walks: int | None = None
    """simulate: how many random walks (``None``: the engine's default)."""
    seed: int = 0
    """simulate: the seed the random walks follow from."""
    progress: Progress | None = None
    stop: StopCheck | None = None
    """Polled during the run; when it returns a reason, the engine ends the search, keeps
    what it found and reports the rest inconclusive (``RunResult.stopped``)."""


class Engine(Protocol):
    """One way of deciding properties of a model."""

    name: str
    description: str
    options: frozenset[str]
    """The engine-specific options (:data:`EngineOption`) it honours; the CLI refuses others."""
    progress_unit: Literal["states", "depth"]
    """How its progress reads: explored states, or the depth reached."""

    def run(self, request: EngineRequest) -> RunResult:
        """Check ``request.properties`` on ``request.model``; never raise on a verdict."""
        ...
