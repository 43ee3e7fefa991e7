"""The Z3 proof that resetting dead values (canon) changes nothing observable.

For a model with dead-value declarations (:mod:`checker.lang.dead`) and
the selected properties, over every *well-typed* state ``s`` (each value
within its declared range) and ``c = canon(s)``, it proves:

* for every action instance: it fires in ``s`` iff it fires in ``c``; it
  stops at each model capacity in ``s`` iff in ``c``; it writes outside a
  type (``ModelBug``) in ``s`` iff in ``c``; and when it fires,
  ``canon(step(s)) == canon(step(c))``.  One query per instance.
* every selected property (each instance of a liveness property: premise
  and goal) has the same value in ``s`` and ``c``.  One query per property.

Per-instance enabledness covers every fairness condition (fairness is
over which instances fire) and ``s.enabled(actor)`` in properties.  Then
``canon`` maps the reachable graph onto a graph with the same labelled
transitions and the same property values: exploring canonical states
gives the same verdicts and the same shortest traces (docs/model.md).

Each query is ``ranges(s) & not (equal)``; unsat proves it.  The terms
come from the same model code the explicit engine runs: the transition is
:class:`checker.engines.symbolic.unroll.StepTemplate`'s, ``c`` is the
declarations run on the Z3 backend, and the step from ``c`` is the step
from ``s`` with ``s`` substituted by ``c``.  Out-of-range array indexing
(``IndexError`` on the concrete backend, a crash of the model) is not
covered: the Z3 encoding has no such outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from checker.engines.symbolic.encoding import Z3Backend, as_bool, literal
from checker.engines.symbolic.limits import one_line
from checker.engines.symbolic.symexec import as_term, flatten, unflatten
from checker.engines.symbolic.unroll import StepTemplate
from checker.engines.symbolic.validity import ValidityChecker, type_ranges
from checker.lang.model import Model, State
from checker.lang.spec import Property
from checker.lang.view import StateView
from checker.semantics.canon import canon_source
from checker.semantics.compiled import compiled
from checker.semantics.compiledprops import trace_predicate
from checker.semantics.deadvalues import assumptions, checked_declarations, reset_dead
from checker.semantics.states import initial_state

DEFAULT_QUERY_TIMEOUT = 120.0
"""Seconds one query may take before the proof gives up (and the reduction is off)."""

QUICK_QUERY = 20.0
"""Seconds an action's whole query may take before it is split: one query per part
(enabledness, each capacity, each successor scalar), each with the full timeout."""


@dataclass
class Failure:
    """A query that did not come back unsat: what it was about, why, and a witness."""

    what: str
    """``action <label>`` or ``property <name>``."""
    reason: str
    state: State | None = None
    canonical: State | None = None

    def line(self, model: Model) -> str:
        """One line: the query, why it failed and the differing values of the state pair."""
        text = f"{self.what}: {self.reason}"
        if self.state is not None and self.canonical is not None:
            from checker.semantics.states import changed

            diffs = ", ".join(f"{n}={a} (canon {b})" for n, a, b in
                              changed(model, self.state, self.canonical))
            text += f"; state s has {diffs or 'no dead value'}"
        return text


@dataclass
class ProofResult:
    """The outcome of :func:`prove`."""

    passed: bool
    queries: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    declarations: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    """The invariants assumed, each proved inductive first."""


class CanonEncoding:
    """The state ``s``, ``canon(s)`` and canon of any successor, as Z3 terms."""

    def __init__(self, model: Model, template: StepTemplate) -> None:
        self.model = model
        self.t = template
        self.backend = Z3Backend(template.bits)
        self.canon_flat = self.canon(template.cur)
        self.subst = [(a, b) for a, b in zip(template.cur, self.canon_flat) if not a.eq(b)]

    def canon(self, flat: Sequence[Any]) -> tuple[Any, ...]:
        """canon of the state whose scalars are ``flat`` (Z3 terms), flattened."""
        view = StateView(self.model, unflatten(self.model, flat), self.backend)
        reset_dead(self.model, view)
        out = flatten(self.model, view.values())
        return tuple(z3.simplify(as_term(var, v, "canon", self.backend))
                     for (var, _), v in zip(self.t.scalars, out))

    def at_canon(self, term: Any) -> Any:
        """``term`` (over ``s``) evaluated on ``canon(s)``."""
        return z3.substitute(term, *self.subst) if self.subst else term

    def decode(self, m: z3.ModelRef) -> tuple[State, State]:
        """The state pair ``(s, canon(s))`` of a Z3 model."""
        def value(var: Any, term: Any) -> Any:
            v = m.eval(term, model_completion=True)
            return z3.is_true(v) if var.is_bool else literal(v)

        s = [value(var, c) for (var, _), c in zip(self.t.scalars, self.t.cur)]
        c = [value(var, c) for (var, _), c in zip(self.t.scalars, self.canon_flat)]
        return unflatten(self.model, s), unflatten(self.model, c)


def prove(
    model: Model,
    properties: Sequence[Property],
    query_timeout: float = DEFAULT_QUERY_TIMEOUT,
    stop_at_first: bool = True,
    template: StepTemplate | None = None,
    stop: Callable[[], str | None] | None = None,
    deadline: float | None = None,
) -> ProofResult:
    """Prove that canon is invisible for ``model`` and ``properties`` (module docstring).

    ``stop`` (an interrupt) and ``deadline`` (a ``time.monotonic()`` instant) are
    checked before every query; either raises :class:`ProofCut`, and no query runs
    past the deadline."""
    start = time.monotonic()
    decls = checked_declarations(model)
    result = ProofResult(True, declarations=[d.describe() for d, _, _ in decls])
    if not decls:
        return result
    # Z3 terms stand for Python code only if that code never branches on a state value
    # (a Z3 equality in an `if` is compared structurally, silently): the code generator
    # refuses such code, so whatever it cannot compile cannot be proved either.
    canon_source(model)
    for label, why in compiled(model).fallbacks:
        result.failures.append(Failure(f"action {label}", f"cannot be run symbolically ({why})"))
        result.passed = False
    if not result.passed:
        return result
    t = template if template is not None else StepTemplate(model)
    enc = CanonEncoding(model, t)
    assumed = assumptions(model)
    result.assumptions = [f"{a.name}: {a.why}" if a.why else a.name for a in assumed]
    init_view = StateView(model, initial_state(model))
    for a in assumed:
        if not a.holds(init_view):
            result.failures.append(Failure(f"assumption {a.name}", "false in the initial state"))
            result.passed = False
    inv_view = StateView(model, unflatten(model, t.cur), Z3Backend(t.bits))
    invariant = z3.And(*(as_bool(a.holds(inv_view)) for a in assumed))
    validity = ValidityChecker([*type_ranges(t), invariant], stop, deadline)
    check = validity.check

    def ask(what: str, same: z3.BoolRef, parts: Sequence[z3.BoolRef] = ()) -> bool:
        """Whether ``same`` holds for every well-typed ``s`` (under the assumptions).
        With ``parts`` (whose conjunction is ``same``), a query that does not finish
        within :data:`QUICK_QUERY` seconds is asked again one part at a time."""
        answer, solver = check(same, QUICK_QUERY if parts else query_timeout)
        if answer == z3.unknown and parts:
            for part in parts:
                answer, solver = check(part, query_timeout)
                if answer != z3.unsat:
                    break
        if answer == z3.unsat:
            return True
        if answer == z3.sat:
            s, c = enc.decode(solver.model())
            result.failures.append(Failure(what, _explain(enc, what, solver.model()), s, c))
        else:
            result.failures.append(Failure(what, f"Z3 gave up ({one_line(solver.reason_unknown())})"))
        result.passed = False
        return False

    if assumed and result.passed:
        for ex in t.execs:
            after = z3.substitute(invariant, *zip(t.cur, ex.values))
            kept = z3.Implies(z3.And(ex.enabled, z3.Not(ex.ill_typed)), after)
            if not ask(f"assumption kept by {ex.inst.label}", kept) and stop_at_first:
                break
    for ex in t.execs if result.passed or not stop_at_first else ():
        en_s, ill_s = ex.enabled, ex.ill_typed
        parts = [en_s == enc.at_canon(en_s), ill_s == enc.at_canon(ill_s)]
        for _, hit in ex.capacity_hits():
            parts.append(hit == enc.at_canon(hit))
        nxt = enc.canon(ex.values)
        fires = z3.And(en_s, z3.Not(ill_s))
        moved = [z3.Implies(fires, a == b) for a in nxt if not a.eq(b := enc.at_canon(a))]
        parts += moved
        if not ask(f"action {ex.inst.label}", z3.And(*parts), parts) and stop_at_first:
            break
    if result.passed or not stop_at_first:
        for prop in properties:
            try:
                for args in prop.instances(model.p):
                    trace_predicate(model, prop, args, prop.is_liveness, {})
                terms = _property_terms(model, t, prop)
            except Exception as err:  # noqa: BLE001 - a predicate Z3 cannot run: no proof
                reason = f"cannot be evaluated on Z3 terms ({type(err).__name__}: {err})"
                result.failures.append(Failure(f"property {prop.name}", reason))
                result.passed = False
                break
            for term, label in terms:
                if not ask(f"property {label}", term == enc.at_canon(term)) and stop_at_first:
                    break
            if not result.passed and stop_at_first:
                break
    result.seconds = time.monotonic() - start
    result.queries = validity.queries
    return result


def _property_terms(model: Model, t: StepTemplate, prop: Property) -> list[tuple[Any, str]]:
    """The property's predicate on ``s`` as Z3 Booleans: one term for an invariant, premise
    and goal of each instance for a liveness property."""
    out: list[tuple[Any, str]] = []
    enabled: Callable[[tuple[str, ...]], Any] = t.enabled
    for args in prop.instances(model.p):
        view = StateView(model, unflatten(model, t.cur), Z3Backend(t.bits), enabled)
        value = prop.predicate(view, **args)
        label = prop.name + (f"({', '.join(f'{k}={v}' for k, v in args.items())})" if args
                             else "")
        if prop.is_liveness:
            premise, goal = value
            out += [(as_bool(premise), f"{label} premise"), (as_bool(goal), f"{label} goal")]
        else:
            out.append((as_bool(value), label))
    return out


def _explain(enc: CanonEncoding, what: str, m: z3.ModelRef) -> str:
    """Which part of the query differs between ``s`` and ``canon(s)`` in ``m``."""
    if what.startswith("assumption kept by "):
        return "an invariant assumed holds in s but not after this step"
    if not what.startswith("action "):
        return "its value differs between s and canon(s)"
    label = what[len("action "):]
    ex = next(e for e in enc.t.execs if e.inst.label == label)

    def val(term: Any) -> Any:
        return m.eval(term, model_completion=True)

    if not val(ex.enabled == enc.at_canon(ex.enabled)).eq(z3.BoolVal(True)):
        return (f"enabled in {'s' if z3.is_true(val(ex.enabled)) else 'canon(s)'} only")
    if not z3.is_true(val(ex.ill_typed == enc.at_canon(ex.ill_typed))):
        return "writes outside a type in only one of s and canon(s)"
    for what_cap, hit in ex.capacity_hits():
        if not z3.is_true(val(hit == enc.at_canon(hit))):
            return f"hits capacity {what_cap} in only one of s and canon(s)"
    nxt = enc.canon(ex.values)
    names = [name for (_, name) in enc.t.scalars]
    differ = [names[j] for j, a in enumerate(nxt) if not z3.is_true(val(a == enc.at_canon(a)))]
    return "canon(step(s)) != canon(step(canon(s))) in " + ", ".join(differ[:6])
