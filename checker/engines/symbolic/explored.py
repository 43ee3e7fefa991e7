"""The invariant "the state is in a class a complete exploration reached".

When the miner's exploration (:func:`checker.engines.symbolic.mining.explore`)
ends with nothing left to expand, the classes it saw are every reachable one
(one per dead-value class: dead values reset to their canonical values).  That
set is the strongest invariant there is, and it is often small as a *decision
diagram*: a rooted graph whose node at level ``i`` tests one state position and
leads, for each value the classes below it take there, to the node of the
positions after it.  Classes sharing every later value share the node (a reduced
multi-valued decision diagram over a fixed order: the model's variable order,
which keeps a program counter next to the locals it governs).  At ring size 2 on
the v3.1 data path, 108 835 classes make 6 319 nodes.

:func:`class_diagram` builds it from the canonical rows, column by column from
the last (numpy: one sort, then per level one ``np.lexsort`` over the child lists);
:func:`diagram_term` writes it as a Z3 formula over the canonical form of the
template's current state (the dead-value reset run on Z3 terms), and
:func:`diagram_text` as text, one node a line.

Nothing here is trusted: :mod:`checker.engines.symbolic.pdr` re-checks the formula
by fresh solvers (initiation, consecution, implies the property and ``safe``)
before it reports ``holds``.  A wrong canon, an exploration the symbolic step
disagrees with, or a property some class violates only makes the check fail.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import z3

from checker.engines.symbolic.recheck import implies, verify
from checker.engines.symbolic.unroll import StepTemplate

ACCEPT = -1
"""The child of the last level's edges: every position has been tested."""


@dataclass(frozen=True)
class Node:
    """One node: the position it tests, and for each value allowed there the node
    that tests the rest (:data:`ACCEPT` below the last level)."""

    position: int
    values: tuple[int, ...]
    children: tuple[int, ...]


@dataclass(frozen=True)
class Diagram:
    """The classes as ``fixed`` (position, value) pairs every class shares and a
    diagram over the other positions; ``nodes`` are children before parents, the
    root last (none when one class is all there is)."""

    classes: int
    fixed: tuple[tuple[int, int], ...]
    nodes: tuple[Node, ...]


def class_diagram(rows: np.ndarray) -> Diagram:
    """The reduced decision diagram of ``rows`` (one class per row, one column per
    flat state position), levels in column order."""
    rows, _ = _unique_rows(rows)
    varying = [i for i in range(rows.shape[1]) if (rows[:, i] != rows[0, i]).any()]
    fixed = tuple((i, int(rows[0, i])) for i in range(rows.shape[1]) if i not in varying)
    table = rows[:, varying]  # sorted lexicographically
    n, levels = table.shape
    # group[r, i]: which distinct prefix of length i row r has (rows sorted, so runs)
    starts = np.zeros((n, levels + 1), dtype=bool)
    starts[0] = True
    starts[1:, 1:] = np.cumsum(table[1:] != table[:-1], axis=1) > 0
    group = np.cumsum(starts, axis=0) - 1
    nodes: list[Node] = []
    below = np.full(n, ACCEPT, dtype=np.int64)  # per row: the node its prefix of i + 1 leads to
    for i in range(levels - 1, -1, -1):
        first = np.flatnonzero(starts[:, i + 1])
        parent = group[first, i]
        count = np.bincount(parent)
        slot = np.arange(len(first)) - np.repeat(np.cumsum(count) - count, count)
        pad = np.iinfo(np.int64).min
        keys = np.full((len(count), 2 * int(count.max())), pad, dtype=np.int64)
        keys[parent, 2 * slot] = table[first, i]
        keys[parent, 2 * slot + 1] = below[first]
        unique, which = _unique_rows(keys)
        base = len(nodes)
        for key in unique:
            pairs = key[key != pad].reshape(-1, 2)  # a value is never the pad, nor a child
            nodes.append(Node(varying[i], tuple(int(v) for v in pairs[:, 0]),
                              tuple(int(c) for c in pairs[:, 1])))
        below = (base + which)[group[:, i]]
    return Diagram(n, fixed, tuple(nodes))


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``a`` in lexicographic order, and for each row of ``a``
    the index of its own among them (``np.unique(axis=0)``, whose sort of whole rows
    as bytes is several times slower than ``np.lexsort`` here)."""
    order = np.lexsort(a.T[::-1])
    ordered = a[order]
    new = np.ones(len(a), dtype=bool)
    new[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    which = np.empty(len(a), dtype=np.int64)
    which[order] = np.cumsum(new) - 1
    return ordered[new], which


def diagram_term(d: Diagram, t: StepTemplate, state: Sequence[Any]) -> z3.BoolRef:
    """``d`` as a Z3 formula over ``state`` (one term per flat position of ``t``:
    the canonical form of the state the formula speaks of)."""

    def equals(position: int, value: int) -> z3.BoolRef:
        if t.scalars[position][0].is_bool:
            return state[position] == bool(value)
        return state[position] == value

    terms: list[z3.BoolRef] = []
    for node in d.nodes:
        edges = [equals(node.position, v) if c == ACCEPT else z3.And(equals(node.position, v),
                                                                     terms[c])
                 for v, c in zip(node.values, node.children)]
        terms.append(z3.Or(*edges) if len(edges) > 1 else edges[0])
    return z3.And(*(equals(p, v) for p, v in d.fixed), *terms[-1:])


def diagram_text(d: Diagram, names: Sequence[str]) -> list[str]:
    """``d`` one line each: the shared values, then each node (``n12 w_pc: 2 -> n11 |
    3 -> n40``, ``accept`` below the last level), the root last."""
    lines = [f"{names[p]} == {v}" for p, v in d.fixed]
    for k, node in enumerate(d.nodes):
        edges = " | ".join(f"{v} -> {'accept' if c == ACCEPT else f'n{c}'}"
                           for v, c in zip(node.values, node.children))
        lines.append(f"n{k} {names[node.position]}: {edges}")
    if d.nodes:
        lines.append(f"root: n{len(d.nodes) - 1}")
    return lines


@dataclass(frozen=True)
class ClassCheck:
    """What the re-check of the diagram found: the step it fails at (``None`` when it is
    inductive and implies ``safe``) and the goals it implies, by name."""

    diagram: Diagram
    failed: str | None
    implied: tuple[str, ...]
    seconds: float


def check_classes(t: StepTemplate, rows: np.ndarray, canon: Sequence[Any],
                  goals: Sequence[tuple[str, z3.BoolRef]],
                  deadline: float | None = None) -> ClassCheck:
    """Whether the diagram of ``rows`` over ``canon`` (the canonical form of ``t``'s
    current state) holds initially, is preserved by every step and implies ``safe``
    (each by a fresh solver); if so, which of the named ``goals`` it implies."""
    start = time.monotonic()
    d = class_diagram(rows)
    inv = diagram_term(d, t, canon)
    failed = verify(t, [inv], z3.BoolVal(True), deadline)
    if failed == "implication":  # of True and safe: safe fails
        failed = "safety"
    implied = () if failed else tuple(name for name, goal in goals
                                      if implies(t, inv, goal, deadline))
    return ClassCheck(d, failed, implied, time.monotonic() - start)
