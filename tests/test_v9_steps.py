"""Step semantics of the PATCHv9 model, one action at a time on hand-built states.

States are built from :func:`checker.semantics.states.initial_state` and edited through
``as_dict``/``from_dict``; each step is fired by its instance label and the
test asserts the exact set of variables it changed (``checker.semantics.states.changed``).
Default parameters: ring_size 2, UIO_MAXIOV 8, VHOST_MAX_PEND 1, weight 2,
device capacity 3, objects 1 and 2.
"""

from __future__ import annotations

from typing import Any

import pytest

from checker.lang.model import State
from checker.lang.view import CapacityReached
from checker.semantics.states import as_dict, changed, expand, fire, from_dict, initial_state
from models.v9 import V9
from models.v9.constants import (
    C_CLEANUP,
    C_FINISH,
    C_FLUSH,
    C_FREE,
    C_IDLE,
    C_PUT,
    C_SELF_WAKE,
    C_SIGNAL,
    C_SLEEP,
    C_WAIT,
    ITEM_KICK,
    ITEM_SOCK,
    LEN_IN_FLIGHT,
    LEN_LARGE,
    LEN_SMALL,
    MEM_NULL_UBUFS,
    MEM_REFCOUNT_UNDERFLOW,
    MEM_UAF_UBUFS,
    MEM_UAF_VQ,
    MEM_UBUF_INFO_OOB,
    MUTEX_CONTROL,
    MUTEX_WORKER,
    OBJ_ALIVE,
    OBJ_FREED,
    OP_RELEASE,
    OP_SET_BACKEND,
    POLL_DISABLED,
    POLL_STARTED,
    POLL_STOPPED,
    SOCK_COPY,
    SOCK_NONE,
    SOCK_ZC,
    USE_RETURN_DURING_DMA,
    USE_RETURN_NOT_OUTSTANDING,
    USE_SLOT_REUSED,
    USE_UBUF_REUSED,
    VHOST_DMA_CLEAR_LEN,
    VHOST_DMA_DONE_LEN,
    W_BOOKKEEP,
    W_EMPTY,
    W_ERR_ROLLBACK,
    W_GET,
    W_IDLE,
    W_LOCK,
    W_READ_SOCK,
    W_REDISABLE,
    W_SEND_FAILED,
    W_SENDMSG,
    W_SENT,
    W_SIGNAL,
    W_STOPPED,
    W_WMEM,
)

# -- helpers -------------------------------------------------------------------------


def make(model: V9, base: State | None = None, **edits: Any) -> State:
    """``base`` (default: the initial state) with ``edits``; a dict value edits elements."""
    d = as_dict(model, initial_state(model) if base is None else base)
    for name, value in edits.items():
        if isinstance(value, dict):
            for i, x in value.items():
                d[name][i] = x
        else:
            d[name] = value
    return from_dict(model, d)


def step(model: V9, label: str, state: State) -> State:
    nxt = fire(model, model.instance(label), state)
    assert nxt is not None, f"{label} is disabled"
    return nxt


def run(model: V9, labels: list[str], state: State | None = None) -> State:
    cur = initial_state(model) if state is None else state
    for label in labels:
        cur = step(model, label, cur)
    return cur


def disabled(model: V9, label: str, state: State) -> bool:
    return fire(model, model.instance(label), state) is None


def diff(model: V9, before: State, after: State) -> dict[str, tuple[Any, Any]]:
    return {name: (old, new) for name, old, new in changed(model, before, after)}


def get(model: V9, state: State, name: str) -> Any:
    return as_dict(model, state)[name]


M = V9()

# The worker inside handle_tx holding vq->mutex, zero copy on, about to fire `w_pc`.
IN_LOOP: dict[str, Any] = {
    "w_item": ITEM_SOCK, "w_sock": SOCK_ZC, "w_sock_id": 1, "w_wlow": True, "w_zcopy": True,
    "vq_mutex": MUTEX_WORKER, "no_notify": True, "tx_poll": POLL_STOPPED, "sock_q": False,
}
# The same on a copy socket (or with zcopytx off).
COPY_LOOP: dict[str, Any] = {**IN_LOOP, "w_zcopy": False}


def bookkeeping_state(model: V9 = M, head: int = 1, large: int = LEN_LARGE, upend: int = 3,
                      **edits: Any) -> State:
    """Head ``head`` fetched (inflight), upend = done = ``upend``, before the bookkeeping."""
    base = dict(IN_LOOP, w_pc=W_BOOKKEEP, w_head=head, w_len=large, upend=upend, done=upend,
                g_owned={head: False}, desc_len={head: large}, inflight={head: 1})
    base.update(edits)
    return make(model, **base)


# -- initial state -----------------------------------------------------------------


def test_initial_state_zero_copy_backend() -> None:
    d = as_dict(M, initial_state(M))
    assert d["backend"] == SOCK_ZC
    assert d["vq_ubufs"] == 1
    assert d["obj"] == [0, OBJ_ALIVE, 0]
    assert d["rc"] == [0, 2, 0]  # v9: kref_init + kref_get in vhost_ubuf_alloc
    assert d["tx_poll"] == POLL_STARTED
    assert d["sock_q"] is True  # tx_poll_start on a writable socket queues the work
    assert d["kick_poll"] is True
    assert d["g_owned"] == [True, True]
    assert (d["fail_left"], d["changes_left"], d["rogue_left"]) == (1, 1, 0)
    assert (d["w_pc"], d["c_pc"], d["upend"], d["done"], d["skb_cnt"]) == (W_IDLE, C_IDLE, 0,
                                                                           0, 0)
    assert (d["use_err"], d["mem_err"]) == (0, 0)


