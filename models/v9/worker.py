"""The vhost worker thread running ``handle_tx`` (drivers/vhost/net.c).

One action per atomic step of the code as the patch writes it.  Steps taken
while holding ``vq->mutex`` are merged where no other actor can observe the
difference (docs/model.md, "Atomic steps").
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9.constants import (
    ITEM_KICK,
    ITEM_SOCK,
    LEN_IN_FLIGHT,
    LEN_LARGE,
    MEM_UBUF_INFO_OOB,
    MUTEX_FREE,
    MUTEX_WORKER,
    SOCK_NONE,
    SOCK_ZC,
    USE_SLOT_REUSED,
    USE_UBUF_REUSED,
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
    W_WMEM,
)
from models.v9.kernel import KernelHelpers
from models.v9.state import SIGNAL_LOOP_ITERATION, WORKER

HANDLE_TX = "handle_tx"


class WorkerActions(KernelHelpers):
    """handle_tx, step by step."""

    # -- vhost_worker ---------------------------------------------------------
    @action(WORKER, "vhost_worker", "work = list_first_entry(...); work->fn(work): "
            "vq->poll (guest kick / weight requeue) runs handle_tx_kick -> handle_tx")
    def worker_run_kick(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_IDLE, s.kick_q))
        s.kick_q = False
        s.w_item = ITEM_KICK
        s.w_pc = W_READ_SOCK

    @action(WORKER, "vhost_worker", "work = list_first_entry(...); work->fn(work): "
            "net->poll[VHOST_NET_VQ_TX] (socket write space) runs handle_tx_net -> handle_tx")
    def worker_run_sock(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_IDLE, s.sock_q))
        s.sock_q = False
        s.w_item = ITEM_SOCK
        s.w_pc = W_READ_SOCK

    # -- handle_tx prologue -------------------------------------------------
    @action(WORKER, HANDLE_TX,
            "sock = rcu_dereference_check(vq->private_data, 1); if (!sock) return;")
    def tx_no_sock(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_READ_SOCK, s.backend == SOCK_NONE))
        self.finish_run(s)

    @action(WORKER, HANDLE_TX,
            "sock = rcu_dereference_check(vq->private_data, 1);  /* read without vq->mutex */")
    def tx_read_sock(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_READ_SOCK, s.backend != SOCK_NONE))
        s.w_sock = s.backend
        s.w_sock_id = s.backend_sock
        if self.p.sndbuf == 0:
            s.w_wlow = True
            s.w_pc = W_LOCK
        else:
            s.w_pc = W_WMEM

    @action(WORKER, HANDLE_TX, "wmem = atomic_read(&sock->sk->sk_wmem_alloc);")
    def tx_read_wmem(self, s: StateView) -> None:
        s.require(s.w_pc == W_WMEM)
        self.touch_sock(s, s.w_sock_id)
        wmem = self.wmem(s, s.w_sock_id)
        s.w_wfull = wmem >= self.p.sndbuf
        s.w_wlow = wmem < self.p.sndbuf // 2
        s.w_pc = W_LOCK

    @action(WORKER, HANDLE_TX,
            "if (wmem >= sock->sk->sk_sndbuf) { mutex_lock(&vq->mutex); "
            "tx_poll_start(net, sock); mutex_unlock(&vq->mutex); return; }")
    def tx_sndbuf_full(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_LOCK, s.w_wfull, s.vq_mutex == MUTEX_FREE))
        self.tx_poll_start(s, s.w_sock_id)
        self.finish_run(s)

    @action(WORKER, HANDLE_TX,
            "mutex_lock(&vq->mutex); vhost_disable_notify(&net->dev, vq); "
            "if (wmem < sock->sk->sk_sndbuf / 2) tx_poll_stop(net); "
            "zcopy = vhost_sock_zcopy(sock);")
    def tx_lock(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_LOCK, s.neg(s.w_wfull), s.vq_mutex == MUTEX_FREE))
        s.vq_mutex = MUTEX_WORKER
        s.no_notify = True
        self.tx_poll_stop(s, s.w_wlow)
        self.touch_sock(s, s.w_sock_id)  # vhost_sock_zcopy: sock_flag(sock->sk, ...)
        s.w_zcopy = s.all(self.p.zcopytx == 1, s.w_sock == SOCK_ZC)
        s.w_pc = W_SIGNAL

    # -- the loop ---------------------------------------------------------------
    @action(WORKER, HANDLE_TX,
            "/* Release DMAs done buffers first */ if (zcopy) vhost_zerocopy_signal_used(vq);  "
            "(--signal-loop iteration: one turn of its loop per step, i kept in done_idx)")
    def tx_signal_used(self, s: StateView) -> None:
        s.require(s.w_pc == W_SIGNAL)
        if self.p.signal_loop == SIGNAL_LOOP_ITERATION:
            returned = self.zerocopy_signal_next(s, s.w_zcopy)
            s.w_pc = s.ite(returned, W_SIGNAL, W_GET)
        else:
            self.zerocopy_signal_used(s, s.w_zcopy)
            s.w_pc = W_GET

    @action(WORKER, "vhost_get_vq_desc",
            "head = vhost_get_vq_desc(...) == vq->num: nothing new in the avail ring")
    def tx_get_desc_empty(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_GET, s.avail_cnt == 0))
        s.w_pc = W_EMPTY

    @action(WORKER, "vhost_get_vq_desc",
            "if ((u16)(vq->avail_idx - last_avail_idx) > vq->num) { vq_err(vq, \"Guest moved used "
            "index from %u to %u\", ...); return -EFAULT; } handle_tx: "
            "if (unlikely(head < 0)) break;")
    def tx_get_desc_bad_idx(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_GET, s.avail_cnt > self.p.ring_size))
        self.finish_run(s)

    @action(WORKER, "vhost_get_vq_desc",
            "head >= vq->num: vq_err, return -EINVAL; handle_tx: if (unlikely(head < 0)) break;")
    def tx_get_desc_bad_head(self, s: StateView) -> None:
        n = self.p.ring_size
        s.require(s.all(s.w_pc == W_GET, s.avail_cnt > 0, s.avail_cnt <= n,
                        s.avail[s.last_avail] >= n))
        self.finish_run(s)

    @action(WORKER, "vhost_get_vq_desc",
            "head = ring[last_avail_idx % num]; ++vq->last_avail_idx; "
            "len = iov_length(vq->iov, out);")
    def tx_get_desc_head(self, s: StateView) -> None:
        n = self.p.ring_size
        s.require(s.all(s.w_pc == W_GET, s.avail_cnt > 0, s.avail_cnt <= n,
                        s.avail[s.last_avail] < n))
        head = s.avail[s.last_avail]
        s.w_head = head
        s.w_len = s.desc_len[head]
        s.last_avail = (s.last_avail + 1) % n
        s.avail_cnt = s.avail_cnt - 1
        s.capacity(s.inflight[head] < self.vars[self.var_index["inflight"]].hi, "inflight")
        s.inflight[head] = s.inflight[head] + 1
        s.w_pc = s.ite(s.w_zcopy, W_BOOKKEEP, W_SENDMSG)

    # -- empty ring ----------------------------------------------------------------
    @action(WORKER, HANDLE_TX,
            "if (wmem >= sock->sk->sk_sndbuf * 3 / 4) { tx_poll_start(net, sock); "
            "set_bit(SOCK_ASYNC_NOSPACE, &sock->flags); break; }")
    def tx_empty_sndbuf(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_EMPTY, self.sndbuf_high(s)))
        self.tx_poll_start(s, s.w_sock_id)
        s.nospace[s.w_sock_id] = True
        self.finish_run(s)

    def sndbuf_high(self, s: StateView) -> object:
        """wmem >= sock->sk->sk_sndbuf * 3 / 4 (never, for tap's INT_MAX sndbuf)."""
        if self.p.sndbuf == 0:
            return False
        return self.wmem(s, s.w_sock_id) >= self.p.sndbuf * 3 // 4

    def too_many_pending(self, s: StateView) -> object:
        """v9: ``vq->upend_idx - vq->done_idx > VHOST_MAX_PEND`` (not wrap-aware)."""
        return s.upend - s.done > self.p.max_pend

    @action(WORKER, HANDLE_TX,
            "/* If more outstanding DMAs, queue the work */ "
            "if (vq->upend_idx - vq->done_idx > VHOST_MAX_PEND) { tx_poll_start(net, sock); "
            "set_bit(SOCK_ASYNC_NOSPACE, &sock->flags); break; }")
    def tx_empty_max_pend(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_EMPTY, s.neg(self.sndbuf_high(s)), self.too_many_pending(s)))
        self.tx_poll_start(s, s.w_sock_id)
        s.nospace[s.w_sock_id] = True
        self.finish_run(s)

    @action(WORKER, "vhost_enable_notify",
            "vhost_enable_notify(&net->dev, vq): clear VRING_USED_F_NO_NOTIFY, re-read avail->idx: "
            "the guest added buffers, so `continue`")
    def tx_enable_notify_more(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_EMPTY, s.neg(self.sndbuf_high(s)),
                        s.neg(self.too_many_pending(s)), s.avail_cnt > 0))
        s.no_notify = False
        s.w_pc = W_REDISABLE

    @action(WORKER, "vhost_enable_notify",
            "vhost_enable_notify(&net->dev, vq): clear VRING_USED_F_NO_NOTIFY, re-read avail->idx: "
            "nothing new, `break`; mutex_unlock(&vq->mutex)")
    def tx_enable_notify_done(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_EMPTY, s.neg(self.sndbuf_high(s)),
                        s.neg(self.too_many_pending(s)), s.avail_cnt == 0))
        s.no_notify = False
        self.finish_run(s)

    @action(WORKER, HANDLE_TX, "vhost_disable_notify(&net->dev, vq); continue;")
    def tx_redisable_notify(self, s: StateView) -> None:
        s.require(s.w_pc == W_REDISABLE)
        s.no_notify = True
        s.w_pc = W_SIGNAL

    # -- zero-copy bookkeeping -------------------------------------------------
    @action(WORKER, HANDLE_TX,
            "vq->heads[vq->upend_idx].id = head; if (len < VHOST_GOODCOPY_LEN) { "
            "vq->heads[vq->upend_idx].len = VHOST_DMA_DONE_LEN; ubufs = NULL; } else { "
            "ubuf = &vq->ubuf_info[head]; vq->heads[vq->upend_idx].len = len; "
            "ubuf->callback = vhost_zerocopy_callback; ubuf->arg = vq->ubufs; "
            "ubuf->desc = vq->upend_idx; ubufs = vq->ubufs; kref_get(&ubufs->kref); } "
            "vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV;")
    def tx_zerocopy_bookkeeping(self, s: StateView) -> None:
        s.require(s.w_pc == W_BOOKKEEP)
        head, slot = s.w_head, s.upend
        large = s.w_len == LEN_LARGE
        self.use_error(s, self.slot_dma(s, slot), USE_SLOT_REUSED)
        s.heads_id[slot] = head
        s.heads_len[slot] = s.ite(large, LEN_IN_FLIGHT, VHOST_DMA_DONE_LEN)
        in_bounds = head < self.p.uio_maxiov
        self.mem_error(s, s.all(large, s.neg(in_bounds)), MEM_UBUF_INFO_OOB)
        write = s.all(large, in_bounds)
        self.use_error(s, s.all(write, self.dma_count(s, head) > 0), USE_UBUF_REUSED)
        s.ubuf_arg.set_if(write, head, s.vq_ubufs)
        s.ubuf_desc.set_if(write, head, slot)
        s.w_ubufs = s.ite(large, s.vq_ubufs, 0)
        self.kref_get(s, s.vq_ubufs, large)
        s.upend = (slot + 1) % self.p.uio_maxiov
        s.w_pc = W_SENDMSG

    # -- sendmsg ------------------------------------------------------------------
    def zerocopy_skb(self, s: StateView) -> object:
        """The skb carries msg_control = ubuf: zero copy of a large buffer."""
        return s.all(s.w_zcopy, s.w_len == LEN_LARGE, s.w_head < self.p.uio_maxiov)

    @action(WORKER, "sock->ops->sendmsg (macvtap_get_user)",
            "err = sock->ops->sendmsg(NULL, sock, &msg, len): the skb is built; "
            "skb_shinfo(skb)->destructor_arg = m->msg_control; (the ubuf attached) "
            "macvlan_start_xmit(skb, vlan->dev); return total_len; -- the skb, pointing at the "
            "guest's pages and carrying ubuf_info[head], is the lower device's")
    def tx_sendmsg_handoff(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_SENDMSG, self.zerocopy_skb(s)))
        cap = self.p.device_capacity
        s.capacity(s.skb_cnt < cap, "skbs held by the lower device (--device-capacity)")
        self.touch_sock(s, s.w_sock_id)
        s.skb_head[s.skb_cnt] = s.w_head
        s.skb_sock[s.skb_cnt] = s.w_sock_id
        s.skb_slot[s.skb_cnt] = (s.upend + self.p.uio_maxiov - 1) % self.p.uio_maxiov
        s.skb_cnt = s.skb_cnt + 1
        s.w_pc = W_SENT

    def sendmsg_returns(self, s: StateView) -> object:
        """sendmsg may return: after the hand-off for a zero-copy skb, at once otherwise."""
        return s.any(s.w_pc == W_SENT, s.all(s.w_pc == W_SENDMSG, s.neg(self.zerocopy_skb(s))))

    def _sent_ok(self, s: StateView) -> None:
        s.require(self.sendmsg_returns(s))
        self.touch_sock(s, s.w_sock_id, s.w_pc == W_SENDMSG)  # a copy send: sendmsg now
        self.add_used_and_signal(s, s.w_head, s.neg(s.w_zcopy))
        s.w_sent = s.w_sent + 1

    @action(WORKER, HANDLE_TX,
            "sendmsg returned len; if (!zcopy) vhost_add_used_and_signal(&net->dev, vq, head, 0); "
            "total_len += len; (below VHOST_NET_WEIGHT: next iteration)")
    def tx_sendmsg_ok(self, s: StateView) -> None:
        s.require(s.w_sent + 1 < self.p.weight)
        self._sent_ok(s)
        s.w_pc = W_SIGNAL

    @action(WORKER, HANDLE_TX,
            "sendmsg returned len; if (!zcopy) vhost_add_used_and_signal(...); total_len += len; "
            "if (unlikely(total_len >= VHOST_NET_WEIGHT)) { vhost_poll_queue(&vq->poll); break; }")
    def tx_sendmsg_ok_weight(self, s: StateView) -> None:
        s.require(s.w_sent + 1 >= self.p.weight)
        self._sent_ok(s)
        s.kick_q = True
        self.finish_run(s)

    @action(WORKER, "sock->ops->sendmsg (--lower-device tun)",
            "err = sock->ops->sendmsg(...): the skb was built carrying the ubuf, then the send "
            "fails and kfree_skb(skb) runs inside sendmsg: sock_wfree (write space), then "
            "vhost_zerocopy_callback: ubufs = ubuf->arg; "
            "vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN; kref_put(&ubufs->kref, ...) "
            "(the decrement); the error is still to return")
    def tx_sendmsg_fail_skb_freed(self, s: StateView) -> None:
        if self.p.lower_device != "tun":
            s.require(False)  # macvtap attaches the ubuf only once nothing can fail
        s.require(s.all(s.w_pc == W_SENDMSG, self.zerocopy_skb(s), s.fail_left > 0))
        s.fail_left = s.fail_left - 1
        self.touch_sock(s, s.w_sock_id)
        self.write_space(s, s.w_sock_id)
        s.w_cb_wake = self.zerocopy_callback(s, s.w_head)
        s.w_pc = W_SEND_FAILED

    @action(WORKER, "vhost_zerocopy_done_signal (inside the failing sendmsg)",
            "the callback's kref_put hit zero: wake_up(&ubufs->wait);")
    def tx_sendmsg_fail_cb_wake(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_SEND_FAILED, s.w_cb_wake))
        s.w_cb_wake = False
        self.wake_up(s, s.ubuf_arg[s.w_head])

    @action(WORKER, HANDLE_TX,
            "err = sock->ops->sendmsg(...) < 0 with no skb carrying the ubuf (macvtap_get_user "
            "fails before destructor_arg is set: -EINVAL, -EMSGSIZE, -EFAULT, -ENOBUFS, -EAGAIN), "
            "or after tun freed it; if (unlikely(err < 0)) { if (zcopy) { if (ubufs) "
            "vhost_ubuf_put(ubufs); ... (the kref_put decrement)")
    def tx_sendmsg_err(self, s: StateView) -> None:
        early = s.all(s.w_pc == W_SENDMSG, s.fail_left > 0)
        s.require(s.any(early, s.all(s.w_pc == W_SEND_FAILED, s.neg(s.w_cb_wake))))
        s.fail_left = s.ite(early, s.fail_left - 1, s.fail_left)
        self.touch_sock(s, s.w_sock_id, early)
        s.w_wake = self.kref_put(s, s.w_ubufs, s.all(s.w_zcopy, s.w_ubufs != 0))
        s.w_pc = W_ERR_ROLLBACK

    def upend_rolled_back(self, s: StateView) -> object:
        """What C computes for ``((unsigned)vq->upend_idx - 1) % UIO_MAXIOV``.

        ``upend_idx`` is an ``int`` in [0, UIO_MAXIOV); the cast makes the
        subtraction and the ``%`` unsigned 32-bit: from 1 up it is
        ``upend_idx - 1``; at 0 it is ``4294967295 % UIO_MAXIOV``, which is
        ``UIO_MAXIOV - 1`` only when UIO_MAXIOV divides 2^32 (a power of two).
        The result is below UIO_MAXIOV, so storing it back into the ``int``
        keeps the value."""
        at_zero = (2**32 - 1) % self.p.uio_maxiov
        return s.ite(s.upend == 0, at_zero, s.upend - 1)

    @action(WORKER, HANDLE_TX,
            "(kref_put hit zero: vhost_zerocopy_done_signal: wake_up(&ubufs->wait);) "
            "vq->upend_idx = ((unsigned)vq->upend_idx - 1) % UIO_MAXIOV; } "
            "vhost_discard_vq_desc(vq, 1); tx_poll_start(net, sock); break;")
    def tx_sendmsg_err_rollback(self, s: StateView) -> None:
        s.require(s.w_pc == W_ERR_ROLLBACK)
        self.wake_up(s, s.w_ubufs, s.w_wake)
        s.upend = s.ite(s.w_zcopy, self.upend_rolled_back(s), s.upend)
        s.last_avail = (s.last_avail + self.p.ring_size - 1) % self.p.ring_size
        s.avail_cnt = s.avail_cnt + 1
        s.inflight[s.w_head] = s.inflight[s.w_head] - 1
        self.tx_poll_start(s, s.w_sock_id)
        self.finish_run(s)
