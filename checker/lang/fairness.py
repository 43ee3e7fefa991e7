"""Fairness assumptions: which infinite runs count when judging liveness.

A model states its assumptions with :meth:`checker.lang.model.Model.fairness`,
a list of :class:`Fair` constraints, each over a set of actions chosen by
actor and/or action name:

* ``weak``: if some action of the set stays enabled forever, one of them is
  eventually taken (WF; a thread that can run is eventually scheduled).
* ``strong``: if some action of the set is enabled again and again, one of
  them is eventually taken (SF; e.g. a FIFO work list: an item queued again
  and again is eventually run, even if the worker is busy in between).
* ``finitely``: actions of the set are taken only finitely often (a guest
  that eventually goes idle); a run's repeating part contains none of them.

``each=True`` makes one constraint per action instance (``dev_complete(k=0)``,
``dev_complete(k=1)``, ...) instead of one for the whole set.  Actions no
constraint names are not forced: the run may stop taking them (stutter).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from checker.lang.model import ActionInstance, Model

FairKind = Literal["weak", "strong", "finitely"]


@dataclass(frozen=True)
class Fair:
    """One fairness assumption over the actions named by ``actors`` and ``actions``.

    An action belongs to the set when its actor is in ``actors`` (if given)
    and its name is in ``actions`` (if given) and not in ``except_actions``.
    """

    kind: FairKind
    why: str
    actors: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    except_actions: tuple[str, ...] = ()
    each: bool = False

    def selects(self, inst: ActionInstance) -> bool:
        spec = inst.spec
        return ((not self.actors or spec.actor in self.actors)
                and (not self.actions or spec.name in self.actions)
                and spec.name not in self.except_actions)

    def describe(self) -> str:
        what = []
        if self.actors:
            what.append("actor " + "/".join(self.actors))
        if self.actions:
            what.append(", ".join(self.actions))
        if self.except_actions:
            what.append("except " + ", ".join(self.except_actions))
        scope = " (each instance)" if self.each else ""
        return f"{self.kind} fairness on {'; '.join(what) or 'every action'}{scope}: {self.why}"


@dataclass(frozen=True)
class FairGroup:
    """A resolved constraint: its kind, the instance indices it covers, and its text."""

    kind: FairKind
    instances: frozenset[int]
    text: str


def check_names(model: Model, constraints: Sequence[Fair]) -> None:
    """Raise :class:`checker.lang.model.ModelError` when a constraint names an actor or an
    action (in ``actions`` or ``except_actions``) the model does not have, with the
    closest known name ("did you mean ...")."""
    from checker.lang.model import ModelError

    actions = sorted({spec.name for spec in model.action_specs})
    actors = sorted(model.actors)
    for fair in constraints:
        for field_name, names, known in (("actors", fair.actors, actors),
                                         ("actions", fair.actions, actions),
                                         ("except_actions", fair.except_actions, actions)):
            for name in names:
                if name in known:
                    continue
                close = difflib.get_close_matches(name, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise ModelError(
                    f"revision {model.name}: fairness '{fair.why}' names {field_name} "
                    f"'{name}', which the model does not have{hint}")


def resolve(model: Model, constraints: Sequence[Fair]) -> list[FairGroup]:
    """The constraints as groups of the model's action instances (empty groups dropped)."""
    groups: list[FairGroup] = []
    for fair in constraints:
        chosen = [inst for inst in model.instances if fair.selects(inst)]
        if fair.each:
            groups.extend(FairGroup(fair.kind, frozenset([inst.index]),
                                    f"{fair.kind} fairness on {inst.label}: {fair.why}")
                          for inst in chosen)
        elif chosen:
            groups.append(FairGroup(fair.kind, frozenset(i.index for i in chosen),
                                    fair.describe()))
    return groups


def describe_all(constraints: Sequence[Fair]) -> list[str]:
    """One line per constraint, for summaries and result.json."""
    return [fair.describe() for fair in constraints] or [
        "none: every run may stop at any point (only safety-like violations are found)"]
