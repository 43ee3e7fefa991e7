"""Mutant m11: the error path rolls upend_idx back modulo the ring size.

Patch (handle_tx, sendmsg error)::

    vq->upend_idx = ((unsigned)vq->upend_idx - 1) % UIO_MAXIOV;

Mutant (wrong modulus)::

    vq->upend_idx = ((unsigned)vq->upend_idx - 1) % vq->num;

The model writes the unsigned wrap as ``(upend + num - 1) % num``.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import W_ERR_ROLLBACK
from models.v9.state import WORKER


class RollbackModNum(V9):
    """v9 whose sendmsg error path wraps upend_idx at vq->num instead of UIO_MAXIOV."""

    name = "m11-rollback-mod-num"
    description = "handle_tx: upend_idx = (upend_idx - 1) % vq->num (was % UIO_MAXIOV)"

    @action(WORKER, "handle_tx",
            "(kref_put hit zero: wake_up(&ubufs->wait);) vq->upend_idx = ((unsigned)vq->upend_idx "
            "- 1) % vq->num; /* mutant */ } vhost_discard_vq_desc(vq, 1); "
            "tx_poll_start(net, sock); break;")
    def tx_sendmsg_err_rollback(self, s: StateView) -> None:
        s.require(s.w_pc == W_ERR_ROLLBACK)
        self.wake_up(s, s.w_ubufs, s.w_wake)
        n = self.p.ring_size
        s.upend = s.ite(s.w_zcopy, (s.upend + n - 1) % n, s.upend)  # mutant
        s.last_avail = (s.last_avail + self.p.ring_size - 1) % self.p.ring_size
        s.avail_cnt = s.avail_cnt + 1
        s.inflight[s.w_head] = s.inflight[s.w_head] - 1
        self.tx_poll_start(s, s.w_sock_id)
        self.finish_run(s)
