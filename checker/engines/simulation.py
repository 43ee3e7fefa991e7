"""Random simulation: many random walks from the initial state, every invariant
checked in every state on the way (SPIN's random simulation, TLC's ``-simulate``).

For configurations no search can finish (ring 256 with the kernel's constants), a
walk of a thousand steps costs milliseconds a step and reaches states thousands of
steps deep, past wrap-arounds of ``upend_idx`` that breadth-first search and BMC
cannot get near. Each step is a scheduler's choice: an actor, uniformly among the
actors with an enabled action, then one of that actor's enabled action instances,
uniformly (choosing among instances alone would let the guest's hundreds of
``guest_post`` instances drown the worker and the device). A walk ends after
``depth`` steps or in a state where nothing is enabled. The walks follow from
``seed`` alone: the same seed gives the same walks. A walk keeps only its path, so
memory stays small; ``--memory-limit`` is still honoured (the peak is read every
1024 steps).

Verdicts are honest: a violated invariant comes with the walk's path, replayable on
the model like every trace, marked ``shortest = False`` (``vhostmc shrink`` makes it
shorter). Nothing else is concluded: a property no walk violated is inconclusive,
with the walks and their length as its bound, and liveness properties are left to
the engines that judge them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Literal

from checker.engines.base import EngineRequest, PropertyResult, RunResult, Stats
from checker.engines.memory import peak_memory_mib
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.semantics.compiledprops import invariant_checks
from checker.semantics.states import (
    compiles,
    expand,
    fire_each,
    initial_state,
    property_view,
)
from checker.traces.trace import Trace, build_trace

DEFAULT_WALKS = 100
"""Walks when ``--walks`` is not given."""

DEFAULT_DEPTH = 1000
"""Steps per walk when ``--depth`` is not given."""

PROGRESS_EVERY = 2.0
"""Seconds between progress lines."""

LIVENESS = ("random simulation checks invariants only; use --engine explicit or bmc "
            "for liveness")


class Scheduler:
    """One step of a walk: which actors are enabled, what capacities the instances tried
    hit, and the step chosen: an actor uniformly among those with a successor, then one
    of that actor's successors uniformly.

    A model that runs compiled (:func:`checker.semantics.states.compiles`) is expanded
    whole, as the explicit engine does (26 times as many steps a second at ring 2); one
    too large to compile (ring 256 with the kernel's constants) fires each actor's
    instances in a random order until one fires, which draws the same way (the first
    enabled one of a random order is uniform among them) without firing them all."""

    def __init__(self, model: Model, rng: random.Random) -> None:
        self.model = model
        self.rng = rng
        self.compiled = compiles(model)
        self.by_actor: dict[str, list[ActionInstance]] = {}
        for inst in model.instances:
            self.by_actor.setdefault(inst.spec.actor, []).append(inst)

    def step(self, state: State) -> tuple[set[str], list[str],
                                          tuple[ActionInstance, State] | None]:
        """The actors enabled in ``state`` (an instance fires or hits a capacity), the
        capacities hit by the instances tried, and the step taken (``None``: nothing
        can fire)."""
        if self.compiled:
            exp = expand(self.model, state)
            moves: dict[str, list[tuple[ActionInstance, State]]] = {}
            for inst, after in exp.successors:
                moves.setdefault(inst.spec.actor, []).append((inst, after))
            move = self.rng.choice(self.rng.choice(list(moves.values()))) if moves else None
            return exp.enabled_actors, exp.capacity_hits, move
        enabled: set[str] = set()
        hits: list[str] = []
        first: list[tuple[ActionInstance, State]] = []
        for actor, instances in self.by_actor.items():
            order = self.rng.sample(instances, len(instances))
            for inst, nxt, hit in fire_each(self.model, state, instances=order):
                if hit is not None:
                    enabled.add(actor)
                    hits.append(hit)
                elif nxt is not None:
                    enabled.add(actor)
                    first.append((inst, nxt))
                    break
        return enabled, hits, self.rng.choice(first) if first else None


def run_simulation(model: Model, properties: Sequence[Property], request: EngineRequest,
                   walks: int, depth: int, seed: int) -> RunResult:
    """``walks`` random walks of at most ``depth`` steps from ``seed``, each invariant of
    ``properties`` checked in every state; ``request`` gives the time limit, the
    progress callback and the stop check."""
    start = time.monotonic()
    limits = request.limits
    deadline = limits.deadline(start)
    invariants = [p for p in properties if p.kind == "always"]
    pending = list(zip(invariants, invariant_checks(model, invariants).checks))
    scheduler = Scheduler(model, random.Random(seed))
    found: dict[str, Trace] = {}
    capacity: set[str] = set()
    stats = Stats()
    stopped: str | None = None
    cut: str | None = None
    next_report = start + PROGRESS_EVERY
    first = initial_state(model)
    walk = 0
    while walk < walks and pending and cut is None:
        walk += 1
        state: State = first
        path: list[tuple[ActionInstance, State]] = []
        while True:
            if request.stop is not None and (stopped := request.stop()) is not None:
                cut = f"interrupted ({stopped})"
                break
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                cut = f"time limit {limits.time_limit:g}s"
                break
            if (limits.memory_limit is not None and stats.transitions % 1024 == 0
                    and peak_memory_mib() >= limits.memory_limit):
                cut = f"memory limit {limits.memory_limit} MiB"
                break
            if request.progress is not None and now >= next_report:
                stats.seconds = now - start
                rate = stats.transitions / stats.seconds
                stats.phase = (f"random walk {walk} of {walks}, {stats.transitions} steps "
                               f"taken, {rate:,.{0 if rate >= 10 else 1}f} steps/s")
                request.progress(stats)
                stats.phase = ""
                next_report = now + PROGRESS_EVERY
            enabled, hits, move = scheduler.step(state)
            capacity.update(hits)
            for prop, check in list(pending):
                if not check(state, enabled):
                    found[prop.name] = _walk_trace(model, prop, first, path, state, enabled,
                                                   f"random walk {walk} (seed {seed})")
                    pending.remove((prop, check))
            if move is None or len(path) >= depth or not pending:
                break
            path.append(move)
            state = move[1]
            stats.transitions += 1
        stats.max_depth = max(stats.max_depth, len(path))
    stats.states = walk
    stats.seconds = time.monotonic() - start
    walked = f"{walks_text(walk)} of at most {depth} steps (seed {seed})"
    bounds = [walked] + ([cut] if cut is not None else [])
    bounds += [f"model capacity: {what}" for what in sorted(capacity)]
    results = []
    for prop in properties:
        if prop.name in found:
            results.append(PropertyResult(prop.name, "violated", found[prop.name]))
        elif prop.is_liveness:
            results.append(PropertyResult(prop.name, "inconclusive", reason=LIVENESS))
        else:
            reason = "interrupted" if stopped is not None else (
                f"no violation in {', '.join(bounds)}; a simulation proves nothing")
            results.append(PropertyResult(prop.name, "inconclusive", reason=reason))
    return RunResult("simulate", False, stats, results, bounds, stopped=stopped)


def walks_text(count: int) -> str:
    """``1 random walk``, ``3 random walks``."""
    return f"{count} random walk" + ("" if count == 1 else "s")


def _walk_trace(model: Model, prop: Property, first: State,
                path: list[tuple[ActionInstance, State]], state: State, enabled: set[str],
                origin: str) -> Trace:
    """The walk so far as a trace violating ``prop`` in its last state, ``state``."""
    view = property_view(model, state, enabled)
    trace = build_trace(model, prop.name, first, list(path), prop.describe_violation(view))
    trace.shortest = False
    trace.origin = origin
    return trace


class SimulationEngine:
    """Random walks (--walks, --depth steps each, --seed); violations only."""

    name = "simulate"
    description = ("random simulation: --walks random walks of up to --depth steps (--seed), "
                   "every invariant checked on the way; finds deep violations at any ring "
                   "size, never proves (traces not the shortest)")
    options = frozenset({"depth", "walks", "seed"})
    progress_unit: Literal["states", "depth"] = "depth"
    stoppable = True
    default_depth = DEFAULT_DEPTH

    def run(self, request: EngineRequest) -> RunResult:
        """Walk ``request.walks`` times (default :data:`DEFAULT_WALKS`) for at most
        ``request.depth`` steps (default :data:`DEFAULT_DEPTH`)."""
        return run_simulation(request.model, list(request.properties), request,
                              request.walks or DEFAULT_WALKS,
                              request.depth or DEFAULT_DEPTH, request.seed)


ENGINE = SimulationEngine()
