"""Kernel helpers the v9 actions call: kref, wait queues, polling, the used ring.

Each helper is the model of one kernel function and is written with the
expression layer only (``s.ite``, ``set_if``, ``when=`` conditions), so the
same code runs on concrete states and on Z3 terms.  ``when`` makes a call
conditional, as an ``if`` around it would in C.
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9.constants import (
    C_SLEEP,
    C_WAIT,
    ITEM_KICK,
    ITEM_SOCK,
    MEM_KREF_GET_ZERO,
    MEM_NULL_UBUFS,
    MEM_REFCOUNT_UNDERFLOW,
    MEM_UAF_SOCK,
    MEM_UAF_UBUFS,
    MEM_UAF_VQ,
    OBJ_ALIVE,
    OBJ_UNALLOCATED,
    POLL_DISABLED,
    POLL_STARTED,
    POLL_STOPPED,
    SOCKET_RELEASED,
    USE_RETURN_DURING_DMA,
    USE_RETURN_NOT_OUTSTANDING,
    USE_USED_RING_OVERFLOW,
    VHOST_DMA_CLEAR_LEN,
    VHOST_DMA_DONE_LEN,
    W_IDLE,
)
from models.v9.state import V9State


class KernelHelpers(V9State):
    """Models of the vhost, kref and wait-queue functions the patch calls."""

    # -- monitors ---------------------------------------------------------
    def use_error(self, s: StateView, cond: Any, code: int) -> None:
        """Record the first no-double-use error."""
        s.use_err = s.ite(s.all(cond, s.use_err == 0), code, s.use_err)

    def mem_error(self, s: StateView, cond: Any, code: int) -> None:
        """Record the first memory-safety error."""
        s.mem_err = s.ite(s.all(cond, s.mem_err == 0), code, s.mem_err)

    def dma_count(self, s: StateView, head: Any) -> Any:
        """skbs the lower device holds whose DMA reads descriptor ``head``."""
        return s.count(
            s.all(k < s.skb_cnt, s.skb_head[k] == head) for k in range(self.p.device_capacity)
        )

    def slot_dma(self, s: StateView, slot: Any) -> Any:
        """Whether an skb sent for heads[] slot ``slot`` is still held by the device."""
        return s.any(
            *(s.all(k < s.skb_cnt, s.skb_slot[k] == slot) for k in range(self.p.device_capacity))
        )

    def wmem(self, s: StateView, sock: Any) -> Any:
        """sk_wmem_alloc of socket ``sock`` in skbs (its zero-copy skbs the lower device holds)."""
        return s.count(
            s.all(k < s.skb_cnt, s.skb_sock[k] == sock) for k in range(self.p.device_capacity)
        )

    def writable(self, s: StateView, sock: Any) -> Any:
        """sock_writeable(): wmem < sk_sndbuf / 2 (always, for tap's INT_MAX sndbuf)."""
        if self.p.sndbuf == 0:
            return True
        return self.wmem(s, sock) < self.p.sndbuf // 2

    def touch_sock(self, s: StateView, sock: Any, when: Any = True) -> None:
        """Use socket ``sock`` (sock->sk, sock->ops, its wait queue): a use after vhost's
        fput is recorded (the fput is assumed to drop the last reference)."""
        self.mem_error(s, s.all(when, sock != 0, s.sock_state[sock] == SOCKET_RELEASED),
                       MEM_UAF_SOCK)

    # -- objects ------------------------------------------------------------
    def ubuf_alloc(self, s: StateView, zcopy: Any) -> Any:
        """vhost_ubuf_alloc: NULL without zero copy, else a new object with
        ``kref_init(&ubufs->kref); kref_get(&ubufs->kref);`` (refcount 2)."""
        fresh = 1 + s.count(s.obj[i] != OBJ_UNALLOCATED for i in range(1, self.n_objects + 1))
        s.capacity(s.implies(zcopy, fresh <= self.n_objects), "vhost_ubuf_ref objects")
        s.obj.set_if(zcopy, fresh, OBJ_ALIVE)
        s.rc.set_if(zcopy, fresh, self.initial_refcount())
        return s.ite(zcopy, fresh, 0)

    def initial_refcount(self) -> int:
        """kref_init (1) then kref_get (+1), as v9's vhost_ubuf_alloc does."""
        return 2

    def touch_ubufs(self, s: StateView, ubufs: Any, when: Any = True) -> Any:
        """Dereference ``ubufs``; record NULL or freed access. True when it is safe."""
        alive = s.all(ubufs != 0, s.obj[ubufs] == OBJ_ALIVE)
        self.mem_error(s, s.all(when, ubufs == 0), MEM_NULL_UBUFS)
        self.mem_error(s, s.all(when, ubufs != 0, s.obj[ubufs] != OBJ_ALIVE), MEM_UAF_UBUFS)
        return alive

    def kref_get(self, s: StateView, ubufs: Any, when: Any = True) -> None:
        """kref_get(&ubufs->kref): ``WARN_ON(!atomic_read(&kref->refcount));
        atomic_inc(&kref->refcount);``. A get at refcount 0 takes a reference on an
        object whose last reference is gone: recorded, and (like every faulting
        access) skipped, so a refcount reaches 0 at most once per object."""
        ok = s.all(when, self.touch_ubufs(s, ubufs, when))
        at_zero = s.all(ok, s.rc[ubufs] == 0)
        self.mem_error(s, at_zero, MEM_KREF_GET_ZERO)
        ok = s.all(ok, s.neg(at_zero))
        s.capacity(s.implies(ok, s.rc[ubufs] < self.vars[self.var_index["rc"]].hi), "refcount")
        s.rc.set_if(ok, ubufs, s.rc[ubufs] + 1)

    def kref_put(self, s: StateView, ubufs: Any, when: Any = True) -> Any:
        """The decrement of kref_put(&ubufs->kref, ...); returns whether it hit zero,
        i.e. whether the caller goes on to call vhost_zerocopy_done_signal."""
        ok = s.all(when, self.touch_ubufs(s, ubufs, when))
        new = s.rc[ubufs] - 1
        self.mem_error(s, s.all(ok, new < 0), MEM_REFCOUNT_UNDERFLOW)
        s.rc.set_if(s.all(ok, new >= -1), ubufs, new)
        return s.all(ok, new == 0)

    def wake_up(self, s: StateView, ubufs: Any, when: Any = True) -> None:
        """vhost_zerocopy_done_signal: wake_up(&ubufs->wait) (reads the object)."""
        ok = s.all(when, self.touch_ubufs(s, ubufs, when))
        asleep = s.all(ok, s.c_pc == C_SLEEP, s.c_obj == ubufs)
        s.c_pc = s.ite(asleep, C_WAIT, s.c_pc)

    # -- polling and work -------------------------------------------------
    def tx_poll_start(self, s: StateView, sock: Any, when: Any = True) -> None:
        """tx_poll_start(net, sock): only when STOPPED; ``vhost_poll_start(net->poll +
        VHOST_NET_VQ_TX, sock->file)`` registers the poll on ``sock``'s wait queue (the
        socket it is given, which for a stale handle_tx run is the old one); state
        becomes STARTED.

        ``vhost_poll_start`` calls the socket's poll, ``macvtap_poll``::

            if (sock_writeable(&q->sk) ||
                (!test_and_set_bit(SOCK_ASYNC_NOSPACE, &q->sock.flags) &&
                 sock_writeable(&q->sk)))
                    mask |= POLLOUT | POLLWRNORM;

        and queues the socket work at once when POLLOUT is in the mask. A
        socket that is not writable keeps SOCK_ASYNC_NOSPACE set, so the
        ``sk_write_space`` of a later skb free wakes the poll."""
        stopped = s.all(when, s.tx_poll == POLL_STOPPED)
        self.touch_sock(s, sock, stopped)
        writable = self.writable(s, sock)
        s.sock_q = s.any(s.sock_q, s.all(stopped, writable))
        s.nospace.set_if(s.all(stopped, s.neg(writable)), sock, True)
        s.poll_sock = s.ite(stopped, sock, s.poll_sock)
        s.tx_poll = s.ite(stopped, POLL_STARTED, s.tx_poll)

    def write_space(self, s: StateView, sock: Any) -> None:
        """An skb of socket ``sock`` is freed: ``sock_wfree`` lowers sk_wmem_alloc and calls
        ``sk->sk_write_space``, ``macvtap_sock_write_space``::

            if (!sock_writeable(sk) ||
                !test_and_clear_bit(SOCK_ASYNC_NOSPACE, &sk->sk_socket->flags))
                    return;
            ... wake_up_interruptible_poll(wqueue, POLLOUT | POLLWRNORM | POLLWRBAND);

        which reaches ``vhost_poll_wakeup`` (queues the socket work) only while
        the poll is registered (STARTED) on this socket's wait queue. Call it after
        the skb left the count. (The skb keeps the sock's memory alive, so this is
        no use after release.)"""
        wake = s.all(s.nospace[sock], self.writable(s, sock))
        s.nospace.set_if(wake, sock, False)
        s.sock_q = s.any(s.sock_q, s.all(wake, s.tx_poll == POLL_STARTED, s.poll_sock == sock))

    def zerocopy_callback(self, s: StateView, head: Any, when: Any = True) -> Any:
        """vhost_zerocopy_callback(&vq->ubuf_info[head]) up to kref_put's decrement::

            ubufs = ubuf->arg; vq = ubufs->vq;
            vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;
            kref_put(&ubufs->kref, vhost_zerocopy_done_signal);  /* the decrement */

        Returns whether the decrement hit zero (the release's wake_up is owed)."""
        ubufs = s.ubuf_arg[head]
        desc = s.ubuf_desc[head]
        ok = s.all(when, self.touch_ubufs(s, ubufs, when))
        self.mem_error(s, s.all(ok, s.dev_freed), MEM_UAF_VQ)
        ok = s.all(ok, s.neg(s.dev_freed))
        s.heads_len.set_if(ok, desc, VHOST_DMA_DONE_LEN)
        return self.kref_put(s, ubufs, ok)

    def tx_poll_stop(self, s: StateView, when: Any = True) -> None:
        """tx_poll_stop: only when STARTED: ``vhost_poll_stop`` removes the poll from the
        wait queue it was registered on (poll_sock's); state becomes STOPPED."""
        started = s.all(when, s.tx_poll == POLL_STARTED)
        self.touch_sock(s, s.poll_sock, started)
        s.tx_poll = s.ite(started, POLL_STOPPED, s.tx_poll)

    def disable_vq(self, s: StateView) -> None:
        """vhost_net_disable_vq (TX): ``if (!vq->private_data) return;
        tx_poll_stop(n); n->tx_poll_state = VHOST_NET_POLL_DISABLED;``"""
        has = s.backend != 0
        self.tx_poll_stop(s, has)
        s.tx_poll = s.ite(has, POLL_DISABLED, s.tx_poll)

    def enable_vq(self, s: StateView) -> None:
        """vhost_net_enable_vq (TX): ``sock = vq->private_data; if (!sock) return;
        n->tx_poll_state = VHOST_NET_POLL_STOPPED; tx_poll_start(n, sock);``"""
        has = s.backend != 0
        s.tx_poll = s.ite(has, POLL_STOPPED, s.tx_poll)
        self.tx_poll_start(s, s.backend_sock, has)

    def finish_run(self, s: StateView) -> None:
        """handle_tx returns: mutex_unlock if held; the work item's run is done."""
        s.vq_mutex = 0
        s.flush_kick = s.ite(s.all(s.w_item == ITEM_KICK, s.flush_kick > 0), s.flush_kick - 1,
                             s.flush_kick)
        s.flush_sock = s.ite(s.all(s.w_item == ITEM_SOCK, s.flush_sock > 0), s.flush_sock - 1,
                             s.flush_sock)
        s.w_pc = W_IDLE
        s.w_item = 0
        s.w_sock = 0
        s.w_sock_id = 0
        s.w_wfull = False
        s.w_wlow = False
        s.w_zcopy = False
        s.w_head = 0
        s.w_len = 0
        s.w_ubufs = 0
        s.w_wake = False
        s.w_cb_wake = False
        s.w_sent = 0

    def start_flush(self, s: StateView, when: Any = True) -> None:
        """vhost_poll_flush on both TX work items: wait for every run queued so far.
        A queued item needs one more run; a running one that was queued again, two."""
        kick = s.ite(s.kick_q, 1, 0) + s.ite(s.w_item == ITEM_KICK, 1, 0)
        sock = s.ite(s.sock_q, 1, 0) + s.ite(s.w_item == ITEM_SOCK, 1, 0)
        s.flush_kick = s.ite(when, kick, s.flush_kick)
        s.flush_sock = s.ite(when, sock, s.flush_sock)

    # -- used ring ------------------------------------------------------------
    def add_used_and_signal(self, s: StateView, head: Any, when: Any = True) -> None:
        """vhost_add_used_and_signal(dev, vq, head, 0): append to the used ring, signal."""
        self.use_error(s, s.all(when, s.inflight[head] == 0), USE_RETURN_NOT_OUTSTANDING)
        self.use_error(s, s.all(when, self.dma_count(s, head) > 0), USE_RETURN_DURING_DMA)
        full = s.used_cnt >= self.p.ring_size
        self.use_error(s, s.all(when, full), USE_USED_RING_OVERFLOW)
        s.used.set_if(s.all(when, s.neg(full)), s.used_cnt, head)
        s.used_cnt = s.ite(s.all(when, s.neg(full)), s.used_cnt + 1, s.used_cnt)
        s.inflight.set_if(s.all(when, s.inflight[head] > 0), head, s.inflight[head] - 1)

    def zerocopy_signal_used(self, s: StateView, when: Any = True) -> None:
        """vhost_zerocopy_signal_used: return heads from done_idx on while DMA done::

            for (i = vq->done_idx; i != vq->upend_idx; i = (i + 1) % UIO_MAXIOV) {
                if ((vq->heads[i].len == VHOST_DMA_DONE_LEN)) {
                    vq->heads[i].len = VHOST_DMA_CLEAR_LEN;
                    vhost_add_used_and_signal(vq->dev, vq, vq->heads[i].id, 0);
                    ++j;
                } else
                    break;
            }
            if (j)
                vq->done_idx = i;
        """
        m = self.p.uio_maxiov
        batch = min(m, self.p.signal_batch)
        i = s.done
        going = when
        for _ in range(batch):
            going = s.all(going, i != s.upend, s.heads_len[i] == VHOST_DMA_DONE_LEN)
            if not s.symbolic and not going:
                break
            self.return_done_head(s, i, going)
            i = s.ite(going, (i + 1) % m, i)
        if batch < m:
            more = s.all(going, i != s.upend, s.heads_len[i] == VHOST_DMA_DONE_LEN)
            s.capacity(s.neg(more), "heads one vhost_zerocopy_signal_used call returns "
                       "(--signal-batch)")
        s.done = i

    def return_done_head(self, s: StateView, i: Any, when: Any) -> None:
        """One turn of the loop's body: ``vq->heads[i].len = VHOST_DMA_CLEAR_LEN;
        vhost_add_used_and_signal(vq->dev, vq, vq->heads[i].id, 0);``"""
        s.heads_len.set_if(when, i, VHOST_DMA_CLEAR_LEN)
        self.add_used_and_signal(s, s.heads_id[i], when)

    def zerocopy_signal_next(self, s: StateView, when: Any = True) -> Any:
        """One turn of vhost_zerocopy_signal_used's loop, its index kept in ``done_idx``
        (``--signal-loop iteration``): returns whether the turn returned a head (else the
        loop has ended)."""
        going = s.all(when, s.done != s.upend, s.heads_len[s.done] == VHOST_DMA_DONE_LEN)
        self.return_done_head(s, s.done, going)
        s.done = s.ite(going, (s.done + 1) % self.p.uio_maxiov, s.done)
        return going
