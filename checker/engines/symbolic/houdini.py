"""Candidate invariants mined from explicit states, kept only if inductive (Houdini).

:func:`mine` explores the model concretely (breadth-first, up to a number of
states) and proposes facts true in every state it saw, over the flattened
scalars of the state (bools as 0/1):

* bounds: ``x >= lo`` and ``x <= hi`` (``x == c`` when they meet);
* excluded pairs: ``not (x == a and y == b)`` for values ``a``, ``b`` each
  seen but never together (for scalars with at most :data:`PAIR_DOMAIN` values);
* linear equalities: ``c1*x1 + ... + cn*xn == d`` (conservation laws such as
  "every descriptor is in exactly one place"), from the null space of the
  states seen.

None of these is trusted.  :func:`houdini` keeps the largest subset that,
together with the property and "no capacity hit, no write outside a type",
is inductive: it asks Z3 for a step from a state satisfying all of them to
one violating some, drops those the step violates, and repeats.  The
candidates are true in the initial state (it was seen), so what survives is
an inductive invariant; the engine re-checks it with a fresh solver
(:mod:`checker.engines.symbolic.pdr`).
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import Any

import z3

from checker.engines.symbolic.limits import SolverGaveUp, check_deadline
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.unroll import StepTemplate, Unrolling
from checker.lang.model import Model, State
from checker.lang.view import ModelBug
from checker.semantics.states import expand, initial_state

PAIR_DOMAIN = 16
"""Scalars with more distinct values than this take part in no excluded-pair candidate."""

LINEAR_SAMPLE = 400
"""Distinct states the linear-equality miner eliminates over (all states check the result)."""


@dataclass(frozen=True)
class Candidate:
    """One candidate fact: readable ``text`` and its Z3 ``term`` over the template's
    current-state constants."""

    text: str
    term: z3.BoolRef


def explore(model: Model, max_states: int, deadline: float | None) -> list[tuple[int, ...]]:
    """Flattened states (bools as 0/1) reached breadth-first from the initial one,
    at most ``max_states`` of them."""
    first = initial_state(model)
    seen: set[State] = {first}
    queue: deque[State] = deque([first])
    while queue and len(seen) < max_states:
        if len(seen) % 1024 == 0:
            check_deadline(deadline)
        state = queue.popleft()
        try:
            successors = expand(model, state).successors
        except ModelBug:
            continue
        for _, nxt in successors:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return [tuple(int(v) for v in flatten(model, s)) for s in seen]


def _value(t: StepTemplate, i: int, wide: int = 0) -> Any:
    """Scalar ``i`` of the current state as a number term (bools as 0/1)."""
    c = t.cur[i]
    bits = t.bits
    if z3.is_bool(c):
        one = z3.IntVal(1) if bits is None else z3.BitVecVal(1, bits + wide)
        zero = z3.IntVal(0) if bits is None else z3.BitVecVal(0, bits + wide)
        return z3.If(c, one, zero)
    return c if bits is None or not wide else z3.SignExt(wide, c)


def _equals(t: StepTemplate, i: int, value: int) -> z3.BoolRef:
    """Scalar ``i`` of the current state equals ``value`` (a bool scalar: ``value != 0``)."""
    c = t.cur[i]
    return c == bool(value) if z3.is_bool(c) else c == value


def mine(t: StepTemplate, states: Sequence[tuple[int, ...]]) -> list[Candidate]:
    """Candidate facts true in every one of ``states`` (see the module docstring)."""
    names = [name for _, name in t.scalars]
    n = len(names)
    domains = [sorted({s[i] for s in states}) for i in range(n)]
    out: list[Candidate] = []
    for i, dom in enumerate(domains):
        var = t.scalars[i][0]
        lo, hi = dom[0], dom[-1]
        if lo == hi:
            out.append(Candidate(f"{names[i]} == {lo}", _equals(t, i, lo)))
            continue
        if not var.is_bool:
            if lo > var.lo:
                out.append(Candidate(f"{names[i]} >= {lo}", t.cur[i] >= lo))
            if hi < var.hi:
                out.append(Candidate(f"{names[i]} <= {hi}", t.cur[i] <= hi))
    small = [i for i in range(n) if 1 < len(domains[i]) <= PAIR_DOMAIN]
    for x, i in enumerate(small):
        for j in small[x + 1:]:
            together = {(s[i], s[j]) for s in states}
            for a in domains[i]:
                for b in domains[j]:
                    if (a, b) not in together:
                        out.append(Candidate(
                            f"not ({names[i]} == {a} and {names[j]} == {b})",
                            z3.Not(z3.And(_equals(t, i, a), _equals(t, j, b)))))
    out += _linear(t, states, domains)
    return out


def _linear(
    t: StepTemplate, states: Sequence[tuple[int, ...]], domains: list[list[int]]
) -> list[Candidate]:
    """Linear equalities over the non-constant scalars holding in every one of ``states``."""
    cols = [i for i, dom in enumerate(domains) if len(dom) > 1]
    if not cols:
        return []
    rows = list({tuple(s[i] for i in cols) for s in states})
    random.Random(0).shuffle(rows)
    matrix = [[Fraction(v) for v in row] + [Fraction(1)] for row in rows[:LINEAR_SAMPLE]]
    out: list[Candidate] = []
    for vec in _null_space(matrix):
        scale = 1
        for f in vec:
            scale = scale * f.denominator // gcd(scale, f.denominator)
        ints = [int(f * scale) for f in vec]
        g = 0
        for v in ints:
            g = gcd(g, abs(v))
        ints = [v // g for v in ints] if g else ints
        if max(abs(v) for v in ints[:-1]) > 8:
            continue
        coeffs, const = ints[:-1], ints[-1]
        if not all(sum(c * v for c, v in zip(coeffs, row)) + const == 0 for row in rows):
            continue
        wide = 8
        terms = [c * _value(t, cols[k], wide) for k, c in enumerate(coeffs) if c]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        text = " + ".join(f"{c}*{t.scalars[cols[k]][1]}" for k, c in enumerate(coeffs) if c)
        out.append(Candidate(f"{text} == {-const}".replace("+ -", "- ").replace("1*", ""),
                             total == -const))
    return out


def _null_space(matrix: list[list[Fraction]]) -> list[list[Fraction]]:
    """A basis of the vectors ``v`` with ``row . v == 0`` for every row (exact RREF)."""
    if not matrix:
        return []
    width = len(matrix[0])
    rows = [r[:] for r in matrix]
    pivots: list[int] = []
    r = 0
    for c in range(width):
        pivot = next((k for k in range(r, len(rows)) if rows[k][c] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        p = rows[r][c]
        rows[r] = [v / p for v in rows[r]]
        for k in range(len(rows)):
            if k != r and rows[k][c] != 0:
                f = rows[k][c]
                rows[k] = [a - f * b for a, b in zip(rows[k], rows[r])]
        pivots.append(c)
        r += 1
        if r == len(rows):
            break
    free = [c for c in range(width) if c not in pivots]
    basis = []
    for col in free:
        vec = [Fraction(0)] * width
        vec[col] = Fraction(1)
        for k, c in enumerate(pivots):
            vec[c] = -rows[k][col]
        basis.append(vec)
    return basis


@dataclass
class HoudiniResult:
    """What survived: the ``kept`` candidates; ``cti`` is ``None`` when the
    property (with the survivors) is inductive, else the model of a step from a
    state satisfying everything to one violating the property or safety."""

    kept: list[Candidate]
    cti: z3.ModelRef | None
    rounds: int
    unrolling: Unrolling
    k: int


def houdini(
    t: StepTemplate,
    must: Sequence[tuple[str, z3.BoolRef]],
    candidates: Sequence[Candidate],
    solve: Callable[[z3.Solver, z3.BoolRef], z3.ModelRef | None],
    deadline: float | None,
    k: int = 1,
) -> HoudiniResult:
    """The largest subset of ``candidates`` k-inductive (over simple paths) together
    with ``must`` (the property and safety, never dropped); ``solve(solver, goal)`` is
    a model or ``None``.  A CTI's last step is from ``u.flat(k - 1)`` to
    ``u.flat(k)`` of the result's unrolling ``u``."""
    u = Unrolling(t.model, tag="^h", template=t)
    solver = z3.SolverFor("QF_FD")
    solver.add(*u.ranges(0))
    every = [*(term for _, term in must), *(c.term for c in candidates)]
    lits = [z3.Bool(f"cand#{n}") for n in range(len(every))]
    for i in range(k):
        check_deadline(deadline)
        solver.add(*u.transition(i, halt=False))
        solver.add(*(u.distinct(j, i + 1) for j in range(i + 1)))
        for n, term in enumerate(every):
            solver.add(z3.Implies(lits[n], u.at(term, i)))
    nexts = [u.at(term, k) for term in every]
    active = list(range(len(every)))
    rounds = 0
    while True:
        rounds += 1
        check_deadline(deadline)
        goal = z3.Or(*(z3.Not(nexts[n]) for n in active))
        query = z3.Bool(f"round#{rounds}")
        solver.add(z3.Implies(query, goal))
        m = solve(solver, z3.And(query, *(lits[n] for n in active)))
        solver.add(z3.Not(query))
        if m is None:
            kept = [candidates[n - len(must)] for n in active if n >= len(must)]
            return HoudiniResult(kept, None, rounds, u, k)
        broken = [n for n in active if z3.is_false(m.eval(nexts[n], model_completion=True))]
        if not broken:
            raise SolverGaveUp("Houdini made no progress (an evaluation disagrees with Z3)")
        if any(n < len(must) for n in broken):
            kept = [candidates[n - len(must)] for n in active if n >= len(must)]
            return HoudiniResult(kept, m, rounds, u, k)
        active = [n for n in active if n not in set(broken)]


def _ranges(t: StepTemplate, consts: Sequence[Any]) -> list[z3.BoolRef]:
    """The type constraints of ``consts`` (laid out like the template's scalars)."""
    return [z3.And(c >= var.lo, c <= var.hi)
            for (var, _), c in zip(t.scalars, consts) if not var.is_bool]


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()`` and the seconds it took."""
    start = time.monotonic()
    return fn(), time.monotonic() - start
