"""Mutant m12: the error path puts ubufs without checking it is set.

Patch (handle_tx, sendmsg error)::

    if (zcopy) {
        if (ubufs)
            vhost_ubuf_put(ubufs);

Mutant::

    if (zcopy) {
        vhost_ubuf_put(ubufs);

``ubufs`` is NULL after a small (copied) buffer.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import W_ERR_ROLLBACK
from models.v9.state import WORKER


class ErrPutWithoutNullCheck(V9):
    """v9 whose sendmsg error path calls vhost_ubuf_put on a NULL ubufs."""

    name = "m12-err-put-without-null-check"
    description = "handle_tx: if (ubufs) dropped before vhost_ubuf_put(ubufs)"

    @action(WORKER, "handle_tx",
            "if (unlikely(err < 0)) { if (zcopy) { vhost_ubuf_put(ubufs); /* mutant: "
            "if (ubufs) dropped */ ... (the kref_put decrement)")
    def tx_sendmsg_err(self, s: StateView) -> None:
        s.require(s.all(s.fail_left > 0, self.sendmsg_returns(s)))
        s.fail_left = s.fail_left - 1
        s.w_wake = self.kref_put(s, s.w_ubufs, s.w_zcopy)  # mutant: was w_zcopy && w_ubufs
        s.w_pc = W_ERR_ROLLBACK
