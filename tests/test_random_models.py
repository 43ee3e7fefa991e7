"""Random small models: the explicit engine, BMC and a naive BFS written here agree.

Hypothesis draws a model description (a few int variables, maybe a small
array, guarded actions with assignments, an initial state and an invariant)
as a little expression tree.  The tree is turned into a
:class:`checker.lang.model.Model` subclass through the public API (``@action``
methods written with the expression layer: ``s.require``, ``s.ite``, ``s.all``,
``s.neg``, indexing) and, independently, interpreted in plain Python by a
naive BFS in this file.  They must agree on:

- the reachable state and transition counts (explicit engine vs naive BFS);
- the invariant's verdict and shortest counterexample length (explicit BFS,
  naive BFS, and BMC at a depth equal to the naive BFS's diameter; BMC never
  proves, so "holds" is "no violation up to that depth" for it).
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic.bmc import run_bmc
from checker.lang.model import Model, Params, Var, action, int_array, int_var
from checker.lang.spec import invariant
from checker.lang.view import StateView

# -- the description ------------------------------------------------------------------
# Expr: ("c", k) | ("v", i) | ("a", index) with index ("c", k) or ("v", i) | ("add", e, e)
#       | ("ite", cond, e, e)
# Cond: ("true",) | ("cmp", op, e, e) | ("and", c, c) | ("not", c)
# Target: ("v", i) | ("a", index)

CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Act:
    actor: str
    guard: tuple[Any, ...]
    updates: tuple[tuple[tuple[Any, ...], tuple[Any, ...]], ...]


@dataclass(frozen=True)
class Spec:
    his: tuple[int, ...]
    """Upper bound of each int variable x0, x1, ... (lower bound 0)."""
    arr: tuple[int, int] | None
    """(size, upper bound) of the array ``a``, or no array."""
    init: tuple[int, ...]
    """Initial values: the ints, then the array's elements."""
    acts: tuple[Act, ...]
    inv: tuple[Any, ...]


def _index(spec: Spec) -> st.SearchStrategy[tuple[Any, ...]]:
    """An array index that is always in range: a constant, or a variable no larger."""
    assert spec.arr is not None
    size = spec.arr[0]
    choices: list[st.SearchStrategy[tuple[Any, ...]]] = [
        st.integers(0, size - 1).map(lambda k: ("c", k))]
    small = [i for i, hi in enumerate(spec.his) if hi < size]
    if small:
        choices.append(st.sampled_from(small).map(lambda i: ("v", i)))
    return st.one_of(choices)


def _expr(spec: Spec, depth: int) -> st.SearchStrategy[tuple[Any, ...]]:
    leaves: list[st.SearchStrategy[tuple[Any, ...]]] = [
        st.integers(0, 3).map(lambda k: ("c", k)),
        st.integers(0, len(spec.his) - 1).map(lambda i: ("v", i)),
    ]
    if spec.arr is not None:
        leaves.append(_index(spec).map(lambda ix: ("a", ix)))
    leaf = st.one_of(leaves)
    if depth == 0:
        return leaf
    sub = _expr(spec, depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.just("add"), sub, sub),
        st.tuples(st.just("ite"), _cond(spec, depth - 1), sub, sub),
    )


