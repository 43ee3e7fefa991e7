"""The Z3 proof that renaming interchangeable ids changes nothing observable.

For a model with a symmetry declaration (:mod:`checker.lang.symmetry`), each
generating permutation ``g`` (the adjacent transpositions of the ids) and
every *well-typed* state ``s`` (each value within its declared range), it
proves:

* ``g`` only reads what it does not change: each ``live`` condition has the
  same value on ``s`` and ``g(s)`` (so ``g`` is a permutation of states).
* for every action instance ``a`` (``g(a)``: ``a`` with its id arguments
  renamed): ``a`` fires in ``s`` iff ``g(a)`` fires in ``g(s)``; ``a`` stops
  at each model capacity in ``s`` iff ``g(a)`` does in ``g(s)``; it writes
  outside a type in ``s`` iff ``g(a)`` does in ``g(s)``; and when it fires,
  ``g(step_a(s)) == step_g(a)(g(s))``.  One query per instance and generator.
* every selected property (the conjunction of its instances) has the same
  value on ``s`` and ``g(s)``.
* with the dead-value reduction on: the invariants its proof assumes
  (:func:`checker.semantics.deadvalues.assumptions`) have the same value on ``s`` and
  ``g(s)`` (so that proof covers every renamed reachable state), and
  ``canon(g(s)) == canon(g(canon(s)))``, so
  renaming and resetting dead values combine into one canonical form per
  class of equivalent states (docs/model.md, "Descriptor symmetry").

It also records (concretely) whether ``canon(g(init)) == canon(init)``: true for
v9 with the dead-value canon; without it the stale ``avail`` entries of the
initial state are 0, which a renaming moves.  The verdicts do not need it
(docs/model.md, "Descriptor symmetry").

Liveness properties are refused: fairness is over action instances, which
the reduced graph renames along its edges (a fair-cycle analysis on it would
have to track the permutations).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import z3

from checker.engines.symbolic.deadproof import CanonEncoding
from checker.engines.symbolic.encoding import Z3Backend, as_bool
from checker.engines.symbolic.symexec import as_term, flatten, unflatten
from checker.engines.symbolic.unroll import StepTemplate
from checker.engines.symbolic.validity import ValidityChecker, type_ranges
from checker.lang.model import ActionInstance, Model
from checker.lang.spec import Property
from checker.lang.symmetry import (
    SymmetricIds,
    generators,
    permute,
    permuted_action_args,
)
from checker.lang.view import StateView
from checker.semantics.compiled import compiled
from checker.semantics.deadvalues import assumptions
from checker.semantics.states import initial_state

QUERY_TIMEOUT = 120.0
"""Seconds one query may take before the proof gives up (and symmetry is off)."""


@dataclass
class SymmetryProof:
    """The outcome of :func:`prove_symmetry`."""

    passed: bool
    queries: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    """One line per failed query: what, under which renaming, and why."""
    initial_fixed: bool = True
    """Every generator fixes the initial state (up to the dead-value canon, when on).  Not
    needed for the verdicts (the reduced graph is bisimilar to the model's from the
    initial state either way); recorded because it makes the reduced graph exactly the
    quotient of the reachable states by renaming."""


def refusal(model: Model, properties: Sequence[Property]) -> str | None:
    """Why the symmetry reduction cannot apply to this run at all (before any proof)."""
    live = [p.name for p in properties if p.is_liveness]
    if live:
        return (f"liveness properties ({', '.join(live)}) need fairness tracked through the "
                "renamings")
    return None


def _name(perm: Sequence[int]) -> str:
    moved = [i for i, j in enumerate(perm) if i != j]
    return "(" + " ".join(str(i) for i in moved) + ")" if moved else "()"


class _Renaming:
    """One generator ``g`` as Z3 terms over the template's state."""

    def __init__(self, model: Model, decl: SymmetricIds, t: StepTemplate,
                 perm: tuple[int, ...]) -> None:
        self.model, self.decl, self.t, self.perm = model, decl, t, perm
        self.backend = Z3Backend(t.bits)
        self.of_cur = self.apply(t.cur)
        self.subst = [(a, b) for a, b in zip(t.cur, self.of_cur) if not a.eq(b)]

    def view(self, flat: Sequence[Any]) -> StateView:
        return StateView(self.model, unflatten(self.model, flat), self.backend)

    def apply(self, flat: Sequence[Any]) -> tuple[Any, ...]:
        """``g`` of the state whose scalars are ``flat``, flattened."""
        view = self.view(flat)
        permute(self.model, self.decl, view, self.perm)
        out = flatten(self.model, view.values())
        return tuple(z3.simplify(as_term(var, v, "renaming", self.backend))
                     for (var, _), v in zip(self.t.scalars, out))

    def at_renamed(self, term: Any) -> Any:
        """``term`` (over ``s``) evaluated on ``g(s)``."""
        return z3.substitute(term, *self.subst) if self.subst else term


