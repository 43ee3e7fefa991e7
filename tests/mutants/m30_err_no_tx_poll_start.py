"""Mutant m30: the sendmsg error path does not restart the socket poll.

Patch (handle_tx, ``if (unlikely(err < 0))``)::

    vhost_discard_vq_desc(vq, 1);
    tx_poll_start(net, sock);
    break;

Mutant::

    vhost_discard_vq_desc(vq, 1);
    break;
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import W_ERR_ROLLBACK
from models.v9.state import WORKER


class ErrNoTxPollStart(V9):
    """v9 whose sendmsg error path leaves nothing to run handle_tx again."""

    name = "m30-err-no-tx-poll-start"
    description = "handle_tx: tx_poll_start(net, sock) missing after a sendmsg error"

    @action(WORKER, "handle_tx",
            "(kref_put hit zero: wake_up(&ubufs->wait);) vq->upend_idx = ((unsigned)vq->upend_idx "
            "- 1) % UIO_MAXIOV; } vhost_discard_vq_desc(vq, 1); /* mutant: tx_poll_start(net, "
            "sock); missing */ break;")
    def tx_sendmsg_err_rollback(self, s: StateView) -> None:
        s.require(s.w_pc == W_ERR_ROLLBACK)
        self.wake_up(s, s.w_ubufs, s.w_wake)
        m = self.p.uio_maxiov
        s.upend = s.ite(s.w_zcopy, (s.upend + m - 1) % m, s.upend)
        s.last_avail = (s.last_avail + self.p.ring_size - 1) % self.p.ring_size
        s.avail_cnt = s.avail_cnt + 1
        s.inflight[s.w_head] = s.inflight[s.w_head] - 1
        self.finish_run(s)
