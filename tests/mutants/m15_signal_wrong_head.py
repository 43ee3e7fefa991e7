"""Mutant m15: vhost_zerocopy_signal_used returns the wrong head.

Patch (vhost_zerocopy_signal_used)::

    vhost_add_used_and_signal(vq->dev, vq, vq->heads[i].id, 0);

Mutant (the loop's start index instead of the loop variable)::

    vhost_add_used_and_signal(vq->dev, vq, vq->heads[vq->done_idx].id, 0);
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import VHOST_DMA_CLEAR_LEN, VHOST_DMA_DONE_LEN


class SignalWrongHead(V9):
    """v9 whose vhost_zerocopy_signal_used returns heads[done_idx].id for every slot."""

    name = "m15-signal-wrong-head"
    description = "vhost_zerocopy_signal_used: add_used of heads[vq->done_idx].id (was heads[i].id)"

    def zerocopy_signal_used(self, s: StateView, when: Any = True) -> None:
        """(mutant) vhost_zerocopy_signal_used::

            for (i = vq->done_idx; i != vq->upend_idx; i = (i + 1) % UIO_MAXIOV) {
                if ((vq->heads[i].len == VHOST_DMA_DONE_LEN)) {
                    vq->heads[i].len = VHOST_DMA_CLEAR_LEN;
                    vhost_add_used_and_signal(vq->dev, vq, vq->heads[vq->done_idx].id, 0);
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
            s.heads_len.set_if(going, i, VHOST_DMA_CLEAR_LEN)
            self.add_used_and_signal(s, s.heads_id[s.done], going)  # mutant: was heads_id[i]
            i = s.ite(going, (i + 1) % m, i)
        s.done = i
