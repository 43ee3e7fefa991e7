"""Tiny reference models whose state spaces are computed by hand.

This is a helper module for the engine tests (``tests/test_explicit.py``), not
a test file.  Every model is written with the public model API only
(:class:`checker.lang.model.Model`, :func:`checker.lang.model.action`,
:class:`checker.lang.model.Param`), and each docstring derives the numbers the
tests assert: reachable states, transitions (one per enabled action instance
per reachable state, self-loops included), the maximal BFS depth, and the
length of the shortest counterexample of each property that fails.
"""

from __future__ import annotations

from collections.abc import Sequence

from checker.lang.model import Model, Param, Params, Var, action, bool_var, int_array, int_var
from checker.lang.spec import Property, invariant
from checker.lang.view import StateView

# ---------------------------------------------------------------------------
# (a) Counter: x in 0..M-1, incremented mod M by one actor, reset by another.
# ---------------------------------------------------------------------------


class Counter(Model):
    """``x`` counts modulo ``M`` (``--modulus``, default 4).

    Actions, in declaration order:

    * ``inc`` (actor ``inc``): always enabled, ``x = (x + 1) % M``;
    * ``reset`` (actor ``reset``): enabled when ``x != 0``, ``x = 0``.

    Hand count for M = 4:

    * reachable states: x in {0, 1, 2, 3}                          -> 4  (M)
    * transitions: ``inc`` from each of the 4 states, ``reset`` from
      1, 2 and 3                                                   -> 7  (2M - 1)
    * BFS depth of x = k is k (only ``inc`` increases x)           -> max depth 3 (M - 1)
    * ``x != bad`` (``--bad``, default M - 1 = 3) fails first at depth 3,
      and the only shortest counterexample is inc, inc, inc.
    """

    name = "counter"
    description = "x counts modulo M; another actor resets it"
    parameters = (
        Param("modulus", "values x takes", 4, minimum=2),
        Param("bad", "value the x-not-bad invariant forbids", lambda v: v["modulus"] - 1,
              minimum=0),
    )
    actors = ("inc", "reset")

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_var("x", 0, p.modulus - 1, "the counter")]

    @action("inc", "counter_inc", "x = (x + 1) % M;")
    def inc(self, s: StateView) -> None:
        s.x = (s.x + 1) % self.p.modulus

    @action("reset", "counter_reset", "if (x) x = 0;")
    def reset(self, s: StateView) -> None:
        s.require(s.x != 0)
        s.x = 0


def x_not(value: int) -> Property:
    """The invariant ``x != value`` on :class:`Counter` (fails at depth ``value``)."""
    return invariant(f"x-not-{value}", f"x never equals {value}",
                     lambda s: f"x reached {s.x}")(lambda s: s.x != value)


@invariant("x-not-bad", "x never equals --bad", lambda s: f"x reached the bad value {s.x}")
def x_not_bad(s: StateView) -> object:
    return s.x != s.p.bad


@invariant("x-in-range", "x stays below the modulus (holds)")
def x_in_range(s: StateView) -> object:
    return s.x < s.p.modulus


@invariant("counter-live", "some actor can always move (holds: inc is always enabled)")
def counter_live(s: StateView) -> object:
    return s.enabled("inc", "reset")


@invariant("reset-enabled", "the reset actor can move (false exactly when x == 0)")
def reset_enabled(s: StateView) -> object:
    return s.enabled("reset")


# ---------------------------------------------------------------------------
# (a') TwoSpeed: a second counter where BFS and DFS can disagree on length.
# ---------------------------------------------------------------------------


class TwoSpeed(Model):
    """``x`` in 0..4; ``jump`` (+2, enabled when x <= 2) is declared before ``step``
    (+1, enabled when x <= 3).

    * reachable states: 0..4                                         -> 5
    * transitions: jump from 0, 1, 2 (3) + step from 0, 1, 2, 3 (4)   -> 7
    * BFS depths: 0:0, 1:1, 2:1, 3:2, 4:2                            -> max depth 2
    * ``x != 4``: shortest counterexample jump, jump (2 steps); a DFS may
      return a longer one (e.g. step, jump, step).
    """

    name = "two-speed"
    actors = ("walker",)

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_var("x", 0, 4)]

    @action("walker", "jump", "x += 2;")
    def jump(self, s: StateView) -> None:
        s.require(s.x <= 2)
        s.x = s.x + 2

    @action("walker", "step", "x += 1;")
    def step(self, s: StateView) -> None:
        s.require(s.x <= 3)
        s.x = s.x + 1


