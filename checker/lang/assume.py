"""Environment assumptions: what a model assumes of the world it does not model.

A revision states an assumption about its environment (the guest, userspace,
the lower device) as a declaration, not as a guard hidden inside a kernel
step::

    @assume("no-backend-change-under-dma",
            "userspace changes the backend only while the device holds no skb",
            actions=("set_backend",))
    def quiet_device(self, s):
        return s.skb_cnt == 0

The method returns a condition on the state; every action instance the
declaration selects (by ``actors`` and/or ``actions``, as
:class:`checker.lang.fairness.Fair` selects) is enabled only where the
condition holds.  Runs are thus restricted to those in which the environment
behaves as assumed; ``vhostmc check`` lists every assumption in its summary
and in ``result.json``, so a verdict is never read without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Assumption:
    """One declared assumption: its name, statement, which actions it restricts, its method."""

    name: str
    statement: str
    actors: tuple[str, ...]
    actions: tuple[str, ...]
    method: str
    where: str

    def selects(self, actor: str, action: str) -> bool:
        """Whether the assumption restricts ``action`` of ``actor``."""
        return ((not self.actors or actor in self.actors)
                and (not self.actions or action in self.actions))

    def describe(self) -> str:
        """``name: statement (restricts ...)``, as summaries print it."""
        scope = []
        if self.actors:
            scope.append("actor " + "/".join(self.actors))
        if self.actions:
            scope.append(", ".join(self.actions))
        return f"{self.name}: {self.statement} (restricts {'; '.join(scope) or 'every action'})"


def assume(
    name: str, statement: str, actors: tuple[str, ...] = (), actions: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a model method ``(self, s) -> condition`` as the environment assumption ``name``."""

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn.__vhostmc_assume__ = (name, statement, tuple(actors),  # type: ignore[attr-defined]
                                 tuple(actions))
        return fn

    return mark
