"""The explicit-state explorer: BFS (shortest counterexamples) or DFS.

One run checks every selected property.  A property violated in some state
gets the trace to the first such state the search met (the shortest one,
under BFS); the search goes on for the others.  A property holds only when
the search exhausted the reachable states with no model capacity reached;
any limit (states, depth, time, model capacity) makes it inconclusive, and
the result says which bound was hit.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from checker.model import ActionInstance, Model, State
from checker.spec import Property
from checker.states import expand, holds_in, initial_state, property_view
from checker.trace import Trace, build_trace

Status = Literal["holds", "violated", "inconclusive"]


@dataclass(frozen=True)
class Limits:
    """Bounds on a search; ``None`` is unbounded."""

    max_states: int | None = None
    max_depth: int | None = None
    time_limit: float | None = None


@dataclass
class Stats:
    states: int = 0
    transitions: int = 0
    max_depth: int = 0
    seconds: float = 0.0
    queue: int = 0


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


Progress = Callable[[Stats], None]


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
    ) -> None:
        self.model = model
        self.properties = properties
        self.search = search
        self.limits = limits
        self.progress = progress
        self.progress_every = progress_every

    def run(self) -> RunResult:
        model, limits = self.model, self.limits
        start = time.monotonic()
        next_report = start + self.progress_every
        stats = Stats()
        init = initial_state(model)
        # state -> (parent state, instance index); the initial state maps to None
        parent: dict[State, tuple[State, int] | None] = {init: None}
        depth: dict[State, int] = {init: 0}
        frontier: deque[State] = deque([init])
        violations: dict[str, Trace] = {}
        bounds: list[str] = []
        capacity: set[str] = set()
        pending = list(self.properties)
        stats.states = 1
        pop = frontier.popleft if self.search == "bfs" else frontier.pop

        while frontier and (pending or not self.properties):
            now = time.monotonic()
            if limits.time_limit is not None and now - start >= limits.time_limit:
                bounds.append(f"time limit {limits.time_limit:g}s")
                break
            if self.progress is not None and now >= next_report:
                stats.seconds, stats.queue = now - start, len(frontier)
                self.progress(stats)
                next_report = now + self.progress_every
            state = pop()
            d = depth[state]
            exp = expand(model, state)
            capacity.update(exp.capacity_hits)
            view = property_view(model, state, exp.enabled_actors)
            for prop in list(pending):
                if not holds_in(prop, view):
                    violations[prop.name] = build_trace(
                        model, prop.name, init, self._path(parent, state),
                        prop.describe_violation(view),
                    )
                    pending.remove(prop)
            if limits.max_depth is not None and d >= limits.max_depth:
                beyond = any(nxt not in parent for _, nxt in exp.successors)
                if beyond and f"depth {limits.max_depth}" not in bounds:
                    bounds.append(f"depth {limits.max_depth}")
                continue
            for inst, nxt in exp.successors:
                stats.transitions += 1
                if nxt in parent:
                    continue
                if limits.max_states is not None and stats.states >= limits.max_states:
                    if f"{limits.max_states} states" not in bounds:
                        bounds.append(f"{limits.max_states} states")
                    continue
                parent[nxt] = (state, inst.index)
                depth[nxt] = d + 1
                stats.states += 1
                stats.max_depth = max(stats.max_depth, d + 1)
                frontier.append(nxt)

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
        return RunResult("explicit", complete, stats, results, bounds)

    @staticmethod
    def _reason(bounds: list[str], frontier: deque[State]) -> str:
        if bounds:
            return "search cut by " + ", ".join(bounds)
        return f"search stopped with {len(frontier)} states unexplored"

    def _path(
        self, parent: dict[State, tuple[State, int] | None], state: State
    ) -> list[tuple[ActionInstance, State]]:
        path: list[tuple[ActionInstance, State]] = []
        cur = state
        link = parent[cur]
        while link is not None:
            prev, idx = link
            path.append((self.model.instances[idx], cur))
            cur = prev
            link = parent[cur]
        path.reverse()
        return path
