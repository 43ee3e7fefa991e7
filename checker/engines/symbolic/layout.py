"""How a model state is laid out as Z3 constants: flat scalars or Z3 arrays.

Two layouts, one interface (:class:`Layout`), chosen per engine in one
place (:func:`layout_for`):

* :class:`FlatLayout`: one constant per scalar (``name@k``, array elements
  ``name[i]@k``); arrays are tuples of those constants.  Every int constant
  carries its type range.  k-induction, PDR, Houdini and the dead-value
  proofs use it: their step cases start from arbitrary typed states and read
  and write single scalars by position.
* :class:`ArrayLayout`: one constant per variable; an array variable is one
  Z3 array constant of sort ``Array(BitVec(k), E)``
  (:func:`checker.engines.symbolic.encoding.array_sort`), seen by model code
  as a :class:`checker.engines.symbolic.encoding.SymArray`.  ``Select`` and
  ``Store`` replace the ``If`` chains over every position, so a step's size
  no longer grows with the ring.  BMC uses it.

Both describe the same states: two states are equal when every scalar and
every array element *in range* is (:meth:`Layout.same`), and a decoded
state reads exactly the in-range elements (:meth:`Layout.decode`).  Array
positions past the size (the index sort has ``2**k`` of them) belong to no
model state and are never read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import z3

from checker.engines.symbolic.encoding import (
    SymArray,
    Z3Backend,
    array_sort,
    array_term,
    is_bool,
    literal,
)
from checker.lang.expr import Value
from checker.lang.model import Model, State, Var
from checker.lang.view import ModelBug


def flatten(model: Model, state: Sequence[Value]) -> tuple[Value, ...]:
    """A state (arrays as tuples) as one flat tuple of scalars."""
    out: list[Value] = []
    for var, value in zip(model.vars, state):
        if var.size is None:
            out.append(value)
        else:
            out.extend(value)
    return tuple(out)


def unflatten(model: Model, flat: Sequence[Value]) -> tuple[Any, ...]:
    """The inverse of :func:`flatten`."""
    out: list[Any] = []
    pos = 0
    for var in model.vars:
        if var.size is None:
            out.append(flat[pos])
            pos += 1
        else:
            out.append(tuple(flat[pos : pos + var.size]))
            pos += var.size
    return tuple(out)


def scalar_vars(model: Model) -> list[tuple[Var, str]]:
    """``(variable, name)`` per scalar of the flattened state (``a[2]`` for arrays)."""
    out: list[tuple[Var, str]] = []
    for var in model.vars:
        if var.size is None:
            out.append((var, var.name))
        else:
            out.extend((var, f"{var.name}[{i}]") for i in range(var.size))
    return out


def as_term(var: Var, value: Value, where: str, backend: Z3Backend) -> Any:
    """``value`` as a Z3 term of ``var``'s sort; a bool written to an int (or the
    reverse) is a model bug, as on the concrete backend."""
    if var.is_bool != is_bool(value):
        want = "bool" if var.is_bool else "int"
        raise ModelBug(f"{where} writes {value!r} to {want} variable {var.name}")
    if isinstance(value, bool):
        return z3.BoolVal(value)
    if isinstance(value, int):
        return backend.num(value)
    return value


def _scalar_const(var: Var, name: str, bits: int | None) -> Any:
    """A ``Bool``, ``Int`` or ``bits``-wide bit-vector constant for scalar ``var``."""
    if var.is_bool:
        return z3.Bool(name)
    return z3.Int(name) if bits is None else z3.BitVec(name, bits)


def _in_type(var: Var, term: Any) -> z3.BoolRef:
    """``term`` (an int of ``var``'s) lies within ``var``'s declared range."""
    return z3.And(term >= var.lo, term <= var.hi)


def _value(var: Var, term: Any) -> Any:
    """The Python value of an evaluated scalar ``term`` of ``var``."""
    return z3.is_true(term) if var.is_bool else literal(term)


class Layout:
    """The Z3 constants of one state of ``model`` and what engines do with them.

    ``slots`` has one ``(variable, name)`` per constant of a state."""

    arrays = False

    def __init__(self, model: Model, bits: int | None) -> None:
        self.model = model
        self.bits = bits
        self.slots: list[tuple[Var, str]] = []

    def consts(self, suffix: str) -> tuple[Any, ...]:
        """The constants of one state, their names ending in ``suffix``."""
        raise NotImplementedError

    def state(self, consts: Sequence[Any]) -> tuple[Any, ...]:
        """The state in the model's layout (what a :class:`StateView` holds)."""
        raise NotImplementedError

    def terms(self, values: Sequence[Any], start: Sequence[Any], where: str,
              backend: Z3Backend) -> list[Any]:
        """The final ``values`` of a view started on ``start`` (both in the
        model's layout) as one term per slot."""
        raise NotImplementedError

    def ranges(self, consts: Sequence[Any], elements: bool = True) -> list[z3.BoolRef]:
        """Every int of the state lies in its type (``elements``: array elements too)."""
        raise NotImplementedError

    def initial(self, consts: Sequence[Any], state: State) -> list[z3.BoolRef]:
        """The constants stand for the concrete ``state``."""
        raise NotImplementedError

    def same(self, a: Sequence[Any], b: Sequence[Any]) -> list[z3.BoolRef]:
        """The two states are equal (as model states), as a list of equalities."""
        raise NotImplementedError

    def initial_array(self, var: Var, value: Sequence[Value]) -> z3.ArrayRef:
        """The Z3 array holding array ``var``'s concrete elements ``value`` (array
        layout only)."""
        raise NotImplementedError

    def decode(self, m: z3.ModelRef, consts: Sequence[Any]) -> State:
        """The concrete state the constants have in ``m``."""
        raise NotImplementedError

    def types(self, consts: Sequence[Any]) -> dict[int, tuple[int, int]]:
        """Int bounds by AST id for the interval analysis (an array constant's
        entry bounds its elements)."""
        return {c.get_id(): (v.lo, v.hi) for (v, _), c in zip(self.slots, consts)
                if not v.is_bool}


class FlatLayout(Layout):
    """One constant per scalar; arrays are tuples of constants."""

    def __init__(self, model: Model, bits: int | None) -> None:
        super().__init__(model, bits)
        self.slots = scalar_vars(model)

    def consts(self, suffix: str) -> tuple[Any, ...]:
        return tuple(_scalar_const(v, name + suffix, self.bits) for v, name in self.slots)

    def state(self, consts: Sequence[Any]) -> tuple[Any, ...]:
        return unflatten(self.model, consts)

    def terms(self, values: Sequence[Any], start: Sequence[Any], where: str,
              backend: Z3Backend) -> list[Any]:
        return [as_term(var, value, where, backend)
                for (var, _), value in zip(self.slots, flatten(self.model, values))]

    def ranges(self, consts: Sequence[Any], elements: bool = True) -> list[z3.BoolRef]:
        return [_in_type(v, c) for (v, _), c in zip(self.slots, consts)
                if not v.is_bool and (elements or v.size is None)]

    def initial(self, consts: Sequence[Any], state: State) -> list[z3.BoolRef]:
        return [c == v for c, v in zip(consts, flatten(self.model, state))]

    def same(self, a: Sequence[Any], b: Sequence[Any]) -> list[z3.BoolRef]:
        return [x == y for x, y in zip(a, b)]

    def decode(self, m: z3.ModelRef, consts: Sequence[Any]) -> State:
        flat = [_value(v, m.eval(c, model_completion=True)) for (v, _), c in zip(self.slots, consts)]
        return unflatten(self.model, flat)


class ArrayLayout(Layout):
    """One constant per variable; an array variable is one Z3 array constant."""

    arrays = True

    def __init__(self, model: Model, bits: int | None) -> None:
        super().__init__(model, bits)
        self.slots = [(v, v.name) for v in model.vars]

    def consts(self, suffix: str) -> tuple[Any, ...]:
        return tuple(
            _scalar_const(v, name + suffix, self.bits) if v.size is None
            else z3.Const(name + suffix, array_sort(v.size, v.is_bool, self.bits))
            for v, name in self.slots
        )

    def state(self, consts: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(c if v.size is None else SymArray(c, v.size, self.bits)
                     for (v, _), c in zip(self.slots, consts))

    def terms(self, values: Sequence[Any], start: Sequence[Any], where: str,
              backend: Z3Backend) -> list[Any]:
        out = []
        for (var, _), value, old in zip(self.slots, values, start):
            if var.size is None:
                out.append(as_term(var, value, where, backend))
                continue
            if not isinstance(value, SymArray):
                value = tuple(as_term(var, v, where, backend) for v in value)
            out.append(array_term(value, old))
        return out

    def _cells(self, var: Var, term: Any) -> list[Any]:
        """The in-range elements of array ``term`` of ``var``."""
        return list(SymArray(term, var.size or 0, self.bits))

    def ranges(self, consts: Sequence[Any], elements: bool = True) -> list[z3.BoolRef]:
        out = []
        for (v, _), c in zip(self.slots, consts):
            if v.is_bool:
                continue
            if v.size is None:
                out.append(_in_type(v, c))
            elif elements:
                out += [_in_type(v, x) for x in self._cells(v, c)]
        return out

    def initial(self, consts: Sequence[Any], state: State) -> list[z3.BoolRef]:
        backend = Z3Backend(self.bits)
        return [c == (self.initial_array(v, value) if v.size is not None
                      else as_term(v, value, "the initial state", backend))
                for (v, _), c, value in zip(self.slots, consts, state)]

    def initial_array(self, var: Var, value: Sequence[Value]) -> z3.ArrayRef:
        """The Z3 array holding ``value`` (array ``var``'s concrete elements): its most
        common element everywhere (``K``), the others stored over it."""
        backend = Z3Backend(self.bits)
        common = max(set(value), key=list(value).count)
        sort = array_sort(var.size or 0, var.is_bool, self.bits)
        arr = SymArray(z3.K(sort.domain(), as_term(var, common, "", backend)), len(value),
                       self.bits)
        term = arr.term
        for i, x in enumerate(value):
            if x != common:
                term = z3.Store(term, arr.index(i), as_term(var, x, "the initial state", backend))
        return term

    def same(self, a: Sequence[Any], b: Sequence[Any]) -> list[z3.BoolRef]:
        out = []
        for (v, _), x, y in zip(self.slots, a, b):
            if v.size is None:
                out.append(x == y)
            else:
                out += [p == q for p, q in zip(self._cells(v, x), self._cells(v, y))]
        return out

    def decode(self, m: z3.ModelRef, consts: Sequence[Any]) -> State:
        out: list[Any] = []
        for (v, _), c in zip(self.slots, consts):
            cells = [c] if v.size is None else self._cells(v, c)
            values = [_value(v, m.eval(x, model_completion=True)) for x in cells]
            out.append(values[0] if v.size is None else tuple(values))
        return tuple(out)


ARRAYS_ABOVE = 32
"""BMC uses :class:`ArrayLayout` when some array of the model has more elements
than this, the flat layout otherwise (:func:`bmc_uses_arrays`).

Measured (docs/engines.md, "Arrays"; v3.1 data path, ``bench/bmc.py --datapath
--layout flat|arrays``, depth reached in 60 s, 2026-12-01): flat 9 against arrays
8 at ring 8 (largest array 32 elements: ``heads[]`` has ``UIO_MAXIOV`` = 4 x ring
entries), flat 5 against arrays 8 at ring 16 (64).  Earlier, in 30 s: flat 22 / 15 /
10 against arrays 7 / 4 / 3 at ring 1 / 2 / 4."""


def largest_array(model: Model) -> int:
    """The elements of ``model``'s largest array (0: it has none)."""
    return max((v.size or 0 for v in model.vars), default=0)


def bmc_uses_arrays(model: Model) -> bool:
    """Whether BMC checks ``model`` with the array layout (see :data:`ARRAYS_ABOVE`)."""
    return largest_array(model) > ARRAYS_ABOVE


def layout_for(model: Model, bits: int | None, arrays: bool) -> Layout:
    """The layout engines use: :class:`ArrayLayout` when ``arrays`` (BMC and the
    lasso search that shares its unrolling), else :class:`FlatLayout`."""
    return ArrayLayout(model, bits) if arrays else FlatLayout(model, bits)
