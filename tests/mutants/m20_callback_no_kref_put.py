"""Mutant m20: the completion callback forgets to drop the skb's reference.

Patch (vhost_zerocopy_callback)::

    vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;
    kref_put(&ubufs->kref, vhost_zerocopy_done_signal);

Mutant::

    vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import MEM_UAF_VQ, POLL_STARTED, VHOST_DMA_DONE_LEN
from models.v9.state import DEVICE


class CallbackNoKrefPut(V9):
    """v9 whose completion callback keeps the skb's reference."""

    name = "m20-callback-no-kref-put"
    description = "vhost_zerocopy_callback: kref_put(&ubufs->kref, ...) missing"

    @action(DEVICE, "vhost_zerocopy_callback (from the skb's destructor)",
            "ubufs = ubuf->arg; vq = ubufs->vq; vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN; /* mutant: kref_put(&ubufs->kref, vhost_zerocopy_done_signal); missing */",
            over=lambda p: {"k": range(p.device_capacity)})
    def dev_complete(self, s: StateView, k: int) -> None:
        cap = self.p.device_capacity
        s.require(k < s.skb_cnt)
        head = s.skb_head[k]
        s.skb_head = [s.ite(j >= k, s.skb_head[j + 1], s.skb_head[j]) if j + 1 < cap else
                      s.ite(j >= k, 0, s.skb_head[j]) for j in range(cap)]
        s.skb_slot = [s.ite(j >= k, s.skb_slot[j + 1], s.skb_slot[j]) if j + 1 < cap else
                      s.ite(j >= k, 0, s.skb_slot[j]) for j in range(cap)]
        s.skb_cnt = s.skb_cnt - 1
        wake = s.all(s.nospace, self.writable(s))
        s.nospace = s.ite(wake, False, s.nospace)
        s.sock_q = s.any(s.sock_q, s.all(wake, s.tx_poll == POLL_STARTED))
        ubufs = s.ubuf_arg[head]
        desc = s.ubuf_desc[head]
        ok = self.touch_ubufs(s, ubufs)
        self.mem_error(s, s.all(ok, s.dev_freed), MEM_UAF_VQ)
        ok = s.all(ok, s.neg(s.dev_freed))
        s.heads_len.set_if(ok, desc, VHOST_DMA_DONE_LEN)
        # mutant: kref_put missing
