"""What the miner looks at: the state's scalars, indirections and summaries.

A :class:`Column` is one value of a state with its Z3 term over a
:class:`~checker.engines.symbolic.unroll.StepTemplate`'s current-state
constants and its value in each explored state.  :func:`base_columns` gives
the flattened scalars; :func:`indirections` the element of an array at the
index another column holds (``g_owned[heads_id[skb_slot[0]]]``);
:func:`summaries` counts and ring distances.  Every term means exactly the
values it was computed from (tests/test_mining.py evaluates both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import z3

from checker.engines.symbolic.encoding import Z3Backend, as_bool
from checker.engines.symbolic.guard import user_code
from checker.engines.symbolic.termeval import Unsupported, evaluate
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.model import Model, ModelError
from checker.lang.symmetry import SymmetricIds, declared_symmetry
from checker.lang.view import StateView
from checker.semantics.deadvalues import checked_declarations

COUNT_VALUES = 4
"""Arrays with more distinct values than this get no count summaries."""

INDIRECTION_LEVELS = 2
"""How deep indirections nest: 2 gives ``a[b[c[i]]]``."""


@dataclass
class Column:
    """One value of a state the miner looks at: a scalar of the state or an indirection.

    ``term`` is its Z3 term over the template's current-state constants, ``lo`` and
    ``hi`` its type's range (0 and 1 for bools), ``values`` its value in each state."""

    name: str
    term: Any
    is_bool: bool
    lo: int
    hi: int
    values: np.ndarray
    wide: bool = False
    """A summary (count, ring distance): ``term`` is already a number term 8 bits wider
    than the state's; it takes part in bounds and linear equalities only."""
    root: int | None = None
    """For an indirection, the scalar of the state its innermost index is (its position
    among the state's scalars); ``None`` for a scalar of the state."""

    @property
    def virtual(self) -> bool:
        """Whether this is an indirection."""
        return self.root is not None

    def number(self, bits: int | None) -> Any:
        """The column as a number term 8 bits wider than the state's (bools as 0/1;
        a summary is one already)."""
        if self.is_bool:
            return z3.If(self.term, wide_const(1, bits), wide_const(0, bits))
        if self.wide or bits is None:
            return self.term
        return z3.SignExt(8, self.term)

    def equals(self, value: int) -> z3.BoolRef:
        """The term ``column == value`` (a bool column: ``value != 0``)."""
        return self.term == bool(value) if self.is_bool else self.term == value


def base_columns(t: StepTemplate, states: Sequence[tuple[int, ...]]) -> list[Column]:
    """One column per scalar of the flattened state."""
    table = np.array(states, dtype=np.int64).reshape(len(states), len(t.scalars))
    return [Column(name, t.cur[i], var.is_bool, var.lo, var.hi, table[:, i])
            for i, (var, name) in enumerate(t.scalars)]


def indirections(t: StepTemplate, base: Sequence[Column], ids: SymmetricIds | None,
                 levels: int = INDIRECTION_LEVELS) -> list[Column]:
    """Columns ``a[p]``: an array ``a`` at the index a column ``p`` holds.

    Where the model declares interchangeable ids (:meth:`Model.symmetric_ids`), the
    arrays it says hold ids index the arrays it says are indexed by them, and an
    element of an id-holding array at any index (``heads_id[skb_slot[0]]``) holds an
    id again, ``levels`` deep.  Any other column ``p`` that takes several values
    indexes every other array of at least three elements whose index range is exactly
    ``p``'s type (``0 .. len(a) - 1``; smaller arrays match too many small counters),
    and, when ``p`` is a scalar (a ring position such as ``upend``), at the element just
    before it on the ring (``heads_len[(upend - 1) mod 8]``, the slot handle_tx filled
    last).  Columns equal in every state to one already made are left out."""
    arrays: dict[str, list[Column]] = {}
    for (var, _), col in zip(t.scalars, base):
        if var.size is not None:
            arrays.setdefault(var.name, []).append(col)
    holds_ids = {v.var for v in ids.values} if ids is not None else set()
    by_id = [(name, arrays[name]) for name in (ids.indexed if ids is not None else ())
             if name in arrays]
    by_type = [(name, cells) for name, cells in arrays.items()
               if len(cells) >= 3 and not any(name == n for n, _ in by_id)]
    out: list[Column] = []
    made: set[bytes] = set()

    def index(p: Column, name: str, cells: list[Column], back: int = 0) -> Column | None:
        if back:  # the element just before p's on a ring: a[(p - 1) mod L]
            cells = cells[-back:] + cells[:-back]
        values = np.stack([c.values for c in cells])[p.values, np.arange(len(p.values))]
        fingerprint = name.encode() + values.tobytes()
        if fingerprint in made:
            return None
        made.add(fingerprint)
        term = cells[-1].term
        for k in range(len(cells) - 2, -1, -1):
            term = z3.If(p.term == k, cells[k].term, term)
        first = cells[0]
        root = p.root if p.root is not None else base.index(p)
        where = f"({p.name} - {back}) mod {len(cells)}" if back else p.name
        return Column(f"{name}[{where}]", term, first.is_bool, first.lo, first.hi, values,
                      root=root)

    def varies(p: Column) -> bool:
        return not p.is_bool and p.lo == 0 and len(np.unique(p.values)) > 1

    last_id = ids.count - 1 if ids is not None and by_id else None

    def holds_an_id(array: str, c: Column) -> bool:
        return array in holds_ids and c.hi == last_id and varies(c)

    id_pointers = [c for (var, _), c in zip(t.scalars, base) if holds_an_id(var.name, c)]
    for level in range(levels):
        new: list[tuple[str, Column]] = []
        for p in id_pointers:
            new += [(name, c) for name, cells in by_id if (c := index(p, name, cells)) is not None]
        if level == 0:
            for (var, _), p in zip(t.scalars, base):
                if var.name in holds_ids or not varies(p):
                    continue
                for back in (0, 1) if var.size is None else (0,):
                    new += [(name, c) for name, cells in by_type if p.hi == len(cells) - 1
                            and (c := index(p, name, cells, back)) is not None]
        out += [c for _, c in new]
        id_pointers = [c for name, c in new if holds_an_id(name, c)]
    return out


