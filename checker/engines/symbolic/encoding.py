"""The Z3 backend of the expression layer.

:class:`Z3Backend` implements :class:`checker.lang.expr.Backend` on Z3 terms, so
the model's action bodies and the properties' predicates, unchanged, build
formulas instead of values.  Python's own operators already work on Z3
terms (``+ - % < ==``; ``%`` is Z3's ``mod``, which agrees with Python's for
the positive divisors the model uses); the backend supplies ``if``, ``and``,
``or``, ``not`` and array indexing with a symbolic index.

Ints are Z3 ``Int`` terms or, for the engines (faster to bit-blast),
signed bit-vectors wide enough that the model's arithmetic cannot overflow
(:func:`int_bits`); comparisons are then signed and ``%`` is ``bvsmod``
(whose sign follows the divisor, as Python's ``%`` does).

Arrays stay Python tuples of scalar terms.  ``select`` with a symbolic index
is an ``If`` chain over the positions: an index out of range selects the
*last* element (model code only indexes in range, as the concrete backend
enforces).  ``store``/``store_if`` with a symbolic index rewrite every
element as ``If(index == i, value, old)``: an index out of range changes
nothing.

Conditions that are Python bools (or the Z3 constants true/false) are
simplified away at once, so code over concrete parameters builds no terms.
:mod:`checker.engines.symbolic.symexec` runs whole actions on this backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import z3

from checker.lang.expr import Value
from checker.lang.model import Model
from checker.lang.view import ModelBug


def is_concrete(value: Value) -> bool:
    """Whether ``value`` is a plain Python int or bool (not a Z3 term)."""
    return isinstance(value, (bool, int))


def as_bool(value: Value) -> z3.BoolRef:
    """``value`` as a Z3 Boolean term (Python bools become constants)."""
    if isinstance(value, bool):
        return z3.BoolVal(value)
    if isinstance(value, z3.BoolRef):
        return value
    raise ModelBug(f"expected a condition, got {value!r}")


_TRUE, _FALSE = z3.BoolVal(True), z3.BoolVal(False)
_TRUE_ID, _FALSE_ID = _TRUE.get_id(), _FALSE.get_id()  # Z3 hash-conses: one id each


def _concrete_truth(value: Value) -> bool | None:
    """``True``/``False`` when ``value`` is a known truth value, else ``None``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    ident = value.get_id()
    if ident == _TRUE_ID:
        return True
    if ident == _FALSE_ID:
        return False
    return None


def literal(value: Value) -> int | None:
    """The int a Z3 numeral stands for (``Int`` or signed bit-vector), else ``None``."""
    if z3.is_int_value(value):
        return int(value.as_long())
    if z3.is_bv_value(value):
        return int(value.as_signed_long())
    return None


