"""Mutant m22: the completion callback indexes heads[] with the descriptor head.

Patch (vhost_zerocopy_callback)::

    vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;

Mutant (head and heads[] slot confused; ``ubuf - vq->ubuf_info`` is the head)::

    vq->heads[ubuf - vq->ubuf_info].len = VHOST_DMA_DONE_LEN;
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import MEM_UAF_VQ, VHOST_DMA_DONE_LEN


class CallbackWrongSlot(V9):
    """v9 whose completion callback indexes heads[] by the head, not the slot."""

    name = "m22-callback-wrong-slot"
    description = "vhost_zerocopy_callback: vq->heads[head].len (was heads[ubuf->desc].len)"

    def zerocopy_callback(self, s: StateView, head: Any, when: Any = True) -> Any:
        """vhost_zerocopy_callback, mutated (the module docstring)."""
        ubufs = s.ubuf_arg[head]
        ok = s.all(when, self.touch_ubufs(s, ubufs, when))
        self.mem_error(s, s.all(ok, s.dev_freed), MEM_UAF_VQ)
        ok = s.all(ok, s.neg(s.dev_freed))
        s.heads_len.set_if(ok, head, VHOST_DMA_DONE_LEN)  # mutant: was ubuf->desc
        return self.kref_put(s, ubufs, ok)