@pytest.mark.parametrize(
    "params, backend, ubufs, poll, sock_q",
    [
        ({"initial_backend": "copy"}, SOCK_COPY, 0, POLL_STARTED, True),
        ({"zcopytx": 0}, SOCK_ZC, 0, POLL_STARTED, True),
        ({"initial_backend": "none"}, SOCK_NONE, 0, POLL_DISABLED, False),
    ],
)
def test_initial_state_without_zero_copy(params, backend, ubufs, poll, sock_q) -> None:
    m = V9(params)
    d = as_dict(m, initial_state(m))
    assert (d["backend"], d["vq_ubufs"], d["tx_poll"], d["sock_q"]) == (backend, ubufs, poll,
                                                                         sock_q)
    assert d["obj"] == [0, 0, 0]
    assert d["rc"] == [0, 0, 0]


# -- guest ---------------------------------------------------------------------------


def test_guest_post() -> None:
    s0 = initial_state(M)
    s1 = step(M, "guest_post(h=1, large=1)", s0)
    assert diff(M, s0, s1) == {"g_owned[1]": (True, False), "desc_len[1]": (0, 1),
                               "avail[0]": (0, 1), "avail_cnt": (0, 1), "g_kick": (False, True)}
    # one post per kick decision, and only heads the guest owns
    assert disabled(M, "guest_post(h=0, large=0)", s1)
    s2 = make(M, s1, g_kick=False)
    assert disabled(M, "guest_post(h=1, large=0)", s2)
    s3 = step(M, "guest_post(h=0, large=0)", s2)
    assert get(M, s3, "avail") == [1, 0]
    assert get(M, s3, "avail_cnt") == 2


def test_guest_post_writes_after_the_last_avail_index() -> None:
    s = make(M, last_avail=1, avail_cnt=1, avail={1: 0}, g_owned={0: False})
    after = step(M, "guest_post(h=1, large=0)", s)
    assert get(M, after, "avail") == [1, 0]  # (last_avail + avail_cnt) % num = 0


def test_guest_kick_queues_the_kick_work() -> None:
    s = make(M, g_kick=True)
    after = step(M, "guest_kick", s)
    assert diff(M, s, after) == {"g_kick": (True, False), "kick_q": (False, True)}
    assert disabled(M, "guest_no_kick", s)
    # with the kick eventfd no longer polled (cleanup), the kick is lost
    unpolled = make(M, g_kick=True, kick_poll=False)
    assert diff(M, unpolled, step(M, "guest_kick", unpolled)) == {"g_kick": (True, False)}


def test_guest_kick_is_disabled_when_no_notify_is_set() -> None:
    s = make(M, g_kick=True, no_notify=True)
    assert disabled(M, "guest_kick", s)
    after = step(M, "guest_no_kick", s)
    assert diff(M, s, after) == {"g_kick": (True, False)}


def test_guest_reclaim_takes_the_oldest_used_entry() -> None:
    s = make(M, g_owned=[False, False], used=[1, 0], used_cnt=2)
    after = step(M, "guest_reclaim", s)
    assert diff(M, s, after) == {"g_owned[1]": (False, True), "used[0]": (1, 0),
                                 "used_cnt": (2, 1)}
    assert disabled(M, "guest_reclaim", initial_state(M))


def test_rogue_guest_posts() -> None:
    m = V9({"guest": "rogue"})
    s0 = initial_state(m)
    assert get(m, s0, "rogue_left") == 1
    # it may write "any head >= num" (h = 2), but only as a small buffer
    assert disabled(m, "guest_post_rogue(h=2, large=1)", s0)
    s1 = step(m, "guest_post_rogue(h=2, large=0)", s0)
    assert diff(m, s0, s1) == {"avail[0]": (0, 2), "avail_cnt": (0, 1),
                               "g_kick": (False, True), "rogue_left": (1, 0)}
    # a head it owns goes through guest_post, not the rogue step
    assert disabled(m, "guest_post_rogue(h=0, large=0)", s0)
    assert disabled(m, "guest_post_rogue(h=2, large=0)", make(m, s1, g_kick=False))


# -- handle_tx prologue --------------------------------------------------------------


def test_handle_tx_prologue() -> None:
    s0 = initial_state(M)
    s1 = step(M, "worker_run_sock", s0)
    assert diff(M, s0, s1) == {"sock_q": (True, False), "w_pc": (W_IDLE, W_READ_SOCK),
                               "w_item": (0, ITEM_SOCK)}
    assert disabled(M, "worker_run_kick", s0)
    s2 = step(M, "tx_read_sock", s1)
    assert diff(M, s1, s2) == {"w_pc": (W_READ_SOCK, W_LOCK), "w_sock": (0, SOCK_ZC),
                               "w_sock_id": (0, 1), "w_wlow": (False, True)}
    s3 = step(M, "tx_lock", s2)
    assert diff(M, s2, s3) == {"vq_mutex": (0, MUTEX_WORKER), "no_notify": (False, True),
                               "tx_poll": (POLL_STARTED, POLL_STOPPED),
                               "w_zcopy": (False, True), "w_pc": (W_LOCK, W_SIGNAL)}


def test_tx_lock_waits_for_the_mutex() -> None:
    s = make(M, w_pc=W_LOCK, w_item=ITEM_KICK, w_sock=SOCK_ZC, vq_mutex=MUTEX_CONTROL)
    assert disabled(M, "tx_lock", s)


@pytest.mark.parametrize("params, sock", [({"zcopytx": 0}, SOCK_ZC), ({}, SOCK_COPY)])
def test_zcopy_needs_the_module_parameter_and_a_zerocopy_socket(params, sock) -> None:
    m = V9(params)
    s = make(m, w_pc=W_LOCK, w_item=ITEM_KICK, w_sock=sock, w_wlow=True)
    assert get(m, step(m, "tx_lock", s), "w_zcopy") is False


