"""Bounded lasso search with Z3: fair counterexamples to liveness properties.

A liveness counterexample is a *lasso*: states ``s0 .. sK`` from the initial
state, instance ``sel@i`` fired from ``s_i`` to ``s_i+1``, and a loop index
``l <= K`` with ``s_K == s_l``; after ``s_K`` the run goes on at ``s_l``
forever (``l == K``: it stutters in ``s_K``).  Its *cycle* is the states
``s_l .. s_K`` (``s_K`` is ``s_l`` again, or the stutter state) and the steps
``l .. K-1``.  It violates ``P ~> Q`` (for one combination of the ``over``
arguments, an :class:`checker.engines.explicit.liveness.Obligation`) when some ``s_p`` has
``P`` and ``Q`` is false in ``s_p .. s_K`` and on the whole cycle;
``<> Q`` when ``Q`` is false everywhere.  It is fair when, for each
fairness group of :func:`checker.lang.fairness.resolve`:

* weak: the cycle takes one of the group's instances, or one of its states
  has none of them enabled;
* strong: the cycle takes one of them, or none of its states has one enabled;
* finitely: the cycle takes none of them.

These are the explicit engine's semantics (:mod:`checker.engines.explicit.liveness`).  The
search reuses the BMC unrolling (:class:`checker.engines.symbolic.unroll.Unrolling`: the same
single model definition, run once on Z3 terms): per depth ``K`` one query
asks for ``K`` steps that do not halt, a bit-vector ``loop@K`` in ``0..K`` with
``loop == j -> s_K == s_j``, fairness (a state ``k`` is on the cycle iff
``loop <= k``) and the violation of some pending obligation.  An instance
is *enabled* in a state when all its guards hold (as for the explicit
engine's edges: a step stopped at a capacity bound has no successor);
``s.enabled(...)`` inside a predicate means what it means everywhere
(:meth:`checker.engines.symbolic.unroll.StepTemplate.enabled`).  Depths are tried upwards,
so the first lasso found is one of fewest steps (``K``).

A lasso found is decoded, replayed concretely (:func:`checker.engines.symbolic.unroll.replay`)
and validated with :func:`checker.engines.explicit.liveness.check_lasso`; a failure is an
:class:`checker.engines.symbolic.unroll.EncodingError`.  No lasso within depth ``K`` proves
nothing: a longer one may exist.  (Only when no path makes ``K`` steps at
all has every lasso been tried; :func:`checker.engines.symbolic.bmc.run_bmc` then reports
"holds", as for invariants.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import z3

from checker.engines.explicit.liveness import Obligation, check_lasso, obligations, trace_of_lasso
from checker.engines.symbolic.encoding import Z3Backend, as_bool
from checker.engines.symbolic.guard import SymbolicMisuse, user_code
from checker.engines.symbolic.limits import check_deadline
from checker.engines.symbolic.obligations import ObligationGroup, grouped
from checker.engines.symbolic.unroll import EncodingError, Unrolling, replay
from checker.lang.fairness import Fair, FairGroup, resolve
from checker.lang.model import Model, State
from checker.lang.spec import Property
from checker.lang.view import StateView
from checker.semantics.states import enabled_actors, property_view
from checker.traces.trace import Trace

Unit = Obligation | ObligationGroup
"""What one violation term is built for: an obligation, or all of a property's."""

Query = Callable[..., "z3.ModelRef | None"]
"""Checks the unrolling plus extra constraints: a model, or ``None`` when unsat."""


