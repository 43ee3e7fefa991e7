"""Partial-order reduction (``--por``): read/write sets, ample-set tables, numba source.

Read and write sets come from the generated code the compiled explorer runs
(:mod:`.flatcode`), never from sampled states.  Each ``step_<i>(u, w, nw)``
is straight-line code over the slots ``u[k]`` with single-line exits
(``if c: return <status>``) and one final assignment of the packed
successor words, so for every state:

* the step's guard, capacity checks, error checks and next values are
  computed from the slots it mentions: **reads** = every ``u[k]`` in its body
  (an array read at a computed index is an ``ite`` chain over every element,
  so all of them are mentioned);
* it changes only the fields the final assignment clears from the copied
  input words: **writes** = those slots (a field whose new value is the
  code ``u[k]`` itself is not cleared, :func:`.flatcode.flat_output`; any
  other value counts as written, even one equal to the old value in every
  state -- an over-approximation, never an omission);
* every exit before the first exit with a non-zero status is ``return 0``
  (disabled, no successor, no capacity hit, no error): a leading guard such
  as ``tN = u[k] == c; if not tN: return 0`` proves that the step does
  anything at all only when ``u[k] == c``.  Comparisons with literals, bool
  slots and ``&``/``|`` of those give, per slot, the **pc values** the step
  may act at (``tx_sendmsg_err``: ``w_pc`` in {9, 13}).

(The brief suggested Z3 terms for these sets.  The generated code is what
the explorer runs, it contains every exit, including index and division
errors the Z3 encoding does not model, and it needs no solver.  Code of
another shape is refused, and the run goes on without the reduction.)

Steps that can never act are left out of everything below: a set-valued run
of the generated code to a least fixpoint (:mod:`.flatvalues`)
over-approximates each slot's reachable values; a step whose pc values or
leading guards no reachable value satisfies never does anything.

With the dead-value reduction the explored transition is ``canon . step``.
The canon (:mod:`.flatcanon`) is straight-line code too; each slot ``x`` it
may reset gets the set ``D_x`` of slots its new value is computed from.  On
a canonical state ``s``, ``canon(step(s))`` differs from ``step(s)`` only at
targets ``x`` with ``D_x`` meeting the step's writes (otherwise ``x`` is
computed from values equal to those of ``s``, where the canon left it as
it is), so the composed step writes ``W' = W + {x : D_x meets W}`` and reads
``R' = R + D_x`` for each such ``x``.

Dependence: ``t`` and ``u`` are dependent iff ``W'(t)`` meets ``R'(u)`` or
``W'(u)``, or ``W'(u)`` meets ``R'(t)``.  Visible: ``W'(t)`` meets a slot a
selected invariant reads, or ``t``'s actor is one whose enabledness an
invariant reads.

Ample sets (:func:`plan`, then ``por_ample`` in the kernel): an actor ``A``
has a *pc slot* ``k`` when every live ``A``-step has pc values for ``k``
(each such step reads ``k``).  ``A`` at value ``c`` is *safe* when some
live ``A``-step may act at ``c`` and every one that may is invisible and
independent of every live step of every other actor (so no other actor
writes ``k``: the group reads it); an actor without a pc slot is safe (at
every value) when all its live steps are.  At a state ``s`` the
kernel tries the actors in order: for a safe ``A`` whose enabled steps are
some but not all of the enabled steps, ample(s) = ``A``'s enabled steps,
taken only if every successor they give (canonicalised) is not yet in the
visited table; otherwise the next actor; else every successor.

Why this preserves every invariant verdict, capacity hit and model error
(C0-C3): C0, ample(s) is non-empty.  C1, on a path from ``s`` that avoids
ample(s), ``A`` does not move: its steps at other pc values are disabled
while ``k`` holds ``c``, and no other actor writes ``k``; its steps at ``c``
are either in ample(s) or disabled at ``s``, and the other actors' steps
write nothing they read, so they stay disabled.  Hence the path is made of
other actors' steps, all independent of ample(s).  C2, ample steps are
invisible.  C3, with BFS, a state expanded with a reduced ample set has
all its successors new, so each is one level deeper; a cycle cannot go
deeper at every edge, so every cycle of the reduced graph has a fully
expanded state.  Soundness for a target state ``z`` reached from an
explored ``s`` by a path ``w`` (by induction on ``|w|``, then on the number
of levels below ``s``): if ``w`` takes an ample step ``a``, move ``a`` to
the front (it commutes with the independent steps before it): a path one
shorter from the explored ``a(s)``.  Otherwise every step of ``w`` is
independent of any ``a`` in ample(s), so ``a(s) -w-> a(z)``: same length, one
level deeper (finitely many levels).  ``a(z)`` agrees with ``z`` on every
visible slot and actor, so an invariant violated at ``z`` is violated at
``a(z)``.  A capacity hit or error of a step ``v`` at ``z``: if ``v`` is
another actor's, ``a`` writes nothing ``v`` reads, so it happens at ``a(z)``
too; if ``v`` is ``A``'s, it needs ``k == c`` (``A`` has not moved), so it
is a pc-``c`` step, which no other actor's step affects: it happens at
``s`` already, which the explorer expanded (every step of an expanded
state is evaluated, in or out of the ample set).  Violations found are
real paths of the model, but BFS over the reduced graph does not give the
shortest trace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from checker.engines.explicit.compiled.flataccess import (
    Access,
    canon_dependencies,
    functions,
    property_reads,
    step_access,
)
from checker.engines.explicit.compiled.flatcode import FlatCode
from checker.engines.explicit.compiled.flatvalues import Values, reachable_values
from checker.engines.explicit.compiled.layout import Layout
from checker.lang.model import Model
from checker.semantics.states import initial_state


@dataclass
class Plan:
    """The ample-set tables of one run and what ``result.json`` says about them."""

    actor_of: list[int]
    """Per model instance index: its actor's number (-1: never compiled, never enabled)."""
    pc_slot: list[int]
    """Per actor: its pc slot, or -1 (safe at every value or none)."""
    pc_lo: list[int]
    safe: list[list[int]]
    """Per actor: 1/0 per pc value ``pc_lo + j`` (column 0 only, without a pc slot)."""
    info: dict[str, Any] = field(default_factory=dict)

    def source(self) -> str:
        """The ``POR_*`` globals the kernel reads: ``POR = True`` with the tables, or
        :data:`NO_POR_SOURCE` when no actor is safe anywhere (the filter could never
        reduce a state, so it is left out of the loop)."""
        if not any(any(row) for row in self.safe):
            return NO_POR_SOURCE
        width = max(len(row) for row in self.safe) if self.safe else 1
        rows = [row + [0] * (width - len(row)) for row in self.safe] or [[0]]
        return ("POR = True\n"
                f"POR_ACTOR = np.array({self.actor_of or [-1]}, np.int64)\n"
                f"POR_PCSLOT = np.array({self.pc_slot or [-1]}, np.int64)\n"
                f"POR_PCLO = np.array({self.pc_lo or [0]}, np.int64)\n"
                f"POR_SAFE = np.array({rows}, np.int8)\n"
                f"POR_NACT = {len(self.safe)}\n")