def test_no_backend_ends_the_run() -> None:
    m = V9({"initial_backend": "none"})
    s = make(m, w_pc=W_READ_SOCK, w_item=ITEM_KICK, flush_kick=1)
    assert disabled(m, "tx_read_sock", s)
    after = step(m, "tx_no_sock", s)
    assert diff(m, s, after) == {"w_pc": (W_READ_SOCK, W_IDLE), "w_item": (ITEM_KICK, 0),
                                 "flush_kick": (1, 0)}


def test_sndbuf_reads_wmem() -> None:
    m = V9({"sndbuf": 2})
    s = make(m, w_pc=W_READ_SOCK, w_item=ITEM_SOCK, skb_cnt=2, skb_head=[0, 1, 0],
             skb_sock=[1, 1, 0])
    s1 = step(m, "tx_read_sock", s)
    assert get(m, s1, "w_pc") == W_WMEM
    s2 = step(m, "tx_read_wmem", s1)
    assert (get(m, s2, "w_wfull"), get(m, s2, "w_wlow")) == (True, False)  # 2 >= 2, not < 1
    assert disabled(m, "tx_lock", s2)
    s3 = step(m, "tx_sndbuf_full", s2)
    assert get(m, s3, "w_pc") == W_IDLE


# -- vhost_get_vq_desc -----------------------------------------------------------------


def test_get_desc_head() -> None:
    s = make(M, **IN_LOOP, w_pc=W_GET, last_avail=1, avail={1: 0}, avail_cnt=1,
             g_owned={0: False}, desc_len={0: LEN_LARGE})
    after = step(M, "tx_get_desc_head", s)
    assert diff(M, s, after) == {"w_len": (0, LEN_LARGE), "last_avail": (1, 0),
                                 "avail_cnt": (1, 0), "inflight[0]": (0, 1),
                                 "w_pc": (W_GET, W_BOOKKEEP)}
    assert disabled(M, "tx_get_desc_empty", s)
    assert disabled(M, "tx_get_desc_bad_head", s)
    copy = make(M, s, w_zcopy=False)
    assert get(M, step(M, "tx_get_desc_head", copy), "w_pc") == W_SENDMSG


def test_get_desc_empty() -> None:
    s = make(M, **IN_LOOP, w_pc=W_GET)
    assert disabled(M, "tx_get_desc_head", s)
    assert diff(M, s, step(M, "tx_get_desc_empty", s)) == {"w_pc": (W_GET, W_EMPTY)}


def test_get_desc_bad_head_for_a_rogue_head() -> None:
    m = V9({"guest": "rogue"})
    # the rogue guest wrote head 2 >= vq->num into avail[0]
    s = make(m, **IN_LOOP, w_pc=W_GET, avail={0: 2}, avail_cnt=1, rogue_left=0)
    assert disabled(m, "tx_get_desc_head", s)
    assert disabled(m, "tx_get_desc_empty", s)
    after = step(m, "tx_get_desc_bad_head", s)
    d = diff(m, s, after)
    # handle_tx breaks out and unlocks; the bad entry is not consumed
    assert d["w_pc"] == (W_GET, W_IDLE)
    assert d["vq_mutex"] == (MUTEX_WORKER, 0)
    assert "avail_cnt" not in d and "last_avail" not in d
    assert sum(get(m, after, "inflight")) == 0
    assert (get(m, after, "use_err"), get(m, after, "mem_err")) == (0, 0)


# -- zero-copy bookkeeping ------------------------------------------------------------


def test_bookkeeping_large_packet() -> None:
    s = bookkeeping_state()
    after = step(M, "tx_zerocopy_bookkeeping", s)
    assert diff(M, s, after) == {
        "heads_id[3]": (0, 1),
        "heads_len[3]": (VHOST_DMA_CLEAR_LEN, LEN_IN_FLIGHT),
        "ubuf_arg[1]": (0, 1),  # ubuf->arg = vq->ubufs
        "ubuf_desc[1]": (0, 3),  # ubuf->desc = vq->upend_idx
        "w_ubufs": (0, 1),
        "rc[1]": (2, 3),  # kref_get
        "upend": (3, 4),
        "w_pc": (W_BOOKKEEP, W_SENDMSG),
    }


def test_bookkeeping_upend_wraps_modulo_uio_maxiov() -> None:
    s = bookkeeping_state(upend=7)
    after = step(M, "tx_zerocopy_bookkeeping", s)
    assert get(M, after, "upend") == 0
    assert get(M, after, "heads_len")[7] == LEN_IN_FLIGHT
    assert get(M, after, "ubuf_desc")[1] == 7


def test_bookkeeping_small_packet() -> None:
    s = bookkeeping_state(large=LEN_SMALL)
    after = step(M, "tx_zerocopy_bookkeeping", s)
    assert diff(M, s, after) == {
        "heads_id[3]": (0, 1),
        "heads_len[3]": (VHOST_DMA_CLEAR_LEN, VHOST_DMA_DONE_LEN),  # copied: done at once
        "upend": (3, 4),
        "w_pc": (W_BOOKKEEP, W_SENDMSG),
    }


def test_bookkeeping_with_null_ubufs_records_a_null_dereference() -> None:
    s = bookkeeping_state(vq_ubufs=0)
    after = step(M, "tx_zerocopy_bookkeeping", s)
    d = as_dict(M, after)
    assert d["mem_err"] == MEM_NULL_UBUFS
    assert d["rc"] == [0, 2, 0]  # no reference taken
    assert d["w_ubufs"] == 0
    assert d["use_err"] == 0
    # a small packet does not touch vq->ubufs
    small = step(M, "tx_zerocopy_bookkeeping", bookkeeping_state(large=LEN_SMALL, vq_ubufs=0))
    assert get(M, small, "mem_err") == 0


