"""An inductive invariant of the zero-copy data path, written once for every ring size.

These are *lemmas*: facts about every reachable state of Linux 3.1's data path (the
guest, ``handle_tx`` and the lower device; no backend change, no release, no failing
``sendmsg``: ``--max-backend-changes 0 --release no --send-failures 0`` with the
other parameters at their defaults).  Together with ``no-double-use``,
``memory-safe`` and "no step hits a model capacity or writes outside a type" they
are inductive: k-induction at k = 1 proves them all at once, so nothing here is
trusted::

    vhostmc check --engine kind --revision v3.1 --max-backend-changes 0 --release no \\
        --send-failures 0 --ring-size 4 --spec specs/datapath_invariant.py \\
        --property no-double-use,memory-safe --depth 1 \\
        --strengthen dp-environment,dp-worker,dp-heads,dp-window,dp-skbs,dp-count

From ring size 5 on, add ``--signal-loop iteration`` (``vhost_zerocopy_signal_used``
one turn of its loop per step, docs/model.md abstraction 10): the step case of the
whole loop grows too fast with the ring (results/proofs.md), one turn's does not.

Each lemma quantifies over the ring's heads, the ``heads[]`` slots or the lower
device's skbs by a Python loop over the ring size, or (``dp-skbs``) by ``s.every``,
so the same text holds at every size; ``s.every`` is also one quantifier for the
engines that keep it one (docs/engines.md, "Toward ring 256").  The *window* is the ``heads[]`` slots from ``vq->done_idx`` up to
``vq->upend_idx`` (modulo ``UIO_MAXIOV``): the heads ``handle_tx`` has handed on and
``vhost_zerocopy_signal_used`` has not yet returned.  Every head is in exactly one
place: the guest's, the avail ring, the worker's hands between
``vhost_get_vq_desc`` and the bookkeeping, the window, or the used ring.
"""

from __future__ import annotations

from typing import Any

from checker.lang.spec import invariant
from checker.lang.view import StateView
from models.v9.constants import (
    C_IDLE,
    LEN_IN_FLIGHT,
    LEN_LARGE,
    MUTEX_FREE,
    MUTEX_WORKER,
    OBJ_ALIVE,
    SOCK_ZC,
    SOCKET_HELD,
    SOCKET_UNOPENED,
    W_BOOKKEEP,
    W_EMPTY,
    W_GET,
    W_IDLE,
    W_LOCK,
    W_READ_SOCK,
    W_REDISABLE,
    W_SENDMSG,
    W_SENT,
    W_SIGNAL,
)

UNLOCKED_PCS = (W_IDLE, W_READ_SOCK, W_LOCK)
"""handle_tx program counters outside vq->mutex (``--sndbuf 0``: no wmem read)."""

LOCKED_PCS = (W_SIGNAL, W_GET, W_EMPTY, W_REDISABLE, W_BOOKKEEP, W_SENDMSG, W_SENT)
"""handle_tx program counters under vq->mutex on the data path."""


def distance(s: StateView, slot: Any) -> Any:
    """``(slot - done_idx) % UIO_MAXIOV``: how far into the window ``slot`` lies."""
    m = s.p.uio_maxiov
    return s.ite(slot >= s.done, slot - s.done, slot + m - s.done)


def window_length(s: StateView) -> Any:
    """``(upend_idx - done_idx) % UIO_MAXIOV``: slots handed on and not yet returned."""
    return distance(s, s.upend)


def in_window(s: StateView, slot: int) -> Any:
    """``heads[slot]`` lies in the window ``[done_idx, upend_idx)`` (it may wrap)."""
    return s.ite(s.upend >= s.done, s.all(s.done <= slot, slot < s.upend),
                 s.any(s.done <= slot, slot < s.upend))


def in_avail(s: StateView, pos: int) -> Any:
    """Avail ring entry ``pos`` is posted and not yet fetched by vhost_get_vq_desc."""
    n = s.p.ring_size
    distance = s.ite(pos >= s.last_avail, pos - s.last_avail, pos + n - s.last_avail)
    return distance < s.avail_cnt


