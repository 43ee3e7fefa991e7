"""The lower device: frees zero-copy skbs in any order, running the ubuf callback.

A completion runs in softirq context on any CPU, without ``vq->mutex``.
``kref_put`` is modeled as what it is: the atomic decrement, and then, as a
separate step, the release function's ``wake_up``.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9.kernel import KernelHelpers
from models.v9.state import DEVICE


class DeviceActions(KernelHelpers):
    """skb completion and the zero-copy callback."""

    @action(DEVICE, "vhost_zerocopy_callback (from the skb's destructor)",
            "skb `k` freed (sock_wfree: write space, wakes the socket poll if "
            "SOCK_ASYNC_NOSPACE); ubufs = ubuf->arg; vq = ubufs->vq; "
            "vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN; "
            "kref_put(&ubufs->kref, ...) (the decrement)",
            over=lambda p: {"k": range(p.device_capacity)})
    def dev_complete(self, s: StateView, k: int) -> None:
        s.require(k < s.skb_cnt)
        head = s.skb_head[k]
        sock = s.skb_sock[k]
        # The skb leaves the device: the later ones move down (arrival order kept).
        s.delete_at("skb_head", k)
        s.delete_at("skb_slot", k)
        s.delete_at("skb_sock", k)
        s.skb_cnt = s.skb_cnt - 1
        self.write_space(s, sock)
        ubufs = s.ubuf_arg[head]
        hit_zero = self.zerocopy_callback(s, head)
        s.capacity(s.implies(hit_zero, s.cb_wake[ubufs] < self.vars[self.var_index["cb_wake"]].hi),
                   "wake_ups owed by completions (cb_wake)")
        s.cb_wake.set_if(hit_zero, ubufs, s.cb_wake[ubufs] + 1)

    @action(DEVICE, "vhost_zerocopy_done_signal (release of kref_put)",
            "wake_up(&ubufs->wait);  /* ubufs is object `o` */",
            over=lambda p: {"o": range(1, p.max_backend_changes + 2)})
    def dev_done_signal(self, s: StateView, o: int) -> None:
        s.require(s.cb_wake[o] > 0)
        s.cb_wake[o] = s.cb_wake[o] - 1
        self.wake_up(s, o)
