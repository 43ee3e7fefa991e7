"""The explicit-state explorer: BFS (shortest counterexamples) or DFS.

One run checks every selected property.  Liveness properties make it keep
the explored graph and look for fair cycles in it (:mod:`checker.engines.explicit.liveness`)
each time the graph has doubled, and once more at the end.  A property violated in some state
gets the trace to the first such state the search met (the shortest one,
under BFS); the search goes on for the others.  A property holds only when
the search exhausted the reachable states with no model capacity reached;
any limit (states, depth, time, model capacity) makes it inconclusive, and
the result says which bound was hit.  The time limit bounds the fair-cycle
analyses too, and ``stop`` (polled once per expanded state, and by the
analyses) ends the run early on an interrupt: what was found is kept, the
rest is inconclusive.  A ``sometimes`` property holds once a state satisfies
it (its trace is an example), and is violated (unreachable) after a complete
search that met none.  Coverage: how often each action instance fired.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Literal

from checker.engines.base import Limits, Progress, PropertyResult, RunResult, Stats, StopCheck
from checker.engines.explicit.liveness import LiveSearch
from checker.engines.memory import peak_memory_mib
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
        limits: Limits | None = None,
        progress: Progress | None = None,
        progress_every: float = 2.0,
        record_graph: bool = False,
        fairness: Sequence[Fair] | None = None,
        stop: StopCheck | None = None,
        canon: Callable[[State], State] | None = None,
    ) -> None:
        self.model = model
        self.properties = properties
        self.search = search
        self.limits = limits if limits is not None else Limits()
        self.progress = progress
        self.progress_every = progress_every
        self.record_graph = record_graph
        """Keep every expanded state's edges (:class:`StateGraph`) and explore to the end."""
        self.fairness = list(model.fairness() if fairness is None else fairness)
        """The fairness liveness properties are judged under (default: the model's)."""
        self.stop = stop
        """Polled once per expanded state: why to stop now (an interrupt), or ``None``."""
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
        invariants = [p for p in self.properties if p.kind == "always"]
        pending = list(zip(invariants, invariant_checks(model, invariants).checks))
        reachable = [p for p in self.properties if p.is_reachability]
        wanted = list(zip(reachable, invariant_checks(model, reachable).checks))
        examples: dict[str, Trace] = {}
        fired = [0] * len(model.instances)
        fresh = [0] * len(model.instances)
        deadline = limits.deadline(start)
        stopped: str | None = None

        def cut() -> bool:
            """Whether a fair-cycle analysis must stop (interrupt, time or memory limit)."""
            nonlocal stopped
            if stopped is None and self.stop is not None:
                stopped = self.stop()
            return (stopped is not None or (deadline is not None and time.monotonic() >= deadline)
                    or self._over_memory())

        live = LiveSearch(model, graph, self.properties, self.fairness, cut)
        rounds = 0
        record = self.record_graph or bool(live.pending)
        stats.states = 1
        pop = frontier.popleft if self.search == "bfs" else frontier.pop

        while frontier and (pending or wanted or live.pending or not self.properties
                            or self.record_graph):
            if self.stop is not None and (stopped := self.stop()) is not None:
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                bounds.append(f"time limit {limits.time_limit:g}s")
                break
            rounds += 1
            if limits.memory_limit is not None and rounds % 1024 == 0 and self._over_memory():
                bounds.append(f"memory limit {limits.memory_limit} MiB")
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
            for prop, check in list(wanted):
                if check(state, enabled):
                    view = property_view(model, state, enabled)
                    examples[prop.name] = build_trace(
                        model, prop.name, graph.states[0], self._path(graph, i),
                        prop.describe_example(view),
                    )
                    wanted.remove((prop, check))
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
                fired[inst.index] += 1
                j = graph.index.get(nxt)
                if j is None:
                    if limits.max_states is not None and stats.states >= limits.max_states:
                        if f"{limits.max_states} states" not in bounds:
                            bounds.append(f"{limits.max_states} states")
                        record = False  # an edge to an unnumbered state: the row is partial
                        continue
                    j = graph.add_state(nxt, i, inst.index)
                    fresh[inst.index] += 1
                    stats.states += 1
                    stats.max_depth = max(stats.max_depth, d + 1)
                    frontier.append(j)
                edges.append((inst.index, j))
            if record:
                graph.add_row(i, edges)
                if live.due():
                    self._announce(stats, graph, start)
                    live.checkpoint()

        searched = not frontier and stopped is None  # the exploration itself was not cut
        if live.pending and stopped is None:
            self._announce(stats, graph, start)
        live.finish()
        violations.update(live.found)
        if canon is not None:
            for trace in [*violations.values(), *examples.values()]:
                trace.reduced = True  # examples of sometimes properties too: replay them so
        stats.seconds, stats.queue = time.monotonic() - start, len(frontier)
        bounds.extend(f"model capacity: {what}" for what in sorted(capacity))
        explored = searched and not bounds
        undecided = set(live.pending) if live.cut_short else set()
        if stopped is not None:
            bounds.append(f"interrupted ({stopped})")
        elif undecided and not any(b.startswith(("time limit", "memory limit")) for b in bounds):
            what = (f"memory limit {limits.memory_limit} MiB" if self._over_memory()
                    else f"time limit {limits.time_limit:g}s")
            bounds.append(f"{what} (fair-cycle analysis)")
        results = []
        for prop in self.properties:
            reason = "interrupted" if stopped is not None else self._reason(bounds, frontier)
            if prop.name in violations:
                results.append(PropertyResult(prop.name, "violated", violations[prop.name]))
            elif prop.name in examples:
                results.append(PropertyResult(prop.name, "holds", examples[prop.name]))
            elif explored and prop.is_reachability:
                results.append(PropertyResult(
                    prop.name, "violated",
                    reason="unreachable: no reachable state satisfies it (complete search)"))
            elif explored and prop.name not in undecided:
                results.append(PropertyResult(prop.name, "holds"))
            else:
                results.append(PropertyResult(prop.name, "inconclusive", reason=reason))
        run = RunResult("explicit", explored and not undecided, stats, results, bounds,
                        stopped=stopped, coverage=list(zip(fired, fresh)))
        if self.record_graph:
            run.graph = graph
        return run

    def _over_memory(self) -> bool:
        """Whether the process's peak resident memory passed ``limits.memory_limit`` MiB."""
        limit = self.limits.memory_limit
        if limit is None:
            return False
        return peak_memory_mib() >= limit

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