def test_bookkeeping_on_a_freed_ubufs_is_a_use_after_free() -> None:
    s = bookkeeping_state(obj={1: OBJ_FREED})
    assert get(M, step(M, "tx_zerocopy_bookkeeping", s), "mem_err") == MEM_UAF_UBUFS


def test_bookkeeping_over_an_outstanding_slot_is_a_double_use() -> None:
    # skb 0 was sent for heads[3] and is still held by the device
    s = bookkeeping_state(skb_cnt=1, skb_head=[0, 0, 0], skb_slot=[3, 0, 0],
                          inflight={0: 1, 1: 1})
    assert get(M, step(M, "tx_zerocopy_bookkeeping", s), "use_err") == USE_SLOT_REUSED


def test_bookkeeping_over_an_outstanding_ubuf_is_a_double_use() -> None:
    # skb 0 still reads ubuf_info[1] (sent for heads[2])
    s = bookkeeping_state(skb_cnt=1, skb_head=[1, 0, 0], skb_slot=[2, 0, 0],
                          inflight={1: 2})
    assert get(M, step(M, "tx_zerocopy_bookkeeping", s), "use_err") == USE_UBUF_REUSED


def test_bookkeeping_ubuf_info_out_of_bounds() -> None:
    m = V9({"uio_maxiov": 1})  # ubuf_info[] has one entry: head 1 is out of bounds
    s = bookkeeping_state(m, head=1, upend=0)
    after = step(m, "tx_zerocopy_bookkeeping", s)
    d = as_dict(m, after)
    assert d["mem_err"] == MEM_UBUF_INFO_OOB
    assert d["ubuf_arg"] == [0] and d["ubuf_desc"] == [0]
    assert d["upend"] == 0  # (0 + 1) % 1
    assert d["rc"] == [0, 3, 0]  # ubufs = vq->ubufs; kref_get still runs


# -- sendmsg -----------------------------------------------------------------------------


def sent_state(**edits: Any) -> State:
    """After the bookkeeping of large head 1 at slot 3: about to call sendmsg."""
    return step(M, "tx_zerocopy_bookkeeping", bookkeeping_state(**edits))


def test_sendmsg_hands_the_skb_to_the_device() -> None:
    s = sent_state()
    after = step(M, "tx_sendmsg_handoff", s)
    assert diff(M, s, after) == {"skb_cnt": (0, 1), "skb_head[0]": (0, 1),
                                 "skb_slot[0]": (0, 3), "skb_sock[0]": (0, 1),
                                 "w_pc": (W_SENDMSG, W_SENT)}
    # sendmsg cannot return success before the zero-copy hand-off ...
    assert disabled(M, "tx_sendmsg_ok", s)
    # ... and after it (macvtap) it cannot fail: the ubuf is attached once nothing can fail
    assert disabled(M, "tx_sendmsg_err", after)
    assert disabled(M, "tx_sendmsg_fail_skb_freed", s)  # tun only


def test_sendmsg_handoff_slot_wraps() -> None:
    after = step(M, "tx_sendmsg_handoff", sent_state(upend=7))
    assert get(M, after, "skb_slot")[0] == 7  # (upend 0 + 8 - 1) % 8


def test_sendmsg_handoff_hits_the_device_capacity() -> None:
    s = make(M, sent_state(), skb_cnt=3)
    with pytest.raises(CapacityReached, match=r"skbs held by the lower device"):
        fire(M, M.instance("tx_sendmsg_handoff"), s)
    exp = expand(M, s)
    assert exp.capacity_hits == ["skbs held by the lower device (--device-capacity)"]
    assert "worker" in exp.enabled_actors


def test_zero_copy_send_does_not_use_the_head_yet() -> None:
    s = step(M, "tx_sendmsg_handoff", sent_state())
    assert disabled(M, "tx_sendmsg_ok_weight", s)  # w_sent + 1 = 1 < weight 2
    after = step(M, "tx_sendmsg_ok", s)
    assert diff(M, s, after) == {"w_sent": (0, 1), "w_pc": (W_SENT, W_SIGNAL)}


def test_copy_send_returns_the_head_at_once() -> None:
    s = make(M, **COPY_LOOP, w_pc=W_SENDMSG, w_head=1, g_owned={1: False},
             inflight={1: 1})
    assert disabled(M, "tx_sendmsg_handoff", s)
    after = step(M, "tx_sendmsg_ok", s)
    assert diff(M, s, after) == {"used[0]": (0, 1), "used_cnt": (0, 1), "inflight[1]": (1, 0),
                                 "w_sent": (0, 1), "w_pc": (W_SENDMSG, W_SIGNAL)}


def test_weight_requeues_the_kick_work() -> None:
    s = make(M, **COPY_LOOP, w_pc=W_SENDMSG, w_head=1, w_sent=1,
             g_owned={1: False}, inflight={1: 1})
    assert disabled(M, "tx_sendmsg_ok", s)
    d = as_dict(M, step(M, "tx_sendmsg_ok_weight", s))
    assert d["kick_q"] is True
    assert (d["w_pc"], d["vq_mutex"], d["w_sent"], d["w_item"]) == (W_IDLE, 0, 0, 0)
    assert d["used"][0] == 1


def test_used_ring_checks() -> None:
    # returning a head vhost does not hold
    s = make(M, **COPY_LOOP, w_pc=W_SENDMSG, w_head=1)
    assert get(M, step(M, "tx_sendmsg_ok", s), "use_err") == USE_RETURN_NOT_OUTSTANDING
    # returning a head whose buffer a DMA still reads
    s = make(M, **COPY_LOOP, w_pc=W_SENDMSG, w_head=1, inflight={1: 1},
             skb_cnt=1, skb_head=[1, 0, 0])
    assert get(M, step(M, "tx_sendmsg_ok", s), "use_err") == USE_RETURN_DURING_DMA


