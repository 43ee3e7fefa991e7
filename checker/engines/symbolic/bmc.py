"""Bounded model checking with Z3: shortest counterexamples up to a depth.

One incremental solver holds the initial state and the transitions
unrolled so far (:class:`checker.engines.symbolic.unroll.Unrolling`); a path may halt, so
step ``d`` ranges over the states within ``d`` steps of the initial one.
At depth ``d`` the solver is asked whether step ``d`` can violate a
still-pending property, or whether a step from it can hit a model capacity
or write outside a type (which the concrete engine reports as a model bug,
and so does this one).  Every depth below ``d`` came back unsat first, so
a violation found at ``d`` is a shortest one: the same length
breadth-first search finds.

A counterexample is decoded into concrete states, replayed with
:func:`checker.semantics.states.fire` (an :class:`checker.engines.symbolic.unroll.EncodingError` if it
does not replay: the encoding drifted from the concrete semantics), and
turned into the same :class:`checker.traces.trace.Trace` the explicit engine builds.

A property not violated by depth ``K`` is inconclusive ("bounded to depth
K"), unless no path of ``d`` steps exists at all for some ``d <= K``: then
every reachable state was checked and, with no capacity hit, the property
holds.  That question is asked at depths 1, 2, 4, 8, ... only (it costs a
query as hard as the check itself).
``Stats.states`` is 0 (BMC does not enumerate states); ``Stats.transitions``
counts solver queries; ``Stats.max_depth`` is the deepest depth checked.

Liveness properties are checked on the same unrolling and solver by
:class:`checker.engines.symbolic.lasso.LassoSearch`: at each depth ``K``, a fair lasso of
``K`` steps violating one of them ("violated", with the fewest steps), else
"inconclusive" ("no fair lasso within depth K"); like invariants, they hold
only when no path makes ``K`` steps.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal

from checker.engines.base import EngineRequest, Progress, PropertyResult, RunResult, Stats
from checker.engines.symbolic.bounded import BoundedSearch
from checker.engines.symbolic.lasso import LassoSearch
from checker.engines.symbolic.layout import bmc_uses_arrays
from checker.engines.symbolic.lift import Lifter
from checker.engines.symbolic.limits import (
    GAVE_UP,
    SolverGaveUp,
    gave_up,
    memory_limit,
    one_line,
)
from checker.engines.symbolic.unroll import (
    StepTemplate,
    internal_errors,
)
from checker.lang.fairness import Fair
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.traces.trace import Trace


def stop_reason(why: SolverGaveUp, time_limit: float | None) -> str:
    """Why a search stopped early, as a bound name."""
    if why.by_time_limit and time_limit is not None:
        return f"time limit {time_limit:g}s"
    if why.by_memory_limit:
        return str(why)
    return f"Z3 returned unknown ({one_line(str(why))})"


def capacity_note(capacity: Sequence[str]) -> str:
    """The reason suffix naming capacities a search could reach."""
    if not capacity:
        return ""
    return "; model capacity reachable: " + ", ".join(sorted(capacity))


def run_bmc(
    model: Model,
    properties: list[Property],
    depth: int,
    progress: Progress | None = None,
    time_limit: float | None = None,
    bitvectors: bool = True,
    fairness: Sequence[Fair] | None = None,
    arrays: bool | None = None,
    grouped: bool | None = None,
    lift_from: int | None = None,
    counted_from: float | None = None,
) -> RunResult:
    """Check ``properties`` on every path of at most ``depth`` steps (``bitvectors``:
    the int sort, see :class:`checker.engines.symbolic.unroll.StepTemplate`; ``arrays``:
    model arrays as Z3 arrays, by default when the model's arrays are large, see
    :func:`checker.engines.symbolic.layout.bmc_uses_arrays`; ``grouped``: each
    parameterised action run once on symbolic arguments, by default with the array
    layout, see :mod:`checker.engines.symbolic.groups`).  Liveness properties
    are checked by fair-lasso search (:mod:`checker.engines.symbolic.lasso`) on the same
    unrolling, under ``fairness`` (default: ``model.fairness()``).  With ``lift_from``,
    violations are first looked for along the actions of the explicit engine's
    counterexamples at that ring size (:mod:`checker.engines.symbolic.lift`).
    ``time_limit`` counts from ``counted_from`` (a ``time.monotonic()`` instant; default:
    now), so that a run's preparation counts too (``Limits.counted_from``)."""
    start = time.monotonic()
    deadline = None if time_limit is None else (counted_from or start) + time_limit
    stats = Stats()
    traces: dict[str, Trace] = {}
    pending = [p for p in properties if not p.is_liveness]
    stop: str | None = None
    exhausted = False
    lifter = None if lift_from is None else Lifter(model, lift_from, deadline)
    try:
        use_arrays = bmc_uses_arrays(model) if arrays is None else arrays
        template = StepTemplate(model, bitvectors, deadline, arrays=use_arrays,
                                grouped=use_arrays if grouped is None else grouped)
    except GAVE_UP as err:
        return timed_out_building(properties, time.monotonic() - start, gave_up(err), time_limit, "bmc")
    search = BoundedSearch(model, deadline, template)
    fair = list(model.fairness() if fairness is None else fairness)
    lassos = LassoSearch(model, search.u, search.query,
                         [p for p in properties if p.is_liveness], fair, deadline)
    lifting = Stats()  # its queries count into the run's
    try:
        if lifter is not None:
            lifting.seconds = time.monotonic() - start
            lifter.run(properties, fair, lambda: BoundedSearch(model, deadline, template),
                       lifting, traces, progress)
            pending = [p for p in pending if p.name not in traces]
            lassos.found.update({n: t for n, t in traces.items() if t.loop is not None})
        while True:
            traces.update(search.check_depth(pending))
            pending = [p for p in pending if p.name not in traces]
            traces.update(lassos.check(search.depth))
            stats.max_depth = search.depth
            stats.seconds = time.monotonic() - start
            stats.transitions = lifting.transitions + search.queries
            if progress is not None:
                progress(stats)
            if not (pending or lassos.pending) or search.depth >= depth:
                break
            search.extend()
            # Whether any path still makes ``depth`` steps: asked at powers of two only
            # (it costs a query as hard as the check itself; a later answer proves as much).
            d = search.depth
            if d & (d - 1) == 0 and not search.path_exists():
                exhausted = True
                break
    except GAVE_UP as err:
        stop = stop_reason(gave_up(err), time_limit)
        for name, trace in search.found.items():  # found at the depth the limit cut
            traces.setdefault(name, trace)
    stats.seconds = time.monotonic() - start
    stats.transitions = lifting.transitions + search.queries
    complete = exhausted and not search.capacity
    open_ = bool(pending or lassos.pending)
    bounds = [stop] if stop else [f"depth {depth}"] if open_ and not exhausted else []
    bounds += [f"model capacity: {what}" for what in sorted(search.capacity)]
    results = []
    for prop in properties:
        if prop.name in traces:
            results.append(PropertyResult(prop.name, "violated", traces[prop.name]))
        elif complete:
            results.append(PropertyResult(prop.name, "holds"))
        else:
            reason = _unresolved(prop, stats.max_depth, stop, exhausted, search)
            results.append(PropertyResult(prop.name, "inconclusive", reason=reason))
    return RunResult("bmc", complete, stats, results, bounds)


