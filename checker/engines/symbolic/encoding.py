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

An array is either a Python tuple of scalar terms (the *flat* layout, which
k-induction, PDR and the dead-value proofs use) or a :class:`SymArray`: one
Z3 array term ``Array(BitVec(k), E)`` with ``k`` the bits of the largest
index and ``E`` the element sort (the *array* layout, BMC's; see
:mod:`checker.engines.symbolic.unroll`).  On a tuple, ``select`` with a
symbolic index is an ``If`` chain over the positions (an index out of range
selects the *last* element) and ``store``/``store_if`` rewrite every element
as ``If(index == i, value, old)`` (an index out of range changes nothing).
On a :class:`SymArray` they are ``Select``, ``Store`` and ``If(c, Store(..),
a)``, whatever the index.  Both agree with the concrete backend on every
index in range, and model code only indexes in range (the concrete backend
raises ``IndexError`` otherwise, so no state reached through an
out-of-range index exists to be missed); what an out-of-range index reads
or writes is left to the representation.  A whole-array assignment
(``s.a = [...]``) gives a tuple, which :func:`array_term` turns back into a
``Store`` chain over the old array (positions that still hold their old
element are not stored).

Conditions that are Python bools (or the Z3 constants true/false) are
simplified away at once, so code over concrete parameters builds no terms.
:mod:`checker.engines.symbolic.symexec` runs whole actions on this backend.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

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


def index_bits(size: int) -> int:
    """Bits of the index sort of a Z3 array of ``size`` elements (at least 1)."""
    return max(1, (size - 1).bit_length())


@functools.lru_cache(maxsize=65536)
def _bv_numeral(value: int, bits: int) -> z3.BitVecNumRef:
    """``BitVecVal(value, bits)``, made once per value and width."""
    return z3.BitVecVal(value, bits)


class SymArray:
    """A model array as one Z3 array term (``Array(BitVec(k), E)``, or
    ``Array(Int, E)`` when the backend's ints are ``Int``) with its size.

    Model code sees it as a fixed-size sequence: ``len()`` is the size and
    iterating yields ``Select(term, i)`` for ``i`` in ``0 .. size - 1``, so
    properties that loop over an array run unchanged."""

    __slots__ = ("bits", "cells", "size", "term")

    def __init__(self, term: z3.ArrayRef, size: int, bits: int | None) -> None:
        self.term = term
        self.size = size
        self.bits = bits  # the backend's int width (None: Int); indices are converted to it
        self.cells: dict[int, z3.ExprRef] = {}  # at(i), made once: model code reads a cell often

    def index(self, index: Value) -> z3.ExprRef:
        """``index`` (a Python int or an int term of the backend's sort) in the
        array's index sort: a bit-vector of :func:`index_bits` bits, low bits kept."""
        if self.bits is None:
            return z3.IntVal(index) if isinstance(index, int) else index
        k = index_bits(self.size)
        if isinstance(index, int):
            return _bv_numeral(index, k)
        if index.size() > k:
            return z3.Extract(k - 1, 0, index)
        return index if index.size() == k else z3.ZeroExt(k - index.size(), index)

    def at(self, i: int) -> Value:
        """Element ``i`` (a concrete position) as a term."""
        cell = self.cells.get(i)
        if cell is None:
            cell = self.cells[i] = self.read(self.index(i))
        return cell

    def read(self, index: z3.ExprRef) -> z3.ExprRef:
        """``Select(term, index)`` (``index`` in the index sort), beta-reduced when the
        term is a ``Lambda`` (:meth:`Z3Backend.delete_at`): the element is then a term over
        the positions it comes from, so the grounding (``instantiate.index_pools``) sees
        them as ground indices."""
        term = self.term
        if z3.is_quantifier(term) and term.is_lambda():
            return z3.simplify(z3.substitute_vars(term.body(), index))
        return z3.Select(term, index)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Value]:
        return (self.at(i) for i in range(self.size))

    def __repr__(self) -> str:
        return f"SymArray({self.term}, {self.size})"


def array_sort(size: int, is_bool: bool, bits: int | None) -> z3.ArraySortRef:
    """The Z3 sort of a model array of ``size`` bool or int elements."""
    dom = z3.IntSort() if bits is None else z3.BitVecSort(index_bits(size))
    rng = z3.BoolSort() if is_bool else z3.IntSort() if bits is None else z3.BitVecSort(bits)
    return z3.ArraySort(dom, rng)


