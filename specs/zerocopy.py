"""Safety properties of the zero-copy TX path (apply to v9 and every revision).

Each property is a predicate over one state.  The monitors ``use_err`` and
``mem_err`` are set by the model at the step that misbehaves (see
``models/v9/kernel.py``), so the predicate is the absence of that record.
``no-leak`` and ``put-and-wait-terminates`` are liveness properties, judged
under the fairness of models/v9/fairness.py; ``no-quiescent-leak`` and
``no-stuck-waiter`` are their older state-predicate forms (a reachable state
from which the good thing can no longer happen), kept because they are
cheap and every finding they report is also a liveness violation.
"""

from __future__ import annotations

from typing import Any, cast

from checker.lang.spec import invariant, leads_to
from checker.lang.view import StateView
from models.v9.constants import (
    C_DONE,
    C_FREE,
    C_IDLE,
    C_PC_NAMES,
    C_PUT,
    C_SELF_WAKE,
    C_SLEEP,
    C_WAIT,
    MEM_ERRORS,
    OP_RELEASE,
    SOCK_NONE,
    USE_ERRORS,
    W_ERR_ROLLBACK,
    W_SEND_FAILED,
    W_SENDMSG,
    W_SENT,
)
from models.v9.queries import V9Queries
from models.v9.state import CONTROL, DEVICE, WORKER


def _explain_use(s: StateView) -> str:
    return f"no-double-use: {USE_ERRORS.get(s.use_err, 'no error recorded')}"


def _explain_mem(s: StateView) -> str:
    return f"memory-safe: {MEM_ERRORS.get(s.mem_err, 'no error recorded')}"


@invariant(
    "no-double-use",
    "a head reaches the used ring only while outstanding in vhost and not under DMA; "
    "no heads[] slot or ubuf_info[] entry is reused while its DMA is outstanding",
    _explain_use,
)
def no_double_use(s: StateView) -> Any:
    return s.use_err == 0


@invariant(
    "memory-safe",
    "ubuf_info[] indexed in bounds; no NULL or freed vhost_ubuf_ref touched; "
    "no refcount underflow and no kref_get at refcount 0; no completion after the device "
    "is freed; no socket used (sendmsg, sock->sk, its wait queue) after vhost's fput",
    _explain_mem,
)
def memory_safe(s: StateView) -> Any:
    return s.mem_err == 0


def _refs_that_can_drop(s: StateView, o: Any) -> Any:
    """kref_puts on object ``o`` that can still happen: held skbs whose
    ubuf_info entry points at ``o`` (the model's ``skb_object`` query, which a
    revision with another ubuf_info layout overrides), and a worker holding ``o``
    across sendmsg."""
    cap = s.p.device_capacity
    model = cast(V9Queries, s.model)
    skbs = s.count(s.all(k < s.skb_cnt, model.skb_object(s, k) == o) for k in range(cap))
    worker = s.all(s.w_ubufs == o, s.any(s.w_pc == W_SENDMSG, s.w_pc == W_SENT,
                                         s.w_pc == W_SEND_FAILED))
    # --lower-device tun: a failing sendmsg may also run the callback (a second put)
    tun_callback = s.all(s.p.lower_device == "tun", s.w_ubufs == o, s.w_pc == W_SENDMSG,
                         s.fail_left > 0)
    return skbs + s.ite(worker, 1, 0) + s.ite(tun_callback, 1, 0)


def stuck_waiter(s: StateView) -> Any:
    """The put-and-wait caller sleeps and no wake_up can ever reach it: no
    wake_up is owed, no new reference can be taken, and the refcount can no
    longer come down to exactly zero."""
    o = s.c_obj
    owed = s.any(s.cb_wake[o] > 0, s.all(s.w_pc == W_ERR_ROLLBACK, s.w_wake, s.w_ubufs == o),
                 s.all(s.w_pc == W_SEND_FAILED, s.w_cb_wake, s.w_ubufs == o))
    may_get = s.all(s.vq_ubufs == o, s.backend != SOCK_NONE)
    can_reach_zero = s.all(s.rc[o] > 0, s.rc[o] <= _refs_that_can_drop(s, o))
    return s.all(s.c_pc == C_SLEEP, s.neg(owed), s.neg(may_get), s.neg(can_reach_zero))


