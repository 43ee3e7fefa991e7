"""Mined facts about ring positions: windows and ring equalities.

The kernel's rings (``heads[]``, of ``UIO_MAXIOV`` slots) are indexed by positions
that wrap modulo the ring's length, so relations between them are relations modulo
it: a position lies in the window between two others, or lies at a fixed distance
from another where the program counter (and one more small scalar) say so.  Linear
equalities over the integers break at the wrap; these do not.  Like every mined
fact, none is trusted (:mod:`checker.engines.symbolic.houdini` keeps an inductive
subset, the prover re-checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import z3

from checker.engines.symbolic.candidate import PAIR_DOMAIN, Candidate, unless
from checker.engines.symbolic.columns import (
    Column,
    on_ring,
    ring_distance,
    ring_lengths,
    wide_const,
)
from checker.engines.symbolic.unroll import StepTemplate

WINDOW_GUARDS = 2
"""Guarded forms kept per window fact that does not hold in every state (the tightest)."""


def window_facts(t: StepTemplate, base: Sequence[Column],
                  domains: Sequence[np.ndarray]) -> list[Candidate]:
    """"Ring position ``x`` lies in the window ``[a, b)``": ``(x - a) mod L < (b - a) mod L``
    for scalars ``a``, ``b`` and any other element ``x`` of the state typed ``0 .. L - 1``
    (``L`` as in :func:`~checker.engines.symbolic.columns.summaries`: every held skb's
    heads[] slot lies in ``[done_idx, upend_idx)``); in every state, or where a small
    scalar of the state is outside the values it has where the fact fails
    (``skb_cnt in {0} or ...``, the :data:`WINDOW_GUARDS` tightest such)."""
    lengths = ring_lengths(t)
    ring = [i for i, c in enumerate(base) if on_ring(c, lengths)]
    ends = [i for i in ring if t.scalars[i][0].size is None]
    small = [i for i, c in enumerate(base) if t.scalars[i][0].size is None
             and 1 < len(domains[i]) <= PAIR_DOMAIN and i not in ring]
    out: list[Candidate] = []
    for a in ends:
        for b in ends:
            if a == b or base[a].hi != base[b].hi:
                continue
            size = base[a].hi + 1
            width = (base[b].values - base[a].values) % size
            limit = ring_distance(base[b], base[a], t.bits)
            for x in ring:
                if x in (a, b) or base[x].hi != base[a].hi:
                    continue
                fails = (base[x].values - base[a].values) % size >= width
                if fails.all():
                    continue
                offset = ring_distance(base[x], base[a], t.bits)
                inside = z3.ULT(offset, limit) if t.bits is not None else offset < limit
                text = (f"({base[x].name} - {base[a].name}) mod {size} < "
                        f"({base[b].name} - {base[a].name}) mod {size}")
                if not fails.any():
                    out.append(Candidate(text, inside))
                    continue
                tight = sorted((len(set(base[g].values[fails].tolist())) / len(domains[g]), g)
                               for g in small)
                for share, g in tight[:WINDOW_GUARDS]:
                    if share >= 1:
                        break
                    out.append(unless(base[g], base[g].values[fails], text, inside))
    return out


def ring_equalities(t: StepTemplate, base: Sequence[Column], columns: Sequence[Column],
                     splits: Sequence[Column], domains: Sequence[np.ndarray]) -> list[Candidate]:
    """Ring equalities ``(x - y) mod L == c`` between a ring position ``x`` (a scalar of
    the state or an indirection through one: ``ubuf_desc[w_head]``) and a scalar ring
    position ``y`` (``upend``), where one scalar ``g`` the model's "holds an id"
    conditions read (``splits``) has certain values, or where ``g`` and a second small
    scalar ``h`` have certain pairs of values: ``(w_pc, w_len) not in {(9, 2)} or
    (ubuf_desc[w_head] - upend) mod 8 == 7`` (the bookkeeping step records ``upend`` and
    then moves it on).  A value (or pair) counts only where ``x`` takes several values
    and ``(x - y) mod L`` one; pairs are tried only for a ``g`` some value of which
    leaves the distance open.  The split linear equalities cannot say this: the
    difference wraps at the ring's end."""
    lengths = ring_lengths(t)
    scalar = [i for i in range(len(base)) if t.scalars[i][0].size is None]
    ends = [base[i] for i in scalar if on_ring(base[i], lengths)]
    ring = [c for i, c in enumerate(columns) if not c.wide and on_ring(c, lengths)
            and t.scalars[c.root if c.root is not None else i][0].size is None]
    split_ids = {g.term.get_id() for g in splits}
    small = [base[i] for i in scalar if 1 < len(domains[i]) <= PAIR_DOMAIN
             and base[i].term.get_id() not in split_ids and base[i] not in ends]
    cells: dict[tuple[int, ...], _Cells] = {(id(g),): _Cells([g]) for g in splits}
    out: list[Candidate] = []
    for y in ends:
        size = y.hi + 1
        for x in ring:
            if x is y or x.hi != y.hi:
                continue
            dist = (x.values - y.values) % size
            fact = f"({x.name} - {y.name}) mod {size}"
            term = ring_distance(x, y, t.bits)
            for g in splits:
                alone, open_ = cells[(id(g),)].constant(x.values, dist)
                out += _guarded_distances([g], alone, fact, term, t.bits)
                if not open_:
                    continue
                for h in small:
                    key = (id(g), id(h))
                    if key not in cells:
                        cells[key] = _Cells([g, h])
                    pairs, _ = cells[key].constant(x.values, dist)
                    pairs = {cell: c for cell, c in pairs.items() if cell[0] in open_}
                    out += _guarded_distances([g, h], pairs, fact, term, t.bits)
    return out


