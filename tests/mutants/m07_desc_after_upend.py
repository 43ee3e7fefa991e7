"""Mutant m07: upend_idx is advanced before ubuf->desc is written.

Patch (handle_tx, zero-copy branch)::

    ubuf->desc = vq->upend_idx;
    ...
    vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV;

Mutant (the increment moved above the ubuf_info write)::

    vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV;
    ...
    ubuf->desc = vq->upend_idx;

so the completion marks the slot after the one the head sits in.
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


class DescAfterUpend(V9):
    """v9 whose ubuf->desc names the slot after the head's."""

    name = "m07-desc-after-upend"
    description = "handle_tx: upend_idx advanced before ubuf->desc = vq->upend_idx"

    @action(WORKER, "handle_tx",
            "vq->heads[vq->upend_idx].id = head; ... vq->heads[vq->upend_idx].len = len; "
            "vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV; /* mutant: moved up */ "
            "ubuf->arg = vq->ubufs; ubuf->desc = vq->upend_idx; ubufs = vq->ubufs; "
            "kref_get(&ubufs->kref);")
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
        s.ubuf_desc.set_if(write, head, (slot + 1) % self.p.uio_maxiov)  # mutant
        s.w_ubufs = s.ite(large, s.vq_ubufs, 0)
        self.kref_get(s, s.vq_ubufs, large)
        s.upend = (slot + 1) % self.p.uio_maxiov
        s.w_pc = W_SENDMSG
