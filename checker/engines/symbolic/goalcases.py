"""Splitting a step-case goal into cases that are each easier to refute.

A conjunct's negation after a step is often ``Not(v' == c)`` where the written value
``v'`` is the model's chain of guarded writes, ``If(c1, e1, If(c2, e2, ... v))``:
``no-double-use`` after ``vhost_add_used_and_signal`` is the three ways
``use_error`` can fire (the used ring full, the head not outstanding, its DMA still
pending).  Each way needs other lemmas, and asked as one query the premise must hold
them all (at ring 256 no solver answers in minutes; docs/engines.md, "inductive").
:func:`goal_cases` gives one query per way instead: the goal is unsat exactly when
every case is, the cases together being the goal.  :func:`weakened` and
:func:`disjuncts` make a case smaller still; both are sound because a weaker query
that is unsat proves the stronger one unsat.
"""

from __future__ import annotations

import z3

from checker.engines.symbolic.instantiate import subterms

MAX_DISJUNCTS = 1024
"""A case is split per disjunct (:func:`disjuncts`) only up to this many disjuncts."""


def goal_cases(goal: z3.BoolRef) -> list[z3.BoolRef]:
    """The cases of ``goal`` along the ``If`` chain it compares, one per branch taken
    (each with the branch's path condition), simplified; ``[]`` when ``goal`` is not a
    comparison ``Not(a == b)`` or ``a == b`` with an ``If`` on one side.  Their
    disjunction is equivalent to ``goal``."""
    negated = z3.is_not(goal)
    eq = goal.arg(0) if negated else goal
    if not z3.is_eq(eq):
        return []
    left, right = eq.arg(0), eq.arg(1)
    if not z3.is_app_of(left, z3.Z3_OP_ITE):
        left, right = right, left
    if not z3.is_app_of(left, z3.Z3_OP_ITE):
        return []
    cases: list[z3.BoolRef] = []
    path: list[z3.BoolRef] = []
    term = left
    while z3.is_app_of(term, z3.Z3_OP_ITE):
        cond, then, other = term.arg(0), term.arg(1), term.arg(2)
        leaf = then == right
        cases.append(z3.And(*path, cond, z3.Not(leaf) if negated else leaf))
        path.append(z3.Not(cond))
        term = other
    leaf = term == right
    cases.append(z3.And(*path, z3.Not(leaf) if negated else leaf))
    return [c for c in (z3.simplify(c) for c in cases) if not z3.is_false(c)]


def case_queries(goal: z3.BoolRef) -> list[z3.BoolRef]:
    """The queries that together refute ``goal``: per case (:func:`goal_cases`; the
    goal itself when it has none), the case :func:`weakened`, and asked at one index
    when its disjuncts differ only in one (:func:`indexed`).  ``goal`` is unsat when
    every query is."""
    out = []
    for case in goal_cases(goal) or [goal]:
        weak = weakened(case)
        one_index = indexed(weak)
        out.append(weak if one_index is None else one_index)
    return out


def weakened(case: z3.BoolRef) -> z3.BoolRef:
    """``case`` without its conjuncts that are negated conjunctions (the "no earlier
    guarded write fired" part of a branch's path condition): implied by ``case``, so
    unsat only if ``case`` is, and it reads fewer state variables, so its premise
    slices are smaller."""
    if not z3.is_and(case):
        return case
    kept = [c for c in case.children() if not (z3.is_not(c) and z3.is_and(c.arg(0)))]
    return z3.And(*kept) if len(kept) != case.num_args() else case


def disjuncts(case: z3.BoolRef) -> list[z3.BoolRef]:
    """``case`` split along its widest disjunction (a conjunct ``Or(d1, ..., dn)``, or
    a sum of 0/1 ``If`` terms compared above 0, which is the same disjunction): one
    query per ``d_i`` with the other conjuncts, whose disjunction is ``case``; ``[]``
    when it has none of at least two disjuncts, or more than :data:`MAX_DISJUNCTS`."""
    rest, options = _widest(case)
    return [z3.And(*rest, d) for d in options]