def prove_symmetry(
    model: Model,
    decl: SymmetricIds,
    properties: Sequence[Property],
    with_canon: bool,
    query_timeout: float = QUERY_TIMEOUT,
    stop: Callable[[], str | None] | None = None,
    deadline: float | None = None,
) -> SymmetryProof:
    """Prove ``decl`` for ``model`` and ``properties`` (module docstring); ``with_canon``:
    also that it composes with the dead-value canon.  Stops at the first failure.
    ``stop`` and ``deadline`` are checked before every query (:class:`ProofCut`)."""
    start = time.monotonic()
    result = SymmetryProof(True)
    for label, why in compiled(model).fallbacks:
        result.failures.append(f"action {label}: cannot be run symbolically ({why})")
        result.passed = False
        return result
    t = StepTemplate(model)
    by_args: dict[tuple[str, tuple[tuple[str, int], ...]], int] = {
        (e.inst.name, e.inst.args): k for k, e in enumerate(t.execs)}
    enc = CanonEncoding(model, t) if with_canon else None
    assumed = assumptions(model)
    validity = ValidityChecker(type_ranges(t), stop, deadline)

    def ask(what: str, same: Any, named: Sequence[tuple[str, Any]] = ()) -> bool:
        answer, solver = validity.check(same, query_timeout)
        if answer == z3.unsat:
            return True
        if answer == z3.sat:
            result.failures.append(f"{what}: {_witness(t, solver.model(), named)}")
        else:
            result.failures.append(f"{what}: Z3 gave up ({solver.reason_unknown()})")
        result.passed = False
        return False

    init = initial_state(model)
    for perm in generators(decl.count):
        g = _Renaming(model, decl, t, perm)
        name = _name(perm)
        if not _fixes_initial(model, decl, perm, init, with_canon):
            result.initial_fixed = False
        lives = _live_terms(model, decl, g.view(t.cur))
        if lives and not ask(f"renaming {name}", z3.And(*(a == g.at_renamed(a) for a in lives))):
            break
        if with_canon and assumed:
            inv = z3.And(*(as_bool(a.holds(g.view(t.cur))) for a in assumed))
            if not ask(f"dead-value assumptions (renaming {name})", inv == g.at_renamed(inv)):
                break
        for ex in t.execs:
            other = _renamed_instance(decl, ex.inst, perm)
            k = by_args.get((other.name, other.args))
            if k is None:
                result.failures.append(f"action {ex.inst.label}: renaming {name} gives "
                                       f"{other.label}, which the model does not have")
                result.passed = False
                break
            ex2 = t.execs[k]
            named = [("enabledness", ex.enabled == g.at_renamed(ex2.enabled)),
                     ("writing outside a type", ex.ill_typed == g.at_renamed(ex2.ill_typed))]
            caps = _capacities(ex.capacity_hits())
            caps2 = _capacities(ex2.capacity_hits())
            for what in sorted(set(caps) | set(caps2)):
                named.append((f"capacity {what}", caps.get(what, z3.BoolVal(False))
                              == g.at_renamed(caps2.get(what, z3.BoolVal(False)))))
            fires = z3.And(ex.enabled, z3.Not(ex.ill_typed))
            mapped = g.apply(ex.values)
            named += [(f"successor's {var_name}", z3.Implies(fires, a == g.at_renamed(b)))
                      for a, b, (_, var_name) in zip(mapped, ex2.values, t.scalars)
                      if not a.eq(b)]
            if not ask(f"action {ex.inst.label} (renaming {name} gives {other.label})",
                       z3.And(*(part for _, part in named)), named):
                break
        if not result.passed:
            break
        for prop in properties:
            term = _property_term(model, t, prop)
            if not ask(f"property {prop.name} (renaming {name})", term == g.at_renamed(term)):
                break
        if not result.passed:
            break
        if enc is not None:
            after = g.apply(enc.canon_flat)
            left = enc.canon(g.of_cur)
            right = enc.canon(after)
            same = z3.And(*(a == b for a, b in zip(left, right) if not a.eq(b)))
            if not ask(f"dead-value canon (renaming {name}): canon(g(s)) != canon(g(canon(s)))",
                       same):
                break
    result.seconds = time.monotonic() - start
    result.queries = validity.queries
    return result


