"""Mutant m16: vhost_zerocopy_signal_used does not advance done_idx.

Patch (vhost_zerocopy_signal_used)::

    if (j)
        vq->done_idx = i;

Mutant: the two lines are missing.
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import VHOST_DMA_CLEAR_LEN, VHOST_DMA_DONE_LEN


class DoneIdxNotAdvanced(V9):
    """v9 whose vhost_zerocopy_signal_used never moves done_idx."""

    name = "m16-done-idx-not-advanced"
    description = "vhost_zerocopy_signal_used: if (j) vq->done_idx = i; missing"

    def zerocopy_signal_used(self, s: StateView, when: Any = True) -> None:
        """(mutant) vhost_zerocopy_signal_used::

            for (i = vq->done_idx; i != vq->upend_idx; i = (i + 1) % UIO_MAXIOV) {
                if ((vq->heads[i].len == VHOST_DMA_DONE_LEN)) {
                    vq->heads[i].len = VHOST_DMA_CLEAR_LEN;
                    vhost_add_used_and_signal(vq->dev, vq, vq->heads[i].id, 0);
                    ++j;
                } else
                    break;
            }
            /* mutant: if (j) vq->done_idx = i; missing */
        """
        m = self.p.uio_maxiov
        i = s.done
        going = when
        for _ in range(m):
            going = s.all(going, i != s.upend, s.heads_len[i] == VHOST_DMA_DONE_LEN)
            if not s.symbolic and not going:
                break
            s.heads_len.set_if(going, i, VHOST_DMA_CLEAR_LEN)
            self.add_used_and_signal(s, s.heads_id[i], going)
            i = s.ite(going, (i + 1) % m, i)
        # mutant: s.done = i missing
