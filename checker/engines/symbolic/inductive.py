"""``--engine inductive``: is each property, with its lemmas, an inductive invariant?

The question Apalache's ``--inductive`` check and k-induction at k = 1 ask, built for
large rings: the invariant (the properties, the ``--strengthen`` lemmas, and "no
step hits a model capacity or writes outside a type") must hold in the initial state
(Z3 on the constants pinned to it) and be kept by every step from every typed state
satisfying it, asked one action at a time with arrays as Z3 arrays and each
``s.every`` a quantifier grounded on demand (:mod:`checker.engines.symbolic.
groundstep`).  Nothing in the step grows with the ring but the arrays' contents, so
the kernel's constants (``--ring-size 256 --uio-maxiov 1024 --max-pend 128``) are
accepted; whether each query settles is another matter (docs/engines.md,
"inductive").

Verdicts: a property violated in the initial state is ``violated`` (a trace of no
step); every property ``holds`` when every action closes (the invariant is written
out, with each action's answer) and, where no array has more than
:data:`.recheck.FLAT_RECHECK_UP_TO` elements, the invariant passes an independent
re-check on the flat encoding (:func:`.recheck.recheck_properties`; failing it is an
internal error, never a verdict); otherwise every property is ``inconclusive``: with
the counterexample to induction (replayed concretely: a state satisfying the
invariant and the action that breaks it, maybe unreachable) or with the actions left
open and why.  ``Stats.transitions`` counts the solver queries (one per changed
conjunct, refinement round, case split and second solver), ``max_depth`` is 1 once
every action was asked, ``states`` 0.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from typing import Literal

from checker.engines.base import (
    EngineRequest,
    Progress,
    PropertyResult,
    RunResult,
    Stats,
    announce,
)
from checker.engines.symbolic.bmc import stop_reason, timed_out_building
from checker.engines.symbolic.groundstep import ActionOutcome, BrokenByStep, GroundedStep
from checker.engines.symbolic.kinduction import (
    KindPropertyResult,
    refuse_liveness_lemmas,
)
from checker.engines.symbolic.limits import GAVE_UP, gave_up, memory_limit
from checker.engines.symbolic.recheck import (
    FLAT_RECHECK_UP_TO,
    flat_recheck_applies,
    recheck_properties,
)
from checker.engines.symbolic.unroll import SymbolicEngineError, internal_errors
from checker.lang.model import Model, source_location
from checker.lang.spec import Property
from checker.semantics.states import as_dict, initial_state
from checker.traces.cti import cti_text
from checker.traces.trace import build_trace

PROGRESS_EVERY = 30.0
"""Seconds between two progress lines while every action closes (an action that does
not close is reported at once)."""

LIVENESS_REASON = "the inductive engine checks invariants only; use --engine explicit or bmc"


def run_inductive(model: Model, properties: list[Property],
                  strengthening: Sequence[Property] = (), progress: Progress | None = None,
                  time_limit: float | None = None,
                  counted_from: float | None = None,
                  query_limit: float | None = None) -> RunResult:
    """Check that ``properties`` and ``strengthening`` together are an inductive
    invariant of ``model`` (module docstring), each solver query capped at
    ``query_limit`` seconds (``None``: until the time limit)."""
    refuse_liveness_lemmas(strengthening)
    start = time.monotonic()
    deadline = None if time_limit is None else (counted_from or start) + time_limit
    checked = [p for p in properties if not p.is_liveness]
    stats = Stats()
    results: dict[str, PropertyResult] = {
        p.name: KindPropertyResult(p.name, "inconclusive", reason=LIVENESS_REASON)
        for p in properties if p.is_liveness}
    invariant = [*checked, *strengthening]
    if not checked:
        return _finish(model, properties, results, [], stats, start, "", [])
    try:
        step = GroundedStep(model, invariant, deadline, query_limit=query_limit)
        init = initial_state(model)
        false_at_init, _ = step.false_parts(init)
    except GAVE_UP as err:
        return timed_out_building(properties, time.monotonic() - start, gave_up(err),
                                  time_limit, "inductive")
    lemma_names = {p.name for p in strengthening}
    lemmas_false = [name for name in false_at_init if name in lemma_names]
    for name in false_at_init:
        if name not in lemma_names:
            trace = build_trace(model, name, init, [], "violated in the initial state")
            results[name] = KindPropertyResult(name, "violated", trace, k=0)
    pending = [p for p in checked if p.name not in results]
    if lemmas_false:
        why = (f"strengthening invariant {', '.join(lemmas_false)} is false in the initial "
               "state: it cannot support a proof")
        return _finish(model, properties, results, pending, stats, start, why,
                       ["strengthening invariant violated: " + ", ".join(lemmas_false)])
    if not pending:
        return _finish(model, properties, results, [], stats, start, "", [])
    last = [start]

    def done(outcome: ActionOutcome, i: int, total: int) -> None:
        stats.transitions += outcome.queries
        now = time.monotonic()
        if outcome.answer == "closed" and now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        say = f"{outcome.answer}" + (f": {outcome.why}" if outcome.why else "")
        announce(stats, progress, start, f"inductive: {i} of {total} actions asked, "
                 f"{outcome.action} {say} ({outcome.seconds:.1f}s)")

    stop = ""
    try:
        outcomes, cti = step.check(deadline, done)
    except GAVE_UP as err:
        stop = stop_reason(gave_up(err), time_limit)
        outcomes, cti = step.answered, None
    asked = {o.action for o in outcomes}
    unasked = [a for a in step.actions if a not in asked]
    opened = [o for o in outcomes if o.answer == "open"]
    stats.max_depth = 0 if unasked else 1
    if cti is None and not opened and not unasked:
        try:
            rechecked = _recheck(model, pending, strengthening, deadline, stats, progress, start)
        except GAVE_UP as err:
            stop = stop_reason(gave_up(err), time_limit)
            why = f"every action closes, but the invariant's independent re-check was cut ({stop})"
            return _finish(model, properties, results, pending, stats, start, why, [stop])
        text = invariant_text(model, pending, strengthening, outcomes) + rechecked + "\n"
        for p in pending:
            results[p.name] = KindPropertyResult(p.name, "holds", k=1,
                                                 evidence={"invariant.txt": text})
        return _finish(model, properties, results, [], stats, start, "", [])
    if cti is not None:
        why, bounds = "", ["counterexample to induction"]
    else:
        why = "; ".join(filter(None, [
            _open_reason(opened),
            f"{len(unasked)} of {len(step.actions)} actions not asked ({stop})" if unasked
            else ""]))
        bounds = [b for b in (stop, "step case open: " + ", ".join(o.action for o in opened)
                              if opened else "") if b]
    out = _finish(model, properties, results, pending, stats, start, why, bounds)
    if cti is not None:
        _attach_cti(model, out, cti, {p.name for p in pending})
    return out


def _recheck(model: Model, props: Sequence[Property], strengthening: Sequence[Property],
             deadline: float | None, stats: Stats, progress: Progress | None,
             start: float) -> str:
    """Re-check the proved invariant on the flat encoding (:func:`.recheck.
    recheck_properties`) where the arrays allow it; the invariant file's line saying
    what was done.  A failed re-check is a bug in vhostmc: it raises."""
    if not flat_recheck_applies(model):
        return (f"# not re-checked on the flat encoding: an array has more than "
                f"{FLAT_RECHECK_UP_TO} elements (the per-action queries above are the proof)")
    announce(stats, progress, start, "inductive: every action closes; re-checking the "
             "invariant on the flat encoding with fresh solvers")
    began = time.monotonic()
    failure = recheck_properties(model, [*props, *strengthening], props, deadline)
    if failure is not None:
        raise SymbolicEngineError(f"inductive: the invariant proved fails its independent "
                                  f"re-check on the flat encoding ({failure})")
    return ("# re-checked on the flat encoding by fresh solvers (initiation, consecution "
            "per action instance, implies the properties and safe): passed in "
            f"{time.monotonic() - began:.1f}s")


def _finish(model: Model, properties: Sequence[Property], results: dict[str, PropertyResult],
            pending: Sequence[Property], stats: Stats, start: float, why: str,
            bounds: list[str]) -> RunResult:
    """The run's result: ``results``, and every ``pending`` property inconclusive for
    ``why``."""
    for p in pending:
        results[p.name] = KindPropertyResult(p.name, "inconclusive", reason=why, k=1)
    stats.seconds = time.monotonic() - start
    out = [results[p.name] for p in properties]
    complete = all(r.status != "inconclusive" for r in out)
    return RunResult("inductive", complete, stats, out, bounds)


def _cti_reason(cti: BrokenByStep, name: str) -> str:
    return (f"step case fails: {cti.instance.label} breaks {cti.broken} from a state "
            "where the invariant held (maybe unreachable; counterexample to induction "
            f"in {name}.cti.txt)")


def _open_reason(opened: Sequence[ActionOutcome]) -> str:
    if not opened:
        return ""
    listed = "; ".join(f"{o.action}: {o.why}" for o in opened)
    return f"the step case is open for {len(opened)} action(s): {listed}"


def _attach_cti(model: Model, run: RunResult, cti: BrokenByStep, names: set[str]) -> None:
    """Give each inconclusive property in ``names`` the counterexample to induction."""
    states = [as_dict(model, cti.before)]
    if cti.after is not None:
        states.append(as_dict(model, cti.after))
    actions = [cti.instance.label] if cti.after is not None else []
    for r in run.properties:
        if r.name in names and isinstance(r, KindPropertyResult):
            r.reason = _cti_reason(cti, r.name)
            r.cti, r.cti_actions = states, actions
            r.evidence = {"cti.txt": cti_text(model.presentation, r.name, states,
                                              actions or [cti.instance.label], cti.broken)}


def invariant_text(model: Model, props: Sequence[Property], strengthening: Sequence[Property],
                   outcomes: Sequence[ActionOutcome]) -> str:
    """The invariant proved, one conjunct a line, then how each action was closed."""
    params = ", ".join(f"{key}={v}" for key, v in model.p.as_dict().items())
    names = ", ".join(p.name for p in props)
    lines = [f"# Inductive invariant proving {names} on revision {model.name}",
             f"# parameters: {params}",
             ("# it holds in the initial state, and every step from a typed state satisfying "
              "it reaches a state satisfying it (queries per action and conjunct; s.every "
              "grounded: unsat on a weaker premise)"),
             *(f"{p.name}  (the property itself): {p.statement}" for p in props),
             *(f"{s.name}  ({source_location(inspect.unwrap(s.predicate))}): {s.statement}"
               for s in strengthening),
             "safe: no step hits a model capacity or writes outside a type",
             ("# action: solver queries (one per part of the invariant it changes, per "
              "refinement round and per case split), positions refinement added, seconds"),
             *(f"#   {o.action}: {o.queries}, {o.positions}, {o.seconds:.2f}" for o in outcomes)]
    return "\n".join(lines) + "\n"


class InductiveEngine:
    """Z3: the properties and --strengthen lemmas as an inductive invariant, asked per
    action and changed conjunct, arrays as Z3 arrays and s.every grounded (large rings)."""

    name = "inductive"
    description = ("Z3: are the properties, with the --strengthen lemmas, an inductive "
                   "invariant? Asked per action and changed conjunct, arrays as Z3 arrays, "
                   "s.every grounded on demand (for large ring sizes)")
    options = frozenset({"strengthen", "memory_limit", "query_limit"})
    progress_unit: Literal["states", "depth"] = "depth"

    def run(self, request: EngineRequest) -> RunResult:
        """Check on ``request.model`` (``request.depth`` is not used)."""
        with internal_errors(self.name), memory_limit(request.limits.memory_limit):
            return run_inductive(request.model, list(request.properties),
                                 strengthening=request.strengthen, progress=request.progress,
                                 time_limit=request.limits.time_limit,
                                 counted_from=request.limits.counted_from,
                                 query_limit=request.query_limit)


ENGINE = InductiveEngine()