class _Cells:
    """The states grouped by the values of some scalars (the cells), sorted once."""

    def __init__(self, guards: Sequence[Column]) -> None:
        keys = np.stack([g.values for g in guards], axis=1)
        self.order = np.lexsort(keys.T[::-1])
        ordered = keys[self.order]
        change = np.any(ordered[1:] != ordered[:-1], axis=1)
        self.starts = np.concatenate([[0], np.flatnonzero(change) + 1])
        self.values = [tuple(int(v) for v in row) for row in ordered[self.starts]]

    def constant(self, x: np.ndarray, dist: np.ndarray
                 ) -> tuple[dict[tuple[int, ...], int], set[int]]:
        """The cells where ``x`` takes several values and ``dist`` one, with that
        distance; and the first guard's values in the cells where both vary."""
        xs, ds = x[self.order], dist[self.order]
        varies = np.minimum.reduceat(xs, self.starts) != np.maximum.reduceat(xs, self.starts)
        low = np.minimum.reduceat(ds, self.starts)
        fixed = low == np.maximum.reduceat(ds, self.starts)
        found = {self.values[i]: int(low[i]) for i in np.flatnonzero(varies & fixed)}
        open_ = {self.values[i][0] for i in np.flatnonzero(varies & ~fixed)}
        return found, open_


def _guarded_distances(guards: Sequence[Column], cells: dict[tuple[int, ...], int],
                       fact: str, term: Any, bits: int | None) -> list[Candidate]:
    """One candidate per distance ``c`` in ``cells``: where the guards have the values
    of a cell with distance ``c``, ``fact == c``."""
    by_distance: dict[int, list[tuple[int, ...]]] = {}
    for cell, c in cells.items():
        by_distance.setdefault(c, []).append(cell)
    out = []
    names = ", ".join(g.name for g in guards)
    for c, where in sorted(by_distance.items()):
        shown = ", ".join(str(w[0]) if len(w) == 1 else str(w) for w in where)
        inside = z3.Or(*(z3.And(*(g.equals(v) for g, v in zip(guards, w))) for w in where))
        label = names if len(guards) == 1 else f"({names})"
        out.append(Candidate(f"{label} not in {{{shown}}} or {fact} == {c}",
                             z3.Or(z3.Not(inside), term == wide_const(c, bits))))
    return out
