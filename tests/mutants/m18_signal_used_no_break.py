"""Mutant m18: vhost_zerocopy_signal_used does not stop at a slot still under DMA.

Patch (vhost_zerocopy_signal_used)::

    if ((vq->heads[i].len == VHOST_DMA_DONE_LEN)) {
        ...
    } else
        break;

Mutant: ``else break;`` is missing; every done slot up to upend_idx is
returned, and done_idx jumps over the ones still in flight.
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import VHOST_DMA_CLEAR_LEN, VHOST_DMA_DONE_LEN


class SignalUsedNoBreak(V9):
    """v9 whose vhost_zerocopy_signal_used skips slots still under DMA."""

    name = "m18-signal-used-no-break"
    description = "vhost_zerocopy_signal_used: else break; missing (returns done heads out of order)"

    def zerocopy_signal_used(self, s: StateView, when: Any = True) -> None:
        """(mutant) vhost_zerocopy_signal_used::

            for (i = vq->done_idx; i != vq->upend_idx; i = (i + 1) % UIO_MAXIOV) {
                if ((vq->heads[i].len == VHOST_DMA_DONE_LEN)) {
                    vq->heads[i].len = VHOST_DMA_CLEAR_LEN;
                    vhost_add_used_and_signal(vq->dev, vq, vq->heads[i].id, 0);
                    ++j;
                }   /* mutant: else break; missing */
            }
            if (j)
                vq->done_idx = i;
        """
        m = self.p.uio_maxiov
        i = s.done
        going = when
        any_done = False
        for _ in range(m):
            going = s.all(going, i != s.upend)
            if not s.symbolic and not going:
                break
            done = s.all(going, s.heads_len[i] == VHOST_DMA_DONE_LEN)
            s.heads_len.set_if(done, i, VHOST_DMA_CLEAR_LEN)
            self.add_used_and_signal(s, s.heads_id[i], done)
            any_done = s.any(any_done, done)
            i = s.ite(going, (i + 1) % m, i)
        s.done = s.ite(any_done, i, s.done)
