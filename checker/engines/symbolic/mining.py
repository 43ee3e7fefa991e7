"""Candidate invariants mined from explicitly explored states.

:func:`explore` visits the model concretely (breadth-first, up to a number of
states).  Given the model's dead-value canon it keeps one *real* reachable
state per canonical class (the first one found), so a bounded budget covers
the live behaviour instead of the many states that differ only in values the
kernel never reads again.

:func:`mine` proposes facts true in every state it is given, over *columns*:
the flattened scalars of the state (bools as 0/1) and **indirections**, the
element of an array at the index another column holds (``heads_len[skb_slot[0]]``,
``g_owned[heads_id[skb_slot[0]]]``, two levels deep).  A column is used as an
index into an array when its type is exactly the array's index range
(``0 .. size - 1``) and it takes more than one value.  The facts:

* bounds: ``x >= lo`` and ``x <= hi`` (``x == c`` when they meet);
* excluded pairs: ``not (x == a and y == b)`` for values ``a``, ``b`` each
  seen but never together (columns with at most :data:`PAIR_DOMAIN` values); an
  indirection pairs only with the scalars that *guard* its innermost index
  (some value of the guard fixes it: ``skb_cnt == 0`` leaves ``skb_slot[0]`` at 0)
  and with the elements at the same position of the index's parallel arrays
  (``heads_len[1]`` for ``inflight[heads_id[1]]``);
* guarded equalities between parallel arrays: ``a[p[k]] == b[k]`` where ``p`` and
  ``b`` have one length, always or outside the values one of the index's guards
  has where they differ (``skb_cnt in {0} or heads_id[skb_slot[0]] == skb_head[0]``);
* linear equalities over the state's own scalars and *summaries* (counts
  ``#{i: a[i] == v}``, ring distances ``(x - y) mod L``):
  ``c1*x1 + ... + cn*xn == d`` (conservation laws such as "every descriptor is
  in exactly one place", "the refcount is one more than the slots in flight"),
  from the null space of the states seen;
* split by each value of a scalar the model's "holds an id" conditions read
  (``w_pc``, ``used_cnt``, ``skb_cnt``), linear equalities over the state's scalars
  and what they point at, guarded by the values where they fail:
  ``w_pc in {0, ..., 8, 10} or w_len - heads_len[(upend - 1) mod 8] == -1`` (while
  handle_tx sends, the slot it filled last is in flight exactly for a large buffer);
* ring facts (:mod:`checker.engines.symbolic.ringfacts`): a ring position lies in
  the window between two others, or at a fixed distance modulo the ring from another
  where the program counter and one more small scalar have certain values
  (``(w_pc, w_len) not in {(9, 1)} or (ubuf_desc[w_head] - upend) mod 8 == 7``);
* for each id ``h`` the model declares interchangeable, linear equalities over the
  elements at ``h`` of the arrays indexed by ids and the number of places holding
  ``h`` (``inflight[h]`` is the number of in-window heads[] slots holding ``h``, plus
  one while handle_tx holds ``h``).

None of these is trusted: :mod:`checker.engines.symbolic.houdini` keeps only
an inductive subset, and the prover re-checks it.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from math import gcd

import numpy as np
import z3

from checker.engines.symbolic.candidate import PAIR_DOMAIN, Candidate, unless
from checker.engines.symbolic.columns import (
    Column,
    base_columns,
    declared_ids,
    indirections,
    occupancy,
    summaries,
)
from checker.engines.symbolic.limits import check_deadline
from checker.engines.symbolic.ringfacts import ring_equalities, window_facts
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.termeval import evaluate
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.model import Model, State
from checker.lang.symmetry import SymmetricIds
from checker.lang.view import ModelBug
from checker.semantics.states import expand, initial_state

LINEAR_SAMPLE = 400
"""Distinct states the linear-equality miner eliminates over (all states check the result)."""


@dataclass
class Exploration:
    """What :func:`explore` found: the first ``states`` reached (flattened, bools as
    0/1), the ``key`` states were told apart by (the state itself without one), the
    keys of every class seen, and whether the search ended because nothing new was
    left (``complete``: then ``seen`` holds every reachable class)."""

    states: list[tuple[int, ...]]
    key: Callable[[State], State]
    seen: set[State]
    complete: bool

    @property
    def classes(self) -> int:
        """How many classes (states, without a key) the exploration reached."""
        return len(self.seen)


def explore(
    model: Model, max_states: int, deadline: float | None,
    key: Callable[[State], State] | None = None, keep: int | None = None,
) -> Exploration:
    """States reached breadth-first from the initial one, at most ``max_states`` of
    them; with ``key``, one state per value of ``key`` (the first found, a real
    reachable state), its successors standing for the class's.  Only the first
    ``keep`` states (default: all) are returned flattened; the others are held only
    while they wait to be expanded, so a large exploration costs one key per class."""
    keep = max_states if keep is None else keep
    first = initial_state(model)
    identify = key if key is not None else _itself
    seen: set[State] = {identify(first)}
    kept = [first]
    queue: deque[State] = deque([first])
    cut = False  # a model bug leaves a state's successors unexplored
    expanded = 0
    while queue and len(seen) < max_states:
        expanded += 1
        if expanded % 1024 == 0:
            check_deadline(deadline)
        state = queue.popleft()
        try:
            successors = expand(model, state).successors
        except ModelBug:
            cut = True
            continue
        for _, nxt in successors:
            k = identify(nxt)
            if k not in seen:
                seen.add(k)
                if len(kept) < keep:
                    kept.append(nxt)
                queue.append(nxt)
    rows = [tuple(int(v) for v in flatten(model, s)) for s in kept]
    return Exploration(rows, identify, seen, not queue and not cut)


def _itself(state: State) -> State:
    """A state's class when no key is given: the state itself."""
    return state