@invariant("x-not-4", "x never reaches 4")
def x_not_4(s: StateView) -> object:
    return s.x != 4


# ---------------------------------------------------------------------------
# (b) Lock: P processes and a test-and-set lock.
# ---------------------------------------------------------------------------

IDLE, TRYING, CRITICAL = 0, 1, 2


class Lock(Model):
    """``P`` processes (``--procs``, default 2), each IDLE -> TRYING -> CRITICAL -> IDLE;
    entering tests and sets ``locked`` atomically, leaving clears it.

    ``locked`` is true exactly when some process is CRITICAL, so a state is a
    vector of pcs with at most one CRITICAL entry.

    * reachable states: 2^P (no CRITICAL) + P * 2^(P-1) (one CRITICAL)
      -> P = 2: 4 + 4 = 8;  P = 3: 8 + 12 = 20
    * transitions: with no CRITICAL every process has exactly one enabled
      action (want or enter): P * 2^P; with process c CRITICAL, c can leave
      (2^(P-1) states) and each other IDLE process can want (the TRYING
      ones are blocked): (P-1) * 2^(P-2) in total over those states
      -> P = 2: 8 + 2 * (2 + 1) = 14;  P = 3: 24 + 3 * (4 + 4) = 48
    * each step moves one pc up by one (or back to IDLE), so the BFS depth
      of a state is the sum of its pcs: max 2 + (P - 1) = P + 1
      -> P = 2: 3;  P = 3: 4
    * mutual exclusion and lock-consistent hold.
    """

    name = "lock"
    parameters = (Param("procs", "processes", 2, minimum=1),)
    actors = ("proc",)

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_array("pc", p.procs, IDLE, CRITICAL, "0 idle, 1 trying, 2 critical"),
                bool_var("locked", "the lock word")]

    @action("proc", "lock_want", "pc[i] = TRYING;", over=lambda p: {"i": range(p.procs)})
    def want(self, s: StateView, i: int) -> None:
        s.require(s.pc[i] == IDLE)
        s.pc[i] = TRYING

    @action("proc", "mutex_lock", "if (!test_and_set(&locked)) pc[i] = CRITICAL;",
            over=lambda p: {"i": range(p.procs)})
    def enter(self, s: StateView, i: int) -> None:
        s.require(s.all(s.pc[i] == TRYING, s.neg(s.locked)))
        s.locked = True
        s.pc[i] = CRITICAL

    @action("proc", "mutex_unlock", "locked = 0; pc[i] = IDLE;",
            over=lambda p: {"i": range(p.procs)})
    def leave(self, s: StateView, i: int) -> None:
        s.require(s.pc[i] == CRITICAL)
        s.locked = False
        s.pc[i] = IDLE


class BrokenLock(Lock):
    """:class:`Lock` whose ``enter`` forgets to test the lock (an @action override).

    Two processes can both be CRITICAL; each step raises one pc by at most
    one, so reaching pc = (2, 2) needs at least 4 steps: want(0), want(1),
    enter(0), enter(1) in some order -- the shortest mutual-exclusion
    counterexample has exactly 4 steps, two wants and two enters, ending
    with an enter.
    """

    name = "broken-lock"

    @action("proc", "mutex_lock", "locked = 1; pc[i] = CRITICAL;  /* no test */",
            over=lambda p: {"i": range(p.procs)})
    def enter(self, s: StateView, i: int) -> None:
        s.require(s.pc[i] == TRYING)
        s.locked = True
        s.pc[i] = CRITICAL


def _critical(s: StateView) -> object:
    return s.count(s.pc[i] == CRITICAL for i in range(s.p.procs))


@invariant("mutual-exclusion", "at most one process is CRITICAL",
           lambda s: f"{_critical(s)} processes are CRITICAL")
def mutual_exclusion(s: StateView) -> object:
    return _critical(s) <= 1


@invariant("lock-consistent", "locked iff some process is CRITICAL")
def lock_consistent(s: StateView) -> object:
    return s.locked == (_critical(s) == 1)


# ---------------------------------------------------------------------------
# (c) Bounded: a pool whose producer is cut by s.capacity.
# ---------------------------------------------------------------------------


