"""Mutant m17: vhost_zerocopy_signal_used does not clear a returned slot.

Patch (vhost_zerocopy_signal_used)::

    vq->heads[i].len = VHOST_DMA_CLEAR_LEN;

Mutant: the statement is missing; the slot stays VHOST_DMA_DONE_LEN.
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import VHOST_DMA_DONE_LEN


class SignalUsedNoClear(V9):
    """v9 whose vhost_zerocopy_signal_used leaves returned slots marked DMA-done."""

    name = "m17-signal-used-no-clear"
    description = "vhost_zerocopy_signal_used: heads[i].len = VHOST_DMA_CLEAR_LEN missing"

    def zerocopy_signal_used(self, s: StateView, when: Any = True) -> None:
        """(mutant) vhost_zerocopy_signal_used::

            for (i = vq->done_idx; i != vq->upend_idx; i = (i + 1) % UIO_MAXIOV) {
                if ((vq->heads[i].len == VHOST_DMA_DONE_LEN)) {
                    /* mutant: vq->heads[i].len = VHOST_DMA_CLEAR_LEN; missing */
                    vhost_add_used_and_signal(vq->dev, vq, vq->heads[i].id, 0);
                    ++j;
                } else
                    break;
            }
            if (j)
                vq->done_idx = i;
        """
        m = self.p.uio_maxiov
        i = s.done
        going = when
        for _ in range(m):
            going = s.all(going, i != s.upend, s.heads_len[i] == VHOST_DMA_DONE_LEN)
            if not s.symbolic and not going:
                break
            # mutant: heads_len[i] = VHOST_DMA_CLEAR_LEN missing
            self.add_used_and_signal(s, s.heads_id[i], going)
            i = s.ite(going, (i + 1) % m, i)
        s.done = i