def mine(t: StepTemplate, states: Sequence[tuple[int, ...]]) -> list[Candidate]:
    """Candidate facts true in every one of ``states`` (see the module docstring)."""
    base = base_columns(t, states)
    summary = summaries(t, base)
    ids = declared_ids(t.model)
    columns = base + indirections(t, base, ids) + summary
    out: list[Candidate] = []
    codes: list[np.ndarray] = []
    domains: list[np.ndarray] = []
    for col in columns:
        dom, code = np.unique(col.values, return_inverse=True)
        domains.append(dom)
        codes.append(code.reshape(-1))
        lo, hi = int(dom[0]), int(dom[-1])
        if lo == hi:
            out.append(Candidate(f"{col.name} == {lo}", col.equals(lo)))
        elif not col.is_bool:
            if lo > col.lo:
                out.append(Candidate(f"{col.name} >= {lo}", col.term >= lo))
            if hi < col.hi:
                out.append(Candidate(f"{col.name} <= {hi}", col.term <= hi))
    small = [i for i, dom in enumerate(domains) if 1 < len(dom) <= PAIR_DOMAIN]
    guards = _guards(columns, codes, domains, small)
    for r, cells in _parallel_cells(t).items():
        if r in guards:
            guards[r] |= cells
    for x, i in enumerate(small):
        for j in small[x + 1:]:
            root = columns[j].root
            if columns[j].wide:
                continue
            if root is not None and (columns[i].virtual or i not in guards[root]):
                continue
            di, dj = len(domains[i]), len(domains[j])
            together = np.bincount(codes[i] * dj + codes[j], minlength=di * dj)
            for cell in np.flatnonzero(together == 0):
                a, b = int(domains[i][cell // dj]), int(domains[j][cell % dj])
                out.append(Candidate(
                    f"not ({columns[i].name} == {a} and {columns[j].name} == {b})",
                    z3.Not(z3.And(columns[i].equals(a), columns[j].equals(b)))))
    out += _parallel_equalities(t, columns, domains, guards)
    out += window_facts(t, base, domains[:len(base)])
    linear = list(base) + summary
    found = _linear(t, linear, domains[:len(base)] + domains[len(columns) - len(summary):])
    out += found
    if ids is not None:
        counts, splits = occupancy(t, base, ids)
        values = {c.term.get_id(): c.values for c in base}
        out += _per_id_linear(t, base, ids, counts, splits, values)
        # the scalars of the state and what they point at, split the same way:
        # "w_pc in {...} or heads_len[(upend - 1) mod 8] == 1 + w_len"
        scalar = [c for (var, _), c in zip(t.scalars, base) if var.size is None]
        pointed = [c for c in columns if c.root is not None
                   and t.scalars[c.root][0].size is None]
        known = {c.text for c in found}
        for g in splits:
            out += _split_linear(t, scalar + pointed, g, values, len(states), known)
        out += ring_equalities(t, base, columns, splits, domains)
    return out


def _per_id_linear(t: StepTemplate, base: Sequence[Column], ids: SymmetricIds,
                   counts: dict[int, list[Column]], guards: Sequence[Column],
                   values: dict[int, np.ndarray]) -> list[Candidate]:
    """For each id ``h``, linear equalities over the elements at ``h`` of the arrays
    indexed by ids and where ``h`` is held, counted
    (:func:`checker.engines.symbolic.columns.occupancy`): ``inflight[1] == #{i:
    heads_id[i] == 1 and heads_len[i] == 1} + ... + [w_head == 1, where it holds an id]``;
    in every state, and among the states where a scalar the model's "holds an id"
    conditions read has one value (``w_pc in {9, 10} or inflight[1] == ...``): ``counts``
    and ``guards`` as :func:`~checker.engines.symbolic.columns.occupancy` gives them."""
    cell = {name: col for (_, name), col in zip(t.scalars, base)}
    rows = len(base[0].values) if base else 0
    out: list[Candidate] = []
    for h, held in counts.items():
        cols = [cell[f"{a}[{h}]"] for a in ids.indexed if f"{a}[{h}]" in cell] + held
        found = {c.text: c for c in _linear(t, cols, [np.unique(c.values) for c in cols])}
        out += found.values()
        for g in guards:
            out += _split_linear(t, cols, g, values, rows, set(found))
    return out


def _split_linear(t: StepTemplate, cols: Sequence[Column], g: Column,
                  values: dict[int, np.ndarray], rows: int, known: set[str]) -> list[Candidate]:
    """Linear equalities over ``cols`` among the states where ``g`` has one value, each
    guarded by the values of ``g`` where it fails: ``w_pc in {9, 10} or ...`` (``known``:
    equalities already proposed unguarded; ``values``: the state's scalars by term id)."""
    split: dict[str, Candidate] = {}
    for v in (int(x) for x in np.unique(g.values)):
        part = [replace(c, values=c.values[g.values == v]) for c in cols]
        domains = [np.unique(c.values) for c in part]
        keep = [i for i, dom in enumerate(domains) if len(dom) > 1]
        for cand in _linear(t, [part[i] for i in keep], [domains[i] for i in keep]):
            if cand.text not in known and not _single_column(cand.text):
                split.setdefault(cand.text, cand)
    out = []
    for text, cand in split.items():
        fails = ~evaluate(cand.term, values, rows)
        out.append(unless(g, g.values[fails], text, cand.term))
    return out


def _single_column(text: str) -> bool:
    """Whether a linear equality's text names one column (``x == c``: the bounds and
    excluded pairs cover it)."""
    return " + " not in text and " - " not in text.lstrip("-")


def _guards(columns: Sequence[Column], codes: Sequence[np.ndarray],
            domains: Sequence[np.ndarray], small: Sequence[int]) -> dict[int, set[int]]:
    """For each indirection's root, the scalars of the state that *guard* it: some value
    of the guard fixes the root (``skb_cnt == 0`` leaves ``skb_slot[0]`` at 0).  Only
    these pair with the root's indirections: a fact about ``heads_len[skb_slot[0]]``
    matters where the skb is held."""
    roots = {c.root for c in columns if c.root is not None}
    out: dict[int, set[int]] = {}
    for r in roots:
        dr = len(domains[r])
        found: set[int] = set()
        for z in small:
            if z == r or columns[z].virtual or columns[z].wide:
                continue
            dz = len(domains[z])
            seen = np.bincount(codes[z] * dr + codes[r], minlength=dz * dr).reshape(dz, dr)
            if np.any(np.count_nonzero(seen, axis=1) == 1):
                found.add(z)
        out[r] = found
    return out


def _parallel_cells(t: StepTemplate) -> dict[int, set[int]]:
    """For each array element ``p[k]`` of the state, the elements ``b[k]`` of the other
    arrays of ``p``'s length (``heads_len[3]`` for ``heads_id[3]``), by position."""
    by_index: dict[tuple[int, str], list[int]] = {}
    for i, (var, name) in enumerate(t.scalars):
        if var.size is not None:
            by_index.setdefault((var.size, name[len(var.name):]), []).append(i)
    out: dict[int, set[int]] = {}
    for cells in by_index.values():
        for i in cells:
            out[i] = {j for j in cells if j != i}
    return out


def _parallel_equalities(t: StepTemplate, columns: Sequence[Column],
                         domains: Sequence[np.ndarray],
                         guards: dict[int, set[int]]) -> list[Candidate]:
    """``a[p[k]] == b[k]`` for arrays ``p`` and ``b`` of one length (``heads_id[skb_slot[0]]
    == skb_head[0]``): always, or where one of the root's guards is outside the values
    it has in the states where they differ (``skb_cnt in {0} or ...``)."""
    cell_of = {name: i for i, (_, name) in enumerate(t.scalars)}
    lengths: dict[str, int] = {}
    for var, _ in t.scalars:
        if var.size is not None:
            lengths[var.name] = var.size
    out: list[Candidate] = []
    for x in columns:
        if x.root is None or t.scalars[x.root][0].size is None:
            continue
        pvar, pname = t.scalars[x.root]
        k = pname[len(pvar.name):]
        for other, size in lengths.items():
            j = cell_of.get(f"{other}{k}")
            if other == pvar.name or size != pvar.size or j is None:
                continue
            y = columns[j]
            if (y.is_bool, y.lo, y.hi) != (x.is_bool, x.lo, x.hi):
                continue
            differ = x.values != y.values
            if not differ.any():
                out.append(Candidate(f"{x.name} == {y.name}", x.term == y.term))
                continue
            for z in sorted(guards.get(x.root, ())):
                if len(np.unique(columns[z].values[differ])) == len(domains[z]):
                    continue
                out.append(unless(columns[z], columns[z].values[differ],
                                   f"{x.name} == {y.name}", x.term == y.term))
    return out


def _linear(t: StepTemplate, base: Sequence[Column], domains: Sequence[np.ndarray]) -> list[Candidate]:
    """Linear equalities over the non-constant scalars holding in every state."""
    cols = [i for i, dom in enumerate(domains) if len(dom) > 1]
    if not cols:
        return []
    table = np.unique(np.stack([base[i].values for i in cols], axis=1), axis=0)
    rows = [tuple(int(v) for v in row) for row in table]
    random.Random(0).shuffle(rows)
    sample = np.array(rows[:LINEAR_SAMPLE], dtype=np.int64).reshape(-1, len(cols))
    matrix = np.hstack([sample, np.ones((len(sample), 1), dtype=np.int64)])
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
        if np.any(table @ np.array(coeffs, dtype=np.int64) + const != 0):
            continue
        terms = [c * base[cols[k]].number(t.bits) for k, c in enumerate(coeffs) if c]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        text = " + ".join(f"{c}*{base[cols[k]].name}" for k, c in enumerate(coeffs) if c)
        out.append(Candidate(f"{text} == {-const}".replace("+ -", "- ").replace("1*", ""),
                             total == -const))
    return out


PRIME = 2_147_483_647
"""The null space is computed modulo this prime (2**31 - 1: products fit in int64)."""


def _null_space(matrix: np.ndarray) -> list[list[Fraction]]:
    """A basis of the vectors ``v`` with ``row . v == 0`` for every row of the integer
    ``matrix``: reduced row echelon form modulo :data:`PRIME` with numpy, each entry
    then read back as the rational with small numerator and denominator it stands
    for.  A vector whose entries have no such rational is left out; the caller checks
    every equality exactly on every state, so a wrong vector only loses a candidate."""
    if matrix.size == 0:
        return []
    rows = np.mod(matrix.astype(np.int64), PRIME)
    height, width = rows.shape
    pivots: list[int] = []
    r = 0
    for c in range(width):
        if r == height:
            break
        nonzero = np.flatnonzero(rows[r:, c])
        if not len(nonzero):
            continue
        k = r + int(nonzero[0])
        rows[[r, k]] = rows[[k, r]]
        rows[r] = rows[r] * pow(int(rows[r, c]), PRIME - 2, PRIME) % PRIME
        factors = rows[:, c].copy()
        factors[r] = 0
        rows = (rows - np.outer(factors, rows[r]) % PRIME) % PRIME
        pivots.append(c)
        r += 1
    free = [c for c in range(width) if c not in set(pivots)]
    basis = []
    for col in free:
        vec = [Fraction(0)] * width
        vec[col] = Fraction(1)
        ok = True
        for k, c in enumerate(pivots):
            value = _rational(int(-rows[k, col]) % PRIME)
            if value is None:
                ok = False
                break
            vec[c] = value
        if ok:
            basis.append(vec)
    return basis


def _rational(x: int, bound: int = 1 << 15) -> Fraction | None:
    """The rational ``a / b`` with ``|a|, b <= bound`` congruent to ``x`` modulo
    :data:`PRIME` (extended Euclid), or ``None``."""
    r0, r1, t0, t1 = PRIME, x, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        t0, t1 = t1, t0 - q * t1
    if t1 == 0 or abs(t1) > bound:
        return None
    return Fraction(r1, t1)