def indexed(case: z3.BoolRef) -> z3.BoolRef | None:
    """``case`` with its widest disjunction (as :func:`disjuncts` finds it) written as
    one disjunct at a fresh index ``K`` below their number, when the ``i``-th disjunct
    is the last one with its index numeral replaced by ``i``: ``Or(P(0), ..., P(n-1))``
    becomes ``And(K < n, P(K))``, satisfiable exactly when the disjunction is (``K`` a
    Skolem constant), and one query instead of ``n``.  Checked, not assumed: ``P(i)``
    must simplify to the ``i``-th disjunct for every ``i``; ``None`` otherwise."""
    rest, options = _widest(case)
    if not options:
        return None
    n = len(options)
    body = _at_index(options[-1], n - 1)
    if body is None:
        return None
    pattern, k = body
    for i, option in enumerate(options):
        at_i = z3.substitute(pattern, (k, z3.BitVecVal(i, k.size())))
        if not z3.simplify(at_i).eq(z3.simplify(option)):
            return None
    return z3.And(*rest, z3.ULT(k, n), pattern)


def _widest(case: z3.BoolRef) -> tuple[list[z3.BoolRef], list[z3.BoolRef]]:
    """``case``'s conjuncts other than its widest disjunction, and that disjunction's
    disjuncts (``[]`` when fewer than two or more than :data:`MAX_DISJUNCTS`)."""
    parts = case.children() if z3.is_and(case) else [case]
    best: list[z3.BoolRef] = []
    at = -1
    for i, part in enumerate(parts):
        options = _alternatives(part)
        if len(options) > len(best):
            best, at = options, i
    if len(best) < 2 or len(best) > MAX_DISJUNCTS:
        return list(parts), []
    return [p for i, p in enumerate(parts) if i != at], best


def _at_index(term: z3.BoolRef, last: int) -> tuple[z3.BoolRef, z3.BitVecRef] | None:
    """``term`` with every bit-vector numeral ``last`` replaced by a fresh index ``K``
    (cut to each numeral's width), and ``K``; ``None`` when it has no such numeral."""
    widths = sorted({n.size() for n in subterms(term) if z3.is_bv_value(n) and n.as_long() == last})
    if not widths:
        return None
    k = z3.FreshConst(z3.BitVecSort(max(max(widths), last.bit_length() + 1)), "disjunct")
    pairs = [(z3.BitVecVal(last, w), k if w == k.size() else z3.Extract(w - 1, 0, k))
             for w in widths]
    return z3.substitute(term, *pairs), k


def _alternatives(part: z3.BoolRef) -> list[z3.BoolRef]:
    """The disjuncts of ``part``: its arguments if it is an ``Or``; ``[c1, ..., cn]``
    if it says ``If(c1, 1, 0) + ... + If(cn, 1, 0) > 0`` (as Z3 simplifies it,
    ``Not(sum <= 0)``); else ``[]``."""
    if z3.is_or(part):
        return list(part.children())
    if not (z3.is_not(part) and _is_at_most(part.arg(0))):
        return []
    total, bound = part.arg(0).arg(0), part.arg(0).arg(1)
    added = z3.is_add(total) or z3.is_app_of(total, z3.Z3_OP_BADD)
    terms = total.children() if added else [total]
    if not _is_value(bound, 0) or not _no_overflow(total, len(terms)):
        return []
    conds = []
    for term in terms:
        if not (z3.is_app_of(term, z3.Z3_OP_ITE) and _is_value(term.arg(1), 1)
                and _is_value(term.arg(2), 0)):
            return []
        conds.append(term.arg(0))
    return conds


def _is_at_most(term: z3.ExprRef) -> bool:
    """Whether ``term`` is ``a <= b`` (integer, or bit-vector signed or unsigned)."""
    return any(z3.is_app_of(term, op) for op in (z3.Z3_OP_LE, z3.Z3_OP_SLEQ, z3.Z3_OP_ULEQ))


def _no_overflow(total: z3.ExprRef, terms: int) -> bool:
    """Whether a sum of ``terms`` 0/1 terms of ``total``'s sort cannot wrap around to
    0 or below (a bit-vector sum counts mod 2^width; signed, from 2^(width-1) on it
    reads as negative)."""
    if not z3.is_bv(total):
        return True
    return terms < 2 ** (total.size() - 1)


def _is_value(term: z3.ExprRef, value: int) -> bool:
    """Whether ``term`` is the numeral ``value`` (bit-vector or integer)."""
    return (z3.is_bv_value(term) or z3.is_int_value(term)) and term.as_long() == value
