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

import z3

from checker.engines.base import EngineRequest, Progress, PropertyResult, RunResult, Stats
from checker.engines.symbolic.lasso import LassoSearch
from checker.engines.symbolic.layout import bmc_uses_arrays
from checker.engines.symbolic.lift import Lifter
from checker.engines.symbolic.limits import SolverGaveUp, one_line, pass_on_interrupt
from checker.engines.symbolic.unroll import (
    EncodingError,
    StepTemplate,
    Unrolling,
    internal_errors,
    model_bug,
    replay,
    violation_trace,
)
from checker.lang.fairness import Fair
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.lang.view import ModelBug
from checker.semantics.states import expand, initial_state
from checker.traces.trace import Trace


def new_solver(ctx: z3.Context | None = None) -> z3.Solver:
    """A finite-domain solver (in ``ctx``, default: Z3's main context): every int is
    bounded, so Z3 bit-blasts to SAT (more than an order of magnitude faster here than
    its arithmetic solver)."""
    return z3.SolverFor("QF_FD", ctx=ctx)


def new_array_solver() -> z3.Solver:
    """Z3's SMT core for bit-vectors and arrays (the finite-domain solver rejects
    array terms), for :class:`checker.engines.symbolic.layout.ArrayLayout`, behind
    simplification and equation solving: the unrolling's next-state equations are
    substituted away before the core sees them.  Measured on the v3.1 data path
    (``bench/bmc.py``): depth 6 instead of 3 at ring sizes 8 and 16 within 60 s
    (``SolverFor("QF_ABV")`` spends a minute on depth 4).  The first simplification
    also rewrites a ``Select`` over ``Store`` and ``If`` terms into ``If`` terms over
    elements (``blast_select_store``, ``expand_select_ite``): one depth more at ring
    sizes 8, 16 and 256 within 60 s (docs/engines.md, "Arrays")."""
    return z3.Then(z3.With("simplify", blast_select_store=True, expand_select_ite=True),
                   "solve-eqs", "smt").solver()


def solve(
    solver: z3.Solver, left: float | None, *assumptions: z3.BoolRef
) -> z3.ModelRef | None:
    """A model of ``solver`` under ``assumptions``, ``None`` when unsat; raises
    :class:`SolverGaveUp` on ``unknown`` or when ``left`` seconds are used up."""
    if left is not None:
        if left <= 0:
            raise SolverGaveUp("time limit")
        solver.set("timeout", max(1, int(left * 1000)))
    result = solver.check(*assumptions)
    if result == z3.unknown:
        why = solver.reason_unknown()
        pass_on_interrupt(why)
        timed_out = left is not None and ("cancel" in why or "timeout" in why)
        raise SolverGaveUp("time limit" if timed_out else why)
    return solver.model() if result == z3.sat else None


