"""Mutant m09: the sendmsg error path forgets vhost_discard_vq_desc.

Patch (handle_tx, ``if (unlikely(err < 0))``)::

    vhost_discard_vq_desc(vq, 1);
    tx_poll_start(net, sock);
    break;

Mutant::

    tx_poll_start(net, sock);
    break;

The head taken by ``vhost_get_vq_desc`` is neither sent nor put back.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import W_ERR_ROLLBACK
from models.v9.state import WORKER


class NoDiscardOnError(V9):
    """v9 whose sendmsg error path does not give the head back to the avail ring."""

    name = "m09-no-discard-on-error"
    description = "handle_tx: vhost_discard_vq_desc(vq, 1) missing after a sendmsg error"

    @action(WORKER, "handle_tx",
            "(kref_put hit zero: wake_up(&ubufs->wait);) vq->upend_idx = ((unsigned)vq->upend_idx "
            "- 1) % UIO_MAXIOV; } /* mutant: vhost_discard_vq_desc(vq, 1) missing */ "
            "tx_poll_start(net, sock); break;")
    def tx_sendmsg_err_rollback(self, s: StateView) -> None:
        s.require(s.w_pc == W_ERR_ROLLBACK)
        self.wake_up(s, s.w_ubufs, s.w_wake)
        m = self.p.uio_maxiov
        s.upend = s.ite(s.w_zcopy, (s.upend + m - 1) % m, s.upend)
        self.tx_poll_start(s, s.w_sock_id)
        self.finish_run(s)
