"""Properties: named, documented predicates over a state view.

A property is declared once, in ``specs/``, as a decorated function::

    @invariant("no-double-use", "a descriptor is returned only while outstanding ...")
    def no_double_use(s):
        return s.use_err == 0

The function receives a :class:`checker.lang.view.StateView` and returns a
boolean built from ``==``, ``<``, ``s.all``, ``s.any``, ``s.implies`` and
``s.enabled(actor, ...)``; every engine evaluates it on its own backend.
``explain`` optionally turns a violating concrete state into plain words.

Liveness properties say that something good eventually happens::

    @leads_to("no-leak", "every posted descriptor is eventually returned",
              over=lambda p: {"h": range(p.ring_size)})
    def no_leak(s, h):
        return outstanding(s, h), returned(s, h)     # premise P, goal Q: P ~> Q

``@leads_to`` checks ``P ~> Q`` (whenever P holds, Q holds then or later)
for every combination of the ``over`` arguments; ``@eventually`` checks
that the goal holds at some point of every run.  Both are judged on the
runs that respect the model's fairness assumptions (:mod:`checker.lang.fairness`).

Reachability (Stateright's ``sometimes``) says that some reachable state
satisfies a predicate, e.g. that a scenario can happen at all::

    @sometimes("zerocopy-used", "some transmit goes through the zero-copy path")
    def zerocopy_used(s):
        return s.upend != s.done

The explicit engine reports it ``holds`` with an example trace to the first
such state (not a counterexample), ``violated`` when a complete search never
met one (unreachable), ``inconclusive`` when the search was cut first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from checker.lang.model import Params
    from checker.lang.view import StateView

Kind = Literal["always", "leads-to", "eventually", "sometimes"]
Over = Callable[["Params"], Mapping[str, Iterable[int]]]


@dataclass(frozen=True)
class Property:
    """A named property.

    ``always`` (an invariant): ``predicate(s)`` must hold in every reachable
    state.  ``leads-to``: ``predicate(s, **args)`` returns ``(premise, goal)``
    and every fair run in which the premise holds must reach the goal then or
    later, for every ``args`` in :meth:`instances`.  ``eventually``: the same
    with the premise true in the initial state only.  ``sometimes``:
    ``predicate(s)`` must hold in at least one reachable state.
    """

    name: str
    statement: str
    predicate: Callable[..., Any]
    explain: Callable[..., str] | None = None
    kind: Kind = "always"
    over: Over | None = None

    @property
    def is_liveness(self) -> bool:
        """A property judged on infinite fair runs (``leads-to``, ``eventually``)."""
        return self.kind in ("leads-to", "eventually")

    @property
    def is_reachability(self) -> bool:
        """A ``sometimes`` property: some reachable state satisfies the predicate."""
        return self.kind == "sometimes"

    def instances(self, params: Params) -> list[dict[str, int]]:
        """Every argument combination of a liveness property (``[{}]`` without ``over``)."""
        if self.over is None:
            return [{}]
        domains = self.over(params)
        names = list(domains)
        return [dict(zip(names, combo))
                for combo in itertools.product(*(list(domains[n]) for n in names))]

    def describe_violation(self, view: StateView) -> str:
        """Why a concrete violating state breaks this property, in words: ``explain``'s
        text, else :func:`checker.lang.explain.default_explanation` (the values it read)."""
        if self.explain is not None:
            return self.explain(view)
        from checker.lang.explain import default_explanation  # here: it imports checker.lang.view

        return default_explanation(self, view)

    def describe_example(self, view: StateView) -> str:
        """Why a state reached by a ``sometimes`` example satisfies this property, in words:
        ``explain``'s text, else ``NAME is reached (STATEMENT): it read x = 1, ...``."""
        if self.explain is not None:
            return self.explain(view)
        from checker.lang.explain import reads_of
        from checker.lang.presentation import format_value

        head = f"{self.name} is reached ({self.statement})"
        reads = reads_of(self, view)
        if not reads:
            return head
        return f"{head}: it read " + ", ".join(f"{k} = {format_value(v)}" for k, v in reads.items())


def invariant(
    name: str, statement: str, explain: Callable[[StateView], str] | None = None
) -> Callable[[Callable[[StateView], Any]], Property]:
    """Declare a state predicate as the property ``name``."""

    def wrap(fn: Callable[[StateView], Any]) -> Property:
        return Property(name, statement, fn, explain)

    return wrap


def leads_to(
    name: str, statement: str, over: Over | None = None,
    explain: Callable[..., str] | None = None,
) -> Callable[[Callable[..., Any]], Property]:
    """Declare ``P ~> Q``: the function returns ``(P, Q)`` for a state (and ``over`` args).

    ``explain(s, **args)``, if given, describes in words the state where the
    run's cycle starts.
    """

    def wrap(fn: Callable[..., Any]) -> Property:
        return Property(name, statement, fn, explain, "leads-to", over)

    return wrap


def eventually(
    name: str, statement: str, over: Over | None = None,
    explain: Callable[..., str] | None = None,
) -> Callable[[Callable[..., Any]], Property]:
    """Declare ``<>Q``: the function returns ``Q``; every fair run must reach it."""

    def wrap(fn: Callable[..., Any]) -> Property:
        def pair(s: StateView, **args: int) -> Any:
            return True, fn(s, **args)

        pair.__wrapped__ = fn  # type: ignore[attr-defined]
        return Property(name, statement, pair, explain, "eventually", over)

    return wrap


def sometimes(
    name: str, statement: str, explain: Callable[[StateView], str] | None = None
) -> Callable[[Callable[[StateView], Any]], Property]:
    """Declare that some reachable state satisfies the state predicate (reachability).

    ``explain(s)``, if given, describes in words the first such state found.
    """

    def wrap(fn: Callable[[StateView], Any]) -> Property:
        return Property(name, statement, fn, explain, "sometimes")

    return wrap


def properties_in(module: ModuleType) -> list[Property]:
    """The properties a module declares, in declaration order."""
    return [v for v in vars(module).values() if isinstance(v, Property)]
