"""The compiled step functions agree with the interpreted model, state by state.

:func:`checker.semantics.compiled.compiled_expand` must give exactly what
:func:`checker.semantics.states.interpreted_expand` gives: the same successors (same
instance indices, same values, same Python types), the same enabled actors
and capacity hits, and the same ModelBug / IndexError / CapacityReached
(type and message) where the interpreted model raises one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import pytest

import checker.semantics.compiled
from checker.lang.model import Model, Params, State, Var, action, int_array, int_var
from checker.lang.view import CapacityReached, ModelBug, StateView
from checker.semantics.compiled import compiled, compiled_expand, stepwise_expand
from checker.semantics.states import (
    COMPILED_BY_DEFAULT,
    Expansion,
    as_dict,
    compiles,
    expand,
    fire,
    from_dict,
    initial_state,
    interpreted_expand,
    use_compiled,
)
from models.v9 import V9
from models.v9.constants import (
    LEN_LARGE,
    OBJ_ALIVE,
    SOCK_ZC,
    W_ERR_ROLLBACK,
    W_GET,
    W_SENDMSG,
    W_SENT,
)

MODEL_ERRORS = (ModelBug, IndexError, CapacityReached)


def outcome(run: Callable[[], Any]) -> Any:
    """What ``run()`` returns, or the type and message of the model error it raises."""
    try:
        return "ok", run()
    except MODEL_ERRORS as err:
        return type(err), str(err)


def key(exp: Any) -> Any:
    """An expansion (or a raised error) as a comparable value."""
    if not isinstance(exp, Expansion):
        return exp
    successors = [(inst.index, nxt) for inst, nxt in exp.successors]
    return successors, sorted(exp.enabled_actors), exp.capacity_hits


def types(state: State) -> list[Any]:
    """The exact Python type of every scalar and array element."""
    return [
        tuple(type(x) for x in value) if isinstance(value, tuple) else type(value)
        for value in state
    ]


def compare_bfs(model: Model, limit: int) -> int:
    """BFS ``limit`` states, comparing both expansions on each; the number of states visited."""
    assert compiled(model).fallbacks == []
    init = initial_state(model)
    seen, queue, visited = {init}, deque([init]), 0
    while queue and visited < limit:
        state = queue.popleft()
        visited += 1
        ref = outcome(lambda: interpreted_expand(model, state))  # noqa: B023 - called at once
        got = outcome(lambda: compiled_expand(model, state))  # noqa: B023
        assert key(got[1]) == key(ref[1]), as_dict(model, state)
        steps = outcome(lambda: stepwise_expand(model, state))  # noqa: B023
        assert key(steps[1]) == key(ref[1])
        if ref[0] != "ok":
            continue
        for (_, a), (_, b) in zip(ref[1].successors, got[1].successors):
            assert types(a) == types(b)
        for _, nxt in ref[1].successors:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return visited


CONFIGS = [
    ({}, 1500),
    ({"max_backend_changes": 0, "release": "no", "send_failures": 0}, 3000),
    ({"guest": "rogue"}, 1500),
    ({"sndbuf": 4}, 1500),
    ({"zcopytx": 0}, 1500),
    ({"initial_backend": "copy"}, 1500),
]


@pytest.mark.parametrize(("params", "limit"), CONFIGS, ids=[str(c) for c, _ in CONFIGS])
def test_ring1_expansions_match(params: dict[str, Any], limit: int) -> None:
    assert compare_bfs(V9({"ring_size": 1, **params}), limit) == limit


def test_ring2_expansions_match() -> None:
    assert compare_bfs(V9({"ring_size": 2}), 5000) == 5000


@pytest.mark.parametrize(
    ("params", "states", "every"),
    [({"ring_size": 1}, 60000, 60), ({"ring_size": 1, "guest": "rogue"}, 60000, 60),
     ({"ring_size": 2}, 40000, 40), ({"ring_size": 3}, 20000, 40)],
    ids=["ring1", "ring1-rogue", "ring2", "ring3"],
)
def test_deep_states_match(params: dict[str, Any], states: int, every: int) -> None:
    """Deeper states than a short BFS meets: BFS with the compiled steps, compare a sample."""
    model = V9(params)
    init = initial_state(model)
    seen, queue, visited = {init}, deque([init]), 0
    while queue and visited < states:
        state = queue.popleft()
        visited += 1
        got = outcome(lambda: compiled_expand(model, state))  # noqa: B023 - called at once
        if visited % every == 0 or got[0] != "ok":
            ref = outcome(lambda: interpreted_expand(model, state))  # noqa: B023
            assert key(got[1]) == key(ref[1]), as_dict(model, state)
        if got[0] == "ok":
            for _, nxt in got[1].successors:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
    assert visited == states


@pytest.mark.slow
def test_ring1_small_space_is_exhausted() -> None:
    # 11,083 states: the whole space of this configuration is compared.
    model = V9({"ring_size": 1, "max_backend_changes": 0, "release": "no", "send_failures": 0})
    assert compare_bfs(model, 10**6) == 11083


# -- hand-made states that make the model raise ---------------------------------------
def edit(model: Model, **changes: Any) -> State:
    values = as_dict(model, initial_state(model))
    for name, value in changes.items():
        assert name in values, name
        values[name] = value
    return from_dict(model, values)


def compare_state(model: Model, state: State) -> set[type]:
    """Compare every instance and the whole expansion; the error types the interpreter raised."""
    table = {inst.index: step for inst, _, step in compiled(model).steps}
    raised = set()
    for inst in model.instances:
        ref = outcome(lambda: fire(model, inst, state))  # noqa: B023 - called at once
        step = table.get(inst.index)
        got = outcome(lambda: step(state)) if step else ("ok", None)  # noqa: B023
        assert got == ref, inst.label
        if ref[0] != "ok":
            raised.add(ref[0])
    want = key(outcome(lambda: interpreted_expand(model, state))[1])
    assert key(outcome(lambda: compiled_expand(model, state))[1]) == want
    assert key(outcome(lambda: stepwise_expand(model, state))[1]) == want
    return raised


def test_index_error_out_of_bounds_ubuf_info() -> None:
    # UIO_MAXIOV 1 < ring size 2: ubuf_info[] has one entry, an skb may point at head 1.
    model = V9({"ring_size": 2, "uio_maxiov": 1})
    state = edit(model, skb_cnt=1, skb_head=[1, 0, 0])
    assert compare_state(model, state) == {IndexError}


def test_model_bug_on_out_of_range_writes() -> None:
    model = V9({"ring_size": 1})
    # the rollback decrements inflight[head] below 0
    rollback = edit(model, w_pc=W_ERR_ROLLBACK, avail_cnt=0)
    # one more packet than the run's weight allows
    overweight = edit(model, w_pc=W_SENT, w_sent=model.p.weight, inflight=[1])
    for state in (rollback, overweight):
        assert ModelBug in compare_state(model, state)


def test_capacity_reached() -> None:
    model = V9({"ring_size": 1})
    cap = model.p.device_capacity
    full_device = edit(model, w_pc=W_SENDMSG, w_zcopy=True, w_len=LEN_LARGE, skb_cnt=cap)
    inflight_hi = model.vars[model.var_index["inflight"]].hi
    full_inflight = edit(model, w_pc=W_GET, avail_cnt=1, inflight=[inflight_hi])
    no_object = edit(model, obj=[0, OBJ_ALIVE, OBJ_ALIVE], backend=SOCK_ZC)
    for state in (full_device, full_inflight, no_object):
        assert CapacityReached in compare_state(model, state)
        exp = compiled_expand(model, state)
        assert exp.capacity_hits == interpreted_expand(model, state).capacity_hits != []


# -- the compiled code itself ----------------------------------------------------------
def test_unchanged_arrays_are_passed_through() -> None:
    # wherever the interpreter hands back the input's array object, so does the compiled step
    model = V9({"ring_size": 1})
    init = initial_state(model)
    arrays = [slot for slot, var in enumerate(model.vars) if var.size is not None]
    ref, got = interpreted_expand(model, init), compiled_expand(model, init)
    assert ref.successors
    for (_, a), (_, b) in zip(ref.successors, got.successors):
        kept = [slot for slot in arrays if a[slot] is init[slot]]
        assert kept
        assert all(b[slot] is init[slot] for slot in kept)


def test_expand_default_and_switches(monkeypatch: pytest.MonkeyPatch) -> None:
    model = V9({"ring_size": 1})
    init = initial_state(model)
    want = key(interpreted_expand(model, init))
    assert key(expand(model, init)) == key(expand(model, init, compiled=False)) == want
    use_compiled(model, False)
    monkeypatch.setattr(checker.semantics.compiled, "compiled_expand", None)  # must not be called
    assert key(expand(model, init)) == want
    use_compiled(model, None)
    assert "def step_" in compiled(model).source and "def expand_all" in compiled(model).source


def test_models_past_the_compile_limit_are_interpreted_by_default() -> None:
    """Compiling v9 at ring size 256 with the kernel's constants (812 instances x 4 669
    scalars) takes a minute; a symbolic engine's trace expands a handful of states."""
    small = V9({"ring_size": 64, "uio_maxiov": 256, "max_pend": 32})
    large = V9({"ring_size": 256, "uio_maxiov": 1024, "max_pend": 128})
    assert compiles(small) is COMPILED_BY_DEFAULT
    assert compiles(large) is False
    assert compiles(large, compiled=True) is True
    use_compiled(large, True)
    assert compiles(large) is True