def timed_out_building(
    properties: Sequence[Property], seconds: float, why: SolverGaveUp, time_limit: float | None,
    engine: str,
) -> RunResult:
    """Every property inconclusive: the limit ran out while the step was being built."""
    stop = stop_reason(why, time_limit)
    reason = f"nothing checked: {stop} ran out while building the transition formulas"
    return RunResult(engine, False, Stats(seconds=seconds),
                     [PropertyResult(p.name, "inconclusive", reason=reason) for p in properties],
                     [stop])


def _unresolved(
    prop: Property, depth: int, stop: str | None, exhausted: bool, search: BoundedSearch
) -> str:
    """Why ``prop`` is neither violated nor proved after checking up to ``depth``."""
    if prop.is_liveness:
        reason = f"no fair lasso within depth {depth}"
    else:
        reason = f"bounded to depth {depth}"
    if stop is not None:
        reason += f" ({stop})"
    elif exhausted:
        reason = f"no path longer than {search.depth - 1} steps"
    return reason + capacity_note(search.capacity)


class BmcEngine:
    """Z3 bounded model checking up to --depth steps (shortest violations)."""

    name = "bmc"
    description = "Z3 bounded model checking up to --depth steps (shortest violations)"
    options = frozenset({"depth", "lift_from", "memory_limit"})
    progress_unit: Literal["states", "depth"] = "depth"

    def run(self, request: EngineRequest) -> RunResult:
        """Run on ``request.model`` to depth ``request.depth`` (20 when unset), first
        lifting counterexamples from ring size ``request.lift_from`` when set."""
        with internal_errors(self.name), memory_limit(request.limits.memory_limit):
            return run_bmc(request.model, list(request.properties), request.depth or 20,
                           progress=request.progress, time_limit=request.limits.time_limit,
                           counted_from=request.limits.counted_from,
                           lift_from=request.lift_from)


ENGINE = BmcEngine()
