"""Mutant m14: upend_idx wraps at the ring size instead of UIO_MAXIOV.

Patch (handle_tx, zero-copy branch)::

    vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV;

Mutant (wrong modulus)::

    vq->upend_idx = (vq->upend_idx + 1) % vq->num;
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import (
    LEN_IN_FLIGHT,
    LEN_LARGE,
    MEM_UBUF_INFO_OOB,
    USE_SLOT_REUSED,
    USE_UBUF_REUSED,
    VHOST_DMA_DONE_LEN,
    W_BOOKKEEP,
    W_SENDMSG,
)
from models.v9.state import WORKER


class UpendModNum(V9):
    """v9 whose upend_idx wraps at vq->num."""

    name = "m14-upend-mod-num"
    description = "handle_tx: upend_idx = (upend_idx + 1) % vq->num (was % UIO_MAXIOV)"

    @action(WORKER, "handle_tx",
            "vq->heads[vq->upend_idx].id = head; ... (as v9) ... "
            "vq->upend_idx = (vq->upend_idx + 1) % vq->num; /* mutant */")
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
        s.upend = (slot + 1) % self.p.ring_size  # mutant: was % uio_maxiov
        s.w_pc = W_SENDMSG