def _cond(spec: Spec, depth: int) -> st.SearchStrategy[tuple[Any, ...]]:
    cmp = st.tuples(st.just("cmp"), st.sampled_from(sorted(CMP)), _expr(spec, 0), _expr(spec, 0))
    if depth == 0:
        return st.one_of(st.just(("true",)), cmp)
    sub = _cond(spec, depth - 1)
    return st.one_of(cmp, st.tuples(st.just("and"), sub, sub), st.tuples(st.just("not"), sub))


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    his = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    arr = draw(st.none() | st.tuples(st.integers(1, 2), st.integers(1, 2)))
    shell = Spec(his, arr, (), (), ("true",))
    init = [draw(st.integers(0, hi)) for hi in his]
    if arr is not None:
        init += [draw(st.integers(0, arr[1])) for _ in range(arr[0])]
    targets: list[st.SearchStrategy[tuple[Any, ...]]] = [
        st.integers(0, len(his) - 1).map(lambda i: ("v", i))]
    if arr is not None:
        targets.append(_index(shell).map(lambda ix: ("a", ix)))
    # an update either sets its target or adds to it (modulo its range), so most
    # actions move the state somewhere new
    plain = st.tuples(st.one_of(targets), _expr(shell, 1))
    update = plain.flatmap(lambda u: st.sampled_from(
        (u, (u[0], ("add", u[0], ("add", u[1], ("c", 1)))))))
    act = st.builds(Act, st.sampled_from(("p", "q")), _cond(shell, 1),
                    st.lists(update, min_size=1, max_size=2).map(tuple))
    acts = tuple(draw(st.lists(act, min_size=1, max_size=3)))
    inv = draw(_cond(shell, 1))
    return Spec(his, arr, tuple(init), acts, inv)


# -- the model, through the public API ----------------------------------------------------


def _build(s: StateView, e: tuple[Any, ...]) -> Any:
    tag = e[0]
    if tag == "c":
        return e[1]
    if tag == "v":
        return getattr(s, f"x{e[1]}")
    if tag == "a":
        return s.a[_build(s, e[1])]
    if tag == "add":
        return _build(s, e[1]) + _build(s, e[2])
    if tag == "ite":
        return s.ite(_build_cond(s, e[1]), _build(s, e[2]), _build(s, e[3]))
    raise AssertionError(e)


def _build_cond(s: StateView, c: tuple[Any, ...]) -> Any:
    tag = c[0]
    if tag == "true":
        return True
    if tag == "cmp":
        return CMP[c[1]](_build(s, c[2]), _build(s, c[3]))
    if tag == "and":
        return s.all(_build_cond(s, c[1]), _build_cond(s, c[2]))
    if tag == "not":
        return s.neg(_build_cond(s, c[1]))
    raise AssertionError(c)


def make_model(spec: Spec) -> Model:
    """A Model subclass for ``spec``, instantiated."""

    def declare(self: Model, p: Params) -> Sequence[Var]:
        out: list[Var] = [int_var(f"x{i}", 0, hi) for i, hi in enumerate(spec.his)]
        if spec.arr is not None:
            out.append(int_array("a", spec.arr[0], 0, spec.arr[1]))
        return out

    def init(self: Model, s: StateView) -> None:
        for i in range(len(spec.his)):
            setattr(s, f"x{i}", spec.init[i])
        if spec.arr is not None:
            s.a = list(spec.init[len(spec.his):])

    def step(act: Act) -> Callable[[Model, StateView], None]:
        def run(self: Model, s: StateView) -> None:
            s.require(_build_cond(s, act.guard))
            for target, e in act.updates:
                if target[0] == "v":
                    hi = spec.his[target[1]]
                    setattr(s, f"x{target[1]}", _build(s, e) % (hi + 1))
                else:
                    assert spec.arr is not None
                    s.a[_build(s, target[1])] = _build(s, e) % (spec.arr[1] + 1)
        return run

    body: dict[str, Any] = {"name": "random", "actors": ("p", "q"), "declare": declare,
                            "init": init}
    for k, act in enumerate(spec.acts):
        body[f"act{k}"] = action(act.actor, f"act{k}", "random")(step(act))
    cls = type("RandomModel", (Model,), body)
    return cls()


# -- the naive BFS ------------------------------------------------------------------------

State = tuple[int, ...]