# -- vhost_zerocopy_signal_used ------------------------------------------------------


def signal_state(**edits: Any) -> State:
    """Slots 6, 7, 0, 1 outstanding (done_idx 6, upend_idx 2): heads 0, 1, 1, 0."""
    base = dict(IN_LOOP, w_pc=W_SIGNAL, done=6, upend=2, g_owned=[False, False],
                heads_id={6: 0, 7: 1, 0: 1, 1: 0},
                heads_len={6: VHOST_DMA_DONE_LEN, 7: VHOST_DMA_DONE_LEN, 0: LEN_IN_FLIGHT,
                           1: VHOST_DMA_DONE_LEN},
                inflight=[2, 2])
    base.update(edits)
    return make(M, **base)


def test_signal_used_returns_contiguous_done_heads_and_stops_at_the_first_pending() -> None:
    s = signal_state()
    after = step(M, "tx_signal_used", s)
    assert diff(M, s, after) == {
        "heads_len[6]": (VHOST_DMA_DONE_LEN, VHOST_DMA_CLEAR_LEN),
        "heads_len[7]": (VHOST_DMA_DONE_LEN, VHOST_DMA_CLEAR_LEN),
        "used[1]": (0, 1),  # used = [0, 1]: heads[6].id then heads[7].id
        "used_cnt": (0, 2),
        "inflight[0]": (2, 1),
        "inflight[1]": (2, 1),
        "done": (6, 0),  # wrapped past UIO_MAXIOV - 1, stopped at the in-flight slot 0
        "w_pc": (W_SIGNAL, W_GET),
    }
    d = as_dict(M, after)
    assert d["used"] == [0, 1]
    assert d["heads_len"][1] == VHOST_DMA_DONE_LEN  # done, but behind a pending slot
    assert d["use_err"] == 0


def test_signal_used_with_the_first_slot_pending_changes_nothing() -> None:
    s = signal_state(heads_len={6: LEN_IN_FLIGHT})
    assert diff(M, s, step(M, "tx_signal_used", s)) == {"w_pc": (W_SIGNAL, W_GET)}


def test_signal_used_stops_at_upend() -> None:
    s = signal_state(upend=7)  # only slot 6 is outstanding
    d = as_dict(M, step(M, "tx_signal_used", s))
    assert d["done"] == 7
    assert d["used_cnt"] == 1 and d["used"][0] == 0
    assert d["heads_len"][7] == VHOST_DMA_DONE_LEN


def test_signal_used_only_with_zcopy() -> None:
    s = signal_state(w_zcopy=False)
    assert diff(M, s, step(M, "tx_signal_used", s)) == {"w_pc": (W_SIGNAL, W_GET)}


# -- empty ring --------------------------------------------------------------------------


def test_too_many_pending_dmas_back_off() -> None:
    s = make(M, **IN_LOOP, w_pc=W_EMPTY, upend=2, done=0)  # 2 - 0 > VHOST_MAX_PEND (1)
    assert disabled(M, "tx_enable_notify_done", s)
    d = as_dict(M, step(M, "tx_empty_max_pend", s))
    assert d["nospace"] == [False, True, False]  # set_bit(SOCK_ASYNC_NOSPACE, &sock->flags)
    assert (d["tx_poll"], d["sock_q"], d["poll_sock"]) == (POLL_STARTED, True, 1)
    assert (d["w_pc"], d["vq_mutex"]) == (W_IDLE, 0)


def test_pending_check_is_not_wrap_aware() -> None:
    # v9 compares upend_idx - done_idx: after a wrap the difference is negative
    s = make(M, **IN_LOOP, w_pc=W_EMPTY, upend=0, done=6)
    assert disabled(M, "tx_empty_max_pend", s)
    d = as_dict(M, step(M, "tx_enable_notify_done", s))
    assert (d["no_notify"], d["nospace"][1], d["w_pc"]) == (False, False, W_IDLE)


def test_enable_notify_race_rechecks_the_ring() -> None:
    s = make(M, **IN_LOOP, w_pc=W_EMPTY, avail_cnt=1, g_owned={0: False})
    assert disabled(M, "tx_enable_notify_done", s)
    s1 = step(M, "tx_enable_notify_more", s)
    assert diff(M, s, s1) == {"no_notify": (True, False), "w_pc": (W_EMPTY, W_REDISABLE)}
    s2 = step(M, "tx_redisable_notify", s1)
    assert diff(M, s1, s2) == {"no_notify": (False, True), "w_pc": (W_REDISABLE, W_SIGNAL)}


# -- sendmsg errors ---------------------------------------------------------------------


def test_sendmsg_error_puts_the_reference() -> None:
    s = sent_state()  # rc[1] = 3; macvtap fails before attaching the ubuf: no skb
    after = step(M, "tx_sendmsg_err", s)
    assert diff(M, s, after) == {"fail_left": (1, 0), "rc[1]": (3, 2),
                                 "w_pc": (W_SENDMSG, W_ERR_ROLLBACK)}
    assert disabled(M, "tx_sendmsg_err", make(M, s, fail_left=0))


def test_sendmsg_error_put_hitting_zero_owes_a_wake_up() -> None:
    s = make(M, sent_state(), rc={1: 1}, c_pc=C_SLEEP, c_obj=1)
    s1 = step(M, "tx_sendmsg_err", s)
    assert (get(M, s1, "rc")[1], get(M, s1, "w_wake")) == (0, True)
    s2 = step(M, "tx_sendmsg_err_rollback", s1)
    assert get(M, s2, "c_pc") == C_WAIT  # wake_up(&ubufs->wait) woke put-and-wait


