"""Values the v9 model (and every revision of it) can never read again.

Each declaration says when a variable, or one element of an array, is dead:
no step of the patch, no property and no fairness condition reads it
before writing it (docs/model.md, "Dead-value reduction").  The explorer
resets dead values to 0, which shrinks the state space without changing
any verdict; :mod:`checker.engines.symbolic.deadproof` proves that with Z3
for each revision, so a revision that starts reading one of these values
simply runs without the reduction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.lang.dead import Assumption, DeadValue, assuming, dead_when
from checker.lang.view import StateView
from models.v9.constants import (
    C_CLEANUP,
    C_FINISH,
    C_FLUSH,
    C_SIGNAL,
    ITEM_KICK,
    ITEM_SOCK,
    LEN_LARGE,
    MUTEX_WORKER,
    OP_RELEASE,
    SOCK_NONE,
    W_BOOKKEEP,
    W_EMPTY,
    W_ERR_ROLLBACK,
    W_GET,
    W_IDLE,
    W_LOCK,
    W_REDISABLE,
    W_SEND_FAILED,
    W_SENDMSG,
    W_SENT,
    W_SIGNAL,
    W_STOPPED,
    W_WMEM,
)
from models.v9.state import V9State

UBUFS_DEAD_PCS = (W_SIGNAL, W_GET, W_EMPTY, W_REDISABLE, W_BOOKKEEP)
"""handle_tx's loop before the bookkeeping sets ``ubufs`` for this iteration."""

LOOP_PCS = (W_SIGNAL, W_GET, W_EMPTY, W_REDISABLE, W_BOOKKEEP, W_SENDMSG, W_SENT,
            W_SEND_FAILED, W_ERR_ROLLBACK)
"""handle_tx's loop, run holding vq->mutex."""

ROLLBACK_PCS = (W_BOOKKEEP, W_SENDMSG, W_SENT, W_SEND_FAILED, W_ERR_ROLLBACK)
"""handle_tx between vhost_get_vq_desc and the end of the iteration: ``head`` is in use
and the sendmsg error path may still vhost_discard_vq_desc it."""


