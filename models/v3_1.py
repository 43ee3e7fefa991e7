"""The zero-copy TX path as it shipped in Linux 3.1.

It differs from PATCHv9 in three places; everything else is v9's:

1. ``vhost_ubuf_alloc`` does ``kref_init(&ubufs->kref);`` only (no
   ``kref_get``): the refcount starts at 1.
2. ``handle_tx``'s empty-ring branch computes the pending count wrap-aware::

       num_pends = likely(vq->upend_idx >= vq->done_idx) ?
                   (vq->upend_idx - vq->done_idx) :
                   (vq->upend_idx + UIO_MAXIOV - vq->done_idx);
       if (unlikely(num_pends > VHOST_MAX_PEND)) { ... break; }

3. ``vhost_net_set_backend``, after put-and-wait on the old
   ``vhost_ubuf_ref``, signals the done buffers under the mutex::

       if (oldubufs) {
           vhost_ubuf_put_and_wait(oldubufs);
           mutex_lock(&vq->mutex);
           vhost_zerocopy_signal_used(vq);
           mutex_unlock(&vq->mutex);
       }
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.lang.model import Params, Var, action, int_var
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import (
    C_FLUSH,
    C_FREE,
    C_IDLE,
    C_PC_NAMES,
    C_SIGNAL,
    MUTEX_FREE,
    OBJ_FREED,
    OP_RELEASE,
    OP_SET_BACKEND,
)
from models.v9.control import PUT_AND_WAIT, SET_BACKEND
from models.v9.state import CONTROL

C_SB_SIGNAL = len(C_PC_NAMES)  # set_backend: signal used under vq->mutex after put-and-wait


class V3_1(V9):
    """Linux 3.1: kref_init only, wrap-aware VHOST_MAX_PEND, signal after backend change."""

    name = "v3.1"
    description = "the zero-copy TX path as merged in Linux 3.1"

    def declare(self, p: Params) -> Sequence[Var]:
        """v9's state; the control program counter gains the step after put-and-wait."""
        widened = int_var("c_pc", 0, C_SB_SIGNAL, "control program counter")
        return [widened if v.name == "c_pc" else v for v in super().declare(p)]

    def initial_refcount(self) -> int:
        """vhost_ubuf_alloc: ``kref_init(&ubufs->kref);`` only (refcount 1)."""
        return 1

    def too_many_pending(self, s: StateView) -> Any:
        """``num_pends = upend_idx >= done_idx ? upend_idx - done_idx :
        upend_idx + UIO_MAXIOV - done_idx; if (num_pends > VHOST_MAX_PEND)``"""
        m = self.p.uio_maxiov
        pends = s.ite(s.upend >= s.done, s.upend - s.done, s.upend + m - s.done)
        return pends > self.p.max_pend

    @action(CONTROL, PUT_AND_WAIT,
            "kfree(ubufs);  /* set_backend goes on: mutex_lock(&vq->mutex); "
            "vhost_zerocopy_signal_used(vq); mutex_unlock(&vq->mutex); */")
    def put_and_wait_kfree(self, s: StateView) -> None:
        s.require(s.c_pc == C_FREE)
        s.obj[s.c_obj] = OBJ_FREED
        release = s.c_op == OP_RELEASE
        s.c_pc = s.ite(release, C_SIGNAL, C_SB_SIGNAL)
        s.c_obj = s.ite(release, s.c_obj, 0)

    @action(CONTROL, SET_BACKEND,
            "if (oldubufs) { vhost_ubuf_put_and_wait(oldubufs); mutex_lock(&vq->mutex); "
            "vhost_zerocopy_signal_used(vq); mutex_unlock(&vq->mutex); }", adds=True)
    def set_backend_signal_used(self, s: StateView) -> None:
        s.require(s.all(s.c_pc == C_SB_SIGNAL, s.vq_mutex == MUTEX_FREE))
        self.zerocopy_signal_used(s)
        flush = s.c_oldsock
        s.c_pc = s.ite(flush, C_FLUSH, C_IDLE)
        s.c_op = s.ite(flush, OP_SET_BACKEND, 0)
        self.start_flush(s, flush)
        s.c_oldsock = False


MODEL = V3_1