NO_POR_SOURCE = ("POR = False\nPOR_ACTOR = np.zeros(1, np.int64)\n"
                 "POR_PCSLOT = np.zeros(1, np.int64)\nPOR_PCLO = np.zeros(1, np.int64)\n"
                 "POR_SAFE = np.zeros((1, 1), np.int8)\nPOR_NACT = 0\n")
"""The ``POR_*`` globals of a run without the reduction (the kernel's branch is dead)."""


def slot_names(model: Model, layout: Layout) -> list[str]:
    """``var`` or ``var[i]`` per slot."""
    return [model.vars[f.var].name + ("" if f.element is None else f"[{f.element}]")
            for f in layout.fields]


def slot_ranges(model: Model, layout: Layout) -> list[tuple[int, int]]:
    """Each slot's type range (bools: 0..1)."""
    out = []
    for f in layout.fields:
        var = model.vars[f.var]
        out.append((0, 1) if var.is_bool else (int(var.lo), int(var.hi)))
    return out


def accesses(model: Model, layout: Layout, code: FlatCode,
             canon: str | None) -> dict[int, Access]:
    """The read/write sets of every compiled step (by instance index), composed with
    the canon when ``canon`` (its source) is given: ``R'`` and ``W'`` of the module."""
    funcs = functions(code.steps_source)
    deps = canon_dependencies(layout, canon) if canon is not None else {}
    ranges = slot_ranges(model, layout)
    out: dict[int, Access] = {}
    for index in code.instances:
        label = model.instances[index].label
        acc = step_access(layout, funcs[f"step_{index}"], f"step {label}", ranges)
        writes = set(acc.writes)
        reads = set(acc.reads)
        for x, d in deps.items():
            if x in acc.writes or d & acc.writes:
                writes.add(x)
                reads |= d
        out[index] = Access(frozenset(reads), frozenset(writes), acc.pcs)
    return out


def live_steps(model: Model, layout: Layout, code: FlatCode, acc: dict[int, Access],
               canon: str | None) -> tuple[set[int], list[Values]]:
    """The steps that may act in some reachable state, and each slot's possible values
    (:func:`.flatvalues.reachable_values`; a step's sets are narrowed to its pc values)."""
    funcs = functions(code.steps_source)
    steps = {i: funcs[f"step_{i}"] for i in acc}
    canon_body = functions(canon).get("canon") if canon is not None else None
    ranges = slot_ranges(model, layout)

    def restrict(i: int, slots: list[Values]) -> list[Values] | None:
        out = list(slots)
        for k, allowed in acc[i].pcs.items():
            narrowed = allowed if slots[k] is None else slots[k] & allowed  # type: ignore[operator]
            if not narrowed:
                return None
            out[k] = narrowed
        return out

    initial = [int(v) for v in layout.flatten(initial_state(model))]
    values, live = reachable_values(layout, initial, steps, canon_body, ranges, restrict)
    return live, values