class DeadValues(V9State):
    """``dead_values()`` for the v9 model and its revisions."""

    # -- windows ----------------------------------------------------------------
    def in_pending_window(self, s: StateView, i: int) -> Any:
        """heads[i] lies in [done_idx, upend_idx) (mod UIO_MAXIOV): the slots
        vhost_zerocopy_signal_used walks; or it will after the sendmsg error path's
        ``vq->upend_idx = ((unsigned)vq->upend_idx - 1) % UIO_MAXIOV`` (which, from
        upend_idx == done_idx, makes every other slot pending)."""
        m = self.p.uio_maxiov
        now = (i - s.done + m) % m < (s.upend - s.done + m) % m
        rolled = (i - s.done + m) % m < (s.upend - 1 - s.done + 2 * m) % m
        rollback = s.all(s.w_zcopy, s.w_pc != W_BOOKKEEP, self.may_rollback(s))
        return s.any(now, s.all(rollback, rolled))

    def in_iteration(self, s: StateView) -> Any:
        """handle_tx is between vhost_get_vq_desc and the end of the iteration."""
        return s.any(*(s.w_pc == pc for pc in ROLLBACK_PCS))

    def may_rollback(self, s: StateView) -> Any:
        """handle_tx holds a head vhost_discard_vq_desc may still give back: sendmsg is
        still to fail (a failure is left) or has failed (tun: inside sendmsg, or after)."""
        before = s.all(s.fail_left > 0, s.any(*(s.w_pc == pc for pc in ROLLBACK_PCS[:3])))
        return s.any(before, s.w_pc == W_SEND_FAILED, s.w_pc == W_ERR_ROLLBACK)

    def avail_live(self, s: StateView, i: int) -> Any:
        """avail[i] can still be read by vhost_get_vq_desc: it lies in
        [last_avail_idx, avail->idx), or it is the entry just fetched, which a
        rollback (``vhost_discard_vq_desc``) exposes again."""
        n = self.p.ring_size
        in_window = (i - s.last_avail + n) % n < s.avail_cnt
        exposed = s.all(self.may_rollback(s), i == (s.last_avail + n - 1) % n)
        return s.any(in_window, exposed)

    def ubuf_live(self, s: StateView, h: int) -> Any:
        """ubuf_info[h] is read by a completion: an skb the lower device holds
        points at it, handle_tx is about to hand such an skb over, or (tun) the
        callback run inside a failing sendmsg has its wake_up still to make."""
        cap = self.p.device_capacity
        held = [s.all(k < s.skb_cnt, s.skb_head[k] == h) for k in range(cap)]
        pending = s.all(s.w_pc == W_SENDMSG, s.w_zcopy, s.w_len == LEN_LARGE,
                        s.w_head < self.p.uio_maxiov, s.w_head == h)
        waking = s.all(s.w_pc == W_SEND_FAILED, s.w_cb_wake, s.w_head == h)
        return s.any(pending, waking, *held)

    def desc_len_live(self, s: StateView, h: int) -> Any:
        """The length the guest wrote for descriptor ``h`` is read when vhost fetches
        ``h``: some live avail entry holds ``h``."""
        return s.any(*(s.all(self.avail_live(s, i), s.avail[i] == h)
                       for i in range(self.p.ring_size)))

    # -- the declarations ------------------------------------------------------------
    def dead_values(self) -> Sequence[DeadValue | Assumption]:
        return [*self.dead_value_assumptions(), *self.dead_value_declarations()]

    def dead_value_assumptions(self) -> list[Assumption]:
        """What the heads[] declaration needs of reachable states: only handle_tx walks
        [done_idx, upend_idx) while it may still roll upend_idx back."""
        def in_loop(s: StateView) -> Any:
            return s.any(*(s.w_pc == pc for pc in LOOP_PCS))

        def holds_mutex(s: StateView) -> Any:
            return s.implies(in_loop(s), s.vq_mutex == MUTEX_WORKER)

        def release_detached(s: StateView) -> Any:
            return s.implies(s.c_op == OP_RELEASE, s.backend == SOCK_NONE)

        def release_flushes_run(s: StateView) -> Any:
            busy = s.any(in_loop(s), s.w_pc == W_WMEM, s.w_pc == W_LOCK)
            flushed = s.any(s.all(s.w_item == ITEM_KICK, s.flush_kick > 0),
                            s.all(s.w_item == ITEM_SOCK, s.flush_sock > 0))
            return s.implies(s.all(s.c_op == OP_RELEASE, busy),
                             s.all(s.c_pc == C_FLUSH, flushed))

        def running_item(s: StateView) -> Any:
            return s.implies(s.all(s.w_pc != W_IDLE, s.w_pc != W_STOPPED), s.w_item != 0)

        def releasing(s: StateView) -> Any:
            late = s.any(s.c_pc == C_CLEANUP, s.c_pc == C_SIGNAL, s.c_pc == C_FINISH)
            return s.implies(late, s.c_op == OP_RELEASE)

        return [
            assuming("worker-runs-an-item", running_item,
                     "handle_tx runs on behalf of one work item"),
            assuming("cleanup-is-release", releasing,
                     "vhost_dev_cleanup's steps run only inside vhost_net_release"),
            assuming("loop-holds-mutex", holds_mutex,
                     "handle_tx runs its loop holding vq->mutex"),
            assuming("release-detached", release_detached,
                     "while closing, vq->private_data is NULL"),
            assuming("release-flushes-run", release_flushes_run,
                     "a handle_tx run that read the socket before release is one the "
                     "flush waits for"),
        ]

    def dead_value_declarations(self) -> list[DeadValue]:
        """Each dead value and when it is dead."""
        return [
            dead_when("heads_id", lambda s, i: s.neg(self.in_pending_window(s, i)),
                      why="vq->heads[i].id outside [done_idx, upend_idx)"),
            dead_when("heads_len", lambda s, i: s.neg(self.in_pending_window(s, i)),
                      why="vq->heads[i].len outside [done_idx, upend_idx)"),
            dead_when("ubuf_arg", lambda s, h: s.neg(self.ubuf_live(s, h)),
                      why="vq->ubuf_info[h].arg no held or pending skb uses"),
            dead_when("ubuf_desc", lambda s, h: s.neg(self.ubuf_live(s, h)),
                      why="vq->ubuf_info[h].desc no held or pending skb uses"),
            dead_when("avail", lambda s, i: s.neg(self.avail_live(s, i)),
                      why="avail ring entries outside [last_avail_idx, avail->idx) "
                          "(but the one a rollback can expose again)"),
            dead_when("desc_len", lambda s, h: s.neg(self.desc_len_live(s, h)),
                      why="length of a descriptor no live avail entry names"),
            dead_when("w_head", lambda s: s.neg(self.in_iteration(s)),
                      why="handle_tx's head outside get-desc .. end of iteration"),
            dead_when("w_len", lambda s: s.all(s.w_pc != W_BOOKKEEP, s.w_pc != W_SENDMSG),
                      why="handle_tx's len outside bookkeeping and sendmsg"),
            dead_when("w_sock", lambda s: s.all(s.w_pc != W_WMEM, s.w_pc != W_LOCK),
                      why="handle_tx's sock once zcopy = vhost_sock_zcopy(sock) is computed"),
            dead_when("w_wlow", lambda s: s.all(s.w_pc != W_WMEM, s.w_pc != W_LOCK),
                      why="handle_tx's wmem < sk_sndbuf / 2 once tested under vq->mutex"),
            dead_when("w_wfull", lambda s: s.any(*(s.w_pc == pc for pc in LOOP_PCS)),
                      why="handle_tx's wmem >= sk_sndbuf inside the loop (tested before it)"),
            dead_when("w_ubufs",
                      lambda s: s.all(s.w_zcopy, s.any(*(s.w_pc == pc for pc in UBUFS_DEAD_PCS))),
                      why="handle_tx's ubufs in a zero-copy run between iterations (set again "
                          "by the bookkeeping before sendmsg reads it)"),
        ]