class Bounded(Model):
    """``n`` in 0..C (``--cap``, default 3): ``produce`` adds one, but declares
    ``s.capacity(n < C, "pool of n")``; ``consume`` removes one when n > 0.

    * reachable states: 0..C                                         -> C + 1 = 4
    * transitions: produce from 0..C-1, consume from 1..C           -> 2C = 6
      (the produce attempted at n = C is a capacity hit, not a transition)
    * max depth C = 3; the search is cut by "model capacity: pool of n",
      so no property can hold; ``n != 2`` is still violated in 2 steps.
    """

    name = "bounded"
    parameters = (Param("cap", "pool size", 3, minimum=0),)
    actors = ("producer", "consumer")

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_var("n", 0, p.cap, "items in the pool")]

    @action("producer", "produce", "pool[n++] = item;  /* a bounded pool */")
    def produce(self, s: StateView) -> None:
        s.capacity(s.n < self.p.cap, "pool of n")
        s.n = s.n + 1

    @action("consumer", "consume", "item = pool[--n];")
    def consume(self, s: StateView) -> None:
        s.require(s.n > 0)
        s.n = s.n - 1


@invariant("n-nonnegative", "n >= 0 (true in every state)")
def n_nonnegative(s: StateView) -> object:
    return s.n >= 0


@invariant("n-not-2", "n never reaches 2")
def n_not_2(s: StateView) -> object:
    return s.n != 2


# ---------------------------------------------------------------------------
# (d) Cells: an array written through a variable index, and set_if.
# ---------------------------------------------------------------------------


class Cells(Model):
    """``a`` is an array of N cells (``--cells``, default 2) with values 0..2 and
    ``i`` a cursor in 0..N-1.  Actions, in declaration order:

    * ``move`` (actor ``cursor``): ``i = (i + 1) % N``, always enabled;
    * ``put(v)`` for v in (1, 2) (actor ``writer``): enabled when
      ``a[i] == 0``, ``a[i] = v`` (indexed by the variable ``i``);
    * ``clear`` (actor ``cleaner``): always enabled,
      ``a.set_if(a[i] == 2, i, 0)`` -- a self-loop unless a[i] == 2.

    Any cell can get any value under any cursor position, so

    * reachable states: N * 3^N                  -> N = 1: 3;  N = 2: 18;  N = 3: 81
    * transitions: move + clear in every state (2 * N * 3^N) plus put(1),
      put(2) in the N * 3^(N-1) states with a[i] == 0
                                                 -> N = 1: 8;  N = 2: 48;  N = 3: 216
    * the cursor only moves forward, so the BFS depth of (nonzero cells F,
      cursor i) is |F| puts plus the fewest moves m with m = i (mod N) and
      m >= max(F).  The worst is F = every cell and i = N - 2 (mod N):
      N + (2N - 2) = 3N - 2    -> N = 1: 1;  N = 2: 4 (both set, i = 0);  N = 3: 7
    * ``not-all-two`` fails first after put(v=2), move, put(v=2) for N = 2
      (3 steps, the only shortest path) and 2N - 1 steps in general.
    """

    name = "cells"
    parameters = (Param("cells", "array size", 2, minimum=1),)
    actors = ("cursor", "writer", "cleaner")

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_array("a", p.cells, 0, 2, "the cells"), int_var("i", 0, p.cells - 1)]

    @action("cursor", "cursor_next", "i = (i + 1) % N;")
    def move(self, s: StateView) -> None:
        s.i = (s.i + 1) % self.p.cells

    @action("writer", "cell_put", "if (!a[i]) a[i] = v;", over=lambda p: {"v": (1, 2)})
    def put(self, s: StateView, v: int) -> None:
        s.require(s.a[s.i] == 0)
        s.a[s.i] = v

    @action("cleaner", "cell_clear", "if (a[i] == 2) a[i] = 0;")
    def clear(self, s: StateView) -> None:
        s.a.set_if(s.a[s.i] == 2, s.i, 0)


@invariant("not-all-two", "the cells are never all 2",
           lambda s: f"every cell is 2: {list(s.a)}")
def not_all_two(s: StateView) -> object:
    return s.neg(s.all(*(s.a[k] == 2 for k in range(s.p.cells))))


@invariant("cells-in-range", "every cell holds 0, 1 or 2 (holds)")
def cells_in_range(s: StateView) -> object:
    return s.all(*(s.a[k] <= 2 for k in range(s.p.cells)))