def test_sendmsg_error_rollback_wraps_upend_and_requeues_the_head() -> None:
    # head 1 was fetched from avail[1] (so last_avail is now 0) and booked at slot 7 =
    # UIO_MAXIOV - 1, which wrapped upend to 0
    s = make(M, **IN_LOOP, w_pc=W_ERR_ROLLBACK, w_head=1, w_len=LEN_LARGE, upend=0, done=7,
             last_avail=0, avail_cnt=0, avail={1: 1}, g_owned={1: False}, inflight={1: 1})
    after = step(M, "tx_sendmsg_err_rollback", s)
    d = as_dict(M, after)
    assert d["upend"] == 7  # ((unsigned)0 - 1) % UIO_MAXIOV = M - 1
    assert (d["last_avail"], d["avail_cnt"]) == (1, 1)  # vhost_discard_vq_desc(vq, 1)
    assert d["avail"][d["last_avail"]] == 1  # the head is next in the avail ring again
    assert d["inflight"] == [0, 0]
    assert (d["tx_poll"], d["sock_q"]) == (POLL_STARTED, True)  # tx_poll_start
    assert (d["w_pc"], d["vq_mutex"]) == (W_IDLE, 0)
    # ... and the next run fetches the same head again
    again = make(M, after, **IN_LOOP, w_pc=W_GET)
    assert get(M, step(M, "tx_get_desc_head", again), "w_head") == 1


def test_sendmsg_error_rollback_without_zcopy_keeps_upend() -> None:
    s = make(M, **COPY_LOOP, w_pc=W_ERR_ROLLBACK, w_head=0, upend=5, done=5,
             last_avail=1, g_owned={0: False}, inflight={0: 1})
    d = as_dict(M, step(M, "tx_sendmsg_err_rollback", s))
    assert d["upend"] == 5
    assert (d["last_avail"], d["avail_cnt"]) == (0, 1)


def test_macvtap_failure_rolls_back_without_a_callback() -> None:
    """v9, macvtap: sendmsg fails before the skb carries the ubuf: the error path puts the
    reference taken by the bookkeeping (rc 2 -> 3 -> 2), slot and head are rolled back,
    and no skb is left to complete."""
    labels = ["worker_run_sock", "tx_read_sock", "tx_lock", "tx_signal_used",
              "guest_post(h=0, large=1)", "tx_get_desc_head", "tx_zerocopy_bookkeeping",
              "tx_sendmsg_err", "tx_sendmsg_err_rollback"]
    d = as_dict(M, run(M, labels))
    assert (d["rc"][1], d["upend"], d["skb_cnt"], d["avail_cnt"]) == (2, 0, 0, 1)
    assert d["use_err"] == 0 and d["mem_err"] == 0


def test_tun_failure_runs_the_callback_inside_sendmsg_then_puts_again() -> None:
    """v9, tun: the failing sendmsg frees an skb carrying the ubuf: the callback marks the
    slot done and puts (rc 3 -> 2) before the error returns; the error path puts again
    (rc 2 -> 1): two puts for one kref_get."""
    m = V9({"lower_device": "tun"})
    labels = ["worker_run_sock", "tx_read_sock", "tx_lock", "tx_signal_used",
              "guest_post(h=0, large=1)", "tx_get_desc_head", "tx_zerocopy_bookkeeping",
              "tx_sendmsg_fail_skb_freed"]
    s = run(m, labels)
    d = as_dict(m, s)
    assert (d["rc"][1], d["heads_len"][0], d["w_pc"], d["w_cb_wake"]) == (
        2, VHOST_DMA_DONE_LEN, W_SEND_FAILED, False)
    assert disabled(m, "tx_sendmsg_fail_cb_wake", s)
    d = as_dict(m, run(m, ["tx_sendmsg_err", "tx_sendmsg_err_rollback"], s))
    assert (d["rc"][1], d["upend"], d["skb_cnt"], d["fail_left"]) == (1, 0, 0, 0)


def test_tun_callback_hitting_zero_wakes_before_the_error_returns() -> None:
    m = V9({"lower_device": "tun"})
    s = make(m, step(m, "tx_zerocopy_bookkeeping", bookkeeping_state(m)), rc={1: 1},
             c_pc=C_SLEEP, c_obj=1)
    s1 = step(m, "tx_sendmsg_fail_skb_freed", s)
    assert (get(m, s1, "rc")[1], get(m, s1, "w_cb_wake")) == (0, True)
    assert disabled(m, "tx_sendmsg_err", s1)  # the wake_up comes first
    s2 = step(m, "tx_sendmsg_fail_cb_wake", s1)
    assert diff(m, s1, s2) == {"w_cb_wake": (True, False), "c_pc": (C_SLEEP, C_WAIT)}
    assert get(m, step(m, "tx_sendmsg_err", s2), "mem_err") == MEM_REFCOUNT_UNDERFLOW


# -- the lower device -------------------------------------------------------------------


def device_state(**edits: Any) -> State:
    """Two skbs held: skb 0 for head 0 (slot 5), skb 1 for head 1 (slot 6); rc[1] = 4."""
    base: dict[str, Any] = {
        "skb_cnt": 2, "skb_head": [0, 1, 0], "skb_slot": [5, 6, 0], "skb_sock": [1, 1, 0],
        "ubuf_arg": [1, 1],
        "ubuf_desc": [5, 6], "heads_len": {5: LEN_IN_FLIGHT, 6: LEN_IN_FLIGHT},
        "heads_id": {5: 0, 6: 1}, "done": 5, "upend": 7, "rc": {1: 4},
        "g_owned": [False, False], "inflight": [1, 1],
    }
    base.update(edits)
    return make(M, **base)