class BoundedSearch:
    """The incremental BMC unrolling: check the current depth, then extend it."""

    def __init__(
        self, model: Model, deadline: float | None = None, template: StepTemplate | None = None
    ) -> None:
        self.model = model
        self.u = Unrolling(model, template=template)
        self.arrays = self.u.t.layout.arrays
        self.solver = new_array_solver() if self.arrays else new_solver()
        self.solver.add(self.u.initial(0))
        self.solver.add(self.u.ranges(0, elements=not self.arrays))
        self.depth = 0
        self.unrolled = 0
        self.queries = 0
        self.capacity: list[str] = []
        self.deadline = deadline
        self._holds: dict[tuple[int, str], z3.BoolRef] = {}

    def holds_at(self, k: int, prop: Property) -> z3.BoolRef:
        """``prop`` at step ``k`` (cached)."""
        key = (k, prop.name)
        if key not in self._holds:
            self._holds[key] = self.u.holds(k, prop)
        return self._holds[key]

    def remaining(self) -> float | None:
        """Seconds left before the deadline (``None``: no deadline)."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def query(self, *extra: z3.BoolRef) -> z3.ModelRef | None:
        """A model of the unrolling (transitions up to the current depth) plus
        ``extra``, or ``None`` when unsat."""
        while self.unrolled <= self.depth:
            # Array elements need no type constraint: every state here is reached from
            # the concrete initial state by exact steps, and a step that would write
            # outside a type is found by check_depth first (a model bug).
            self.solver.add(*self.u.transition(self.unrolled, halt=True,
                                               elements=not self.arrays))
            self.unrolled += 1
        self.queries += 1
        if not extra:
            return solve(self.solver, self.remaining())
        # An activation literal instead of push/pop: popping makes the
        # finite-domain solver preprocess every assertion again.
        lit = z3.Bool(f"query#{self.queries}")
        self.solver.add(z3.Implies(lit, z3.And(*extra)))
        try:
            return solve(self.solver, self.remaining(), lit)
        finally:
            self.solver.add(z3.Not(lit))

    def check_depth(self, props: Sequence[Property]) -> dict[str, Trace]:
        """One query (repeated while sat) at the current depth: which of ``props``
        step ``depth`` can violate (returned, with traces), which model
        capacities a step from it can hit (added to ``capacity``), and whether a
        step from it can write outside a type (the concrete ``ModelBug`` is raised)."""
        d = self.depth
        found: dict[str, Trace] = {}
        pending = list(props)
        hits = {w: c for w, c in self.u.capacity_hits(d).items() if w not in self.capacity}
        errors = self.u.type_errors(d)
        while True:
            goals = z3.Or(*(z3.Not(self.holds_at(d, p)) for p in pending), *hits.values(),
                          *(c for _, c in errors))
            m = self.query(goals)
            if m is None:
                # Redundant (the unrolling already implies it), but a hint to the
                # solver at every later depth: step d violates nothing left.
                self.solver.add(z3.Not(goals))
                return found
            for inst, cond in errors:
                if z3.is_true(m.eval(cond, model_completion=True)):
                    first, path = self.u.decode_path(m, d)
                    replay(self.model, first, path)
                    raise model_bug(self.model, inst, path[-1][1] if path else first)
            for prop in list(pending):
                if z3.is_false(m.eval(self.holds_at(d, prop), model_completion=True)):
                    found[prop.name] = self.trace(m, prop)
                    pending.remove(prop)
            for what, cond in list(hits.items()):
                if z3.is_true(m.eval(cond, model_completion=True)):
                    self.capacity.append(what)
                    del hits[what]

    def trace(self, m: z3.ModelRef, prop: Property) -> Trace:
        """The path of ``m`` as a checked trace violating ``prop``."""
        first, path = self.u.decode_path(m, self.depth)
        replay(self.model, first, path)
        trace = violation_trace(self.model, prop, first, path)
        if trace is None:
            raise EncodingError(f"decoded trace ends in a state where {prop.name} holds")
        return trace

    def path_exists(self) -> bool:
        """Whether some path makes ``depth`` steps without halting (if not, every
        reachable state is within ``depth - 1`` steps: all are checked).  A path
        found by running the model concretely answers yes without the solver
        (for which this satisfiable query can be the hardest of all)."""
        if self.depth == 0 or concrete_path(self.model, self.depth):
            return True
        return self.query(self.u.moves(self.depth - 1)) is not None

    def extend(self) -> None:
        """Go one step deeper."""
        self.depth += 1


CONCRETE_PATH_BUDGET = 2_000
"""States :func:`concrete_path` expands at most before leaving the question to Z3."""


def concrete_path(model: Model, length: int) -> bool:
    """Whether a depth-first run of the concrete model from its initial state
    finds a path of ``length`` steps within :data:`CONCRETE_PATH_BUDGET`
    expansions (``False`` also means "not found in budget", never "none")."""
    budget = CONCRETE_PATH_BUDGET
    stack = [(initial_state(model), 0)]
    while stack and budget > 0:
        state, depth = stack.pop()
        if depth == length:
            return True
        budget -= 1
        try:
            successors = expand(model, state, compiled=False).successors
        except ModelBug:
            continue  # the unrolling excludes that step too
        stack.extend((nxt, depth + 1) for _, nxt in reversed(successors))
    return False


def stop_reason(why: SolverGaveUp, time_limit: float | None) -> str:
    """Why a search stopped early, as a bound name."""
    if str(why) == "time limit" and time_limit is not None:
        return f"time limit {time_limit:g}s"
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
    counterexamples at that ring size (:mod:`checker.engines.symbolic.lift`)."""
    start = time.monotonic()
    deadline = None if time_limit is None else start + time_limit
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
    except SolverGaveUp as why:
        return timed_out_building(properties, time.monotonic() - start, why, time_limit, "bmc")
    search = BoundedSearch(model, deadline, template)
    fair = list(model.fairness() if fairness is None else fairness)
    lassos = LassoSearch(model, search.u, search.query,
                         [p for p in properties if p.is_liveness], fair, deadline)
    lifting = Stats()  # its queries count into the run's
    try:
        if lifter is not None:
            lifting.seconds = time.monotonic() - start
            traces.update(lifter.run(properties, fair,
                                     lambda: BoundedSearch(model, deadline, template),
                                     lifting, progress))
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
    except SolverGaveUp as why:
        stop = stop_reason(why, time_limit)
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
    options = frozenset({"depth", "lift_from"})
    progress_unit: Literal["states", "depth"] = "depth"

    def run(self, request: EngineRequest) -> RunResult:
        """Run on ``request.model`` to depth ``request.depth`` (20 when unset), first
        lifting counterexamples from ring size ``request.lift_from`` when set."""
        with internal_errors(self.name):
            return run_bmc(request.model, list(request.properties), request.depth or 20,
                           progress=request.progress, time_limit=request.limits.time_limit,
                           lift_from=request.lift_from)


ENGINE = BmcEngine()
