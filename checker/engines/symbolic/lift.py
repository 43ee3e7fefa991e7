"""Lifting small-ring counterexamples to a run's constants (``--lift-from N``).

BMC's cost doubles with each depth: at ring size 256 with the kernel's constants it
checks about five steps a minute, while the explicit engine finds v9's violations at
ring size 2 in seconds.  A counterexample is a sequence of actions, and the same
sequence may exist at the larger constants.  The explicit engine runs at ring size
``N`` (:func:`small_model`: the parameters whose defaults follow the ring size take
their defaults there unless this run's value is smaller, every other one keeps this
run's value).  For each invariant it
finds violated, the same action instances are fired on *this* run's model; if they
do not all fire or do not end in a violation, one Z3 query asks for a path that fires
the same actions in the same order with their arguments free and ends in a state
that violates the property, and its model is decoded and replayed.  A liveness
counterexample (a lasso) is fired the same way and checked as a fair lasso; it has
no solver route.  What is found is reported as the counterexample, marked "not
necessarily the shortest": BMC rules out a shorter one only up to the depth it
reaches.

Nothing from the small ring is assumed: every trace is a path of this run's model,
checked on it.  A guide that does not lift only leaves its property to BMC, as
without the option.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import z3

from checker.engines.base import EngineRequest, Limits, Progress, Stats, announce
from checker.engines.explicit.engine import ExplicitEngine
from checker.engines.explicit.liveness import Obligation, check_lasso, trace_of_lasso
from checker.engines.symbolic.bounded import BoundedSearch
from checker.engines.symbolic.groups import by_action
from checker.engines.symbolic.lasso import premise_position
from checker.engines.symbolic.limits import check_deadline
from checker.engines.symbolic.unroll import violation_trace
from checker.lang.fairness import Fair
from checker.lang.model import ActionInstance, Model, ModelError, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, ModelBug
from checker.semantics.states import fire, initial_state
from checker.traces.trace import Trace


def small_model(model: Model, ring: int) -> Model:
    """``model``'s revision at ring size ``ring``.  A parameter with a computed default
    (one that follows the ring size, like ``uio_maxiov``) takes its default there,
    unless ``model``'s value is smaller: a deliberately small value (the ``bigring``
    environment's ``--uio-maxiov 1``) is kept.  Every other parameter keeps
    ``model``'s value.  :class:`ModelError` unless ``ring`` is below ``model``'s ring
    size."""
    values = model.p.as_dict()
    if "ring_size" not in values:
        raise ModelError(f"--lift-from needs a ring_size parameter, which revision "
                         f"{model.name} does not have; drop --lift-from")
    if ring >= values["ring_size"]:
        raise ModelError(f"--lift-from {ring} must be below --ring-size {values['ring_size']} "
                         "(it lifts counterexamples found at a smaller ring); use 1 or 2")
    overrides = {spec.name: values[spec.name] for spec in model.parameters
                 if not callable(spec.default)}
    overrides["ring_size"] = ring
    for spec in model.parameters:  # in order: a default may follow an earlier parameter
        if callable(spec.default):
            default = type(model).resolve_params(overrides).as_dict()[spec.name]
            if isinstance(default, int) and values[spec.name] < default:
                overrides[spec.name] = values[spec.name]
    return type(model)(overrides)


EXPLICIT_SHARE = 0.5
"""The part of the time left that the explicit search at the small ring may take: a
search that must be complete to stop (a property that holds there) can take minutes
(v3.1 at ring size 2: 220 s), and BMC needs the rest."""


def small_counterexamples(
    small: Model, props: Sequence[Property], deadline: float | None
) -> dict[str, Trace]:
    """The shortest counterexamples the explicit engine finds for ``props`` on ``small``
    within :data:`EXPLICIT_SHARE` of the time left before ``deadline``."""
    left = (None if deadline is None
            else max((deadline - time.monotonic()) * EXPLICIT_SHARE, 0.001))
    result = ExplicitEngine().run(EngineRequest(small, list(props), backend="auto",
                                                limits=Limits(time_limit=left)))
    return {r.name: r.trace for r in result.properties if r.trace is not None}


def fire_guide(model: Model, guide: Trace) -> list[tuple[ActionInstance, State]] | None:
    """The path of ``model`` from its initial state that fires ``guide``'s instances (the
    same labels: same action, same arguments) in order; ``None`` when one is missing,
    disabled or stops at a capacity or a type."""
    state = initial_state(model)
    path = []
    for step in guide.steps:
        try:
            inst = model.instance(step.label)
            nxt = fire(model, inst, state)
        except (KeyError, CapacityReached, ModelBug):
            return None
        if nxt is None:
            return None
        path.append((inst, nxt))
        state = nxt
    return path


def lift(model: Model, prop: Property, guide: Trace, ring: int,
         new_search: Callable[[], BoundedSearch]) -> Trace | None:
    """A counterexample to ``prop`` on ``model`` that fires ``guide``'s actions in order;
    ``None`` when no such path exists.  The same instances fired concretely come first
    (no solver at all); else Z3 looks for the path with the actions' arguments free on
    a fresh search of ``model`` from ``new_search``, and it is replayed."""
    path = fire_guide(model, guide)
    trace = None if path is None else violation_trace(model, prop, initial_state(model), path)
    if trace is None:
        trace = _solve_for(new_search(), prop, guide)
    return None if trace is None else _marked(trace, ring)


def _marked(trace: Trace, ring: int) -> Trace:
    """``trace``, marked as lifted from ring size ``ring`` (not necessarily the shortest)."""
    trace.shortest = False
    trace.origin = f"lifted from ring size {ring}"
    return trace


def _solve_for(search: BoundedSearch, prop: Property, guide: Trace) -> Trace | None:
    """:func:`lift`'s Z3 route: ``guide``'s actions, arguments free."""
    by_name = {insts[0].name: insts for insts in by_action(search.model)}
    if any(step.action not in by_name for step in guide.steps):
        return None
    search.depth = len(guide)
    # Asserted, not behind an activation literal: the solver's equation solving then
    # substitutes each step's selector and drops the other actions' terms.
    search.solver.add(*(search.u.at(search.u.t.fires(by_name[step.action]), k)
                        for k, step in enumerate(guide.steps)))
    m = search.query(z3.Not(search.holds_at(len(guide), prop)))
    return None if m is None else search.trace(m, prop)


def lift_lasso(model: Model, prop: Property, guide: Trace, fairness: Sequence[Fair],
               ring: int) -> Trace | None:
    """A fair lasso violating liveness property ``prop`` on ``model`` that fires
    ``guide``'s instances (same action, same arguments) and loops where it loops,
    checked like any lasso (:func:`check_lasso`); ``None`` when that is no such lasso.
    There is no solver route: a cycle rarely survives new arguments."""
    path = fire_guide(model, guide)
    if path is None or guide.loop is None:
        return None
    first = initial_state(model)
    states = [first, *(state for _, state in path)]
    args = dict(guide.property_args)
    if check_lasso(model, prop, args, fairness, states, [inst.index for inst, _ in path],
                   guide.loop):
        return None
    obl = Obligation(prop, tuple(args.items()))
    return _marked(trace_of_lasso(model, obl, first, path, guide.loop,
                                  premise_position(model, obl, states)), ring)


class Lifter:
    """Lifts the counterexamples the explicit engine finds at ring size ``ring`` to
    ``model`` (see the module's docstring); a ``ring`` that is not below ``model``'s is
    refused on construction (:func:`small_model`)."""

    def __init__(self, model: Model, ring: int, deadline: float | None) -> None:
        self.model = model
        self.ring = ring
        self.small = small_model(model, ring)
        self.deadline = deadline

    def run(self, props: Sequence[Property], fairness: Sequence[Fair],
            new_search: Callable[[], BoundedSearch], stats: Stats, found: dict[str, Trace],
            progress: Progress | None = None) -> None:
        """Add to ``found`` the properties among ``props`` violated along the actions of
        their small-ring counterexamples, each as soon as it is lifted (a time limit
        that stops the run keeps them): invariants by :func:`lift` on a fresh search
        from ``new_search`` each, liveness properties by :func:`lift_lasso` under
        ``fairness``.  ``stats.transitions`` counts the solver searches; progress lines
        count from ``stats.seconds``."""
        began = time.monotonic() - stats.seconds
        if not props:
            return

        def counted_search() -> BoundedSearch:
            stats.transitions += 1
            return new_search()

        announce(stats, progress, began, f"explicit search at ring size {self.ring} for "
                 "counterexamples to lift")
        guides = small_counterexamples(self.small, props, self.deadline)
        for prop in props:
            guide = guides.get(prop.name)
            if guide is None:
                continue
            check_deadline(self.deadline)
            announce(stats, progress, began, f"lifting the {len(guide)}-step counterexample "
                     f"to {prop.name} from ring size {self.ring}")
            if prop.is_liveness:
                trace = lift_lasso(self.model, prop, guide, fairness, self.ring)
            else:
                trace = lift(self.model, prop, guide, self.ring, counted_search)
            if trace is not None:
                found[prop.name] = trace