def test_dev_complete_marks_the_slot_done_and_puts() -> None:
    s = device_state()
    after = step(M, "dev_complete(k=0)", s)
    assert diff(M, s, after) == {
        "skb_cnt": (2, 1),
        "skb_head[0]": (0, 1),  # skb 1 moves down: arrival order kept
        "skb_head[1]": (1, 0),
        "skb_slot[0]": (5, 6),
        "skb_slot[1]": (6, 0),
        "skb_sock[1]": (1, 0),
        "heads_len[5]": (LEN_IN_FLIGHT, VHOST_DMA_DONE_LEN),
        "rc[1]": (4, 3),
    }
    assert disabled(M, "dev_complete(k=1)", after)
    assert disabled(M, "dev_complete(k=2)", s)


def test_dev_complete_out_of_order() -> None:
    s = device_state()
    after = step(M, "dev_complete(k=1)", s)
    d = as_dict(M, after)
    assert (d["skb_cnt"], d["skb_head"], d["skb_slot"]) == (1, [0, 0, 0], [5, 0, 0])
    assert d["heads_len"][6] == VHOST_DMA_DONE_LEN
    assert d["heads_len"][5] == LEN_IN_FLIGHT


def test_dev_complete_hitting_zero_owes_a_wake_up() -> None:
    s = device_state(rc={1: 1}, c_pc=C_SLEEP, c_obj=1, vq_ubufs=0, backend=SOCK_COPY)
    after = step(M, "dev_complete(k=0)", s)
    d = diff(M, s, after)
    assert d["rc[1]"] == (1, 0)
    assert d["cb_wake[1]"] == (0, 1)
    assert "c_pc" not in d  # the wake_up is a later, separate step
    woken = step(M, "dev_done_signal(o=1)", after)
    assert diff(M, after, woken) == {"cb_wake[1]": (1, 0), "c_pc": (C_SLEEP, C_WAIT)}
    assert disabled(M, "dev_done_signal(o=2)", after)
    assert disabled(M, "dev_done_signal(o=1)", s)


def test_dev_complete_wakes_the_socket_poll_on_nospace() -> None:
    s = device_state(nospace={1: True}, sock_q=False, tx_poll=POLL_STARTED, poll_sock=1)
    d = as_dict(M, step(M, "dev_complete(k=0)", s))
    assert (d["nospace"][1], d["sock_q"]) == (False, True)
    quiet = device_state(nospace={1: False}, sock_q=False)
    assert get(M, step(M, "dev_complete(k=0)", quiet), "sock_q") is False
    # the poll is registered on another socket's wait queue: this wake-up does not reach it
    elsewhere = device_state(nospace={1: True}, sock_q=False, tx_poll=POLL_STARTED, poll_sock=2)
    assert get(M, step(M, "dev_complete(k=0)", elsewhere), "sock_q") is False


def test_dev_complete_after_the_device_is_freed() -> None:
    s = device_state(dev_freed=True)
    d = as_dict(M, step(M, "dev_complete(k=0)", s))
    assert d["mem_err"] == MEM_UAF_VQ
    assert d["heads_len"][5] == LEN_IN_FLIGHT  # nothing written through the freed vq
    assert d["rc"][1] == 4


def test_dev_complete_on_a_freed_ubufs() -> None:
    s = device_state(obj={1: OBJ_FREED})
    assert get(M, step(M, "dev_complete(k=0)", s), "mem_err") == MEM_UAF_UBUFS


# -- control: set_backend and vhost_ubuf_put_and_wait -----------------------------------


def test_set_backend_to_copy_starts_put_and_wait() -> None:
    s0 = initial_state(M)
    s1 = step(M, "set_backend(to=2)", s0)
    d = as_dict(M, s1)
    assert (d["backend"], d["vq_ubufs"], d["changes_left"]) == (SOCK_COPY, 0, 0)
    assert (d["c_pc"], d["c_op"], d["c_obj"], d["c_oldsock"]) == (C_PUT, OP_SET_BACKEND, 1,
                                                                   True)
    assert d["obj"] == [0, OBJ_ALIVE, 0]  # no new object for a copy socket
    assert disabled(M, "set_backend(to=1)", s1)  # one change allowed


def test_set_backend_to_zerocopy_allocates_a_new_object() -> None:
    d = as_dict(M, step(M, "set_backend(to=1)", initial_state(M)))
    assert d["vq_ubufs"] == 2
    assert d["obj"] == [0, OBJ_ALIVE, OBJ_ALIVE]
    assert d["rc"] == [0, 2, 2]
    assert (d["c_pc"], d["c_obj"]) == (C_PUT, 1)


def test_set_backend_waits_for_the_vq_mutex() -> None:
    assert disabled(M, "set_backend(to=2)", make(M, vq_mutex=MUTEX_WORKER))


def test_put_and_wait_from_refcount_2_goes_to_sleep() -> None:
    """v9's vhost_ubuf_alloc takes an extra kref_get: refcount 2 with no skb outstanding,
    so the put leaves 1 and the wait never ends."""
    s0 = step(M, "set_backend(to=2)", initial_state(M))
    s1 = step(M, "put_and_wait_put", s0)
    assert diff(M, s0, s1) == {"rc[1]": (2, 1), "c_pc": (C_PUT, C_WAIT)}
    assert disabled(M, "put_and_wait_cond_true", s1)
    s2 = step(M, "put_and_wait_sleep", s1)
    assert diff(M, s1, s2) == {"c_pc": (C_WAIT, C_SLEEP)}
    assert expand(M, s2).enabled_actors.isdisjoint({"control", "device"})