def last_slot(s: StateView) -> Any:
    """``(upend_idx - 1) % UIO_MAXIOV``: the slot the bookkeeping filled last."""
    m = s.p.uio_maxiov
    return (s.upend + m - 1) % m


def worker_holds(s: StateView, h: int) -> Any:
    """The worker fetched head ``h`` and has not yet written it into ``heads[]``."""
    return s.all(s.w_pc == W_BOOKKEEP, s.w_head == h)


def sending_large(s: StateView) -> Any:
    """The worker is about to hand a zero-copy skb to the lower device: it holds the
    reference ``kref_get`` took in the bookkeeping."""
    return s.all(s.w_pc == W_SENDMSG, s.w_len == LEN_LARGE)


@invariant("dp-environment", "data path: one zero-copy socket and one vhost_ubuf_ref, alive; "
           "userspace idle; no refcount at zero; no wake_up owed")
def environment(s: StateView) -> Any:
    return s.all(
        s.backend == SOCK_ZC, s.backend_sock == 1, s.vq_ubufs == 1,
        s.sock_state[0] == SOCKET_UNOPENED, s.sock_state[1] == SOCKET_HELD,
        s.obj[1] == OBJ_ALIVE, s.neg(s.dev_freed), s.c_pc == C_IDLE,
        s.cb_wake[0] == 0, s.cb_wake[1] == 0, s.fail_left == 0,
        s.rc[1] == 1 + s.skb_cnt + s.ite(sending_large(s), 1, 0),
        s.any(s.vq_mutex == MUTEX_FREE, s.vq_mutex == MUTEX_WORKER),
    )


@invariant("dp-worker", "handle_tx holds vq->mutex exactly in its loop, runs zero-copy there, "
           "and between the bookkeeping and the skb's hand-off heads[upend_idx - 1] is its head")
def worker(s: StateView) -> Any:
    locked = s.any(*(s.w_pc == pc for pc in LOCKED_PCS))
    unlocked = s.any(*(s.w_pc == pc for pc in UNLOCKED_PCS))
    sending = s.any(s.w_pc == W_SENDMSG, s.w_pc == W_SENT)
    last = last_slot(s)
    return s.all(
        s.any(locked, unlocked),
        (s.vq_mutex == MUTEX_WORKER) == locked,
        s.implies(s.any(locked, s.w_pc == W_LOCK), s.all(s.w_sock == SOCK_ZC, s.w_sock_id == 1)),
        s.implies(locked, s.w_zcopy),
        s.neg(s.w_wfull),
        s.w_sent < s.p.weight,
        s.implies(sending, s.all(window_length(s) > 0, s.heads_id[last] == s.w_head)),
        s.implies(sending_large(s), s.all(s.heads_len[last] == LEN_IN_FLIGHT,
                                          s.ubuf_arg[s.w_head] == 1,
                                          s.ubuf_desc[s.w_head] == last)),
    )


def head_places(s: StateView) -> list[tuple[Any, Any]]:
    """Every place outside the guest's hands that can hold a head, as ``(occupied,
    head)``: the avail ring's posted entries, the used ring's entries, the window's
    slots and the worker's hands (between vhost_get_vq_desc and the bookkeeping)."""
    n, m = s.p.ring_size, s.p.uio_maxiov
    return ([(in_avail(s, pos), s.avail[pos]) for pos in range(n)]
            + [(k < s.used_cnt, s.used[k]) for k in range(n)]
            + [(in_window(s, i), s.heads_id[i]) for i in range(m)]
            + [(s.w_pc == W_BOOKKEEP, s.w_head)])


@invariant("dp-heads", "every head is in exactly one place: the guest's, the avail ring, "
           "the worker's hands, the window or the used ring")
