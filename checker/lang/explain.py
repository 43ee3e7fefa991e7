"""The default plain-words explanation of a violation: what the predicate read.

A property declared without an ``explain`` function is explained by
evaluating its predicate once more, on a :class:`RecordingView` of the
violating state, which notes every state variable, array element and
``s.enabled(...)`` the predicate read, with its value::

    my-prop is false (upend never passes done): it read upend = 3, done = 1, heads_len[2] = 2

The recording view is only built for a violation (once per property and
trace), never on the explorer's hot path, and it reads the state as any
concrete view does: the model's semantics are untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from checker.lang.expr import Value
from checker.lang.presentation import format_value
from checker.lang.view import ArrayRef, StateView


class Property(Protocol):
    """What an explanation reads of a property (:class:`checker.lang.spec.Property` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def statement(self) -> str: ...
    @property
    def is_liveness(self) -> bool: ...
    @property
    def predicate(self) -> Callable[[StateView], Any]: ...


class RecordingArray(ArrayRef):
    """An array seen through a :class:`RecordingView`: element reads are recorded."""

    __slots__ = ("_name", "_reads")

    def __init__(self, view: StateView, slot: int, name: str, reads: dict[str, Any]) -> None:
        super().__init__(view, slot)
        self._name = name
        self._reads = reads

    def __getitem__(self, index: Value) -> Value:
        value = super().__getitem__(index)
        self._reads.setdefault(f"{self._name}[{index}]", value)
        return value

    def __iter__(self) -> Any:
        values = tuple(super().__iter__())
        self._reads.setdefault(self._name, values)
        return iter(values)


class RecordingView(StateView):
    """A concrete view on the same state as ``view`` that records what is read.

    ``reads`` maps each variable (``x``), array element (``a[2]``), whole
    array iterated over (``a``) and ``enabled(actor, ...)`` query to the
    value it had, in the order of the first read.  Writes are not recorded
    (properties do not write) and do not reach ``view``.
    """

    __slots__ = ("reads",)

    def __init__(self, view: StateView) -> None:
        super().__init__(view._m, view._vals, view._b, view._enabled)
        object.__setattr__(self, "reads", {})

    def __getattr__(self, name: str) -> Any:
        value = super().__getattr__(name)
        if isinstance(value, ArrayRef):
            return RecordingArray(self, self._m.var_index[name], name, self.reads)
        self.reads.setdefault(name, value)
        return value

    def enabled(self, *actors: str) -> Value:
        value = super().enabled(*actors)
        self.reads.setdefault(f"enabled({', '.join(actors)})", value)
        return value


def reads_of(prop: Property, view: StateView) -> dict[str, Any]:
    """What ``prop``'s predicate reads when evaluated on the concrete ``view``."""
    recorder = RecordingView(view)
    prop.predicate(recorder)
    return recorder.reads


def default_explanation(prop: Property, view: StateView) -> str:
    """``NAME is false (STATEMENT): it read x = 1, a[2] = 0`` for a violating ``view``.

    A liveness property (whose predicate takes arguments and returns a pair),
    or a symbolic view (no values to show), gets ``NAME is false: STATEMENT``.
    """
    if prop.is_liveness or view.symbolic:
        return f"{prop.name} is false: {prop.statement}"
    head = f"{prop.name} is false ({prop.statement})"
    reads = reads_of(prop, view)
    if not reads:
        return f"{head}: it read no state variable"
    return f"{head}: it read " + ", ".join(f"{k} = {format_value(v)}" for k, v in reads.items())
