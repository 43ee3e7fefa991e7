"""Mutant m10: the sendmsg error path forgets to take back the heads[] slot.

Patch (handle_tx, ``if (unlikely(err < 0)) { if (zcopy) {``)::

    vq->upend_idx = ((unsigned)vq->upend_idx - 1) % UIO_MAXIOV;

Mutant: the statement is missing; the slot of the discarded head stays
between done_idx and upend_idx.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import W_ERR_ROLLBACK
from models.v9.state import WORKER


class ErrNoUpendRollback(V9):
    """v9 whose sendmsg error path leaves upend_idx advanced."""

    name = "m10-err-no-upend-rollback"
    description = "handle_tx: upend_idx not rolled back after a sendmsg error"

    @action(WORKER, "handle_tx",
            "(kref_put hit zero: wake_up(&ubufs->wait);) /* mutant: vq->upend_idx = "
            "((unsigned)vq->upend_idx - 1) % UIO_MAXIOV; missing */ } "
            "vhost_discard_vq_desc(vq, 1); tx_poll_start(net, sock); break;")
    def tx_sendmsg_err_rollback(self, s: StateView) -> None:
        s.require(s.w_pc == W_ERR_ROLLBACK)
        self.wake_up(s, s.w_ubufs, s.w_wake)
        s.last_avail = (s.last_avail + self.p.ring_size - 1) % self.p.ring_size
        s.avail_cnt = s.avail_cnt + 1
        s.inflight[s.w_head] = s.inflight[s.w_head] - 1
        self.tx_poll_start(s, s.w_sock_id)
        self.finish_run(s)
