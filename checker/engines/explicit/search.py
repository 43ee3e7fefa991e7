"""The explicit-state explorer: BFS (shortest counterexamples) or DFS.

One run checks every selected property.  Liveness properties make it keep
the explored graph and look for fair cycles in it (:mod:`checker.engines.explicit.liveness`)
each time the graph has doubled, and once more at the end.  A property violated in some state
gets the trace to the first such state the search met (the shortest one,
under BFS); the search goes on for the others.  A property holds only when
the search exhausted the reachable states with no model capacity reached;
any limit (states, depth, time, model capacity) makes it inconclusive, and
the result says which bound was hit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Literal

from checker.engines.base import Limits, Progress, PropertyResult, RunResult, Stats
from checker.engines.explicit.liveness import LiveSearch
from checker.engines.stategraph import StateGraph
from checker.lang.fairness import Fair
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.semantics.compiledprops import invariant_checks
from checker.semantics.states import expand, initial_state, property_view
from checker.traces.trace import Trace, build_trace


class ExplicitChecker:
    """Explores the reachable states of ``model`` and checks ``properties``."""

    def __init__(
        self,
        model: Model,
        properties: list[Property],
        search: Literal["bfs", "dfs"] = "bfs",
        limits: Limits = Limits(),
        progress: Progress | None = None,
        progress_every: float = 2.0,
        record_graph: bool = False,
        fairness: Sequence[Fair] | None = None,
        canon: Callable[[State], State] | None = None,
    ) -> None:
        self.model = model
        self.properties = properties
        self.search = search
        self.limits = limits
        self.progress = progress
        self.progress_every = progress_every
        self.record_graph = record_graph
        """Keep every expanded state's edges (:class:`StateGraph`) and explore to the end."""
        self.fairness = list(model.fairness() if fairness is None else fairness)
        """The fairness liveness properties are judged under (default: the model's)."""
        self.canon = canon
        """Dead-value reduction (:mod:`checker.engines.reduction`): store canon of every
        state reached (the initial one too); ``None`` stores states as they are."""

    def run(self) -> RunResult:
        model, limits = self.model, self.limits
        start = time.monotonic()
        next_report = start + self.progress_every
        stats = Stats()
        graph = StateGraph()
        canon = self.canon
        first = initial_state(model)
        init = graph.add_state(first if canon is None else canon(first), -1, -1)
        frontier: deque[int] = deque([init])
        violations: dict[str, Trace] = {}
        bounds: list[str] = []
        capacity: set[str] = set()
        invariants = [p for p in self.properties if not p.is_liveness]
        pending = list(zip(invariants, invariant_checks(model, invariants).checks))
        live = LiveSearch(model, graph, self.properties, self.fairness)
        record = self.record_graph or bool(live.pending)
        stats.states = 1
        pop = frontier.popleft if self.search == "bfs" else frontier.pop

        while frontier and (pending or live.pending or not self.properties or self.record_graph):
            now = time.monotonic()
            if limits.time_limit is not None and now - start >= limits.time_limit:
                bounds.append(f"time limit {limits.time_limit:g}s")
                break
            if self.progress is not None and now >= next_report:
                stats.seconds, stats.queue = now - start, len(frontier)
                self.progress(stats)
                next_report = now + self.progress_every
            i = pop()
            state = graph.states[i]
            d = graph.depth[i]
            exp = expand(model, state)
            capacity.update(exp.capacity_hits)
            enabled = exp.enabled_actors
            live.observe(i, state, enabled)
            for prop, check in list(pending):
                if not check(state, enabled):
                    view = property_view(model, state, enabled)  # interpreted, for the words
                    violations[prop.name] = build_trace(
                        model, prop.name, graph.states[0], self._path(graph, i),
                        prop.describe_violation(view),
                    )
                    pending.remove((prop, check))
            if limits.max_depth is not None and d >= limits.max_depth:
                successors = exp.successors if canon is None else [
                    (inst, canon(nxt)) for inst, nxt in exp.successors]
                beyond = any(nxt not in graph.index for _, nxt in successors)
                if beyond and f"depth {limits.max_depth}" not in bounds:
                    bounds.append(f"depth {limits.max_depth}")
                if record:
                    self._record(graph, i, successors)
                continue
            edges: list[tuple[int, int]] = []
            successors = exp.successors if canon is None else [
                (inst, canon(nxt)) for inst, nxt in exp.successors]
            for inst, nxt in successors:
                stats.transitions += 1
                j = graph.index.get(nxt)
                if j is None:
                    if limits.max_states is not None and stats.states >= limits.max_states:
                        if f"{limits.max_states} states" not in bounds:
                            bounds.append(f"{limits.max_states} states")
                        record = False  # an edge to an unnumbered state: the row is partial
                        continue
                    j = graph.add_state(nxt, i, inst.index)
                    stats.states += 1
                    stats.max_depth = max(stats.max_depth, d + 1)
                    frontier.append(j)
                edges.append((inst.index, j))
            if record:
                graph.add_row(i, edges)
                if live.due():
                    self._announce(stats, graph, start)
                    live.checkpoint()

        if live.pending:
            self._announce(stats, graph, start)
        live.finish()
        violations.update(live.found)
        if canon is not None:
            for trace in violations.values():
                trace.reduced = True
        stats.seconds, stats.queue = time.monotonic() - start, len(frontier)
        bounds.extend(f"model capacity: {what}" for what in sorted(capacity))
        complete = not frontier and not bounds
        results = []
        for prop in self.properties:
            if prop.name in violations:
                results.append(PropertyResult(prop.name, "violated", violations[prop.name]))
            elif complete:
                results.append(PropertyResult(prop.name, "holds"))
            else:
                results.append(
                    PropertyResult(prop.name, "inconclusive", reason=self._reason(bounds, frontier))
                )
        run = RunResult("explicit", complete, stats, results, bounds)
        if self.record_graph:
            run.graph = graph
        return run

    ANNOUNCE_FROM = 100_000
    """Graphs at least this large get a progress line before each fair-cycle analysis."""

    def _announce(self, stats: Stats, graph: StateGraph, start: float) -> None:
        """Tell the progress callback that a fair-cycle analysis of the graph begins."""
        if self.progress is None or graph.expanded < self.ANNOUNCE_FROM:
            return
        stats.seconds = time.monotonic() - start
        stats.phase = f"looking for fair cycles in {graph.expanded} expanded states"
        self.progress(stats)
        stats.phase = ""

    @staticmethod
    def _record(graph: StateGraph, i: int, successors: list[tuple[ActionInstance, State]]) -> None:
        """Record the row of a state at the depth limit: only edges to numbered states."""
        if all(nxt in graph.index for _, nxt in successors):
            graph.add_row(i, [(inst.index, graph.index[nxt]) for inst, nxt in successors])

    @staticmethod
    def _reason(bounds: list[str], frontier: deque[int]) -> str:
        if bounds:
            return "search cut by " + ", ".join(bounds)
        return f"search stopped with {len(frontier)} states unexplored"

    def _path(self, graph: StateGraph, i: int) -> list[tuple[ActionInstance, State]]:
        return [(self.model.instances[k], graph.states[j]) for k, j in graph.path_to(i)]
