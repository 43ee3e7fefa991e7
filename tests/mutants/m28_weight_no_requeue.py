"""Mutant m28: handle_tx stops at VHOST_NET_WEIGHT without requeueing itself.

Patch (handle_tx, context of the patch)::

    if (unlikely(total_len >= VHOST_NET_WEIGHT)) {
        vhost_poll_queue(&vq->poll);
        break;
    }

Mutant::

    if (unlikely(total_len >= VHOST_NET_WEIGHT)) {
        break;
    }
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.state import WORKER


class WeightNoRequeue(V9):
    """v9 whose handle_tx gives up its turn without queueing another run."""

    name = "m28-weight-no-requeue"
    description = "handle_tx: vhost_poll_queue(&vq->poll) missing at VHOST_NET_WEIGHT"

    @action(WORKER, "handle_tx",
            "sendmsg returned len; if (!zcopy) vhost_add_used_and_signal(...); total_len += len; "
            "if (unlikely(total_len >= VHOST_NET_WEIGHT)) { /* mutant: vhost_poll_queue("
            "&vq->poll); missing */ break; }")
    def tx_sendmsg_ok_weight(self, s: StateView) -> None:
        s.require(s.w_sent + 1 >= self.p.weight)
        self._sent_ok(s)
        self.finish_run(s)