def _eval(spec: Spec, x: list[int], e: tuple[Any, ...]) -> int:
    n = len(spec.his)
    tag = e[0]
    if tag == "c":
        return int(e[1])
    if tag == "v":
        return x[e[1]]
    if tag == "a":
        return x[n + _eval(spec, x, e[1])]
    if tag == "add":
        return _eval(spec, x, e[1]) + _eval(spec, x, e[2])
    return _eval(spec, x, e[2]) if _holds(spec, x, e[1]) else _eval(spec, x, e[3])


def _holds(spec: Spec, x: list[int], c: tuple[Any, ...]) -> bool:
    tag = c[0]
    if tag == "true":
        return True
    if tag == "cmp":
        return bool(CMP[c[1]](_eval(spec, x, c[2]), _eval(spec, x, c[3])))
    if tag == "and":
        return _holds(spec, x, c[1]) and _holds(spec, x, c[2])
    return not _holds(spec, x, c[1])


def successors(spec: Spec, state: State) -> list[State]:
    """One successor per enabled action, in declaration order (updates in sequence)."""
    n = len(spec.his)
    out: list[State] = []
    for act in spec.acts:
        x = list(state)
        if not _holds(spec, x, act.guard):
            continue
        for target, e in act.updates:
            value = _eval(spec, x, e)
            if target[0] == "v":
                x[target[1]] = value % (spec.his[target[1]] + 1)
            else:
                assert spec.arr is not None
                x[n + _eval(spec, x, target[1])] = value % (spec.arr[1] + 1)
        out.append(tuple(x))
    return out


@dataclass
class Naive:
    states: int
    transitions: int
    diameter: int
    violation: int | None
    """Depth of the shallowest state violating the invariant, if any."""


def naive_bfs(spec: Spec) -> Naive:
    start = spec.init
    depth = {start: 0}
    queue = deque([start])
    transitions = 0
    violation: int | None = None
    while queue:
        state = queue.popleft()
        if violation is None and not _holds(spec, list(state), spec.inv):
            violation = depth[state]
        for nxt in successors(spec, state):
            transitions += 1
            if nxt not in depth:
                depth[nxt] = depth[state] + 1
                queue.append(nxt)
    return Naive(len(depth), transitions, max(depth.values()), violation)


# -- the test -------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(specs())
def test_explicit_bmc_and_a_naive_bfs_agree(spec: Spec) -> None:
    naive = naive_bfs(spec)
    assume(naive.states >= 3 and naive.violation != 0)  # skip the dull ones
    model = make_model(spec)
    inv = invariant("random-inv", "a random invariant")(lambda s: _build_cond(s, spec.inv))

    everything = ExplicitChecker(model, []).run()
    assert everything.complete
    assert everything.stats.states == naive.states
    assert everything.stats.transitions == naive.transitions
    assert everything.stats.max_depth == naive.diameter

    explicit = ExplicitChecker(model, [inv]).run().properties[0]
    bmc = run_bmc(model, [inv], depth=max(1, naive.diameter)).properties[0]
    if naive.violation is None:
        assert explicit.status == "holds"
        assert bmc.status != "violated"
    else:
        assert explicit.status == "violated" and explicit.trace is not None
        assert bmc.status == "violated" and bmc.trace is not None
        assert len(explicit.trace) == naive.violation
        assert len(bmc.trace) == naive.violation


def test_the_naive_bfs_on_a_hand_checked_model() -> None:
    # x0 in 0..3, one action x0 = (x0 + 1) % 4 from 0: 4 states, 4 transitions, diameter 3;
    # the invariant x0 != 3 first fails at depth 3.
    spec = Spec((3,), None, (0,), (Act("p", ("true",), ((("v", 0), ("add", ("v", 0), ("c", 1))),)),),
                ("cmp", "!=", ("v", 0), ("c", 3)))
    assert naive_bfs(spec) == Naive(states=4, transitions=4, diameter=3, violation=3)
    explicit = ExplicitChecker(make_model(spec), [], limits=Limits()).run()
    assert (explicit.stats.states, explicit.stats.transitions) == (4, 4)
