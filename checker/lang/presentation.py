"""How a model is shown and which environments it is checked in: data a model owns.

The outputs (sequence charts, graph labels) and the runs (named environments)
are generic; what is specific to one model -- which variable change is a
message between actors, which variables a chart row lists, the presets of its
environment switches -- is declared by the model as class attributes
(:attr:`checker.lang.model.Model.presentation`,
:attr:`checker.lang.model.Model.environments`), with the generic defaults below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ChangeKind = Literal["set", "increase", "decrease", "becomes", "leaves"]


@dataclass(frozen=True)
class InteractionRule:
    """A change of ``variable`` made by a step of one of ``sources`` is a message to ``target``.

    ``change`` says which change counts: ``set`` (false/0 to true/non-zero),
    ``increase``, ``decrease``, ``becomes`` (``value``, from something else)
    or ``leaves`` (``value``, to something else).  ``sources`` ``None``
    means any actor but ``target``.  For an array, each changed element is
    checked on its own.
    """

    label: str
    variable: str
    change: ChangeKind
    target: str
    sources: tuple[str, ...] | None = None
    value: int | None = None
    meaning: str = ""

    def matches(self, actor: str, old: Any, new: Any) -> bool:
        """Whether a step of ``actor`` changing the variable from ``old`` to ``new`` is this message."""
        if actor == self.target or (self.sources is not None and actor not in self.sources):
            return False
        if self.change == "set":
            return not old and bool(new)
        if self.change == "increase":
            return bool(new > old)
        if self.change == "decrease":
            return bool(new < old)
        if self.change == "becomes":
            return new == self.value and old != self.value
        return old == self.value and new != self.value


@dataclass(frozen=True)
class Presentation:
    """What charts and graphs show of a model (every field optional).

    ``interactions``: the arrows of a sequence chart; ``watched``: the
    variables a chart row lists (empty: every change); ``lane_titles``: a
    title per actor (default: the actor's name); ``key_variables``: what an
    explored-graph node's label shows (empty: the first few variables);
    ``value_names``: per int variable whose values stand for names (a program
    counter), the name of each value from 0 up, shown after the number in
    counterexamples to induction (``9 (sendmsg)``).
    """

    interactions: tuple[InteractionRule, ...] = ()
    watched: tuple[str, ...] = ()
    lane_titles: dict[str, str] = field(default_factory=dict)
    key_variables: tuple[str, ...] = ()
    value_names: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def shown(self, variable: str, value: Any) -> str:
        """``value`` of ``variable`` (an array's name, or one element's: ``heads_len[3]``)
        as text: a named value as ``number (name)``, an array element by element."""
        names = self.value_names.get(variable.split("[", 1)[0], ())
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.shown(variable, v) for v in value) + "]"
        if names and not isinstance(value, bool) and isinstance(value, int) \
                and 0 <= value < len(names):
            return f"{value} ({names[value]})"
        return format_value(value)


def format_value(value: Any) -> str:
    """A state value as every output prints it: ``true``/``false``, ints as they are,
    arrays as ``[a, b]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)


@dataclass(frozen=True)
class Environment:
    """A named preset of a model's switches: ``switches`` maps parameter names to values."""

    name: str
    description: str
    switches: dict[str, Any] = field(default_factory=dict)

    def args(self) -> list[str]:
        """The preset as ``vhostmc check`` options."""
        out: list[str] = []
        for key, value in self.switches.items():
            out += ["--" + key.replace("_", "-"), str(value)]
        return out


DEFAULT_ENVIRONMENTS: tuple[Environment, ...] = (
    Environment("default", "every parameter at its default"),
)
"""The environments of a model that declares none."""
