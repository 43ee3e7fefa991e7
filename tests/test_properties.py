"""The properties of specs/zerocopy.py on hand-built PATCHv9 states, and end to end.

Each property is evaluated with :func:`checker.semantics.states.holds` on a state built
from the initial state of ``V9`` (edited through ``as_dict``/``from_dict``),
with the enabled actors that :func:`checker.semantics.states.expand` computes for that
state, exactly as the explorer does.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

import specs.zerocopy as zc
from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import State
from checker.lang.spec import Property, properties_in
from checker.semantics.states import (
    as_dict,
    expand,
    fire,
    from_dict,
    holds,
    initial_state,
    property_view,
)
from models.v9 import V9
from models.v9.constants import (
    C_DONE,
    C_IDLE,
    C_PUT,
    C_SLEEP,
    C_WAIT,
    MEM_ERRORS,
    MEM_NULL_UBUFS,
    OP_RELEASE,
    POLL_STOPPED,
    SOCK_NONE,
    USE_ERRORS,
    USE_SLOT_REUSED,
    USE_UBUF_REUSED,
    VHOST_DMA_DONE_LEN,
    W_ERR_ROLLBACK,
    W_SENDMSG,
    W_SENT,
)


@functools.cache
def v9(**params: Any) -> V9:
    """One model object per configuration (engines cache per-model work on it)."""
    return V9(params)


M = v9()


def make(model: V9 = M, base: State | None = None, **edits: Any) -> State:
    """``base`` (default: the initial state) with ``edits``; a dict value edits elements."""
    d = as_dict(model, initial_state(model) if base is None else base)
    for name, value in edits.items():
        if isinstance(value, dict):
            for i, x in value.items():
                d[name][i] = x
        else:
            d[name] = value
    return from_dict(model, d)


def run(model: V9, labels: list[str]) -> State:
    cur = initial_state(model)
    for label in labels:
        nxt = fire(model, model.instance(label), cur)
        assert nxt is not None, f"{label} is disabled"
        cur = nxt
    return cur


def check(prop: Property, state: State, model: V9 = M) -> bool:
    return holds(prop, model, state, expand(model, state).enabled_actors)


def explain(prop: Property, state: State, model: V9 = M) -> str:
    view = property_view(model, state, expand(model, state).enabled_actors)
    return prop.describe_violation(view)


def test_the_six_properties_in_order() -> None:
    assert [(p.name, p.kind) for p in properties_in(zc)] == [
        ("no-double-use", "always"), ("memory-safe", "always"), ("no-stuck-waiter", "always"),
        ("no-quiescent-leak", "always"), ("no-leak", "leads-to"),
        ("put-and-wait-terminates", "leads-to")]


@pytest.mark.parametrize("prop", properties_in(zc), ids=lambda p: p.name)
def test_every_property_holds_initially(prop: Property) -> None:
    for params in ({}, {"initial_backend": "copy"}, {"initial_backend": "none"},
                   {"guest": "rogue"}):
        m = v9(**params)
        if prop.is_liveness:  # nothing is owed in the initial state
            view = property_view(m, initial_state(m), expand(m, initial_state(m)).enabled_actors)
            assert [prop.predicate(view, **args) for args in prop.instances(m.p)] == [
                (False, True)] * len(prop.instances(m.p))
        else:
            assert check(prop, initial_state(m), m) is True


# -- no-double-use ------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(USE_ERRORS))
def test_no_double_use_is_the_absence_of_a_recorded_error(code: int) -> None:
    s = make(use_err=code)
    assert check(zc.no_double_use, s) is False
    assert explain(zc.no_double_use, s) == f"no-double-use: {USE_ERRORS[code]}"
    # the other monitor is independent
    assert check(zc.memory_safe, s) is True


def test_no_double_use_explanations_name_the_error() -> None:
    assert "overwritten while the DMA of that slot is outstanding" in explain(
        zc.no_double_use, make(use_err=USE_SLOT_REUSED))
    assert explain(zc.no_double_use, initial_state(M)) == "no-double-use: no error recorded"


def test_no_double_use_violated_by_a_real_run() -> None:
    """A rogue guest re-posts head 0 while its zero-copy DMA is outstanding: the
    bookkeeping rewrites ubuf_info[0], which the first skb still points at (F7)."""
    m = v9(ring_size=1, guest="rogue")
    labels = ["worker_run_sock", "tx_read_sock", "tx_lock", "tx_signal_used",
              "guest_post(h=0, large=1)", "guest_no_kick", "tx_get_desc_head",
              "tx_zerocopy_bookkeeping", "tx_sendmsg_handoff", "tx_sendmsg_ok_weight",
              "guest_post_rogue(h=0, large=1)", "guest_no_kick", "worker_run_kick",
              "tx_read_sock", "tx_lock", "tx_signal_used", "tx_get_desc_head"]
    before = run(m, labels)
    assert check(zc.no_double_use, before, m) is True
    after = fire(m, m.instance("tx_zerocopy_bookkeeping"), before)
    assert check(zc.no_double_use, after, m) is False
    assert as_dict(m, after)["use_err"] == USE_UBUF_REUSED


# -- memory-safe -------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(MEM_ERRORS))
def test_memory_safe_is_the_absence_of_a_recorded_error(code: int) -> None:
    s = make(mem_err=code)
    assert check(zc.memory_safe, s) is False
    assert explain(zc.memory_safe, s) == f"memory-safe: {MEM_ERRORS[code]}"
    assert check(zc.no_double_use, s) is True


def test_memory_safe_violated_by_a_real_run() -> None:
    """handle_tx reads vq->private_data without vq->mutex: set_backend to a copy socket
    slips in, sets vq->ubufs = NULL, and the worker still takes the zero-copy path."""
    labels = ["worker_run_sock", "tx_read_sock", "set_backend(to=2)", "tx_lock",
              "tx_signal_used", "guest_post(h=0, large=1)", "tx_get_desc_head"]
    before = run(M, labels)
    assert check(zc.memory_safe, before) is True
    after = fire(M, M.instance("tx_zerocopy_bookkeeping"), before)
    assert check(zc.memory_safe, after) is False
    assert explain(zc.memory_safe, after) == (
        "memory-safe: a NULL vhost_ubuf_ref was dereferenced")
    assert as_dict(M, after)["mem_err"] == MEM_NULL_UBUFS


# -- no-stuck-waiter ---------------------------------------------------------


def sleeping(**edits: Any) -> State:
    """set_backend to a copy socket, put (rc 2 -> 1), asleep in wait_event on object 1."""
    base = run(M, ["set_backend(to=2)", "put_and_wait_put", "put_and_wait_sleep"])
    return make(M, base, **edits)


def test_put_and_wait_stuck_after_the_v9_extra_reference() -> None:
    s = sleeping()
    d = as_dict(M, s)
    assert (d["c_pc"], d["c_obj"], d["rc"][1], d["vq_ubufs"]) == (C_SLEEP, 1, 1, 0)
    assert check(zc.no_stuck_waiter, s) is False
    text = explain(zc.no_stuck_waiter, s)
    assert text == (
        "no-stuck-waiter: the control thread sleeps in wait_event on "
        "vhost_ubuf_ref #1 with refcount 1, and only 0 reference(s) can still be dropped: "
        "the refcount can never reach 0, so nothing will ever wake it")


def test_put_and_wait_not_stuck_while_skbs_can_drop_the_references() -> None:
    # one skb whose ubuf_info entry points at object 1: its completion takes rc to 0
    s = sleeping(skb_cnt=1, skb_head=[0, 0, 0], ubuf_arg={0: 1})
    assert check(zc.no_stuck_waiter, s) is True
    # ... but not with two references left and only that skb to drop one
    s2 = sleeping(rc={1: 2}, skb_cnt=1, skb_head=[0, 0, 0], ubuf_arg={0: 1})
    assert check(zc.no_stuck_waiter, s2) is False
    text = explain(zc.no_stuck_waiter, s2)
    assert "with refcount 2" in text
    assert "only 1 reference(s) can still be dropped" in text
    # an skb for another object does not count
    s3 = sleeping(skb_cnt=1, skb_head=[0, 0, 0], ubuf_arg={0: 2})
    assert check(zc.no_stuck_waiter, s3) is False


# The worker in the sendmsg error path for head 0, after a kref_put that hit zero.
ROLLING_BACK: dict[str, Any] = {"w_pc": W_ERR_ROLLBACK, "w_wake": True, "w_zcopy": True,
                                "w_head": 0, "inflight": {0: 1}, "g_owned": {0: False}}


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param({"cb_wake": {1: 1}}, id="wake-up-owed-by-a-completion"),
        pytest.param({**ROLLING_BACK, "w_ubufs": 1}, id="wake-up-owed-by-the-error-path"),
        pytest.param({"w_pc": W_SENT, "w_ubufs": 1}, id="worker-holds-a-reference"),
        pytest.param({"w_pc": W_SENDMSG, "w_ubufs": 1}, id="worker-about-to-send"),
        pytest.param({"vq_ubufs": 1, "backend": 1}, id="new-references-possible"),
        pytest.param({"c_pc": C_WAIT}, id="awake"),
    ],
)
def test_put_and_wait_not_stuck(edits: dict[str, Any]) -> None:
    assert check(zc.no_stuck_waiter, sleeping(**edits)) is True


def test_put_and_wait_stuck_variants() -> None:
    # rc already 0 but the wake-up was consumed: asleep for ever
    assert check(zc.no_stuck_waiter, sleeping(rc={1: 0})) is False
    # the error path's wake-up targets another object
    s = sleeping(**ROLLING_BACK, w_ubufs=2)
    assert check(zc.no_stuck_waiter, s) is False
    # vq->ubufs is this object but no backend: nobody takes new references
    assert check(zc.no_stuck_waiter, sleeping(vq_ubufs=1, backend=SOCK_NONE)) is False


# -- no-quiescent-leak ---------------------------------------------------------------------------


def leaked(**edits: Any) -> State:
    """Head 0 was sent zero-copy from slot 0 and its DMA is done, but no work is queued:
    the worker idles with head 0 held (inflight), waiting for a kick that never comes."""
    base: dict[str, Any] = {
        "g_owned": {0: False}, "desc_len": {0: 1}, "inflight": {0: 1}, "upend": 1,
        "heads_len": {0: VHOST_DMA_DONE_LEN}, "sock_q": False, "tx_poll": POLL_STOPPED,
    }
    base.update(edits)
    return make(M, **base)


def test_no_leak_violated_when_only_the_guest_can_move() -> None:
    s = leaked()
    assert expand(M, s).enabled_actors == {"guest", "control"}
    assert check(zc.no_leak, s) is False
    assert explain(zc.no_leak, s) == (
        "no-quiescent-leak: heads [0] are held by vhost, yet neither the worker, the lower device nor "
        "userspace (control: idle) can move: only new guest traffic could return them")


def test_no_leak_counts_heads_waiting_in_the_avail_ring() -> None:
    waiting = leaked(inflight={0: 0}, g_owned={1: False}, avail={0: 1}, avail_cnt=1)
    assert check(zc.no_leak, waiting) is False
    assert explain(zc.no_leak, waiting).startswith(
        "no-quiescent-leak: 1 head(s) wait in the avail ring, yet neither")
    both = leaked(g_owned={1: False}, avail={0: 1}, avail_cnt=1)
    assert explain(zc.no_leak, both).startswith(
        "no-quiescent-leak: heads [0] are held by vhost; 1 head(s) wait in the avail ring, yet")
    # without a backend vhost is not expected to consume the ring
    assert check(zc.no_leak, make(M, waiting, backend=SOCK_NONE, vq_ubufs=0)) is True


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param({"kick_q": True}, id="worker-has-work"),
        pytest.param({"sock_q": True}, id="socket-work-queued"),
        pytest.param({"skb_cnt": 1, "skb_head": [0, 0, 0], "ubuf_arg": {0: 1}},
                     id="device-holds-an-skb"),
        pytest.param({"cb_wake": {1: 1}}, id="device-owes-a-wake-up"),
        pytest.param({"g_kick": True, "avail_cnt": 0}, id="guest-about-to-kick"),
        pytest.param({"c_pc": C_PUT, "c_obj": 1}, id="control-busy-and-enabled"),
        pytest.param({"c_op": OP_RELEASE}, id="releasing"),
        pytest.param({"c_pc": C_DONE}, id="released"),
        pytest.param({"inflight": {0: 0}, "g_owned": {0: True}}, id="nothing-unreturned"),
    ],
)
def test_no_leak_holds_while_something_can_move(edits: dict[str, Any]) -> None:
    assert check(zc.no_leak, leaked(**edits)) is True


def test_no_leak_control_asleep_is_not_progress() -> None:
    s = leaked(c_pc=C_SLEEP, c_obj=1, c_op=1, rc={1: 1}, vq_ubufs=0)
    assert "control" not in expand(M, s).enabled_actors
    assert check(zc.no_leak, s) is False
    assert "(control: sleep)" in explain(zc.no_leak, s)


def test_no_leak_depends_on_the_enabled_actors() -> None:
    s = leaked()
    assert holds(zc.no_leak, M, s, {"guest", "control"}) is False
    assert holds(zc.no_leak, M, s, {"guest", "worker"}) is True
    assert holds(zc.no_leak, M, s, {"device"}) is True
    # control counts only while it is in the middle of something
    assert holds(zc.no_leak, M, make(M, s, c_pc=C_WAIT, c_obj=1), {"control"}) is True
    assert holds(zc.no_leak, M, make(M, s, c_pc=C_IDLE), {"control"}) is False


def test_helper_predicates() -> None:
    s = leaked()
    view = property_view(M, s, expand(M, s).enabled_actors)
    assert zc.quiescent(view) is True
    assert zc.unreturned(view) is True
    assert zc.stuck_waiter(view) is False
    asleep = sleeping()
    view = property_view(M, asleep, expand(M, asleep).enabled_actors)
    assert zc.stuck_waiter(view) is True


# -- end to end on the explorer ------------------------------------------------------


def test_explorer_finds_the_put_and_wait_hang_in_3_steps() -> None:
    res = ExplicitChecker(v9(), [zc.no_stuck_waiter]).run()
    (r,) = res.properties
    assert r.status == "violated"
    labels = [s.label for s in r.trace.steps]
    assert len(labels) == 3
    assert labels[0].startswith("set_backend(")
    assert labels[1:] == ["put_and_wait_put", "put_and_wait_sleep"]
    assert "with refcount 1" in r.trace.explanation


def test_explorer_finds_the_null_ubufs_race_in_8_steps() -> None:
    res = ExplicitChecker(v9(ring_size=1), [zc.memory_safe]).run()
    (r,) = res.properties
    assert r.status == "violated"
    labels = [s.label for s in r.trace.steps]
    assert len(labels) == 8
    # the backend changes between reading vq->private_data and taking vq->mutex
    assert labels.index("tx_read_sock") < labels.index("set_backend(to=2)") < labels.index(
        "tx_lock")
    assert labels[-1] == "tx_zerocopy_bookkeeping"
    assert r.trace.explanation == "memory-safe: a NULL vhost_ubuf_ref was dereferenced"


# Regression values: reachable state counts of small configurations, as computed by the
# explorer when these tests were written (not by hand).  A change means the semantics of
# the model or of the explorer changed.
NO_BACKEND = {"ring_size": 1, "max_backend_changes": 0, "send_failures": 0,
              "initial_backend": "none"}
COPY_ONLY = {"ring_size": 1, "release": "no", "max_backend_changes": 0, "send_failures": 0,
             "initial_backend": "copy"}
ZC_NO_CONTROL = {"ring_size": 1, "release": "no", "max_backend_changes": 0, "send_failures": 0}


@pytest.mark.parametrize("params, states, transitions, depth", [
    pytest.param(NO_BACKEND, 55, 90, 8, id="no-backend"),
    pytest.param(COPY_ONLY, 467, 969, 31, id="copy-only"),
])
def test_all_properties_hold_without_zero_copy(params, states, transitions, depth) -> None:
    res = ExplicitChecker(v9(**params), properties_in(zc), limits=Limits(time_limit=60)).run()
    assert res.complete is True
    assert [p.status for p in res.properties] == ["holds"] * 6
    assert (res.stats.states, res.stats.transitions, res.stats.max_depth) == (
        states, transitions, depth)


@pytest.mark.slow
def test_zero_copy_without_control_leaks_but_is_otherwise_safe() -> None:
    """The patch's own "known problem": if the guest stops submitting buffers, a
    zero-copy head whose DMA completed after the last handle_tx run is never returned."""
    res = ExplicitChecker(v9(**ZC_NO_CONTROL), properties_in(zc)).run()
    assert res.complete is True
    assert (res.stats.states, res.stats.transitions) == (11083, 20852)
    status = {p.name: p.status for p in res.properties}
    assert status == {"no-double-use": "holds", "memory-safe": "holds",
                      "no-stuck-waiter": "holds", "no-quiescent-leak": "violated",
                      "no-leak": "violated", "put-and-wait-terminates": "holds"}
    leak = res.properties[3].trace
    assert len(leak) == 47
    assert "dev_complete(k=0)" in [s.label for s in leak.steps]
    assert "heads [0] are held by vhost" in leak.explanation
