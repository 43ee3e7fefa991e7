"""The compiled BFS explorer's driver: tables, chunks, limits, verdicts and traces.

It mirrors :class:`checker.engines.explicit.search.ExplicitChecker` (BFS,
invariants only): the same state numbering (instances in model order, FIFO),
hence the same state and transition counts, the same first violating state
and the same shortest trace.  The numba loop (:mod:`.kernel`) runs in chunks;
between chunks this driver reports progress, checks the time limit and grows
the tables within the memory limit.  Traces are rebuilt by following
``parents`` and re-firing each action through :func:`checker.semantics.states.fire`,
so every step is the model's own (and is checked against the stored state).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from checker.engines.base import Limits, Progress, PropertyResult, RunResult, Stats, StopCheck
from checker.engines.explicit.compiled.build import Built, build, cache_dir
from checker.engines.explicit.compiled.fairscc import MAX_GROUPS
from checker.engines.explicit.compiled.flatcode import Refused
from checker.engines.explicit.compiled.kernel import (
    CTL,
    CTL_FIELDS,
    MIN_CHUNK,
    par_buffer_bytes,
    par_buffers,
)
from checker.engines.explicit.compiled.layout import layout_of
from checker.engines.explicit.compiled.livegraph import GraphError, LiveGraph
from checker.engines.explicit.compiled.livesearch import CompiledLiveness
from checker.engines.explicit.compiled.table import Table
from checker.engines.explicit.compiled.threads import use_threads
from checker.engines.explicit.liveness import Lasso, trace_of_lasso
from checker.engines.memory import default_memory_limit
from checker.lang.fairness import Fair
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.semantics.states import expand, fire, holds_in, initial_state, property_view
from checker.traces.trace import Trace, build_trace

BACKEND = "compiled"
DEFAULT_CHUNK = 8192
"""Frontier states per round of the parallel loop (see ``bench/compiled_workers.py``)."""
ANNOUNCE_FROM = 100_000
"""Graphs at least this large get a progress line before each fair-cycle analysis."""
MAX_STATES = 2**31 - 1
"""State numbers are int32 (the parents array)."""


class CompiledMismatch(RuntimeError):
    """The compiled code and the model disagree (a bug of this backend, never a verdict)."""


class CompiledChecker:
    """BFS over packed states with the generated numba code; invariants only."""

    def __init__(self, model: Model, properties: list[Property], limits: Limits | None = None,
                 progress: Progress | None = None, progress_every: float = 2.0,
                 canon: str | None = None, workers: int = 1,
                 stop: StopCheck | None = None, table_limit: int | None = None,
                 chunk: int = DEFAULT_CHUNK,
                 fairness: Sequence[Fair] | None = None, por: bool = False) -> None:
        self.model = model
        self.properties = properties
        self.limits = limits or Limits()
        self.progress = progress
        self.progress_every = progress_every
        self.memory_limit = (table_limit if table_limit is not None
                             else self.limits.memory_limit << 20 if self.limits.memory_limit
                             else default_memory_limit())
        """Bytes the state table may take: ``table_limit``, else ``--memory-limit`` (MiB)."""
        self.stop = stop
        """Polled between chunks: why to stop now (an interrupt), or ``None``."""
        self.canon = canon
        """Source of the model's state canonicalisation (see :func:`.build.build`;
        :func:`.flatcanon.flat_canon_source` generates the dead-value one), or ``None``.
        Traces of a canonicalising run record canonical states (``trace.reduced``)."""
        self.workers = workers
        """Numba threads (1: the sequential loop ``bfs``; more: ``bfs_par``, whose index has
        a partition per thread, rounded up to a power of two).  Counts, verdicts and
        traces do not depend on it."""
        self.chunk = chunk
        """The parallel loop's most frontier states per round (its work arrays: about
        ``chunk * NSUCC * (8 * NW + 25)`` bytes, at most an eighth of the memory limit,
        which they count in)."""
        self.fairness = list(model.fairness() if fairness is None else fairness)
        """The fairness liveness properties are judged under (default: the model's)."""
        self.graph: LiveGraph | None = None
        """After a run with liveness properties: its state graph as arrays."""
        self.por = por
        """Apply the partial-order reduction (:mod:`.flatpor`): invariants only, one
        worker (the caller checks both); ``result.por`` says whether it was on."""
        self.build_seconds = 0.0
        """Seconds spent generating and importing the code (numba compile on a cold cache
        happens on the first call of the loop, so it counts as exploring)."""

    def run(self) -> RunResult:
        """Explore; raises :class:`.flatcode.Refused` before exploring if the model or a
        property has no compiled form (the caller then runs the Python explorer)."""
        start = time.monotonic()
        model, limits = self.model, self.limits
        invariants = [p for p in self.properties if not p.is_liveness]
        deadline = limits.deadline(start)
        stopped_by: list[str] = []

        def cut() -> bool:
            """Whether a fair-cycle analysis must stop (interrupt, time limit)."""
            if not stopped_by and self.stop is not None:
                why = self.stop()
                if why is not None:
                    stopped_by.append(why)
            return bool(stopped_by) or (deadline is not None and time.monotonic() >= deadline)

        live = (CompiledLiveness(model, self.properties, self.fairness, cut)
                if any(p.is_liveness for p in self.properties) else None)
        if live is not None and len(live.masks.groups) > MAX_GROUPS:
            raise Refused(f"{len(live.masks.groups)} fairness groups (at most {MAX_GROUPS})")
        if self.por and (live is not None or self.workers > 1):
            raise ValueError("partial-order reduction: invariants on one worker only")
        built = build(model, invariants, self.canon, parallel=self.workers > 1,
                      obligations=live.items if live is not None else (), por=self.por)
        self.build_seconds = time.monotonic() - start
        pbits = (self.workers - 1).bit_length() if self.workers > 1 else 0
        table = Table(built.layout.words, built.module, pbits)
        if live is not None:
            live.attach(built.module, max(1, len(built.code.instances)),
                        lambda extra: table.nbytes + live.nbytes + extra <= self.memory_limit)
        ctl = np.zeros(len(CTL_FIELDS), np.int64)
        ctl[CTL["level_end"]] = 1
        ctl[CTL["pending"]] = (1 << len(invariants)) - 1
        ctl[CTL["max_states"]] = -1 if limits.max_states is None else limits.max_states
        ctl[CTL["max_depth"]] = -1 if limits.max_depth is None else limits.max_depth
        ctl[CTL["has_props"]] = 1 if self.properties and (live is None or not live.pending) else 0
        viol = np.full(max(1, len(invariants)), -1, np.int64)
        fired = np.zeros(max(1, len(model.instances)), np.int64)
        stats = Stats(backend=BACKEND, workers=self.workers)
        bounds: list[str] = []
        initial = initial_state(model)
        nsucc = max(1, len(built.code.instances))
        room = nsucc
        table_limit = self.memory_limit
        buffers: tuple[np.ndarray, ...] = ()
        if self.workers > 1:
            stats.workers = use_threads(self.workers)
            room *= MIN_CHUNK
            words = built.layout.words
            # the work arrays take at most an eighth of the memory limit, and count in it
            chunk = max(MIN_CHUNK, min(self.chunk, self.memory_limit // 8
                                       // par_buffer_bytes(1, words, nsucc, 1 << pbits)))
            buffers = par_buffers(chunk, words, nsucc, 1 << pbits)
            table_limit -= par_buffer_bytes(chunk, words, nsucc, 1 << pbits)
        if table.grow(0, room + 1, table_limit):
            table.states[0] = built.layout.pack(initial)
            if self.canon is not None:
                built.module.canon(np.empty(built.layout.slots, np.int64), table.states[0])
            table.reindex(1)
            ctl[CTL["n"]] = 1
        else:
            bounds.append(self._memory_bound())
        if built.fresh and self.progress is not None:
            stats.seconds = time.monotonic() - start
            stats.phase = (f"numba is compiling {model.name}'s steps (once per model and "
                           f"parameters; cached in {cache_dir()})")
            self.progress(stats)
            stats.phase = ""
        budget = 2_000
        next_report = start + self.progress_every
        while not bounds:
            t0 = time.monotonic()
            if limits.time_limit is not None and \
                    t0 - (limits.counted_from or start) >= limits.time_limit:
                bounds.append(f"time limit {limits.time_limit:g}s")
                break
            if self.stop is not None and (stopped := self.stop()) is not None:
                bounds.append(f"interrupted ({stopped})")
                break
            if live is not None and live.due(int(ctl[CTL["head"]])):
                self._checkpoint(live, table, ctl, stats, start)
                if live.full:
                    bounds.append(self._memory_bound() + " (state graph)")
                    break
                if not live.pending:
                    ctl[CTL["has_props"]] = 1
                continue
            cap = None if live is None else live.budget(int(ctl[CTL["head"]]))
            steps = budget if cap is None else max(1, min(budget, cap))
            if self.workers > 1:
                status = int(built.module.bfs_par(table.states, table.parents, table.actions,
                                                  table.index, table.fill, pbits, ctl, viol,
                                                  fired, steps, buffers))
            else:
                status = int(built.module.bfs(table.states, table.parents, table.actions,
                                              table.index, table.fill, ctl, viol, fired,
                                              steps))
            now = time.monotonic()
            if now - t0 < 0.25:
                budget = min(budget * 2, 1 << 30)
            elif now - t0 > 1.0:
                budget = max(budget // 2, 1_000)
            if status == 0:
                break
            if status == 3:
                self._step_error(built, table, ctl)
            if status == 4:
                self._property_error(built, table, ctl)
            if status in (2, 5) and int(ctl[CTL["n"]]) + room >= MAX_STATES:
                bounds.append(f"{MAX_STATES} states (int32 parents)")
                break
            if status in (2, 5) and not table.grow(
                    int(ctl[CTL["n"]]), room,
                    table_limit - (live.nbytes if live is not None else 0),  # the graph counts
                    double_index=status == 5):
                bounds.append(self._memory_bound())
                break
            if self.progress is not None and now >= next_report:
                self._fill(stats, ctl, table, start)
                self.progress(stats)
                next_report = now + self.progress_every
        if stopped_by and not any(b.startswith("interrupted (") for b in bounds):
            bounds.append(f"interrupted ({stopped_by[0]})")
        if live is not None and not any(b.startswith(("interrupted (", "time limit"))
                                        for b in bounds):
            if live.pending and stats.states >= ANNOUNCE_FROM:
                self._announce(stats, int(ctl[CTL["head"]]), start)
            self._finish_live(live, table, ctl)
            if live.full:
                bounds.append(self._memory_bound() + " (state graph)")
            elif live.cut_short:
                if stopped_by:
                    bounds.append(f"interrupted ({stopped_by[0]})")
                else:
                    bounds.append(f"time limit {limits.time_limit:g}s (fair-cycle analysis)")
        self._fill(stats, ctl, table, start)
        if live is not None:
            self.graph = live.graph
            stats.graph_bytes = live.nbytes
            stats.table_bytes += live.nbytes
        flags = int(ctl[CTL["flags"]])
        if flags & 2 and limits.max_depth is not None:
            bounds.insert(0, f"depth {limits.max_depth}")
        if flags & 1 and limits.max_states is not None:
            bounds.insert(0, f"{limits.max_states} states")
        capacity = int(ctl[CTL["capacity"]])
        bounds.extend(sorted(f"model capacity: {what}"
                             for c, what in enumerate(built.code.capacities) if capacity >> c & 1))
        complete = stats.queue == 0 and not bounds
        stopped = next((b[len("interrupted ("):-1] for b in bounds
                        if b.startswith("interrupted (")), None)
        results = []
        slot = {prop.name: p for p, prop in enumerate(invariants)}
        undecided = set(live.pending) if live is not None and (live.cut_short or live.full) \
            else set()
        for prop in self.properties:
            p = slot.get(prop.name, -1)
            if p >= 0 and viol[p] >= 0:
                trace = self._trace(built, table, prop, int(viol[p]))
                results.append(PropertyResult(prop.name, "violated", trace))
            elif live is not None and prop.name in live.found:
                trace = self._lasso_trace(built, table, live.found[prop.name])
                results.append(PropertyResult(prop.name, "violated", trace))
            elif complete and prop.name not in undecided:
                results.append(PropertyResult(prop.name, "holds"))
            else:
                reason = ("interrupted" if stopped is not None
                          else "search cut by " + ", ".join(bounds) if bounds
                          else f"search stopped with {stats.queue} states unexplored")
                results.append(PropertyResult(prop.name, "inconclusive", reason=reason))
        out = RunResult("explicit", complete and not undecided, stats, results, bounds,
                        stopped=stopped, coverage=self._coverage(table, fired, ctl))
        if self.por:
            out.por = (dict(built.por.info) if built.por is not None else
                       {"on": False, "why": built.por_off or "not applicable"})
            if built.por is not None and built.por.info.get("reduces"):
                for r in results:
                    if r.trace is not None:
                        r.trace.shortest = False
                        r.trace.origin = "partial-order reduction"
        return out

    def _coverage(self, table: Table, fired: np.ndarray, ctl: np.ndarray
                  ) -> list[tuple[int, int]]:
        """Per action instance: its transitions (``fired``, counted by the loops) and
        the states it reached first (the ``actions`` of every stored state but the
        initial one), as the Python explorer counts them."""
        count = len(self.model.instances)
        fresh = np.bincount(table.actions[1:int(ctl[CTL["n"]])], minlength=count)
        return [(int(f), int(n)) for f, n in zip(fired[:count], fresh[:count])]

    def _memory_bound(self) -> str:
        return f"memory limit {self.memory_limit / 2**20:.0f} MiB"

    @staticmethod
    def _fill(stats: Stats, ctl: np.ndarray, table: Table, start: float) -> None:
        stats.states = int(ctl[CTL["n"]])
        stats.transitions = int(ctl[CTL["transitions"]])
        stats.max_depth = int(ctl[CTL["max_depth_seen"]])
        stats.queue = int(ctl[CTL["n"]] - ctl[CTL["head"]])
        stats.seconds = time.monotonic() - start
        stats.table_bytes = table.nbytes

    def _state(self, built: Built, table: Table, i: int) -> State:
        return built.layout.unpack(self.model, table.states[i])

    def _step_error(self, built: Built, table: Table, ctl: np.ndarray) -> None:
        """Re-fire the failing instance in Python: it raises the model's own exception."""
        state = self._state(built, table, int(ctl[CTL["err_state"]]))
        inst = self.model.instances[int(ctl[CTL["err_what"]])]
        fire(self.model, inst, state)
        raise CompiledMismatch(f"compiled {inst.label} failed where the model does not")

    def _property_error(self, built: Built, table: Table, ctl: np.ndarray) -> None:
        """Evaluate the failing property interpreted: it raises the property's own error."""
        state = self._state(built, table, int(ctl[CTL["err_state"]]))
        prop = self.properties[int(ctl[CTL["err_what"]])]
        holds_in(prop, property_view(self.model, state, expand(self.model, state).enabled_actors))
        raise CompiledMismatch(f"compiled property {prop.name} failed where the model does not")

    def _stored_as(self, built: Built, table: Table, state: State, i: int) -> State | None:
        """``state`` as the search stores it (canonicalised, if the search does) when that
        is stored state ``i``, else ``None``."""
        words = np.array(built.layout.pack(state), np.int64)
        if self.canon is None:
            return state if bool((words == table.states[i]).all()) else None
        built.module.canon(np.empty(built.layout.slots, np.int64), words)
        if not bool((words == table.states[i]).all()):
            return None
        return built.layout.unpack(self.model, words)

    def _trace(self, built: Built, table: Table, prop: Property, last: int) -> Trace:
        """The BFS-tree path to state ``last``, re-fired through the model.

        With a canonicalisation, each step fires from the canonical state before it
        and records the canonical successor, as the Python explorer's reduced
        traces do (``trace.reduced``: ``vhostmc replay`` canonicalises likewise).
        """
        chain = [last]
        while chain[-1] != 0:
            chain.append(int(table.parents[chain[-1]]))
        chain.reverse()
        model = self.model
        initial, path = self._refire(built, table, [(int(table.actions[i]), i)
                                                    for i in chain[1:]])
        current = path[-1][1] if path else initial
        view = property_view(model, current, expand(model, current).enabled_actors)
        trace = build_trace(model, prop.name, initial, path, prop.describe_violation(view))
        trace.reduced = self.canon is not None
        return trace

    def _refire(self, built: Built, table: Table, chain: list[tuple[int, int]]
                ) -> tuple[State, list[tuple[ActionInstance, State]]]:
        """The stored initial state and the steps ``(instance, stored state number)`` of
        ``chain`` re-fired through the model, each checked against the stored state."""
        model = self.model
        stored_initial = self._stored_as(built, table, initial_state(model), 0)
        if stored_initial is None:
            raise CompiledMismatch("the initial state is not stored state 0")
        current = stored_initial
        path: list[tuple[ActionInstance, State]] = []
        for k, i in chain:
            inst = model.instances[k]
            after = fire(model, inst, current)
            stored = None if after is None else self._stored_as(built, table, after, i)
            if stored is None:
                raise CompiledMismatch(f"re-firing {inst.label} does not give the stored state")
            path.append((inst, stored))
            current = stored
        return stored_initial, path

    def _lasso_trace(self, built: Built, table: Table, lasso: Lasso) -> Trace:
        """A lasso of :class:`.livesearch.CompiledLiveness` as a replayable :class:`Trace`
        (its steps re-fired through the model, as :meth:`_trace` does)."""
        initial, path = self._refire(built, table, lasso.path)
        trace = trace_of_lasso(self.model, lasso.obligation, initial, path, lasso.loop,
                               lasso.premise_at)
        trace.reduced = self.canon is not None
        return trace

    def _checkpoint(self, live: CompiledLiveness, table: Table, ctl: np.ndarray, stats: Stats,
                    start: float) -> None:
        """A fair-cycle analysis of the rows of the states expanded so far."""
        head = int(ctl[CTL["head"]])
        if head >= ANNOUNCE_FROM:
            self._announce(stats, head, start)
        try:
            live.checkpoint(table, head, int(ctl[CTL["n"]]))
        except GraphError as err:
            self._graph_error(table, live, err)

    def _finish_live(self, live: CompiledLiveness, table: Table, ctl: np.ndarray) -> None:
        try:
            live.finish(table, int(ctl[CTL["head"]]), int(ctl[CTL["n"]]))
        except GraphError as err:
            self._graph_error(table, live, err)

    def _announce(self, stats: Stats, head: int, start: float) -> None:
        """Tell the progress callback that a fair-cycle analysis begins."""
        if self.progress is None:
            return
        stats.seconds = time.monotonic() - start
        stats.phase = f"looking for fair cycles in {head} expanded states"
        self.progress(stats)
        stats.phase = ""

    def _graph_error(self, table: Table, live: CompiledLiveness, err: GraphError) -> None:
        """Re-run what failed while building the graph in Python: the model's (or the
        property's) own exception; else the compiled code is wrong."""
        state = layout_of(self.model).unpack(self.model, table.states[err.state])
        if err.kind == -1:
            inst = self.model.instances[err.what]
            fire(self.model, inst, state)
            raise CompiledMismatch(f"compiled {inst.label} failed where the model does not")
        obl = live.obligations[err.what]
        obl.evaluate(property_view(self.model, state, expand(self.model, state).enabled_actors))
        raise CompiledMismatch(f"compiled obligation {obl.title} failed where the model "
                               "does not")