def _concrete_int(value: Value) -> int | None:
    """The int ``value`` stands for when it is a literal, else ``None``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return literal(value)


def int_bits(model: Model) -> int:
    """A signed bit-vector width for ``model``'s ints: 64 times the largest
    magnitude of any variable bound or int parameter, so that the sums, counts
    and ``x + m - 1`` the model computes cannot overflow."""
    big = max(
        [abs(v.lo) for v in model.vars] + [abs(v.hi) for v in model.vars]
        + [abs(x) for x in model.p.as_dict().values() if isinstance(x, int)] + [1]
    )
    return max(8, (64 * big).bit_length() + 1)


def is_bool(value: Value) -> bool:
    """Whether ``value`` is a Python bool or a Z3 Boolean term."""
    return isinstance(value, (bool, z3.BoolRef))


def _same(a: Value, b: Value) -> bool:
    """Cheap structural equality (identical Python values or the same Z3 term)."""
    if a is b:
        return True
    if is_concrete(a) and is_concrete(b):
        return type(a) is type(b) and a == b
    if isinstance(a, z3.ExprRef) and isinstance(b, z3.ExprRef):
        return bool(a.eq(b))
    return False


class Z3Backend:
    """Evaluates model code on Z3 terms (mixing in Python ints and bools).

    Ints are Z3 ``Int`` terms, or with ``bits`` signed bit-vectors of that
    width (Python ints mixed in are converted by Z3 either way; the backend
    converts the literals it creates itself, see :meth:`num`).
    """

    symbolic = True

    def __init__(self, bits: int | None = None) -> None:
        self.bits = bits

    def num(self, value: int) -> z3.ExprRef:
        """The Z3 numeral for ``value`` in this backend's int sort."""
        return z3.IntVal(value) if self.bits is None else z3.BitVecVal(value, self.bits)

    def ite(self, cond: Value, then: Value, other: Value) -> Value:
        """``z3.If``, or the branch itself when ``cond`` is known."""
        truth = _concrete_truth(cond)
        if truth is not None:
            return then if truth else other
        if _same(then, other):
            return then
        if is_bool(then) != is_bool(other):
            raise ModelBug(f"ite mixes a bool and an int: {then!r} / {other!r}")
        if is_concrete(then) and is_concrete(other):
            if isinstance(then, bool):
                # If(c, True, False) is c; If(c, False, True) is Not(c).
                return cond if then else z3.Not(cond)
            then = self.num(then)
        return z3.If(cond, then, other)

    def and_(self, *conds: Value) -> Value:
        """``z3.And`` of the conditions that are not known to be true."""
        terms = []
        for c in conds:
            truth = _concrete_truth(c)
            if truth is False:
                return False
            if truth is None:
                terms.append(c)
        if not terms:
            return True
        return terms[0] if len(terms) == 1 else z3.And(*terms)

    def or_(self, *conds: Value) -> Value:
        """``z3.Or`` of the conditions that are not known to be false."""
        terms = []
        for c in conds:
            truth = _concrete_truth(c)
            if truth is True:
                return True
            if truth is None:
                terms.append(c)
        if not terms:
            return False
        return terms[0] if len(terms) == 1 else z3.Or(*terms)

    def not_(self, cond: Value) -> Value:
        """``z3.Not`` (a double negation cancels)."""
        truth = _concrete_truth(cond)
        if truth is not None:
            return not truth
        if z3.is_not(cond):
            return cond.arg(0)
        return z3.Not(cond)

    def select(self, array: Sequence[Value], index: Value) -> Value:
        """The element, or an ``If`` chain over positions for a symbolic index."""
        i = _concrete_int(index)
        if i is not None:
            if not 0 <= i < len(array):
                raise IndexError(f"model indexed an array of {len(array)} elements at {i}")
            return array[i]
        result = array[-1]
        for pos in range(len(array) - 2, -1, -1):
            result = self.ite(index == pos, array[pos], result)
        return result

    def store(self, array: tuple[Value, ...], index: Value, value: Value) -> tuple[Value, ...]:
        """A copy with the element replaced (every element guarded, for a symbolic index)."""
        i = _concrete_int(index)
        if i is not None:
            if not 0 <= i < len(array):
                raise IndexError(f"model wrote an array of {len(array)} elements at {i}")
            return array[:i] + (value,) + array[i + 1 :]
        return tuple(self.ite(index == pos, value, old) for pos, old in enumerate(array))

    def store_if(
        self, array: tuple[Value, ...], cond: Value, index: Value, value: Value
    ) -> tuple[Value, ...]:
        """``store`` guarded by ``cond`` (an index out of range writes nothing)."""
        truth = _concrete_truth(cond)
        if truth is not None:
            return Z3Backend.store(self, array, index, value) if truth else array
        i = _concrete_int(index)
        if i is not None:
            if not 0 <= i < len(array):
                # Only a write that happens must be in range: a conditional write at an
                # index out of range can never happen (the model guarantees it).
                return array
            return array[:i] + (self.ite(cond, value, array[i]),) + array[i + 1 :]
        return tuple(
            self.ite(self.and_(cond, index == pos), value, old) for pos, old in enumerate(array)
        )


Z3 = Z3Backend()
"""A symbolic backend with ``Int`` ints (it has no state)."""
