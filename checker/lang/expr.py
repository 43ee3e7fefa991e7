"""The expression layer shared by every engine.

Model actions and properties are ordinary Python functions over a
:class:`checker.lang.view.StateView`.  Everything they compute goes through the
operators of one :class:`Backend`: Python's own ``+ - % < ==`` work on both
plain ints and Z3 terms, and the few operations Python cannot overload
(``if``, ``and``, ``or``, ``not``, indexing an array with a value that may be
symbolic) are methods of the backend.  The concrete backend evaluates them on
ints and bools; :mod:`checker.engines.symbolic.encoding` supplies the Z3 one.  A model written
against this layer therefore runs unchanged in the explicit explorer and in
the Z3 engines (the claripy pattern: one expression layer, several backends).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

Value = Any
"""An int or bool on the concrete backend, a Z3 term on the symbolic one."""


class Backend(Protocol):
    """Operations a model may use that Python cannot overload for Z3 terms."""

    symbolic: bool

    def ite(self, cond: Value, then: Value, other: Value) -> Value:
        """``then`` if ``cond`` else ``other``."""

    def and_(self, *conds: Value) -> Value:
        """Conjunction of ``conds`` (true when empty)."""

    def or_(self, *conds: Value) -> Value:
        """Disjunction of ``conds`` (false when empty)."""

    def not_(self, cond: Value) -> Value:
        """Negation of ``cond``."""

    def select(self, array: Sequence[Value], index: Value) -> Value:
        """Element ``index`` of a fixed-size array; ``index`` must be in range."""

    def store(self, array: tuple[Value, ...], index: Value, value: Value) -> tuple[Value, ...]:
        """A copy of ``array`` with element ``index`` set to ``value``."""

    def store_if(
        self, array: tuple[Value, ...], cond: Value, index: Value, value: Value
    ) -> tuple[Value, ...]:
        """``store`` when ``cond`` holds, else ``array``; ``index`` may then be out of range."""


class ConcreteBackend:
    """Evaluates model code on plain Python ints and bools."""

    symbolic = False

    def ite(self, cond: Value, then: Value, other: Value) -> Value:
        return then if cond else other

    def and_(self, *conds: Value) -> Value:
        return all(conds)

    def or_(self, *conds: Value) -> Value:
        return any(conds)

    def not_(self, cond: Value) -> Value:
        return not cond

    def select(self, array: Sequence[Value], index: Value) -> Value:
        if not 0 <= index < len(array):
            raise IndexError(f"model indexed an array of {len(array)} elements at {index}")
        return array[index]

    def store(self, array: tuple[Value, ...], index: Value, value: Value) -> tuple[Value, ...]:
        if not 0 <= index < len(array):
            raise IndexError(f"model wrote an array of {len(array)} elements at {index}")
        return array[:index] + (value,) + array[index + 1 :]

    def store_if(
        self, array: tuple[Value, ...], cond: Value, index: Value, value: Value
    ) -> tuple[Value, ...]:
        return self.store(array, index, value) if cond else array


CONCRETE = ConcreteBackend()