class LivenessTerms:
    """Per-state Z3 terms for liveness, built once on the template and cached per step.

    ``premise`` and ``goal`` are an obligation's in state ``k``; ``enabled``
    whether some instance of fairness group ``g`` can fire from state ``k``;
    ``taken`` whether the step from state ``k`` fires one of the group's instances.
    """

    def __init__(self, u: Unrolling, groups: Sequence[FairGroup]) -> None:
        self.u = u
        self.groups = list(groups)
        t = u.t
        members = [[t.model.instances[i] for i in sorted(g.instances)] for g in self.groups]
        self._group_enabled = [
            z3.simplify(z3.Or(*(t.instance_enabled(inst) for inst in insts)))
            for insts in members
        ]
        self._group_fires = [t.fires(insts) for insts in members]
        self._pairs: dict[Unit, tuple[z3.BoolRef, z3.BoolRef]] = {}
        self._cache: dict[tuple[Any, ...], z3.BoolRef] = {}

    def _template_pair(self, obl: Unit) -> tuple[z3.BoolRef, z3.BoolRef]:
        """``(premise, goal)`` of ``obl`` over the template's current-state constants (of
        a group: over its argument constants too)."""
        if obl not in self._pairs:
            t = self.u.t
            view = StateView(t.model, t.layout.state(t.cur), Z3Backend(t.bits), t.enabled)
            with user_code():
                premise, goal = obl.prop.predicate(view, **dict(obl.args))
            self._pairs[obl] = (z3.simplify(as_bool(premise)), z3.simplify(as_bool(goal)))
        return self._pairs[obl]

    def _at(self, key: tuple[Any, ...], term: z3.BoolRef, k: int) -> z3.BoolRef:
        """``term`` instantiated at step ``k`` (cached under ``key + (k,)``)."""
        full = (*key, k)
        if full not in self._cache:
            self._cache[full] = self.u.at(term, k)
        return self._cache[full]

    def premise(self, obl: Unit, k: int) -> z3.BoolRef:
        """The premise of ``obl`` in state ``k``."""
        return self._at(("premise", obl), self._template_pair(obl)[0], k)

    def goal(self, obl: Unit, k: int) -> z3.BoolRef:
        """The goal of ``obl`` in state ``k``."""
        return self._at(("goal", obl), self._template_pair(obl)[1], k)

    def enabled(self, g: int, k: int) -> z3.BoolRef:
        """Some instance of group ``g`` can fire from state ``k``."""
        return self._at(("enabled", g), self._group_enabled[g], k)

    def taken(self, g: int, k: int) -> z3.BoolRef:
        """The step from state ``k`` fires an instance of group ``g``."""
        return self._at(("taken", g), self._group_fires[g], k)


def loop_index(depth: int) -> z3.BitVecRef:
    """The loop index of a lasso of ``depth`` steps: an unsigned bit-vector (an
    ``Int`` bounded only inside an activation literal defeats the finite-domain solver)."""
    return z3.BitVec(f"loop@{depth}", max(1, depth.bit_length()))


def on_cycle(loop: z3.BitVecRef, k: int) -> z3.BoolRef:
    """State ``k`` is on the cycle: ``loop <= k``."""
    return z3.ULE(loop, k)


def lasso_shape(u: Unrolling, depth: int, loop: z3.BitVecRef) -> list[z3.BoolRef]:
    """``depth`` steps that all fire an instance, and ``s_depth == s_loop``
    with ``loop <= depth``."""
    out = [z3.ULE(loop, depth), *(u.moves(k) for k in range(depth))]
    for j in range(depth):
        out.append(z3.Implies(loop == j, u.same(j, depth)))
    return out


def fair_cycle(terms: LivenessTerms, depth: int, loop: z3.BitVecRef) -> list[z3.BoolRef]:
    """Every fairness group is met on the cycle: states ``loop .. depth``, steps
    ``loop .. depth - 1``."""
    cycle = [on_cycle(loop, k) for k in range(depth + 1)]
    out = []
    for g, group in enumerate(terms.groups):
        taken = [z3.And(cycle[k], terms.taken(g, k)) for k in range(depth)]
        if group.kind == "finitely":
            out.append(z3.Not(z3.Or(*taken)))
            continue
        disabled = [z3.Not(terms.enabled(g, k)) for k in range(depth + 1)]
        if group.kind == "weak":  # taken, or disabled in some cycle state
            escape = z3.Or(*(z3.And(c, d) for c, d in zip(cycle, disabled)))
        else:  # strong: taken, or disabled in every cycle state
            escape = z3.And(*(z3.Implies(c, d) for c, d in zip(cycle, disabled)))
        out.append(z3.Or(*taken, escape))
    return out


def violation(terms: LivenessTerms, obl: Unit, depth: int, loop: z3.BitVecRef) -> z3.BoolRef:
    """The lasso violates ``obl``: the goal is false on the cycle and, from some
    state where the premise holds (the initial state for ``eventually``), to the end.
    For a group: some obligation of it, the one its argument constants name."""
    free: list[z3.BoolRef] = [z3.BoolVal(True)] * (depth + 2)  # free[p]: goal false in p..depth
    for k in range(depth, -1, -1):
        free[k] = z3.And(z3.Not(terms.goal(obl, k)), free[k + 1])
    domain = obl.domain() if isinstance(obl, ObligationGroup) else z3.BoolVal(True)
    if obl.prop.kind == "eventually":
        return z3.And(domain, free[0])
    starts = z3.Or(*(z3.And(terms.premise(obl, p), free[p]) for p in range(depth + 1)))
    cycle = [z3.Implies(on_cycle(loop, k), z3.Not(terms.goal(obl, k)))
             for k in range(depth + 1)]
    return z3.And(domain, starts, *cycle)


