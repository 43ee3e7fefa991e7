"""A prover: the explored classes, or induction strengthened by mined invariants
(Houdini), re-checked, with counterexamples from BMC.

For the invariant properties:

1. the model is explored concretely (dead-value classes, one real state each,
   :func:`checker.engines.symbolic.mining.explore`), up to
   :func:`exploration_budget` of them;
2. when that exploration is complete (nothing left to expand) and
   ``invariant`` is ``"auto"`` (the default), the classes themselves, as a
   decision diagram (:mod:`checker.engines.symbolic.explored`), are checked by
   fresh solvers: initiation, consecution, implies ``safe`` ("no step from here
   hits a model capacity or writes outside a type") and, per property,
   implies ``P``.  A property it implies holds, with the diagram written out;
   one it does not imply is broken in a reachable class, so no invariant can
   prove it: it goes straight to BMC (step 5);
3. for the others, candidate facts true in every explored state are proposed
   (:func:`checker.engines.symbolic.mining.mine`) and Houdini keeps the largest
   subset that is inductive together with ``P`` and ``safe``; if ``P`` or
   ``safe`` itself has to go, the step found is a *counterexample to induction*
   (CTI), printed as a pair of states.  The runs are :func:`houdini_plan`'s:
   when the exploration was complete, a second run at k = 1 blocks the regions
   of states no reachable class holds (:mod:`checker.engines.symbolic.reachable`)
   instead of dropping facts;
4. a surviving invariant ``J = P and safe and kept`` is re-checked by fresh
   solvers, sharing nothing with the search (:mod:`checker.engines.symbolic.recheck`):
   initiation (the initial state satisfies ``J``), consecution (every step from
   a typed ``J`` state reaches a ``J`` state) and ``J`` implies ``P and safe``.
   Only then is ``P`` reported to hold, with ``J`` written out
   (``PdrPropertyResult.evidence``: ``<property>.invariant.txt`` in ``--out``).
   A failed re-check is an internal error (exit 4), never a verdict;
5. otherwise BMC (:mod:`checker.engines.symbolic.bmc`) looks for a real,
   shortest, replayed counterexample up to ``--depth`` steps within the time
   left; failing that, ``P`` is inconclusive, with the CTI in the reason and in
   ``<property>.cti.txt``.

Step 2 proves what the explicit engine's complete search shows, by a different
route: the reachable set it found is checked closed under the Z3 transition,
which the explicit engine never is.  Its invariant is exact but not
explanatory; ``invariant="mined"`` (``--invariant mined``) skips it for a
readable one when Houdini can find it (ring size 1 on the v3.1 data path).

Why not Z3's Spacer (CHC) engine directly: on v3.1's datapath at ring 1 (64
scalars, 58 action instances) ``Fixedpoint(engine='spacer')`` had not
answered after 600 s, where mining plus Houdini takes seconds.

Consecution excludes steps whose successor leaves the variable types: such a
successor needs a write outside a type, which ``safe`` (a conjunct of ``J``)
rules out in the state the step leaves (:mod:`checker.engines.symbolic.recheck`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import z3

from checker.engines.base import (
    EngineRequest,
    InvariantChoice,
    Progress,
    PropertyResult,
    RunResult,
    Stats,
    announce,
)
from checker.engines.symbolic.bmc import run_bmc, stop_reason, timed_out_building
from checker.engines.symbolic.bounded import new_solver, solve
from checker.engines.symbolic.candidate import Candidate
from checker.engines.symbolic.deadproof import CanonEncoding
from checker.engines.symbolic.explored import ClassCheck, check_classes, diagram_text
from checker.engines.symbolic.houdini import HoudiniResult, houdini
from checker.engines.symbolic.limits import GAVE_UP, gave_up, memory_limit
from checker.engines.symbolic.mining import explore, mine
from checker.engines.symbolic.reachable import BLOCKED, Reachable
from checker.engines.symbolic.recheck import verify
from checker.engines.symbolic.unroll import (
    StepTemplate,
    SymbolicEngineError,
    Unrolling,
    internal_errors,
)
from checker.lang.model import Model, ModelError, State
from checker.lang.spec import Property
from checker.semantics.canon import canonicalizer
from checker.semantics.deadvalues import checked_declarations
from checker.semantics.states import as_dict
from checker.traces.cti import cti_text

MAX_K = 4
"""Largest k tried when the mined invariant is not 1-inductive."""

MINE_STATES = 200_000
"""States mined for candidate invariants (the first ones explored)."""

EXPLORED_SCALARS = 100_000_000
"""The exploration's budget in state scalars: enough classes for the explored-classes
invariant at ring size 2 (about a million of 93 scalars) without holding gigabytes of
states where a state has thousands of scalars."""


def budget_note(budget: int) -> str:
    """Why a property was not proved by the explored classes when the exploration
    stopped at ``budget`` classes, and how to raise it."""
    return (f"the exploration stopped at its budget of {budget} classes, so the explored "
            "classes were not tried (--max-states N raises it: about 4 GB per million "
            "classes at ring size 2)")


def exploration_budget(model: Model) -> int:
    """States the exploration keeps at most: ``EXPLORED_SCALARS`` worth, and never fewer
    than ``MINE_STATES``."""
    width = sum(v.size or 1 for v in model.vars)
    return max(MINE_STATES, EXPLORED_SCALARS // width)

SAFE = "safe (no step hits a model capacity or writes outside a type)"


@dataclass
class PdrPropertyResult(PropertyResult):
    """A :class:`PropertyResult` with text files for ``--out``: ``evidence`` maps a
    file suffix (``invariant.txt``, ``cti.txt``) to its contents."""

    evidence: dict[str, str] = field(default_factory=dict)


def run_pdr(
    model: Model,
    properties: list[Property],
    depth: int = 30,
    progress: Progress | None = None,
    time_limit: float | None = None,
    mine_states: int | None = None,
    max_k: int = MAX_K,
    invariant: InvariantChoice = "auto",
    counted_from: float | None = None,
) -> RunResult:
    """Prove or refute the invariants of ``properties`` together (see the module
    docstring); liveness properties come back inconclusive.  With ``invariant`` =
    ``"mined"`` the explored classes are not tried (step 2 of the module docstring);
    facts are mined only for the properties they do not prove, from the first
    ``MINE_STATES`` states.  ``mine_states`` caps the exploration (default:
    :func:`exploration_budget`)."""
    start = time.monotonic()
    deadline = None if time_limit is None else (counted_from or start) + time_limit
    stats = Stats()
    try:
        template = StepTemplate(model, True, deadline)
        for prop in properties:  # user code first: a refusal comes before any search
            if not prop.is_liveness:
                template.holds(prop)
        # after the step, which polls the time limit: the key's code grows with the
        # state (minutes at ring size 32768, where the step runs out of time first)
        key = _class_key(model)
        budget = exploration_budget(model) if mine_states is None else mine_states
        explored = explore(model, budget, deadline, key=key, keep=MINE_STATES)
        reachable = Reachable(template, explored) if explored.complete else None
    except GAVE_UP as err:
        return timed_out_building(properties, time.monotonic() - start, gave_up(err), time_limit, "pdr")
    stats.states = explored.classes
    results: dict[str, PropertyResult] = {}
    pending = [p for p in properties if not p.is_liveness]
    stop: str | None = None
    # why the explored classes proved nothing
    cut = reachable is None and explored.classes >= budget and invariant == "auto"
    note: str | None = budget_note(budget) if cut else None
    try:
        if reachable is not None and invariant == "auto":
            proved, note = _prove_by_classes(model, template, pending, reachable, key is not None,
                                             deadline, depth, stats, progress, start)
            results.update(proved)
            pending = [p for p in pending if p.name not in proved]
        mined_from = explored.states  # the first MINE_STATES explored
        candidates = mine(template, mined_from) if pending else []
        mined = len(candidates)
        while pending:
            done, broken, survivors = _prove(model, template, pending, candidates, mined,
                                             deadline, depth, len(mined_from), max_k,
                                             stats, progress, start, reachable)
            results.update(done)
            # Houdini's greatest k-inductive subset for fewer properties lies within what
            # survived for more (each dropped fact was broken by a path through states
            # satisfying even more): the retry starts from the survivors
            candidates = survivors
            # a violated property, or the one whose induction failed, keeps its result;
            # the others are tried again without it
            dropped = [p for p in pending if results[p.name].status == "violated"
                       or (p.name in broken and results[p.name].status == "inconclusive")]
            pending = [p for p in pending if p not in dropped]
            if not dropped or all(results[p.name].status != "inconclusive" for p in pending):
                break
    except GAVE_UP as err:
        stop = stop_reason(gave_up(err), time_limit)
    out = []
    for p in properties:
        if p.name in results:
            out.append(results[p.name])
        elif p.is_liveness:
            out.append(PropertyResult(p.name, "inconclusive", reason="pdr checks invariants "
                                      "only; use --engine explicit or bmc for liveness"))
        else:
            out.append(PropertyResult(p.name, "inconclusive", reason=f"not proved ({stop})"))
    stats.seconds = time.monotonic() - start
    complete = all(r.status != "inconclusive" for r in out)
    for res in out:
        if res.status == "inconclusive" and note:
            res.reason = f"{res.reason}; {note}"
    return RunResult("pdr", complete, stats, out, [stop] if stop else [])


def _prove_by_classes(
    model: Model, t: StepTemplate, props: Sequence[Property], reachable: Reachable,
    canonical: bool, deadline: float | None, depth: int, stats: Stats,
    progress: Progress | None, began: float,
) -> tuple[dict[str, PropertyResult], str | None]:
    """The results the complete exploration's classes decide (step 2 of the module
    docstring), and why they decide none, when they are not an inductive invariant
    implying ``safe``.  A property they imply holds; one they do not imply is broken
    by a state of a reachable class, so no invariant proves it, and BMC looks for the
    counterexample straight away.  ``canonical``: the classes are dead-value classes (the
    exploration was keyed by the canon), so the diagram speaks of the canonical form
    of the state."""
    announce(stats, progress, began, f"pdr: checking that the {len(reachable.rows)} explored "
              "classes are an inductive invariant")
    canon = CanonEncoding(model, t).canon_flat if canonical else t.cur
    checked = check_classes(t, reachable.rows, canon, [(p.name, t.holds(p)) for p in props],
                            deadline)
    stats.seconds = time.monotonic() - began
    if checked.failed is not None:
        return {}, (f"the {checked.diagram.classes} explored classes are no invariant "
                    f"proving it ({checked.failed} fails)")
    d = checked.diagram
    reason = (f"proved: the {d.classes} explored classes ({len(d.nodes)}-node decision "
              "diagram) are an inductive invariant implying it, re-checked by fresh solvers")
    out: dict[str, PropertyResult] = {}
    for p in props:
        if p.name in checked.implied:
            text = classes_text(p, model, t, checked)
            out[p.name] = PdrPropertyResult(p.name, "holds", reason=reason,
                                            evidence={"invariant.txt": text})
    broken = [p for p in props if p.name not in checked.implied]
    if broken:
        announce(stats, progress, began, f"pdr: BMC up to depth {depth} for "
                  f"{', '.join(p.name for p in broken)} (not implied by the classes)")
        out.update(_counterexamples(model, broken, depth, deadline,
                                    lambda _: f"a state in one of the {d.classes} explored "
                                    "classes violates it"))
    return out, None


def _counterexamples(model: Model, props: Sequence[Property], depth: int,
                     deadline: float | None, why: Callable[[str], str],
                     evidence: dict[str, str] | None = None) -> dict[str, PropertyResult]:
    """BMC's results for ``props`` within the time left.  A property BMC leaves
    inconclusive says why it was not proved (``why(name)``) and carries ``evidence``."""
    left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
    bmc = run_bmc(model, list(props), depth, time_limit=left)
    return {r.name: r if r.status != "inconclusive" else
            PdrPropertyResult(r.name, "inconclusive", evidence=dict(evidence or {}),
                              reason=f"not proved: {why(r.name)}; BMC: {r.reason}")
            for r in bmc.properties}


def classes_text(prop: Property, model: Model, t: StepTemplate, checked: ClassCheck) -> str:
    """The explored-classes invariant proving ``prop``, with how to read it."""
    d = checked.diagram
    params = ", ".join(f"{k}={v}" for k, v in model.p.as_dict().items())
    lines = [
        f"# Invariant proving {prop.name} on revision {model.name}",
        f"# parameters: {params}",
        (f"# The state, its dead values reset to their canonical values, is one of the "
         f"{d.classes} classes a complete exploration reached: the {len(d.fixed)} values "
         f"every class has, then a decision diagram of {len(d.nodes)} nodes over the other "
         "positions."),
        ("# Read from the root: at a node, follow the edge of the value its variable has; "
         "the state is in the set when it reaches 'accept'."),
        (f"# Re-checked by fresh solvers in {checked.seconds:.1f}s: initiation, consecution, "
         f"implies {prop.name} and '{SAFE}'."),
        *diagram_text(d, [name for _, name in t.scalars]),
    ]
    return "\n".join(lines) + "\n"


def houdini_plan(max_k: int, reachable: Reachable | None) -> list[tuple[int, Reachable | None]]:
    """The Houdini runs tried in turn until one proves: at k = 1 (one step per query,
    the cheapest); with ``reachable``, at k = 1 again blocking the states no reachable
    class holds instead of dropping the facts a step from them breaks; at ``max_k``
    from every candidate (the greatest ``max_k``-inductive subset contains every
    j-inductive one, j <= max_k, so no k in between proves more)."""
    plan: list[tuple[int, Reachable | None]] = [(1, None)]
    if reachable is not None:
        plan.append((1, reachable))
    if max_k > 1:
        plan.append((max_k, None))
    return plan


def _class_key(model: Model) -> Callable[[State], State] | None:
    """The model's dead-value canon, which :func:`explore` keys states by so that its
    budget covers distinct live behaviour; ``None`` when the model declares no dead
    values or its declarations do not compile.  Mining only proposes candidates, so
    the canon needs no proof here."""
    try:
        return canonicalizer(model) if checked_declarations(model) else None
    except (ModelError, ValueError):
        return None


def _prove(
    model: Model, t: StepTemplate, props: Sequence[Property], candidates: Sequence[Candidate],
    mined: int, deadline: float | None, depth: int, seen: int, max_k: int, stats: Stats,
    progress: Progress | None, began: float, reachable: Reachable | None = None,
) -> tuple[dict[str, PropertyResult], list[str], list[Candidate]]:
    """``props`` proved together (checked invariant), else BMC counterexamples and
    inconclusive results carrying the counterexample to induction; with them, the names
    of what the counterexample to induction breaks (empty when proved or when there is
    no counterexample to induction) and the candidates Houdini kept at ``max_k``
    (``mined``: how many candidates were mined in all, for the invariant's header)."""
    must = [(p.name, t.holds(p)) for p in props] + [(SAFE, t.safe)]

    def check(solver: z3.Solver, assumption: z3.BoolRef) -> z3.ModelRef | None:
        left = None if deadline is None else deadline - time.monotonic()
        return solve(solver, left, assumption)

    start = time.monotonic()
    failure: str | None = None
    before = stats.transitions

    plan = houdini_plan(max_k, reachable)
    k_now, blocking = plan[0]
    done_rounds = 0

    def on_round(rounds: int, left: int) -> None:
        stats.transitions = before + done_rounds + rounds  # kept if the time limit cuts
        how = ", blocking unreached states" if blocking is not None else ""
        announce(stats, progress, began, f"pdr: Houdini round {rounds} at k = {k_now}{how} "
                  f"done, {left} candidate facts left")

    for k_now, blocking in plan:
        stats.max_depth = max(stats.max_depth, k_now)
        found = houdini(t, must, candidates, check, deadline, k_now, on_round, blocking)
        done_rounds += found.rounds
        if found.cti is None:
            break
    stats.transitions = before + done_rounds
    stats.seconds = time.monotonic() - began
    if progress is not None:
        progress(stats)
    names = ", ".join(p.name for p in props)
    k = max_k
    if found.cti is None:
        conjuncts = [*(term for _, term in must), *(c.term for c in found.kept)]
        failure = verify(t, conjuncts, z3.And(*(term for _, term in must)), deadline)
        k = 1
        if failure == "consecution" and max_k > 1:  # the least k it is k-inductive for
            k_checked = strengthened_induction(model, t, conjuncts, deadline, max_k)
            failure = k_checked if isinstance(k_checked, str) else None
            k = k_checked if isinstance(k_checked, int) else max_k
        if failure is not None and failure not in ("initiation", "base case"):
            raise SymbolicEngineError(f"pdr: the invariant found for {names} fails its "
                                      f"re-check ({failure})")
    if found.cti is None and failure is None:
        text = invariant_text(props, model, found.kept, mined, seen, found.rounds,
                              time.monotonic() - start, k)
        what = "inductive" if k == 1 else f"{k}-inductive (simple paths)"
        reason = (f"proved: {what} invariant of {len(must) + len(found.kept)} conjuncts, "
                  "re-checked by fresh solvers")
        return {p.name: PdrPropertyResult(p.name, "holds", reason=reason,
                                          evidence={"invariant.txt": text})
                for p in props}, [], found.kept
    if found.cti is not None:
        broken_names, cti_file = describe_cti(model, found, must, names)
        broken = ", ".join(broken_names)
    else:  # inductive, but not true near the initial state: BMC finds the violation
        broken_names, broken = [], names
        cti_file = f"# {names} or safety fails within {k - 1} steps\n"
    out = _counterexamples(
        model, props, depth, deadline,
        lambda name: (f"{broken} is not {found.k}-inductive with the {len(found.kept)} mined "
                      f"facts kept (counterexample to induction in {name}.cti.txt)"),
        {"cti.txt": cti_file})
    # the survivors bound the retry's result only for every k up to the one they were
    # kept at (a j-inductive subset is k-inductive for k >= j, not the other way round)
    return out, broken_names, found.kept if found.k == max_k else list(candidates)


def _holds_somewhere(solver: z3.Solver, term: z3.BoolRef, deadline: float | None,
                     name: str) -> bool:
    """Whether ``solver`` has a model where ``term`` holds (an activation literal, so
    ``solver`` stays reusable)."""
    lit = z3.Bool(name)
    solver.add(z3.Implies(lit, term))
    left = None if deadline is None else deadline - time.monotonic()
    try:
        return solve(solver, left, lit) is not None
    finally:
        solver.add(z3.Not(lit))


def strengthened_induction(
    model: Model, t: StepTemplate, conjuncts: Sequence[z3.BoolRef], deadline: float | None,
    max_k: int,
) -> int | str:
    """The least ``k`` in ``2 .. max_k`` for which ``J = And(conjuncts)`` is
    k-inductive over simple paths (base case: ``J`` holds in every state within
    ``k - 1`` steps of the initial one; step case: ``k`` consecutive distinct typed
    ``J`` states are followed only by a ``J`` state); else ``"base case"`` or
    ``"step case"``, whichever failed (at ``max_k`` for the step case)."""
    inv = z3.And(*conjuncts)
    base = Unrolling(model, tag="^base", template=t)
    base_solver = new_solver()
    base_solver.add(*base.initial(0), *base.ranges(0))
    step = Unrolling(model, tag="^step", template=t)
    step_solver = new_solver()
    step_solver.add(*step.ranges(0))
    for k in range(1, max_k + 1):
        if k > 1:
            base_solver.add(*base.transition(k - 2, halt=True))
        if _holds_somewhere(base_solver, z3.Not(base.at(inv, k - 1)), deadline, f"base{k}"):
            return "base case"
        step_solver.add(step.at(inv, k - 1), *step.transition(k - 1, halt=False))
        step_solver.add(*(step.distinct(i, k) for i in range(k)))
        if k > 1 and not _holds_somewhere(step_solver, z3.Not(step.at(inv, k)), deadline,
                                          f"step{k}"):
            return k
    return "step case"


def invariant_text(
    props: Sequence[Property], model: Model, kept: Sequence[Candidate], mined: int, seen: int, rounds: int,
    seconds: float, k: int = 1,
) -> str:
    """The invariant, one conjunct a line, with how it was found."""
    params = ", ".join(f"{k}={v}" for k, v in model.p.as_dict().items())
    blocked = sum(c.text.endswith(BLOCKED) for c in kept)
    regions = (f" and {blocked} regions no explored state is in (blocked, marked "
               f"'{BLOCKED}')" if blocked else "")
    lines = [
        f"# Invariant proving {', '.join(p.name for p in props)} on revision {model.name}",
        f"# parameters: {params}",
        (f"# {len(kept) - blocked} of {mined} candidate facts mined from {seen} explicitly "
         f"explored states{regions} survived {rounds} Houdini rounds in {seconds:.1f}s;"),
        ("# re-checked by fresh solvers: initiation, consecution, implies the property."
         if k == 1 else f"# {k}-inductive over simple paths (base case: every state within "
         f"{k - 1} steps satisfies it); the property and safety are conjuncts."),
        ("# Variables are the model's state variables (arrays as name[i]; bools as 0/1 in sums); "
         "a[b[i]] is the element of a at the index b[i] holds."),
        *(f"{p.name}  (the property itself)" for p in props),
        SAFE,
        *(c.text for c in kept),
    ]
    return "\n".join(lines) + "\n"


def describe_cti(
    model: Model, found: HoudiniResult, must: Sequence[tuple[str, z3.BoolRef]], names: str
) -> tuple[list[str], str]:
    """Which of ``must`` the counterexample to induction of ``found`` breaks, and the
    CTI as readable text (:func:`checker.traces.cti.cti_text`; ``names``: the
    properties being proved)."""
    m, u, k = found.cti, found.unrolling, found.k
    assert m is not None
    states = [as_dict(model, u.decode_state(m, i)) for i in range(k + 1)]
    labels = [inst.label if inst is not None else "(halt)"
              for inst in (u.fired(m, i) for i in range(k))]
    broken = [name for name, term in must
              if z3.is_false(m.eval(u.at(term, k), model_completion=True))]
    return broken, cti_text(model.presentation, names, states, labels, ", ".join(broken))


class PdrEngine:
    """The explored classes, or induction strengthened by mined invariants (Houdini);
    proofs re-checked."""

    name = "pdr"
    description = ("Z3 proofs: the classes of a complete explicit exploration, or induction "
                   "strengthened by invariants mined from explicit states (Houdini), "
                   "re-checked; BMC counterexamples up to --depth")
    options = frozenset({"depth", "invariant", "max_states", "memory_limit"})
    progress_unit: Literal["states", "depth"] = "depth"

    def run(self, request: EngineRequest) -> RunResult:
        """Prove or refute ``request.properties`` on ``request.model``; ``--max-states``
        is the exploration's budget in classes (default: :func:`exploration_budget`)."""
        with internal_errors(self.name), memory_limit(request.limits.memory_limit):
            return run_pdr(request.model, list(request.properties), request.depth or 30,
                           progress=request.progress, time_limit=request.limits.time_limit,
                           counted_from=request.limits.counted_from,
                           mine_states=request.limits.max_states,
                           invariant=request.invariant)


ENGINE = PdrEngine()