def test_put_and_wait_from_refcount_1_frees() -> None:
    s0 = make(M, step(M, "set_backend(to=2)", initial_state(M)), rc={1: 1})
    s1 = step(M, "put_and_wait_put", s0)
    assert diff(M, s0, s1) == {"rc[1]": (1, 0), "c_pc": (C_PUT, C_SELF_WAKE)}
    s2 = step(M, "put_and_wait_self_wake", s1)
    assert diff(M, s1, s2) == {"c_pc": (C_SELF_WAKE, C_WAIT)}
    assert disabled(M, "put_and_wait_sleep", s2)
    s3 = step(M, "put_and_wait_cond_true", s2)
    assert get(M, s3, "c_pc") == C_FREE
    s4 = step(M, "put_and_wait_kfree", s3)
    d = as_dict(M, s4)
    assert d["obj"][1] == OBJ_FREED
    # set_backend replaced a socket: flush the old one's work next
    assert (d["c_pc"], d["c_op"], d["c_obj"], d["c_oldsock"]) == (C_FLUSH, OP_SET_BACKEND, 0,
                                                                   False)


def test_kfree_during_release_goes_on_to_signal_used() -> None:
    s = make(M, c_pc=C_FREE, c_op=OP_RELEASE, c_obj=1, rc={1: 0}, backend=SOCK_NONE)
    d = as_dict(M, step(M, "put_and_wait_kfree", s))
    assert (d["c_pc"], d["c_op"], d["c_obj"]) == (C_SIGNAL, OP_RELEASE, 1)
    assert d["obj"][1] == OBJ_FREED


def test_release_and_cleanup() -> None:
    s0 = initial_state(M)
    s1 = step(M, "release_stop", s0)
    d = as_dict(M, s1)
    assert (d["backend"], d["tx_poll"], d["c_op"], d["c_pc"]) == (SOCK_NONE, POLL_DISABLED,
                                                                  OP_RELEASE, C_FLUSH)
    assert (d["flush_sock"], d["flush_kick"]) == (1, 0)  # the queued socket work
    assert disabled(M, "flush_done", s1)
    # the worker's run of the socket item completes the flush
    s2 = run(M, ["worker_run_sock", "tx_no_sock", "flush_done"], s1)
    # first flush done, the kick eventfd is still polled: vhost_dev_cleanup stops it
    assert (get(M, s2, "c_pc"), get(M, s2, "flush_sock")) == (C_CLEANUP, 0)
    s3 = run(M, ["cleanup_poll_stop", "flush_done"], s2)
    d = as_dict(M, s3)
    assert d["kick_poll"] is False
    assert (d["c_pc"], d["c_obj"]) == (C_PUT, 1)  # vhost_ubuf_put_and_wait(vq->ubufs)


def test_cleanup_finish_frees_the_device() -> None:
    s = make(M, c_pc=C_FINISH, c_op=OP_RELEASE, backend=SOCK_NONE, upend=3, done=3,
             vq_ubufs=0, kick_q=True)
    d = as_dict(M, step(M, "cleanup_finish", s))
    assert (d["upend"], d["done"], d["vq_ubufs"]) == (0, 0, 0)
    assert (d["w_pc"], d["dev_freed"], d["kick_q"], d["c_op"]) == (W_STOPPED, True, False, 0)
    assert disabled(M, "cleanup_finish", make(M, s, w_pc=W_GET))


def test_release_is_off_with_release_no() -> None:
    m = V9({"release": "no"})
    assert disabled(m, "release_stop", initial_state(m))
    assert not disabled(M, "release_stop", initial_state(M))


# -- a whole zero-copy packet ---------------------------------------------------------


def test_zero_copy_packet_returns_on_the_next_run() -> None:
    labels = ["guest_post(h=0, large=1)", "guest_kick", "worker_run_sock", "tx_read_sock",
              "tx_lock", "tx_signal_used", "tx_get_desc_head", "tx_zerocopy_bookkeeping",
              "tx_sendmsg_handoff", "tx_sendmsg_ok", "tx_signal_used", "tx_get_desc_empty",
              "tx_enable_notify_done", "dev_complete(k=0)"]
    s = run(M, labels)
    d = as_dict(M, s)
    assert (d["used_cnt"], d["inflight"], d["heads_len"][0]) == (0, [1, 0], VHOST_DMA_DONE_LEN)
    assert d["rc"][1] == 2
    assert d["kick_q"] is True  # the guest's kick is still queued
    s = run(M, ["worker_run_kick", "tx_read_sock", "tx_lock", "tx_signal_used"], s)
    d = as_dict(M, s)
    assert (d["used"][0], d["used_cnt"], d["inflight"], d["done"]) == (0, 1, [0, 0], 1)
    assert (d["use_err"], d["mem_err"]) == (0, 0)


def test_rogue_post_then_sendmsg_error_rollback_stays_in_the_model() -> None:
    m = V9({"ring_size": 1, "guest": "rogue"})
    # the shortest run to the crash (11 steps, found by BFS): the copy backend makes
    # head 0 go straight to sendmsg, which fails; meanwhile the rogue guest re-posts head 0
    labels = ["set_backend(to=2)", "worker_run_sock", "tx_read_sock", "tx_lock",
              "tx_signal_used", "guest_post(h=0, large=0)", "tx_get_desc_head",
              "tx_sendmsg_err", "guest_no_kick", "guest_post_rogue(h=0, large=0)"]
    s = run(m, labels)
    assert as_dict(m, s)["avail_cnt"] == 1
    after = fire(m, m.instance("tx_sendmsg_err_rollback"), s)
    assert after is not None
    # vhost_discard_vq_desc makes avail->idx - last_avail_idx = 2 > vq->num: the next
    # vhost_get_vq_desc reports "Guest moved used index" and handle_tx breaks out
    assert as_dict(m, after)["avail_cnt"] <= m.p.ring_size + 1
