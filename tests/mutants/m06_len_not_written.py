"""Mutant m06: the large-buffer branch forgets to write heads[upend_idx].len.

Patch (handle_tx, zero-copy branch, large buffer)::

    vq->heads[vq->upend_idx].len = len;

Mutant: the statement is missing, so the slot keeps whatever length it
held before (the model's in-progress class LEN_IN_FLIGHT is never written).
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import (
    LEN_LARGE,
    MEM_UBUF_INFO_OOB,
    USE_SLOT_REUSED,
    USE_UBUF_REUSED,
    VHOST_DMA_DONE_LEN,
    W_BOOKKEEP,
    W_SENDMSG,
)
from models.v9.state import WORKER


class LenNotWritten(V9):
    """v9 whose handle_tx leaves heads[upend_idx].len stale for a zero-copy buffer."""

    name = "m06-len-not-written"
    description = "handle_tx: vq->heads[vq->upend_idx].len = len; missing"

    @action(WORKER, "handle_tx",
            "vq->heads[vq->upend_idx].id = head; if (len < VHOST_GOODCOPY_LEN) { "
            "vq->heads[vq->upend_idx].len = VHOST_DMA_DONE_LEN; ubufs = NULL; } else { "
            "ubuf = &vq->ubuf_info[head]; /* mutant: heads[].len = len missing */ "
            "ubuf->arg = vq->ubufs; ubuf->desc = vq->upend_idx; ubufs = vq->ubufs; "
            "kref_get(&ubufs->kref); } vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV;")
    def tx_zerocopy_bookkeeping(self, s: StateView) -> None:
        s.require(s.w_pc == W_BOOKKEEP)
        head, slot = s.w_head, s.upend
        large = s.w_len == LEN_LARGE
        self.use_error(s, self.slot_dma(s, slot), USE_SLOT_REUSED)
        s.heads_id[slot] = head
        s.heads_len[slot] = s.ite(large, s.heads_len[slot], VHOST_DMA_DONE_LEN)  # mutant
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
