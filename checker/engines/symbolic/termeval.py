"""Z3 terms evaluated on many concrete states at once, with numpy.

The miner defines some columns only by their Z3 term (a count guarded by a
model's own condition, say) and needs their value in each of 100 000 explored
states; substituting each state into the term would take minutes.
:func:`evaluate` walks the term once, each node an array operation over all
states.  It covers the operators the model encoding produces for state
predicates (Booleans, ``If``, comparisons, arithmetic, bit-vector widening);
anything else raises :class:`Unsupported`, and the caller leaves the column
out.  Bit-vector arithmetic wraps as Z3's does (tests/test_mining.py compares
with ``z3.simplify`` on sampled states).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import z3


class Unsupported(Exception):
    """The term uses an operator :func:`evaluate` does not implement."""


def _signed(v: np.ndarray, width: int) -> np.ndarray:
    """``v`` wrapped into ``width``-bit two's complement, as signed values."""
    half = 1 << (width - 1)
    return ((v + half) & ((1 << width) - 1)) - half


def _unsigned(v: np.ndarray, width: int) -> np.ndarray:
    return v & ((1 << width) - 1)


_BOOL_OPS = {
    z3.Z3_OP_LE: np.less_equal, z3.Z3_OP_LT: np.less,
    z3.Z3_OP_GE: np.greater_equal, z3.Z3_OP_GT: np.greater,
    z3.Z3_OP_SLEQ: np.less_equal, z3.Z3_OP_SLT: np.less,
    z3.Z3_OP_SGEQ: np.greater_equal, z3.Z3_OP_SGT: np.greater,
}
_UNSIGNED_CMP = {
    z3.Z3_OP_ULEQ: np.less_equal, z3.Z3_OP_ULT: np.less,
    z3.Z3_OP_UGEQ: np.greater_equal, z3.Z3_OP_UGT: np.greater,
}


def evaluate(term: z3.ExprRef, values: Mapping[int, np.ndarray], rows: int) -> np.ndarray:
    """The value of ``term`` in each of ``rows`` states: booleans as bool arrays,
    numbers (bit-vectors as signed) as int64 arrays.  ``values`` maps each free
    constant's ``get_id()`` to its values (bools as 0/1)."""
    memo: dict[int, np.ndarray] = {}

    def go(e: z3.ExprRef) -> np.ndarray:
        key = e.get_id()
        if key not in memo:
            memo[key] = node(e)
        return memo[key]

    def node(e: z3.ExprRef) -> np.ndarray:
        k = e.decl().kind()
        args = e.children()
        width = e.size() if z3.is_bv(e) else None
        if k == z3.Z3_OP_TRUE:
            return np.ones(rows, dtype=bool)
        if k == z3.Z3_OP_FALSE:
            return np.zeros(rows, dtype=bool)
        if z3.is_int_value(e):
            return np.full(rows, e.as_long(), dtype=np.int64)
        if z3.is_bv_value(e):
            return np.full(rows, e.as_signed_long(), dtype=np.int64)
        if k == z3.Z3_OP_UNINTERPRETED and not args:
            if e.get_id() not in values:
                raise Unsupported(f"free constant {e} has no values")
            v = values[e.get_id()]
            return v.astype(bool) if z3.is_bool(e) else v.astype(np.int64)
        vals = [go(a) for a in args]
        if k == z3.Z3_OP_ITE:
            return np.where(vals[0], vals[1], vals[2])
        if k == z3.Z3_OP_AND:
            return np.logical_and.reduce(vals) if vals else np.ones(rows, dtype=bool)
        if k == z3.Z3_OP_OR:
            return np.logical_or.reduce(vals) if vals else np.zeros(rows, dtype=bool)
        if k == z3.Z3_OP_NOT:
            return ~vals[0]
        if k == z3.Z3_OP_IMPLIES:
            return ~vals[0] | vals[1]
        if k in (z3.Z3_OP_XOR, z3.Z3_OP_DISTINCT) and len(vals) == 2:
            return vals[0] != vals[1]
        if k in (z3.Z3_OP_EQ, z3.Z3_OP_IFF):
            return vals[0] == vals[1]
        if k in _BOOL_OPS:
            return _BOOL_OPS[k](vals[0], vals[1])
        if k in _UNSIGNED_CMP:
            w = args[0].size()
            return _UNSIGNED_CMP[k](_unsigned(vals[0], w), _unsigned(vals[1], w))
        if k in (z3.Z3_OP_ADD, z3.Z3_OP_BADD):
            out = np.add.reduce(vals)
        elif k in (z3.Z3_OP_SUB, z3.Z3_OP_BSUB):
            out = vals[0] - np.add.reduce(vals[1:])
        elif k in (z3.Z3_OP_MUL, z3.Z3_OP_BMUL):
            out = np.multiply.reduce(vals)
        elif k in (z3.Z3_OP_UMINUS, z3.Z3_OP_BNEG):
            out = -vals[0]
        elif k in (z3.Z3_OP_BUREM, z3.Z3_OP_BUREM_I) and width is not None:
            a, b = _unsigned(vals[0], width), _unsigned(vals[1], width)
            out = np.where(b == 0, a, a % np.where(b == 0, 1, b))
        elif k in (z3.Z3_OP_BSMOD, z3.Z3_OP_BSMOD_I) and width is not None:
            a, b = vals
            out = np.where(b == 0, a, np.mod(a, np.where(b == 0, 1, b)))  # divisor's sign
        elif k in (z3.Z3_OP_BSREM, z3.Z3_OP_BSREM_I) and width is not None:
            a, b = vals
            out = np.where(b == 0, a, np.fmod(a, np.where(b == 0, 1, b)))  # dividend's sign
        elif k == z3.Z3_OP_ZERO_EXT:
            return _unsigned(vals[0], args[0].size())
        elif k == z3.Z3_OP_SIGN_EXT:
            return vals[0]
        else:
            raise Unsupported(f"operator {e.decl().name()} in {e}")
        return _signed(out, width) if width is not None else out

    result = go(term)
    return result