def array_term(value: SymArray | Sequence[Value], old: SymArray) -> z3.ArrayRef:
    """The Z3 array a model array's final value stands for: the term of a
    :class:`SymArray`, or for a tuple of elements (a whole-array assignment)
    ``old``'s term with every element that differs from ``old``'s stored over it."""
    if isinstance(value, SymArray):
        return value.term
    if len(value) != old.size:
        raise ModelBug(f"array of {old.size} elements assigned {len(value)}")
    term = old.term
    elem = term.range()
    for i, v in enumerate(value):
        cell = old.at(i)
        if isinstance(v, z3.ExprRef) and v.eq(cell):
            continue
        if isinstance(v, bool):
            v = z3.BoolVal(v)
        elif isinstance(v, int):
            v = z3.BitVecVal(v, elem.size()) if z3.is_bv_sort(elem) else z3.IntVal(v)
        term = z3.Store(term, old.index(i), v)
    return term


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
        return z3.IntVal(value) if self.bits is None else _bv_numeral(value, self.bits)

    def count(self, conds: Iterable[Value]) -> Value:
        """How many of ``conds`` hold: a balanced sum of ``If(c, 1, 0)`` (depth
        log2 of the number of conditions, so the interval analysis sees through
        it), plus the conditions known to be true."""
        known, terms = 0, []
        for c in conds:
            truth = _concrete_truth(c)
            if truth is None:
                terms.append(z3.If(c, self.num(1), self.num(0)))
            elif truth:
                known += 1
        if not terms:
            return known
        while len(terms) > 1:
            terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i]
                     for i in range(0, len(terms), 2)]
        return terms[0] + known if known else terms[0]

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

    def _element(self, array: SymArray, value: Value) -> z3.ExprRef:
        """``value`` as a term of ``array``'s element sort (Python ints and bools converted)."""
        if isinstance(value, bool):
            return z3.BoolVal(value)
        if isinstance(value, int):
            return self.num(value)
        return value

    def select(self, array: Any, index: Value) -> Value:
        """The element: ``Select`` on a :class:`SymArray`; on a tuple the element
        itself, or an ``If`` chain over positions for a symbolic index."""
        i = _concrete_int(index)
        if i is not None and not 0 <= i < len(array):
            raise IndexError(f"model indexed an array of {len(array)} elements at {i}")
        if isinstance(array, SymArray):
            return array.at(i) if i is not None else array.read(array.index(index))
        if i is not None:
            return array[i]
        result = array[-1]
        for pos in range(len(array) - 2, -1, -1):
            result = self.ite(index == pos, array[pos], result)
        return result

    def store(self, array: Any, index: Value, value: Value) -> Any:
        """A copy with the element replaced: ``Store`` on a :class:`SymArray`; on a
        tuple every element guarded, for a symbolic index."""
        i = _concrete_int(index)
        if i is not None and not 0 <= i < len(array):
            raise IndexError(f"model wrote an array of {len(array)} elements at {i}")
        if isinstance(array, SymArray):
            term = z3.Store(array.term, array.index(index if i is None else i),
                            self._element(array, value))
            return SymArray(term, array.size, array.bits)
        if i is not None:
            return array[:i] + (value,) + array[i + 1 :]
        return tuple(self.ite(index == pos, value, old) for pos, old in enumerate(array))

    def store_if(self, array: Any, cond: Value, index: Value, value: Value) -> Any:
        """``store`` guarded by ``cond`` (on a :class:`SymArray`,
        ``Store(a, i, If(cond, value, Select(a, i)))``)."""
        truth = _concrete_truth(cond)
        if truth is not None:
            return Z3Backend.store(self, array, index, value) if truth else array
        i = _concrete_int(index)
        if i is not None and not 0 <= i < len(array):
            # Only a write that happens must be in range: a conditional write at an
            # index out of range can never happen (the model guarantees it).
            return array
        if isinstance(array, SymArray):
            at = array.index(index if i is None else i)
            old = z3.Select(array.term, at)
            new = self.ite(cond, self._element(array, value), old)
            return SymArray(z3.Store(array.term, at, new), array.size, array.bits)
        if i is not None:
            return array[:i] + (self.ite(cond, value, array[i]),) + array[i + 1 :]
        return tuple(
            self.ite(self.and_(cond, index == pos), value, old) for pos, old in enumerate(array)
        )

    def delete_at(self, array: Any, k: Value, fill: Value) -> SymArray | None:
        """:meth:`checker.lang.view.StateView.delete_at` on a :class:`SymArray`: one
        ``Lambda j. If(j >= k, If(j + 1 < size, a[j + 1], fill), a[j])`` instead of a
        ``Store`` per position, so a read of the result names the position it comes
        from (``j + 1``).  ``None`` for an array of terms (the view's element-wise
        shift)."""
        if not isinstance(array, SymArray):
            return None
        at = z3.FreshConst(array.term.domain(), "j")
        pos: Any = at
        if self.bits is not None and self.bits > at.size():
            pos = z3.ZeroExt(self.bits - at.size(), at)
        later = self.ite(pos + 1 < array.size, array.read(array.index(pos + 1)),
                         self._element(array, fill))
        body = self.ite(pos >= k, later, array.read(at))
        return SymArray(z3.Lambda([at], body), array.size, array.bits)


class QuantifyingBackend(Z3Backend):
    """:class:`Z3Backend` that keeps ``s.every`` one quantifier instead of a conjunct per
    position (what :mod:`checker.engines.symbolic.instantiate` grounds)."""

    def every(self, count: int, body: Callable[[Value], Value]) -> Value:
        """``ForAll i. 0 <= i < count -> body(i)`` over a fresh bound index of the int sort."""
        sort = z3.IntSort() if self.bits is None else z3.BitVecSort(self.bits)
        i = z3.FreshConst(sort, "i")
        return z3.ForAll([i], z3.Implies(self.and_(i >= 0, i < count), as_bool(body(i))))


Z3 = Z3Backend()
"""A symbolic backend with ``Int`` ints (it has no state)."""