def summaries(t: StepTemplate, base: Sequence[Column]) -> list[Column]:
    """Counts and ring distances, for linear equalities such as "the refcount is one
    more than the slots in flight" or "the window holds every slot not yet returned".

    * ``#{i: a[i] == v}`` for every array ``a`` of 3 to 64 elements with at most
      :data:`COUNT_VALUES` distinct values, and each value ``v`` it takes;
    * ``(x - y) mod L`` for scalars ``x``, ``y`` both typed ``0 .. L - 1``, ``L`` the
      length of an array, a power of two of at least 4 (the kernel's rings:
      ``(upend - done) mod UIO_MAXIOV``)."""
    bits = t.bits
    arrays: dict[str, list[Column]] = {}
    for (var, _), col in zip(t.scalars, base):
        if var.size is not None:
            arrays.setdefault(var.name, []).append(col)
    out: list[Column] = []
    for name, cells in arrays.items():
        if not 3 <= len(cells) <= 64:
            continue
        matrix = np.stack([c.values for c in cells])
        seen = np.unique(matrix)
        if len(seen) > COUNT_VALUES:
            continue
        for v in (int(x) for x in seen):
            term = count_term([c.equals(v) for c in cells], bits)
            out.append(Column(f"#{{i: {name}[i] == {v}}}", term, False, 0, len(cells),
                              np.count_nonzero(matrix == v, axis=0).astype(np.int64), wide=True))
    lengths = ring_lengths(t)
    ring = [c for (var, _), c in zip(t.scalars, base) if var.size is None and on_ring(c, lengths)]
    for x in ring:
        for y in ring:
            if x is not y and x.hi == y.hi:
                size = x.hi + 1
                out.append(Column(f"({x.name} - {y.name}) mod {size}",
                                  ring_distance(x, y, bits), False, 0, x.hi,
                                  (x.values - y.values) % size, wide=True))
    return out


def ring_lengths(t: StepTemplate) -> set[int]:
    """The lengths of the state's arrays that are powers of two of at least 4: the
    kernel's rings (``heads[]`` of ``UIO_MAXIOV`` slots), whose positions wrap modulo it."""
    return {var.size for var, _ in t.scalars
            if var.size is not None and var.size >= 4 and var.size & (var.size - 1) == 0}


def ring_distance(x: Column, y: Column, bits: int | None) -> Any:
    """The number term ``(x - y) mod L`` for ring positions ``x`` and ``y`` typed
    ``0 .. L - 1``."""
    size = x.hi + 1
    diff = x.number(bits) - y.number(bits) + size
    return diff % size if bits is None else z3.URem(diff, wide_const(size, bits))


def on_ring(col: Column, lengths: set[int]) -> bool:
    """Whether ``col`` is a ring position: typed ``0 .. L - 1`` for one of the ring
    ``lengths`` (:func:`ring_lengths`)."""
    return not col.is_bool and col.lo == 0 and col.hi + 1 in lengths


def wide_const(value: int, bits: int | None) -> Any:
    """``value`` as a number term 8 bits wider than the state's (an ``Int`` without
    bit-vectors)."""
    return z3.IntVal(value) if bits is None else z3.BitVecVal(value, bits + 8)


def count_term(conditions: Sequence[Any], bits: int | None) -> Any:
    """The number of ``conditions`` that hold, a number term 8 bits wider than the
    state's (an ``Int`` without bit-vectors)."""
    term = wide_const(0, bits)
    for cond in conditions:
        term = term + z3.If(cond, wide_const(1, bits), wide_const(0, bits))
    return term


