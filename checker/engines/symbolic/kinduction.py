"""k-induction with Z3: proofs that a property holds in every reachable state.

For each ``k = 1, 2, ... max_k`` two questions are asked.

*Base case*: is the property violated on some path of ``k - 1`` steps from
the initial state?  This is the incremental BMC of :mod:`checker.engines.symbolic.bmc` (a
violation there is a real, replayed, shortest counterexample).

*Step case*: are there ``k + 1`` consecutive states ``s0 .. sk`` of the
model (pairwise distinct, constrained only by the variable types and the
transition relation, not by the initial state) such that the invariant
holds in ``s0 .. s(k-1)`` and fails in ``sk``?  If not, and the base case
is clean up to ``k - 1``, the invariant holds in every reachable state.

The invariant proved for a property ``P`` is ``P`` *and* every
strengthening property *and* "no model capacity is hit, no write leaves
its type".  The strengthening properties are thus proved, not trusted, and
a proof never rests on a capacity bound silently cutting behaviour: if a
capacity is reachable (found by the base case) nothing is reported to hold,
as with the explicit engine.  When the step case stays satisfiable up to
``max_k`` the property is inconclusive and the result keeps the
counterexample to induction (``KindPropertyResult.cti``).

``Stats.max_depth`` is the last ``k`` tried, ``Stats.transitions`` the
solver queries of both cases, ``Stats.states`` 0.

Only invariants are checked: liveness properties come back inconclusive
(:data:`LIVENESS_REASON`), and cannot be strengthening properties.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from checker.engines.base import (
    EngineRequest,
    Progress,
    PropertyResult,
    RunResult,
    Stats,
    announce,
)
from checker.engines.symbolic.bmc import capacity_note, stop_reason, timed_out_building
from checker.engines.symbolic.bounded import BoundedSearch
from checker.engines.symbolic.limits import GAVE_UP, gave_up, memory_limit
from checker.engines.symbolic.stepcase import StepCase
from checker.engines.symbolic.unroll import StepTemplate, internal_errors
from checker.lang.model import Model, ModelError, source_location
from checker.lang.spec import Property
from checker.traces.cti import cti_text


@dataclass
class KindPropertyResult(PropertyResult):
    """A :class:`PropertyResult` with the step case's counterexample to induction.

    ``cti`` is the states ``s0 .. sk`` (as :func:`checker.semantics.states.as_dict`
    dicts) of the last failed step case; ``cti_actions`` the instance
    labels fired between them; ``k`` the induction depth of the proof or
    of the last attempt.
    """

    cti: list[dict[str, Any]] | None = None
    cti_actions: list[str] | None = None
    k: int | None = None
    evidence: dict[str, str] = field(default_factory=dict)
    """Text files for ``--out`` (``cti.txt``: the counterexample to induction)."""


def run_kind(
    model: Model,
    properties: list[Property],
    max_k: int,
    strengthening: Sequence[Property] = (),
    progress: Progress | None = None,
    simple_path: bool = True,
    time_limit: float | None = None,
    bitvectors: bool = True,
    counted_from: float | None = None,
) -> RunResult:
    """Try to prove each of ``properties`` by k-induction, for k up to ``max_k``
    (``bitvectors``: see :class:`checker.engines.symbolic.unroll.StepTemplate`).  Liveness
    properties are not checked: they come back inconclusive (:data:`LIVENESS_REASON`)."""
    live = [p for p in properties if p.is_liveness]
    refuse_liveness_lemmas(strengthening)
    if live:
        invariants = [p for p in properties if not p.is_liveness]
        run = run_kind(model, invariants, max_k, strengthening, progress, simple_path,
                       time_limit, bitvectors, counted_from) if invariants \
            else RunResult("kind", True, Stats(), [])
        return _with_liveness_skipped(run, properties)
    start = time.monotonic()
    deadline = None if time_limit is None else (counted_from or start) + time_limit
    try:
        template = StepTemplate(model, bitvectors, deadline)
    except GAVE_UP as err:
        return timed_out_building(properties, time.monotonic() - start, gave_up(err), time_limit, "kind")
    base = BoundedSearch(model, deadline, template)
    step = StepCase(model, template, properties, strengthening, simple_path)
    stats = Stats()
    step.announce = lambda phase: announce(stats, progress, start, phase)
    results: dict[str, KindPropertyResult] = {}
    ctis: dict[str, tuple[list[dict[str, Any]], list[str], str]] = {}
    lemma_broken: str | None = None
    stop: str | None = None
    k = 0
    try:
        for k in range(1, max_k + 1):
            if k > 1:
                base.extend()
            pending = [p for p in properties if p.name not in results]
            found = base.check_depth([*pending, *strengthening])
            for name, trace in found.items():
                if name in {p.name for p in pending}:
                    results[name] = KindPropertyResult(name, "violated", trace, k=k)
            bad_lemmas = sorted(set(found) & {s.name for s in strengthening})
            if bad_lemmas:
                lemma_broken = ", ".join(bad_lemmas)
                break
            # With a capacity reachable nothing can hold: only the base case goes on.
            while not base.capacity and step.k < k:
                step.extend()
            open_props = [p for p in properties if p.name not in results and not base.capacity]
            if k == 1 and len(open_props) > 1 and step.inductive_together(
                    open_props, base.remaining()):
                for prop in open_props:  # one invariant for all: one step case, not one each
                    text = proof_text(model, prop, strengthening, k, open_props)
                    results[prop.name] = KindPropertyResult(
                        prop.name, "holds", k=k, evidence={"invariant.txt": text})
                open_props = []
            for prop in open_props:
                cti = step.check(prop, base.remaining())
                if cti is None:
                    text = proof_text(model, prop, strengthening, k)
                    results[prop.name] = KindPropertyResult(
                        prop.name, "holds", k=k, evidence={"invariant.txt": text})
                else:
                    ctis[prop.name] = cti
            stats.max_depth = k
            stats.seconds = time.monotonic() - start
            stats.transitions = base.queries + step.queries
            if progress is not None:
                progress(stats)
            if len(results) == len(properties):
                break
    except GAVE_UP as err:
        stop = stop_reason(gave_up(err), time_limit)
        for prop in properties:  # found at the depth the limit cut
            if prop.name in base.found and prop.name not in results:
                results[prop.name] = KindPropertyResult(prop.name, "violated",
                                                        base.found[prop.name], k=k)
    stats.seconds = time.monotonic() - start
    stats.transitions = base.queries + step.queries
    bounds = [stop] if stop else []
    if lemma_broken:
        bounds.append(f"strengthening invariant violated: {lemma_broken}")
    elif len(results) < len(properties) and not stop:
        bounds.append(f"k {stats.max_depth}")
    bounds += [f"model capacity: {what}" for what in sorted(base.capacity)]
    out: list[PropertyResult] = []
    for prop in properties:
        if prop.name in results:
            out.append(results[prop.name])
            continue
        out.append(_inconclusive(model, prop, stats.max_depth, ctis.get(prop.name),
                                 lemma_broken, stop, base.capacity))
    complete = all(r.status != "inconclusive" for r in out)
    return RunResult("kind", complete, stats, out, bounds)


def refuse_liveness_lemmas(strengthening: Sequence[Property]) -> None:
    """Raise :class:`ModelError` naming the liveness properties among ``strengthening``."""
    bad = [p.name for p in strengthening if p.is_liveness]
    if bad:
        raise ModelError(f"a liveness property cannot strengthen an invariant: {', '.join(bad)}")


LIVENESS_REASON = "k-induction checks invariants only; use --engine explicit or bmc for liveness"


def _with_liveness_skipped(run: RunResult, properties: Sequence[Property]) -> RunResult:
    """``run`` (over the invariants of ``properties``) with every liveness property
    added, in order, as inconclusive."""
    done = {r.name: r for r in run.properties}
    out = [done[p.name] if p.name in done
           else KindPropertyResult(p.name, "inconclusive", reason=LIVENESS_REASON)
           for p in properties]
    return RunResult("kind", False, run.stats, out, run.bounds_hit)


def _inconclusive(
    model: Model,
    prop: Property,
    k: int,
    cti: tuple[list[dict[str, Any]], list[str], str] | None,
    lemma_broken: str | None,
    stop: str | None,
    capacity: Sequence[str],
) -> KindPropertyResult:
    """The result of a property k-induction neither proved nor refuted."""
    if lemma_broken:
        reason = f"strengthening invariant {lemma_broken} is violated: it cannot support a proof"
    else:
        reason = f"k-induction reached k={k}: no counterexample within {max(k - 1, 0)} steps"
        if cti is not None:
            _, actions, broken = cti
            reason += (
                f"; step case fails: {broken} breaks after {' -> '.join(actions)} "
                "from states where the invariant held (maybe unreachable; "
                f"counterexample to induction in {prop.name}.cti.txt)"
            )
    if stop:
        reason += f" ({stop})"
    reason += capacity_note(capacity)
    result = KindPropertyResult(prop.name, "inconclusive", reason=reason, k=k)
    if cti is not None:
        result.cti, result.cti_actions = cti[0], cti[1]
        result.evidence = {"cti.txt": cti_text(model.presentation, prop.name, *cti)}
    return result


def proof_text(model: Model, prop: Property, strengthening: Sequence[Property], k: int,
               together: Sequence[Property] = ()) -> str:
    """The invariant a k-induction proof of ``prop`` established, one conjunct a line
    with its statement (and, for a strengthening property, where it is declared);
    ``together``: the properties proved at once with it (``prop`` among them)."""
    params = ", ".join(f"{key}={v}" for key, v in model.p.as_dict().items())
    how = ("inductive: it holds in the initial state, and every step from a typed state "
           "satisfying it reaches a state satisfying it (one query per action instance "
           "on what the instance can change)" if k == 1 else
           f"{k}-inductive over simple paths: it holds in every state within {k - 1} steps "
           f"of the initial one, and {k} consecutive distinct states satisfying it are "
           "followed only by one satisfying it")
    lines = [f"# Invariant proving {prop.name} on revision {model.name}",
             f"# parameters: {params}",
             f"# k-induction at k = {k}; the conjunction of the lines below is {how}.",
             f"{prop.name}  (the property itself): {prop.statement}",
             *(f"{p.name}  (a property proved with it): {p.statement}"
               for p in together if p is not prop),
             *(f"{s.name}  ({source_location(inspect.unwrap(s.predicate))}): {s.statement}"
               for s in strengthening),
             "safe: no step hits a model capacity or writes outside a type"]
    return "\n".join(lines) + "\n"


class KInductionEngine:
    """Z3 k-induction up to k = --depth (proofs; --strengthen adds invariants)."""

    name = "kind"
    description = "Z3 k-induction up to k = --depth (proofs; --strengthen adds invariants)"
    options = frozenset({"depth", "strengthen", "memory_limit"})
    progress_unit: Literal["states", "depth"] = "depth"

    def run(self, request: EngineRequest) -> RunResult:
        """Run on ``request.model`` to depth ``request.depth`` (20 when unset)."""
        with internal_errors(self.name), memory_limit(request.limits.memory_limit):
            return run_kind(request.model, list(request.properties), request.depth or 20,
                            strengthening=request.strengthen, progress=request.progress,
                            time_limit=request.limits.time_limit,
                            counted_from=request.limits.counted_from)


ENGINE = KInductionEngine()
