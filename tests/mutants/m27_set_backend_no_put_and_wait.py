"""Mutant m27: vhost_net_set_backend never puts the old vhost_ubuf_ref.

Patch (vhost_net_set_backend, after mutex_unlock(&vq->mutex))::

    if (oldubufs)
        vhost_ubuf_put_and_wait(oldubufs);

Mutant: the two lines are missing (the old object is never freed, and
the ioctl does not wait for its DMAs).
"""

from __future__ import annotations

from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import C_FLUSH, C_IDLE, OP_SET_BACKEND


class SetBackendNoPutAndWait(V9):
    """v9 whose backend change leaks the old vhost_ubuf_ref."""

    name = "m27-set-backend-no-put-and-wait"
    description = "vhost_net_set_backend: if (oldubufs) vhost_ubuf_put_and_wait(oldubufs); missing"

    def after_swap(self, s: StateView, old: object, oldsock: object) -> None:
        """(mutant) ``mutex_unlock(&vq->mutex); /* if (oldubufs)
        vhost_ubuf_put_and_wait(oldubufs); missing */ if (oldsock) { vhost_net_flush_vq(n,
        index); ... }``"""
        del old
        s.c_op = s.ite(oldsock, OP_SET_BACKEND, 0)
        s.c_obj = 0
        s.c_oldsock = False
        s.c_pc = s.ite(oldsock, C_FLUSH, C_IDLE)
        self.start_flush(s, oldsock)
