"""Mutant m29: vhost_sock_zcopy ignores the zcopytx module parameter.

Patch (vhost_sock_zcopy, used by handle_tx and vhost_net_set_backend)::

    return unlikely(zcopytx) && sock_flag(sock->sk, SOCK_ZEROCOPY);

Mutant, in handle_tx only (an open-coded test that forgot the parameter)::

    zcopy = sock_flag(sock->sk, SOCK_ZEROCOPY);

so with ``zcopytx=0`` handle_tx takes the zero-copy path while
``vhost_ubuf_alloc`` returned NULL.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import MUTEX_FREE, MUTEX_WORKER, SOCK_ZC, W_LOCK, W_SIGNAL
from models.v9.state import WORKER


class ZcopyIgnoresModuleParam(V9):
    """v9 whose handle_tx chooses zero copy from the socket flag alone."""

    name = "m29-zcopy-ignores-module-param"
    description = "handle_tx: zcopy = sock_flag(sock->sk, SOCK_ZEROCOPY) (zcopytx not tested)"

    @action(WORKER, "handle_tx",
            "mutex_lock(&vq->mutex); vhost_disable_notify(&net->dev, vq); "
            "if (wmem < sock->sk->sk_sndbuf / 2) tx_poll_stop(net); "
            "zcopy = sock_flag(sock->sk, SOCK_ZEROCOPY); /* mutant: zcopytx not tested */")
    def tx_lock(self, s: StateView) -> None:
        s.require(s.all(s.w_pc == W_LOCK, s.neg(s.w_wfull), s.vq_mutex == MUTEX_FREE))
        s.vq_mutex = MUTEX_WORKER
        s.no_notify = True
        self.tx_poll_stop(s, s.w_wlow)
        self.touch_sock(s, s.w_sock_id)  # vhost_sock_zcopy: sock_flag(sock->sk, ...)
        s.w_zcopy = s.w_sock == SOCK_ZC  # mutant: was zcopytx == 1 && w_sock == SOCK_ZC
        s.w_pc = W_SIGNAL