def heads(s: StateView) -> Any:
    """Written as "no two places hold the same head, and each head is in one" rather
    than as a count of places per head: the same statement, but a SAT solver proves a
    sum of bits unchanged by pigeonhole reasoning, which it does badly (docs/engines.md,
    "Lemmas without counting")."""
    n, m = s.p.ring_size, s.p.uio_maxiov
    places = head_places(s)
    facts = [s.avail_cnt <= n]
    facts += [s.implies(in_avail(s, pos), s.avail[pos] < n) for pos in range(n)]
    for a, (there, head) in enumerate(places):
        facts += [s.implies(s.all(there, other), head != other_head)
                  for other, other_head in places[:a]]
    for h in range(n):
        elsewhere = s.any(*(s.all(there, head == h) for there, head in places))
        handed = s.any(*(s.all(in_window(s, i), s.heads_id[i] == h) for i in range(m)))
        facts.append(s.ite(s.g_owned[h], s.neg(elsewhere), elsewhere))
        facts.append(s.inflight[h] == s.ite(worker_holds(s, h), 1, 0) + s.ite(handed, 1, 0))
    return s.all(*facts)


@invariant("dp-window", "the window is at most the ring size; a slot in it whose DMA is not "
           "done belongs to exactly one skb (or to the skb handle_tx is about to send), "
           "and its head's ubuf_info points back at it")
def window(s: StateView) -> Any:
    """Per skb: its slot is in the window, in flight and not the one about to be sent,
    and no earlier skb has it; per slot in flight (and not about to be sent): some skb
    has it. That is "exactly one skb", without a count (see :func:`heads`)."""
    n, m, cap = s.p.ring_size, s.p.uio_maxiov, s.p.device_capacity
    facts = [window_length(s) <= n]
    live = [k < s.skb_cnt for k in range(cap)]
    for k in range(cap):
        slot = s.skb_slot[k]
        facts.append(s.implies(live[k], s.all(
            in_window(s, slot), s.heads_len[slot] == LEN_IN_FLIGHT,
            s.neg(s.all(sending_large(s), last_slot(s) == slot)))))
        facts += [s.implies(live[k], s.skb_slot[j] != slot) for j in range(k)]
    for i in range(m):
        flying = s.all(in_window(s, i), s.heads_len[i] == LEN_IN_FLIGHT)
        waiting = s.all(sending_large(s), last_slot(s) == i)
        head = s.heads_id[i]
        owned = s.any(*(s.all(live[k], s.skb_slot[k] == i) for k in range(cap)))
        facts.append(s.implies(s.all(flying, s.neg(waiting)), owned))
        facts.append(s.implies(flying, s.all(s.ubuf_arg[head] == 1, s.ubuf_desc[head] == i)))
    return s.all(*facts)


@invariant("dp-skbs", "each skb the lower device holds carries the head of its heads[] slot")
def skbs(s: StateView) -> Any:
    return s.every(s.p.device_capacity, lambda k: s.implies(
        k < s.skb_cnt, s.skb_head[k] == s.heads_id[s.skb_slot[k]]))


@invariant("dp-count", "the guest's heads, the avail ring's posted entries, the worker's hands, "
           "the window and the used ring's entries add up to the ring size")
def count(s: StateView) -> Any:
    """The one count among the lemmas, and the one that makes ``no-double-use`` local: a
    head in the window leaves the used ring room for it (``used_cnt < vq->num``) by
    arithmetic, where the pairwise lemmas alone show it by pigeonhole (eight distinct
    heads below eight cannot be nine), which took Z3 more than two minutes at ring size 8.
    A step moves at most one head between two of the terms, so keeping the sum is
    arithmetic on the one guest bit or counter that changed (docs/engines.md, "One turn
    per step")."""
    held = s.ite(s.w_pc == W_BOOKKEEP, 1, 0)
    return s.count(s.g_owned[h] for h in range(s.p.ring_size)) + s.avail_cnt + held \
        + window_length(s) + s.used_cnt == s.p.ring_size