def test_environment_variable_selects_the_interpreter() -> None:
    code = "import checker.semantics.states as s; print(s.COMPILED_BY_DEFAULT)"
    for value, want in (("1", "False"), ("0", "True")):
        env = {**os.environ, "VHOSTMC_INTERPRET": value}
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True)
        assert out.stdout.strip() == want


class Tiny(Model):
    """A model with a negative index and a Python branch on a state value."""

    name = "tiny"
    actors = ("a",)

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_var("x", 0, 3), int_array("a", 2, 0, 1)]

    @action("a", "f", "a[x - 1] = 1")
    def write_before(self, s: StateView) -> None:
        s.a[s.x - 1] = 1

    @action("a", "g", "x = x + 1")
    def step_up(self, s: StateView) -> None:
        s.x = s.x + 1

    @action("a", "h", "if (x) x = 0")
    def branchy(self, s: StateView) -> None:
        if s.x:  # not symbolic-safe: left to the interpreter
            s.x = 0


def test_negative_index_and_fallback() -> None:
    model = Tiny()
    with pytest.warns(UserWarning, match="branchy"):
        table = compiled(model)
    assert [label for label, _ in table.fallbacks] == ["branchy"]
    for x in range(4):
        state = (x, (0, 0))
        assert compare_state(model, state) == ({IndexError} if x in (0, 3) else set()) | (
            {ModelBug} if x == 3 else set()
        )


class Far(Model):
    """A read that is out of range whatever the state."""

    name = "far"
    actors = ("a",)

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_var("x", 0, 3), int_array("a", 2, 0, 1)]

    @action("a", "k", "if (a[x + 5] == 0) x = 0")
    def read_far(self, s: StateView) -> None:
        s.require(s.a[s.x + 5] == 0)
        s.x = 0


def test_index_out_of_range_in_every_state() -> None:
    model = Far()
    for x in range(4):
        assert compare_state(model, (x, (0, 0))) == {IndexError}