def _renamed_instance(decl: SymmetricIds, inst: ActionInstance,
                      perm: Sequence[int]) -> ActionInstance:
    """``inst`` with its id arguments renamed (an :class:`ActionInstance` look-alike
    carrying name, args and label, for the look-up)."""
    args = permuted_action_args(decl, inst.name, inst.args, perm)
    return ActionInstance(inst.spec, args, -1)


def _capacities(hits: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for what, cond in hits:
        out[what] = z3.Or(out[what], cond) if what in out else cond
    return out


def _live_terms(model: Model, decl: SymmetricIds, view: StateView) -> list[Any]:
    out = []
    for v in decl.values:
        if v.live is None:
            continue
        var = model.vars[model.var_index[v.var]]
        conds = [v.live(view)] if var.size is None else [v.live(view, k) for k in range(var.size)]
        out += [as_bool(c) for c in conds if not isinstance(c, bool)]
    return out


def _property_term(model: Model, t: StepTemplate, prop: Property) -> Any:
    """The property on ``s``: the conjunction of its instances' values."""
    terms = []
    for args in prop.instances(model.p):
        view = StateView(model, unflatten(model, t.cur), Z3Backend(t.bits), t.enabled)
        terms.append(as_bool(prop.predicate(view, **args)))
    return z3.And(*terms) if terms else z3.BoolVal(True)


def _fixes_initial(model: Model, decl: SymmetricIds, perm: Sequence[int], init: Any,
                   with_canon: bool) -> bool:
    from checker.semantics.canon import interpreted_canon

    view = StateView(model, init)
    permute(model, decl, view, perm)
    moved = view.values()
    if with_canon:
        return bool(interpreted_canon(model, moved) == interpreted_canon(model, init))
    return bool(moved == init)


def _witness(t: StepTemplate, m: z3.ModelRef, named: Sequence[tuple[str, Any]]) -> str:
    """Which named parts of the query are false in ``m``, and the state's non-zero values."""
    wrong = [name for name, part in named if z3.is_false(m.eval(part, model_completion=True))]
    vals = [(name, m.eval(c, model_completion=True)) for (_, name), c in zip(t.scalars, t.cur)]
    nonzero = [f"{n}={v}" for n, v in vals if str(v) not in ("0", "False")]
    shown = ", ".join(nonzero[:12]) + (", ..." if len(nonzero) > 12 else "")
    head = f"{', '.join(wrong[:4])} differ(s)" if wrong else "differs"
    return f"{head} on the state s with {shown or 'every value 0'}"