def premise_position(model: Model, obl: Obligation, states: Sequence[State]) -> int:
    """The first state of a violating lasso where the premise holds and the goal
    stays false to the end (0 for ``eventually``)."""
    if obl.prop.kind == "eventually":
        return 0
    flags = []
    for st in states:
        view = property_view(model, st, enabled_actors(model, st))
        flags.append(obl.evaluate(view))
    free_from = len(states)
    while free_from > 0 and not flags[free_from - 1][1]:
        free_from -= 1
    return next(p for p in range(free_from, len(states)) if flags[p][0])


class LassoSearch:
    """Fair lassos violating liveness properties, one depth at a time, on a shared solver.

    ``query`` checks the unrolling ``u`` (with transitions at least up to the
    depth asked) plus extra constraints, and returns a model or ``None``.  Building
    the terms raises :class:`checker.engines.symbolic.limits.SolverGaveUp` once
    ``deadline`` (a ``time.monotonic()`` value) has passed.
    """

    def __init__(
        self,
        model: Model,
        u: Unrolling,
        query: Query,
        properties: Sequence[Property],
        fairness: Sequence[Fair],
        deadline: float | None = None,
    ) -> None:
        self.model = model
        self.u = u
        self.query = query
        self.deadline = deadline
        self.fairness = list(fairness)
        self.obligations = obligations(model, properties)
        self.terms = LivenessTerms(u, resolve(model, self.fairness))
        self.units: list[Unit] = grouped(self.obligations, u.t.bits)
        """What each query asks to violate: the obligations, a property's several as
        one group (:mod:`checker.engines.symbolic.obligations`)."""
        self.found: dict[str, Trace] = {}

    @property
    def pending(self) -> list[Obligation]:
        """Obligations of properties not yet found violated."""
        return [o for o in self.obligations if o.prop.name not in self.found]

    def check(self, depth: int) -> dict[str, Trace]:
        """Lassos of exactly ``depth`` steps for the pending properties (one query,
        repeated while sat): the newly violated properties, with checked traces.
        Nothing is built when no obligation is pending."""
        if not self.pending:
            return {}
        loop = loop_index(depth)
        shape = [*lasso_shape(self.u, depth, loop), *fair_cycle(self.terms, depth, loop)]
        new: dict[str, Trace] = {}
        every = self._violations(depth, loop)
        while self.pending:
            goals = {o: term for o, term in every.items() if o.prop.name not in self.found}
            m = self.query(*shape, z3.Or(*goals.values()))
            if m is None:
                break
            for unit, term in goals.items():
                name = unit.prop.name
                if name not in new and z3.is_true(m.eval(term, model_completion=True)):
                    obl = unit.picked(m) if isinstance(unit, ObligationGroup) else unit
                    new[name] = self.found[name] = self.trace(m, obl, depth, loop)
            if not any(o.prop.name in new for o in goals):
                raise EncodingError("a lasso was found but no obligation is violated on it")
        return new

    def _violations(self, depth: int, loop: z3.BitVecRef) -> dict[Unit, z3.BoolRef]:
        """Each pending unit's :func:`violation` at ``depth``.  A group whose property
        cannot take a symbolic argument is replaced by its obligations for good."""
        every: dict[Unit, z3.BoolRef] = {}
        for unit in [u for u in self.units if u.prop.name not in self.found]:
            # Building a unit's terms runs the property's Python code on the template
            # (about 0.3 s for a no-leak head at ring size 256): poll the limit.
            check_deadline(self.deadline)
            try:
                every[unit] = violation(self.terms, unit, depth, loop)
            except SymbolicMisuse:
                if not isinstance(unit, ObligationGroup):
                    raise
                self.units = [o for u in self.units
                              for o in (u.members if u is unit else (u,))]
                return self._violations(depth, loop)
        return every

    def trace(self, m: z3.ModelRef, obl: Obligation, depth: int, loop: z3.BitVecRef) -> Trace:
        """The lasso of ``m``, replayed and validated concretely, as a trace with ``loop``."""
        first, path = self.u.decode_path(m, depth)
        if len(path) != depth:
            raise EncodingError(f"a decoded lasso of {depth} steps halts")
        replay(self.model, first, path)
        start = m.eval(loop, model_completion=True).as_long()
        states = [first, *(st for _, st in path)]
        args = dict(obl.args)
        problems = check_lasso(self.model, obl.prop, args, self.fairness, states,
                               [inst.index for inst, _ in path], start)
        if problems:
            raise EncodingError(f"decoded lasso for {obl.title} is not a fair counterexample: "
                                + "; ".join(problems))
        return trace_of_lasso(self.model, obl, first, path, start,
                              premise_position(self.model, obl, states))
