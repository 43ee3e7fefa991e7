"""Mutant m21: the completion callback forgets to mark the buffer DMA-done.

Patch (vhost_zerocopy_callback)::

    /* set len = 1 to mark this desc buffers done DMA */
    vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;
    kref_put(&ubufs->kref, vhost_zerocopy_done_signal);

Mutant::

    kref_put(&ubufs->kref, vhost_zerocopy_done_signal);
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import MEM_UAF_VQ


class CallbackNoDoneMark(V9):
    """v9 whose completion callback does not mark the slot DMA-done."""

    name = "m21-callback-no-done-mark"
    description = "vhost_zerocopy_callback: vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN; missing"

    def zerocopy_callback(self, s: StateView, head: Any, when: Any = True) -> Any:
        """vhost_zerocopy_callback, mutated (the module docstring)."""
        ubufs = s.ubuf_arg[head]
        ok = s.all(when, self.touch_ubufs(s, ubufs, when))
        self.mem_error(s, s.all(ok, s.dev_freed), MEM_UAF_VQ)
        ok = s.all(ok, s.neg(s.dev_freed))
        # mutant: vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN; missing
        return self.kref_put(s, ubufs, ok)
