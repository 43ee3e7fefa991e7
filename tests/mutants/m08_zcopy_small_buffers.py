"""Mutant m08: the copy threshold is inverted: small buffers go zero-copy, large are copied.

Patch (handle_tx, zero-copy branch)::

    if (len < VHOST_GOODCOPY_LEN) {
        /* copy don't need to wait for DMA done */
        vq->heads[vq->upend_idx].len = VHOST_DMA_DONE_LEN;
        msg.msg_control = NULL;
        ...
    } else {
        ... msg.msg_control = ubuf; ...

Mutant::

    if (len >= VHOST_GOODCOPY_LEN) {

The branch decides both the bookkeeping and whether ``msg_control`` carries
the ubuf, so the mutant overrides both the bookkeeping step and
``zerocopy_skb`` (which skb gets the ubuf).
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import (
    LEN_IN_FLIGHT,
    LEN_SMALL,
    MEM_UBUF_INFO_OOB,
    USE_SLOT_REUSED,
    USE_UBUF_REUSED,
    VHOST_DMA_DONE_LEN,
    W_BOOKKEEP,
    W_SENDMSG,
)
from models.v9.state import WORKER


class ZcopySmallBuffers(V9):
    """v9 with the VHOST_GOODCOPY_LEN test inverted."""

    name = "m08-zcopy-small-buffers"
    description = "handle_tx: if (len >= VHOST_GOODCOPY_LEN) (was <): small buffers zero-copied"

    def zerocopy_skb(self, s: StateView) -> object:
        """(mutant) msg_control = ubuf for a *small* buffer."""
        return s.all(s.w_zcopy, s.w_len == LEN_SMALL, s.w_head < self.p.uio_maxiov)

    @action(WORKER, "handle_tx",
            "vq->heads[vq->upend_idx].id = head; if (len >= VHOST_GOODCOPY_LEN) /* mutant */ { "
            "vq->heads[vq->upend_idx].len = VHOST_DMA_DONE_LEN; ubufs = NULL; } else { "
            "ubuf = &vq->ubuf_info[head]; vq->heads[vq->upend_idx].len = len; "
            "ubuf->arg = vq->ubufs; ubuf->desc = vq->upend_idx; ubufs = vq->ubufs; "
            "kref_get(&ubufs->kref); } vq->upend_idx = (vq->upend_idx + 1) % UIO_MAXIOV;")
    def tx_zerocopy_bookkeeping(self, s: StateView) -> None:
        s.require(s.w_pc == W_BOOKKEEP)
        head, slot = s.w_head, s.upend
        zc = s.w_len == LEN_SMALL  # mutant: was w_len == LEN_LARGE
        self.use_error(s, self.slot_dma(s, slot), USE_SLOT_REUSED)
        s.heads_id[slot] = head
        s.heads_len[slot] = s.ite(zc, LEN_IN_FLIGHT, VHOST_DMA_DONE_LEN)
        in_bounds = head < self.p.uio_maxiov
        self.mem_error(s, s.all(zc, s.neg(in_bounds)), MEM_UBUF_INFO_OOB)
        write = s.all(zc, in_bounds)
        self.use_error(s, s.all(write, self.dma_count(s, head) > 0), USE_UBUF_REUSED)
        s.ubuf_arg.set_if(write, head, s.vq_ubufs)
        s.ubuf_desc.set_if(write, head, slot)
        s.w_ubufs = s.ite(zc, s.vq_ubufs, 0)
        self.kref_get(s, s.vq_ubufs, zc)
        s.upend = (slot + 1) % self.p.uio_maxiov
        s.w_pc = W_SENDMSG