def dependent(a: Access, b: Access) -> bool:
    """Whether two steps may fail to commute or may enable/disable each other."""
    return bool(a.writes & (b.reads | b.writes) or b.writes & a.reads)


def _pc_table(acc: dict[int, Access], mine: Sequence[int], ok: dict[int, bool],
              k: int) -> tuple[int, list[int]]:
    """For pc slot ``k`` of an actor with live steps ``mine``: the lowest value some step
    may act at, and 1/0 per value from there: every step that may act at it is safe."""
    values = set().union(*(acc[i].pcs[k] for i in mine))
    row = []
    for v in range(min(values), max(values) + 1):
        group = [i for i in mine if v in acc[i].pcs[k]]
        row.append(1 if group and all(ok[i] for i in group) else 0)
    return min(values), row


def _why_not(model: Model, acc: dict[int, Access], by_actor: dict[str, list[int]],
             visible: set[int], seen_actors: set[str], names: Sequence[str],
             i: int) -> str | None:
    """Why step ``i`` may not be in a reduced ample set (``None``: it may): it is visible
    or depends on a live step of another actor."""
    label = model.instances[i].label
    actor = model.instances[i].spec.actor
    if actor in seen_actors:
        return f"{label}: an invariant reads whether {actor} is enabled"
    shown = acc[i].writes & visible
    if shown:
        return f"{label} writes {names[min(shown)]}, which an invariant reads"
    for other, steps in by_actor.items():
        if other == actor:
            continue
        for j in steps:
            a, b = acc[i], acc[j]
            clash = (a.writes & (b.reads | b.writes)) | (b.writes & a.reads)
            if clash:
                return (f"{label} and {model.instances[j].label} both touch "
                        f"{names[min(clash)]}")
    return None


def plan(model: Model, layout: Layout, code: FlatCode, canon: str | None,
         invariants: int) -> Plan:
    """The ample-set tables for ``model``'s compiled ``code`` and its first ``invariants``
    properties (all of ``code.props_source``); raises :class:`Refused` when the code is
    not of the shape the analysis reads."""
    acc = accesses(model, layout, code, canon)
    live, _ = live_steps(model, layout, code, acc, canon)
    names = slot_names(model, layout)
    visible, seen_actors = property_reads(code.props_source, invariants, code.actor_bits)
    actors = list(model.actors)
    by_actor: dict[str, list[int]] = {a: [] for a in actors}
    for index in code.instances:
        if index in live:
            by_actor[model.instances[index].spec.actor].append(index)
    actor_of = [-1] * len(model.instances)
    for index in code.instances:
        actor_of[index] = actors.index(model.instances[index].spec.actor)
    out = Plan(actor_of, [], [], [])
    report: dict[str, Any] = {}
    for actor in actors:
        mine = by_actor[actor]
        why = {i: _why_not(model, acc, by_actor, visible, seen_actors, names, i)
               for i in mine}
        ok = {i: why[i] is None for i in mine}
        common = set.intersection(*(set(acc[i].pcs) for i in mine)) if mine else set()
        if common:
            tables = {k: _pc_table(acc, mine, ok, k) for k in sorted(common)}
            k = max(tables, key=lambda s: (sum(tables[s][1]), len(tables[s][1])))
            lo, row = tables[k]
            out.pc_slot.append(k)
            out.pc_lo.append(lo)
            out.safe.append(row)
            values = sorted(set().union(*(acc[i].pcs[k] for i in mine)))
            report[actor] = {"pc": names[k],
                             "safe_at": [lo + j for j, bit in enumerate(row) if bit],
                             "unsafe_at": {str(v): next(w for i in mine if v in acc[i].pcs[k]
                                                        and (w := why[i]) is not None)
                                           for v in values if not row[v - lo]}}
        else:
            every = bool(mine) and all(ok.values())
            out.pc_slot.append(-1)
            out.pc_lo.append(0)
            out.safe.append([1 if every else 0])
            first = next((w for w in why.values() if w is not None), None)
            report[actor] = ({"pc": None, "safe": True} if every else
                             {"pc": None, "safe": False,
                              "why": first or f"{actor} has no live step"})
    out.info = {"on": True, "reduces": any(any(row) for row in out.safe), "actors": report,
                "never_enabled": sorted(model.instances[i].label for i in set(acc) - live),
                "visible": sorted(names[k] for k in visible),
                "note": "invariants only; traces are model paths, not necessarily the shortest"}
    return out


def explain(model: Model, layout: Layout, code: FlatCode, canon: str | None,
            label: str) -> dict[str, list[str]]:
    """Reads and writes (slot names) of the step ``label`` (for tests and reports)."""
    acc = accesses(model, layout, code, canon)
    names = slot_names(model, layout)
    index = next(inst.index for inst in model.instances if inst.label == label)
    a = acc[index]
    return {"reads": sorted(names[k] for k in a.reads),
            "writes": sorted(names[k] for k in a.writes),
            "pc": sorted(f"{names[k]} in {sorted(v)}" for k, v in a.pcs.items())}