def _explain_stuck(s: StateView) -> str:
    o = s.c_obj
    return (
        f"no-stuck-waiter: the control thread sleeps in wait_event on vhost_ubuf_ref #{o} "
        f"with refcount {s.rc[o]}, and only {_refs_that_can_drop(s, o)} reference(s) can still "
        "be dropped: the refcount can never reach 0, so nothing will ever wake it"
    )


@invariant(
    "no-stuck-waiter",
    "no reachable state where a vhost_ubuf_put_and_wait caller sleeps and nothing can ever wake it",
    _explain_stuck,
)
def no_stuck_waiter(s: StateView) -> Any:
    return s.neg(stuck_waiter(s))


def quiescent(s: StateView) -> Any:
    """Nothing but the guest (or a new, optional userspace call) can move."""
    control_busy = s.all(s.c_pc != C_IDLE, s.enabled(CONTROL))
    return s.all(s.neg(s.enabled(WORKER, DEVICE)), s.neg(control_busy), s.neg(s.g_kick))


def unreturned(s: StateView) -> Any:
    """Some posted descriptor is held by vhost, or waits in the avail ring while a
    backend is attached (without one, vhost is not expected to consume the ring) and
    the next entry is a valid head (a forged head >= num stops vhost by design)."""
    waiting = s.all(s.avail_cnt > 0, s.backend != SOCK_NONE,
                    s.avail[s.last_avail] < s.p.ring_size)
    return s.any(waiting, *(s.inflight[h] > 0 for h in range(s.p.ring_size)))


def _explain_leak(s: StateView) -> str:
    held = [h for h in range(s.p.ring_size) if s.inflight[h] > 0]
    where = f"heads {held} are held by vhost" if held else ""
    if s.avail_cnt and s.backend != SOCK_NONE:
        where += ("; " if where else "") + f"{s.avail_cnt} head(s) wait in the avail ring"
    return (
        f"no-quiescent-leak: {where}, yet neither the worker, the lower device nor userspace "
        f"(control: {C_PC_NAMES[s.c_pc]}) can move: only new guest traffic could return them"
    )


@invariant(
    "no-quiescent-leak",
    "no reachable state where only the guest could move again while a posted descriptor "
    "is still unreturned (device release excepted)",
    _explain_leak,
)
def no_leak(s: StateView) -> Any:
    releasing = s.any(s.c_op == OP_RELEASE, s.c_pc == C_DONE)
    return s.neg(s.all(s.neg(releasing), quiescent(s), unreturned(s)))


# -- liveness -----------------------------------------------------------------

PUT_AND_WAIT_PCS = (C_PUT, C_SELF_WAKE, C_WAIT, C_SLEEP, C_FREE)
"""Control program counters inside vhost_ubuf_put_and_wait."""


def in_used_ring(s: StateView, h: int) -> Any:
    """Head ``h`` sits in the used ring, not yet reclaimed by the guest."""
    n = s.p.ring_size
    return s.any(*(s.all(k < s.used_cnt, s.used[k] == h) for k in range(n)))


def outstanding(s: StateView, h: int) -> Any:
    """The guest posted descriptor ``h`` and has not had it back in the used ring."""
    return s.all(s.neg(s.g_owned[h]), s.neg(in_used_ring(s, h)))


def excused(s: StateView, h: int) -> Any:
    """vhost owes nothing for ``h``: the device is being released, or ``h`` only waits
    in the avail ring while no backend is attached or a forged head (>= num) blocks it."""
    releasing = s.any(s.c_op == OP_RELEASE, s.c_pc == C_DONE)
    blocked = s.all(s.avail_cnt > 0, s.avail[s.last_avail] >= s.p.ring_size)
    waiting_only = s.all(s.inflight[h] == 0, s.any(s.backend == SOCK_NONE, blocked))
    return s.any(releasing, waiting_only)


@leads_to(
    "no-leak",
    "every descriptor the guest posts is eventually returned to the used ring (device "
    "release, a detached backend and a forged head blocking the ring excepted)",
    over=lambda p: {"h": range(p.ring_size)},
)
def no_leak_live(s: StateView, h: int) -> Any:
    return outstanding(s, h), s.any(s.neg(outstanding(s, h)), excused(s, h))


@leads_to(
    "put-and-wait-terminates",
    "every vhost_ubuf_put_and_wait call (backend change, release) eventually returns",
)
def put_and_wait_terminates(s: StateView) -> Any:
    inside = s.any(*(s.c_pc == pc for pc in PUT_AND_WAIT_PCS))
    return inside, s.neg(inside)
