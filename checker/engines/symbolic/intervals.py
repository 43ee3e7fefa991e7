"""Interval bounds on Z3 int terms: which writes need a symbolic type check.

Every write an action makes must stay within its variable's type (the
concrete backend raises ``ModelBug`` otherwise), so the Z3 engines check
that condition at every step (:mod:`checker.engines.symbolic.symexec`).  Most writes are in
range by construction; this module proves that by interval arithmetic over
the current state's types, without a solver call, so only the others cost
the solver anything.  Conditions
narrow the intervals where they hold: an action's guards for its writes, an
``If``'s condition (or its negation) for a branch that is a small term over
constants, when they compare a constant with a literal (``x > 0``,
``Not(x <= 0)``, ``x == 2``, ...).
"""

from __future__ import annotations

from collections.abc import Iterable

import z3

from checker.engines.symbolic.encoding import literal

Span = tuple[int, int]
"""``(lo, hi)``; ``lo > hi`` is the empty interval (an infeasible branch)."""

# Bit-vector operations (the engines' default int sort, signed) as their Int twins.
_AS_INT = {
    z3.Z3_OP_BADD: z3.Z3_OP_ADD, z3.Z3_OP_BSUB: z3.Z3_OP_SUB, z3.Z3_OP_BNEG: z3.Z3_OP_UMINUS,
    z3.Z3_OP_BMUL: z3.Z3_OP_MUL, z3.Z3_OP_BSMOD: z3.Z3_OP_MOD, z3.Z3_OP_BSMOD_I: z3.Z3_OP_MOD,
    z3.Z3_OP_SLEQ: z3.Z3_OP_LE, z3.Z3_OP_SGEQ: z3.Z3_OP_GE,
    z3.Z3_OP_SLT: z3.Z3_OP_LT, z3.Z3_OP_SGT: z3.Z3_OP_GT,
}
_FLIP = {
    z3.Z3_OP_LE: z3.Z3_OP_GE, z3.Z3_OP_GE: z3.Z3_OP_LE,
    z3.Z3_OP_LT: z3.Z3_OP_GT, z3.Z3_OP_GT: z3.Z3_OP_LT, z3.Z3_OP_EQ: z3.Z3_OP_EQ,
}
_NEGATE = {
    z3.Z3_OP_LE: z3.Z3_OP_GT, z3.Z3_OP_GT: z3.Z3_OP_LE,
    z3.Z3_OP_GE: z3.Z3_OP_LT, z3.Z3_OP_LT: z3.Z3_OP_GE,
}


MAX_NESTING = 120
"""How deep into a term the analysis looks (Python's recursion limit is 1000, and
each level costs a few frames); deeper subterms are unknown, never wrong."""

_nesting = [0]


def _kind(term: z3.ExprRef) -> int:
    """The operation of ``term``, bit-vector operations mapped to their Int twins."""
    kind = term.decl().kind()
    return _AS_INT.get(kind, kind)


class Intervals:
    """Bounds of int terms given bounds of some constants (by Z3 AST id; the
    caller keeps those constants alive, so that their ids are not reused).

    The bounds of a Z3 array term are those of its elements: a constant's
    from ``known``, a ``Store``'s the union of the array's and the value's,
    so a ``Select`` is bounded by the array it reads."""

    def __init__(self, known: dict[int, Span], budget: list[int] | None = None) -> None:
        self.known = known
        # id -> (term, bounds); the term is kept so that its id is not reused
        self.memo: dict[int, tuple[z3.ExprRef, Span | None]] = {}
        self.children: dict[tuple[int, bool], Intervals] = {}
        self._keep: list[z3.ExprRef] = []
        self.budget = budget if budget is not None else [200_000]

    def of(self, term: z3.ExprRef) -> Span | None:
        """Bounds on ``term``'s value; ``None`` when unknown (also for a term nested
        more than :data:`MAX_NESTING` deep: the write is then checked by Z3)."""
        if _nesting[0] >= MAX_NESTING:
            return None
        _nesting[0] += 1
        try:
            return self._of(term)
        finally:
            _nesting[0] -= 1

    def _of(self, term: z3.ExprRef) -> Span | None:
        key = term.get_id()
        if key in self.memo:
            return self.memo[key][1]
        self.budget[0] -= 1
        result: Span | None = None
        if key in self.known:
            result = self.known[key]
        elif (value := literal(term)) is not None:
            result = (value, value)
        elif z3.is_app(term):
            result = self._app(term)
        self.memo[key] = (term, result)
        return result

    def _app(self, term: z3.ExprRef) -> Span | None:
        """Bounds of an application: ``If``, arithmetic, ``mod`` by a literal."""
        kind = _kind(term)
        args = [term.arg(i) for i in range(term.num_args())]
        if kind == z3.Z3_OP_ITE:
            a = self._branch(args[0], True, args[1])
            b = self._branch(args[0], False, args[2])
            if a is None or b is None:
                return None
            return _union(a, b)
        if kind == z3.Z3_OP_SELECT:  # an array's bounds are its elements'
            return self.of(args[0])
        if kind == z3.Z3_OP_STORE:
            a, v = self.of(args[0]), self.of(args[2])
            return None if a is None or v is None else _union(a, v)
        if kind in (z3.Z3_OP_ADD, z3.Z3_OP_SUB, z3.Z3_OP_UMINUS, z3.Z3_OP_MUL):
            spans = [self.of(x) for x in args]
            if any(sp is None for sp in spans):
                return None
            return _combine(kind, [sp for sp in spans if sp is not None])
        k = literal(args[1]) if kind == z3.Z3_OP_MOD else None
        if k is not None and k > 0:
            a = self.of(args[0])
            return a if a is not None and 0 <= a[0] and a[1] < k else (0, k - 1)
        return None

    def _branch(self, cond: z3.ExprRef, positive: bool, term: z3.ExprRef) -> Span | None:
        """An ``If`` branch, narrowed by the condition when the branch is a small
        term over constants (``x - 1``: the pattern of a guarded decrement); larger
        ones are bounded without narrowing, which keeps the analysis linear."""
        small = all(
            literal(a) is not None or a.get_id() in self.known
            for a in (term.children() if _is_num(term) and term.num_args() else [term])
        )
        return (self.under(cond, positive) if small else self).of(term)

    def under(self, cond: z3.ExprRef, positive: bool) -> Intervals:
        """These bounds narrowed by ``cond`` holding (or, not ``positive``, failing)."""
        key = (cond.get_id(), positive)
        if key not in self.children:
            known = dict(self.known)
            changed = self.budget[0] > 0 and _narrow(known, cond, positive)
            self.children[key] = Intervals(known, self.budget) if changed else self
            self._keep.append(cond)  # its id stays its own while the key is cached
        return self.children[key]

    def under_all(self, conds: Iterable[z3.ExprRef]) -> Intervals:
        """These bounds narrowed by every one of ``conds`` holding."""
        out = self
        for c in conds:
            out = out.under(c, True)
        return out


