"""Consecution one action instance at a time, on the conjuncts the instance can change.

An invariant ``J`` (conjuncts over a :class:`~checker.engines.symbolic.unroll.
StepTemplate`'s current state) is closed under the model's steps when no typed state
satisfying ``J`` has an enabled instance whose successor breaks ``J``.  For one
instance the successor's ``J`` is ``J`` with the instance's next-state terms
substituted for the constants it writes.  A conjunct that reads none of them comes out
of the substitution as the same term, which the premise already asserts, so only the
changed conjuncts are negated: the question an action's code review asks ("what can
this step break?").  On the v3.1 data path at ring size 4 (specs/datapath_invariant.py)
this answers in 28 s; one query over the whole transition relation took 148 s (with
that spec's earlier, counted lemmas, which take 39 s this way: bench/lemmas.py).

The queries run on threads, each with its own Z3 context (the Python binding releases
the GIL while Z3 solves); a thread that is free takes the next query in the model's
order, so one slow query does not hold back the ones after it.  The instance reported
is the first in the model's order that breaks ``J``, whichever thread answers first, so
the instance a run reports does not depend on timing: once one is found, the queries
after it are interrupted and those before it still run.  One exception: when the time
limit stops a query before the one found, the step found is still reported (a real
counterexample to induction, though not necessarily the first).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from checker.engines.symbolic.bounded import new_solver, solve
from checker.engines.symbolic.groups import Group
from checker.engines.symbolic.layout import unflatten
from checker.engines.symbolic.threads import ContextThreads
from checker.engines.symbolic.unroll import StepTemplate
from checker.engines.symbolic.validity import type_ranges
from checker.lang.model import ActionInstance, State

THREADS = min(4, os.cpu_count() or 1)
"""Threads the per-instance queries are spread over."""

PROGRESS_EVERY = 30.0
"""Seconds between two progress reports of a long step case."""


@dataclass(frozen=True)
class BrokenStep:
    """A counterexample to induction of one step: a typed state satisfying the
    invariant (``before``) from which ``instance`` reaches a state that breaks it."""

    instance: ActionInstance
    before: State


def conjuncts(terms: Sequence[z3.BoolRef]) -> list[z3.BoolRef]:
    """``terms`` with every nested ``And`` opened into its parts."""
    out: list[z3.BoolRef] = []
    stack = list(reversed(terms))
    while stack:
        term = stack.pop()
        if z3.is_and(term):
            stack.extend(reversed(term.children()))
        elif not z3.is_true(term):
            out.append(term)
    return out


def step_queries(t: StepTemplate, parts: Sequence[z3.BoolRef]) -> Iterator[tuple[Group, z3.BoolRef]]:
    """Per group of ``t``, the condition under which it breaks a conjunct of ``parts``
    (the premise ``ranges and parts`` is asserted separately); groups that change
    none of ``parts`` are left out."""
    memo: dict[int, frozenset[int]] = {}
    reads = [constants_in(p, memo) for p in parts]
    for g in t.groups:
        writes = [(c, v) for c, v in zip(t.cur, g.ex.values) if not v.eq(c)]
        written = {c.get_id() for c, _ in writes}
        touched = [p for p, r in zip(parts, reads) if not written.isdisjoint(r)]
        after = [z3.substitute(p, *writes) for p in touched]
        changed = [a for a, p in zip(after, touched) if not a.eq(p)]
        if changed:
            yield g, z3.And(g.domain(), g.ex.enabled, z3.Not(z3.And(*changed)))


def constants_in(term: z3.ExprRef, memo: dict[int, frozenset[int]]) -> frozenset[int]:
    """The AST ids of the uninterpreted constants ``term`` reads (``memo``: by AST id,
    shared between calls, so a subterm common to several terms is walked once)."""
    stack: list[tuple[z3.ExprRef, bool]] = [(term, False)]
    while stack:
        node, expanded = stack.pop()
        key = node.get_id()
        if key in memo:
            continue
        kids = node.children()
        if z3.is_const(node) and node.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            memo[key] = frozenset((key,))
        elif not kids:
            memo[key] = frozenset()
        elif expanded:
            memo[key] = frozenset().union(*(memo[k.get_id()] for k in kids))
        else:
            stack.append((node, True))
            stack.extend((k, False) for k in kids if k.get_id() not in memo)
    return memo[term.get_id()]


def broken_step(t: StepTemplate, invariant: Sequence[z3.BoolRef],
                deadline: float | None = None,
                progress: Callable[[int, int, list[str]], None] | None = None,
                ) -> BrokenStep | None:
    """``None`` when every step from a typed state satisfying ``And(invariant)`` reaches
    one (the halt aside), else one step that does not (:class:`BrokenStep`).  Raises
    :class:`~checker.engines.symbolic.limits.SolverGaveUp` past ``deadline``.
    ``progress(done, total, busy)`` is called every :data:`PROGRESS_EVERY` seconds with
    the queries answered so far and the instances being checked."""
    parts = conjuncts(invariant)
    queries = list(step_queries(t, parts))
    if not queries:
        return None
    pool = ContextThreads(min(THREADS, len(queries)))
    contexts = pool.contexts
    # the premise and the state here, into every context; a query when a thread takes it,
    # into that thread's context only, under the pool's lock: the main context is read by
    # one thread at a time (this one waits in run meanwhile)
    premise = [z3.And(*type_ranges(t), *parts).translate(ctx) for ctx in contexts]
    cur = [[c.translate(ctx) for c in t.cur] for ctx in contexts]
    found: list[tuple[int, tuple[Any, ...], tuple[int, ...]]] = []
    lock = pool.lock
    answered = [0]
    taken = [0]  # the next query no thread has taken yet
    best = [len(queries)]  # the first query (in order) found broken so far
    running = [-1] * len(contexts)  # the query each context is solving

    def run(i: int) -> None:
        ctx = contexts[i]
        while True:
            try:
                with lock:
                    n = taken[0]
                    if pool.stopped.is_set() or n >= len(queries) or n > best[0]:
                        return
                    taken[0] += 1
                    running[i] = n
                    group, main_query = queries[n]
                    query = main_query.translate(ctx)
                    params = [c.translate(ctx) for _, c in group.params]
                solver = new_solver(ctx)
                solver.add(premise[i], query)
                left = None if deadline is None else deadline - time.monotonic()
                m = solve(solver, left)
                if m is not None:  # decoded here: an interrupt may cancel this too
                    values = tuple(_value(t, j, m.eval(c, model_completion=True))
                                   for j, c in enumerate(cur[i]))
                    args = tuple(int_value(m.eval(c, model_completion=True)) for c in params)
            except BaseException as err:  # noqa: BLE001 -- raised again by the calling thread
                if n <= best[0]:  # else interrupted on purpose: a query before it broke
                    pool.fail(err, ctx)
                return
            with lock:
                answered[0] += 1
                running[i] = -1
                if m is None or n > best[0]:
                    continue
                found.append((n, values, args))
                best[0] = min(best[0], n)
                for j, other in enumerate(running):  # later queries cannot be the first
                    if j != i and other > n:
                        contexts[j].interrupt()

    def tick() -> None:
        if progress is not None:
            with lock:
                busy = sorted({queries[n][0].instances[0].label for n in running if n >= 0})
            progress(answered[0], len(queries), busy)

    pool.run(run, tick if progress is not None else None, PROGRESS_EVERY)
    if found:
        n, values, args = min(found)
        g = queries[n][0]
        inst = g.instance(tuple(zip((name for name, _ in g.params), args))) if g.params \
            else g.instances[0]
        assert inst is not None
        return BrokenStep(inst, unflatten(t.model, values))
    if pool.failures:
        raise pool.failures[0]
    return None


def _value(t: StepTemplate, j: int, term: Any) -> Any:
    """The concrete value of scalar ``j`` of the state, from its term in a model."""
    return z3.is_true(term) if t.scalars[j][0].is_bool else int_value(term)


def int_value(term: Any) -> int:
    """The int a model gives a bit-vector (signed) or integer term."""
    return int(term.as_signed_long() if z3.is_bv(term) else term.as_long())
