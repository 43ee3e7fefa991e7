"""Mutant m20: the completion callback forgets to drop the skb's reference.

Patch (vhost_zerocopy_callback)::

    vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;
    kref_put(&ubufs->kref, vhost_zerocopy_done_signal);

Mutant::

    vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import MEM_UAF_VQ, VHOST_DMA_DONE_LEN


class CallbackNoKrefPut(V9):
    """v9 whose completion callback keeps the skb's reference."""

    name = "m20-callback-no-kref-put"
    description = "vhost_zerocopy_callback: kref_put(&ubufs->kref, ...) missing"

    def zerocopy_callback(self, s: StateView, head: Any, when: Any = True) -> Any:
        """vhost_zerocopy_callback, mutated (the module docstring)."""
        ubufs = s.ubuf_arg[head]
        desc = s.ubuf_desc[head]
        ok = s.all(when, self.touch_ubufs(s, ubufs, when))
        self.mem_error(s, s.all(ok, s.dev_freed), MEM_UAF_VQ)
        ok = s.all(ok, s.neg(s.dev_freed))
        s.heads_len.set_if(ok, desc, VHOST_DMA_DONE_LEN)
        return s.all(ok, False)  # mutant: kref_put(&ubufs->kref, ...) missing