def _is_num(term: z3.ExprRef) -> bool:
    """Whether ``term`` is an int (``Int`` or bit-vector) term."""
    return z3.is_arith(term) or z3.is_bv(term)


def _union(a: Span, b: Span) -> Span:
    """The smallest interval holding both (an empty one adds nothing)."""
    if a[0] > a[1]:
        return b
    if b[0] > b[1]:
        return a
    return min(a[0], b[0]), max(a[1], b[1])


def _combine(kind: int, spans: list[Span]) -> Span:
    """Interval arithmetic for ``+``, ``-`` (binary or unary) and ``*``."""
    if any(lo > hi for lo, hi in spans):
        return (1, 0)
    if kind == z3.Z3_OP_UMINUS:
        return (-spans[0][1], -spans[0][0])
    lo, hi = spans[0]
    for a, b in spans[1:]:
        if kind == z3.Z3_OP_ADD:
            lo, hi = lo + a, hi + b
        elif kind == z3.Z3_OP_SUB:
            lo, hi = lo - b, hi - a
        else:
            products = (lo * a, lo * b, hi * a, hi * b)
            lo, hi = min(products), max(products)
    return lo, hi


NARROW_DEPTH = 8
"""How deep into nested ``And``/``Or``/``Not`` a condition is searched for bounds.  A
loop's running condition (``going = And(going, ...)`` over ``UIO_MAXIOV`` iterations)
nests as deep as the loop is long; searching all of it made the analysis quadratic.
Facts deeper down are not used, never wrong (the write is then checked by Z3)."""


def _narrow(known: dict[int, Span], cond: z3.ExprRef, positive: bool, depth: int = 0) -> bool:
    """Narrow ``known`` in place by ``cond`` (or its negation); whether anything changed."""
    if depth > NARROW_DEPTH or not z3.is_app(cond):
        return False
    kind = _kind(cond)
    if kind == z3.Z3_OP_NOT:
        return _narrow(known, cond.arg(0), not positive, depth + 1)
    if (kind == z3.Z3_OP_AND and positive) or (kind == z3.Z3_OP_OR and not positive):
        changed = False
        for i in range(cond.num_args()):
            changed = _narrow(known, cond.arg(i), positive, depth + 1) or changed
        return changed
    if kind not in _FLIP or cond.num_args() != 2:
        return False
    left, right = cond.arg(0), cond.arg(1)
    if literal(left) is not None:
        left, right, kind = right, left, _FLIP[kind]
    k = literal(right)
    if k is None:
        return False
    # c1 + x + c2  op  k   ->   x  op  k - c1 - c2
    if z3.is_app(left) and _kind(left) == z3.Z3_OP_ADD:
        parts = [left.arg(i) for i in range(left.num_args())]
        terms = [t for t in parts if literal(t) is None]
        if len(terms) != 1:
            return False
        k -= sum(literal(t) or 0 for t in parts)
        left = terms[0]
    key = left.get_id()
    if key not in known:
        return False
    if not positive:
        if kind == z3.Z3_OP_EQ:
            lo, hi = known[key]
            new = (lo + 1, hi) if k == lo else (lo, hi - 1) if k == hi else (lo, hi)
            known[key] = new
            return new != (lo, hi)
        kind = _NEGATE[kind]
    lo, hi = known[key]
    if kind == z3.Z3_OP_LE:
        hi = min(hi, k)
    elif kind == z3.Z3_OP_LT:
        hi = min(hi, k - 1)
    elif kind == z3.Z3_OP_GE:
        lo = max(lo, k)
    elif kind == z3.Z3_OP_GT:
        lo = max(lo, k + 1)
    else:
        lo, hi = max(lo, k), min(hi, k)
    changed = (lo, hi) != known[key]
    known[key] = (lo, hi)
    return changed
