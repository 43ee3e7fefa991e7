"""Mutant m26: vhost_net_set_backend swaps vq->ubufs without vq->mutex.

Patch (vhost_net_set_backend)::

    mutex_lock(&vq->mutex);
    ...
    oldubufs = vq->ubufs;
    vq->ubufs = ubufs;
    ...
    mutex_unlock(&vq->mutex);

Mutant: ``mutex_lock(&vq->mutex)`` / ``mutex_unlock`` missing around the swap
(only ``dev->mutex`` held), so it may run while handle_tx holds vq->mutex.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import C_IDLE, SOCK_COPY, SOCK_NONE, SOCK_ZC
from models.v9.control import SET_BACKEND
from models.v9.state import CONTROL


class SetBackendUnlocked(V9):
    """v9 whose backend change does not take vq->mutex."""

    name = "m26-set-backend-unlocked"
    description = "vhost_net_set_backend: vq->ubufs swapped without mutex_lock(&vq->mutex)"

    @action(CONTROL, SET_BACKEND,
            "/* mutant: mutex_lock(&vq->mutex) missing */ if (sock != oldsock) { "
            "ubufs = vhost_ubuf_alloc(vq, sock && vhost_sock_zcopy(sock)); oldubufs = vq->ubufs; "
            "vq->ubufs = ubufs; vhost_net_disable_vq(n, vq); "
            "rcu_assign_pointer(vq->private_data, sock); vhost_net_enable_vq(n, vq); }  "
            "/* new backend `to` */",
            over=lambda p: {"to": (SOCK_ZC, SOCK_COPY, SOCK_NONE)})
    def set_backend(self, s: StateView, to: int) -> None:
        s.require(s.all(s.c_pc == C_IDLE, s.changes_left > 0))  # mutant: vq_mutex not tested
        if to == SOCK_NONE:
            s.require(s.backend != SOCK_NONE)
        s.changes_left = s.changes_left - 1
        oldsock = s.backend != SOCK_NONE
        ubufs = self.ubuf_alloc(s, to == SOCK_ZC and self.p.zcopytx == 1)
        old = s.vq_ubufs
        s.vq_ubufs = ubufs
        self.disable_vq(s)
        s.backend = to
        self.enable_vq(s)
        self.after_swap(s, old, oldsock)
