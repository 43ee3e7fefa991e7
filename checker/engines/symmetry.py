"""Whether a run stores one state per class of id renamings (``--symmetry``).

:func:`decide` runs :func:`checker.engines.symbolic.symproof.prove_symmetry`
for the model's symmetry declaration (:mod:`checker.lang.symmetry`), its
parameters and the selected properties, or reads the outcome of an earlier
identical proof from the cache (next to the dead-value proofs: folder
``symmetry/`` of :func:`checker.engines.reduction.cache_dir`, the same key
plus whether the dead-value canon is composed in).  The reduction is on
only when asked for and the proof passed; otherwise the run goes on without
it and says why.

A violation the reduced search finds is a path through representatives,
not a path of the model: :func:`concrete_trace` re-fires it from the initial
state, choosing at each step a successor in the class of the next
representative, so the trace replays (``vhostmc replay``) and keeps its
length (the shortest, under BFS).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from checker.engines.base import EngineInternalError
from checker.engines.reduction import cache_dir, proof_key, recall_proof, remember_proof
from checker.lang.model import Model, ModelError, State
from checker.lang.spec import Property
from checker.lang.symmetry import SymmetricIds, declared_symmetry
from checker.semantics.states import expand, initial_state, property_view
from checker.traces.trace import Trace, build_trace


@dataclass
class Symmetry:
    """The decision for one run: ``rep`` when on, and what result.json says."""

    rep: Callable[[State], State] | None
    info: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None
    decl: SymmetricIds | None = None
    """The declaration proved (when on), for the compiled explorer's own representative."""


def _proved(model: Model, decl: SymmetricIds, properties: Sequence[Property], with_canon: bool,
            stop: Callable[[], str | None] | None,
            deadline: float | None) -> dict[str, Any]:
    """The proof outcome (computed, or read from the cache); raises ``ProofCut``."""
    from checker.engines.symbolic.symproof import prove_symmetry  # z3: only when not cached

    key = proof_key(model, properties) + ("-canon" if with_canon else "-plain")
    path = cache_dir() / "symmetry" / f"{key}.json"
    stored = recall_proof(path)
    if stored is not None:
        return stored
    result = prove_symmetry(model, decl, properties, with_canon, stop=stop, deadline=deadline)
    outcome = {"passed": result.passed, "initial_fixed": result.initial_fixed,
               "queries": result.queries,
               "seconds": round(result.seconds, 3), "failures": result.failures}
    return remember_proof(path, outcome)


def decide(model: Model, properties: Sequence[Property], requested: bool,
           canon: Callable[[State], State] | None,
           stop: Callable[[], str | None] | None = None,
           deadline: float | None = None) -> Symmetry:
    """Prove (or recall) the symmetry of ``model`` for ``properties``; on only if asked
    (``--symmetry``) and it passed.  ``canon``: the dead-value canon when that reduction
    is on (the representative then composes both)."""
    if not requested:
        return Symmetry(None, {"on": False, "why": "not asked for (--symmetry)"})

    def off(why: str) -> Symmetry:
        return Symmetry(None, {"on": False, "why": why},
                        f"symmetry reduction off for {model.name}: {why}; exploring without it")

    from checker.engines.symbolic.symproof import refusal
    from checker.engines.symbolic.validity import ProofCut
    from checker.semantics.symcanon import representative

    try:
        decl = declared_symmetry(model)
    except ModelError as err:
        return off(str(err))
    if decl is None:
        return off(f"{model.name} declares no interchangeable ids")
    refused = refusal(model, properties)
    if refused is not None:
        return off(refused)
    try:
        rep = representative(model, decl, canon is not None)
    except ValueError as err:
        return off(str(err))
    try:
        proof = _proved(model, decl, properties, canon is not None, stop, deadline)
    except ProofCut as cut:
        return Symmetry(None, {"on": False, "why": f"the proof was cut by {cut}"})
    except Exception as err:  # noqa: BLE001 - a model Z3 cannot run: no proof, no reduction
        return off(f"the proof could not be built ({type(err).__name__}: {err})")
    info: dict[str, Any] = {"on": bool(proof["passed"]), "ids": decl.describe(),
                            "renamings": _factorial(decl.count), "proof": proof}
    if not proof["passed"]:
        first = proof["failures"][0] if proof["failures"] else "no reason recorded"
        info["why"] = f"the proof failed for {first}"
        return Symmetry(None, info, f"symmetry reduction off for {model.name}: the proof "
                        f"failed for {first}; exploring without it")
    return Symmetry(rep, info, decl=decl)


def _factorial(n: int) -> int:
    out = 1
    for k in range(2, n + 1):
        out *= k
    return out


def concrete_trace(model: Model, trace: Trace, rep: Callable[[State], State],
                   canon: Callable[[State], State] | None, prop: Property,
                   example: bool) -> Trace:
    """The model path (dead values reset when ``canon`` is given) whose states have the
    representatives of ``trace``'s states, same length; its explanation is recomputed on
    the last concrete state (``example``: a ``sometimes`` property's example)."""
    keep = canon if canon is not None else (lambda state: state)
    state = keep(initial_state(model))
    first = state
    path = []
    for step in trace.steps:
        want = rep(step.state)
        options = expand(model, state).successors
        options = sorted(options, key=lambda o: o[0].label != step.label)  # same label first
        for inst, nxt in options:
            if rep(nxt) == want:
                state = keep(nxt)
                path.append((inst, state))
                break
        else:
            raise EngineInternalError(
                f"symmetry reduction: step {step.index} ({step.label}) of the trace for "
                f"{trace.property} has no counterpart from the concrete state (a bug in vhostmc)")
    exp = expand(model, state)
    view = property_view(model, state, exp.enabled_actors)
    words = prop.describe_example(view) if example else prop.describe_violation(view)
    out = build_trace(model, trace.property, first, path, words)
    out.reduced = canon is not None
    return out