def occupancy(t: StepTemplate, base: Sequence[Column],
              ids: SymmetricIds) -> tuple[dict[int, list[Column]], list[Column]]:
    """For each id ``h``, where it is held, counted: what conservation laws such as
    "``inflight[h]`` is the number of heads[] slots in the window holding ``h``, plus one
    while handle_tx holds ``h``" are linear in.

    * for a variable the model declares holds ids only where a condition holds
      (:func:`checker.lang.symmetry.ids_in`: the used ring below ``used_cnt``, handle_tx's
      ``head`` at the pcs that use it), the elements holding ``h`` there;
    * for one that always holds ids, the elements holding ``h`` or, where it has
      parallel arrays (same length, at least 3 elements, not indexed by ids, at most
      :data:`COUNT_VALUES` values), those holding ``h`` whose parallel element has each
      value (``heads_id[i] == h`` and ``heads_len[i] == 2``), and, where the model
      declares when its elements are dead (:mod:`checker.lang.dead`), the live
      elements holding ``h`` (the avail ring's window).

    The terms come from the model's own declaration; the values are the terms
    evaluated on the states (:func:`checker.engines.symbolic.termeval.evaluate`).
    Terms it cannot evaluate are left out.  Also returned: the scalars the declared
    conditions read (``w_pc``, ``used_cnt``), whose values the miner splits states by."""
    rows = len(base[0].values) if base else 0
    values = {c.term.get_id(): c.values for c in base}
    view = StateView(t.model, t.layout.state(t.cur), Z3Backend(t.bits), t.enabled)
    arrays: dict[str, list[Column]] = {}
    for (var, _), col in zip(t.scalars, base):
        if var.size is not None:
            arrays.setdefault(var.name, []).append(col)
    scalar = {name: col for (var, name), col in zip(t.scalars, base) if var.size is None}
    out: dict[int, list[Column]] = {h: [] for h in range(ids.count)}
    read: set[int] = set()
    try:
        dead_when = {d.var: d for d, _, var in checked_declarations(t.model) if var.size}
    except ModelError:
        dead_when = {}

    def add(h: int, name: str, conditions: Sequence[Any], most: int) -> None:
        term = count_term(conditions, t.bits)
        try:
            vals = evaluate(term, values, rows)
        except Unsupported:
            return
        out[h].append(Column(name, term, False, 0, most, vals, wide=True))

    for decl in ids.values:
        one = scalar.get(decl.var)
        cells = arrays.get(decl.var) or ([one] if one is not None else [])
        if not cells:
            continue
        is_array = decl.var in arrays
        if decl.live is not None:
            with user_code():
                held = [as_bool(decl.live(view, k)) for k in range(len(cells))] if is_array \
                    else [as_bool(decl.live(view))]
            read.update(c.get_id() for live in held for c in _free_constants(live))
            for h in out:
                where = f"#{{k: {decl.var}[k] == {h}, where it holds an id}}" if is_array \
                    else f"[{decl.var} == {h}, where it holds an id]"
                add(h, where, [z3.And(c.equals(h), live) for c, live in zip(cells, held)],
                    len(cells))
            continue
        if not is_array:
            for h in out:
                add(h, f"[{decl.var} == {h}]", [cells[0].equals(h)], 1)
            continue
        dead = dead_when.get(decl.var)
        if dead is not None:  # the elements the dead-value declaration keeps live
            with user_code():
                live = [z3.Not(as_bool(dead.when(view, k))) for k in range(len(cells))]
            for h in out:
                add(h, f"#{{k: {decl.var}[k] == {h}, where it is live}}",
                    [z3.And(c.equals(h), lv) for c, lv in zip(cells, live)], len(cells))
        parallel = [(name, other) for name, other in arrays.items()
                    if name != decl.var and name not in ids.indexed and len(other) == len(cells)
                    and len(cells) >= 3
                    and len(np.unique(np.stack([c.values for c in other]))) <= COUNT_VALUES]
        for h in out:
            if not parallel:
                add(h, f"#{{i: {decl.var}[i] == {h}}}", [c.equals(h) for c in cells], len(cells))
            for name, other in parallel:
                for v in (int(x) for x in np.unique(np.stack([c.values for c in other]))):
                    add(h, f"#{{i: {decl.var}[i] == {h} and {name}[i] == {v}}}",
                        [z3.And(c.equals(h), o.equals(v)) for c, o in zip(cells, other)],
                        len(cells))
    return out, [c for c in base if c.term.get_id() in read]


def _free_constants(term: Any) -> list[Any]:
    """The uninterpreted constants ``term`` reads."""
    seen: set[int] = set()
    found: list[Any] = []
    todo = [term]
    while todo:
        e = todo.pop()
        if e.get_id() in seen:
            continue
        seen.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            found.append(e)
        todo += e.children()
    return found


def declared_ids(model: Model) -> SymmetricIds | None:
    """The model's interchangeable ids, if it declares them soundly; else ``None``."""
    try:
        return declared_symmetry(model)
    except ModelError:
        return None
