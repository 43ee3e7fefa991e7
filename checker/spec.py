"""Properties: named, documented predicates over a state view.

A property is declared once, in ``specs/``, as a decorated function::

    @invariant("no-double-use", "a descriptor is returned only while outstanding ...")
    def no_double_use(s):
        return s.use_err == 0

The function receives a :class:`checker.view.StateView` and returns a
boolean built from ``==``, ``<``, ``s.all``, ``s.any``, ``s.implies`` and
``s.enabled(actor, ...)``; every engine evaluates it on its own backend.
``explain`` optionally turns a violating concrete state into plain words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from checker.view import StateView


@dataclass(frozen=True)
class Property:
    """A named safety property: ``predicate`` must hold in every reachable state."""

    name: str
    statement: str
    predicate: Callable[[StateView], Any]
    explain: Callable[[StateView], str] | None = None

    def describe_violation(self, view: StateView) -> str:
        """Why a concrete violating state breaks this property, in words."""
        if self.explain is not None:
            return self.explain(view)
        return f"{self.name} is false: {self.statement}"


def invariant(
    name: str, statement: str, explain: Callable[[StateView], str] | None = None
) -> Callable[[Callable[[StateView], Any]], Property]:
    """Declare a state predicate as the property ``name``."""

    def wrap(fn: Callable[[StateView], Any]) -> Property:
        return Property(name, statement, fn, explain)

    return wrap


def properties_in(module: ModuleType) -> list[Property]:
    """The properties a module declares, in declaration order."""
    return [v for v in vars(module).values() if isinstance(v, Property)]
