"""The zero-copy TX path as it shipped in Linux 3.1.

It differs from PATCHv9 in four places; everything else is v9's:

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

4. ``vhost_net_set_backend`` initialises the used ring after the swap, and
   its error path returns at once::

       rcu_assign_pointer(vq->private_data, sock);
       vhost_net_enable_vq(n, vq);

       r = vhost_init_used(vq);
       if (r)
           goto err_vq;
       ...
   err_vq:
       mutex_unlock(&vq->mutex);
   err:
       mutex_unlock(&n->dev.mutex);
       return r;

   ``vhost_init_used`` returns 0 when ``vq->private_data`` is NULL, else the
   result of ``put_user`` on ``used->flags`` and ``get_user`` of
   ``used->idx`` (``-EFAULT`` when userspace's used ring is not mapped).
   On that path the new socket and ``vq->ubufs`` stay installed, but
   ``oldubufs`` is never put-and-waited (nor freed) and ``oldsock`` is
   neither flushed nor ``fput``: zero-copy skbs of the old socket stay
   outstanding with nothing waiting for them, so a later ``close()`` can
   free the device under them (``--init-used-failures``; FINDINGS, V3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
    SOCK_COPY,
    SOCK_ZC,
)
from models.v9.control import PUT_AND_WAIT, SET_BACKEND
from models.v9.state import CONTROL

C_SB_SIGNAL = len(C_PC_NAMES)  # set_backend: signal used under vq->mutex after put-and-wait


class V3_1(V9):
    """Linux 3.1: kref_init only, wrap-aware VHOST_MAX_PEND, signal after backend change."""

    name = "v3.1"
    description = "the zero-copy TX path as merged in Linux 3.1"
    presentation = replace(V9.presentation, value_names={
        **V9.presentation.value_names, "c_pc": (*C_PC_NAMES, "set-backend-signal")})

    def declare(self, p: Params) -> Sequence[Var]:
        """v9's state; the control program counter gains the step after put-and-wait,
        and a budget of vhost_init_used failures."""
        widened = int_var("c_pc", 0, C_SB_SIGNAL, "control program counter")
        budget = int_var("init_used_left", 0, p.init_used_failures,
                         "vhost_init_used failures left")
        return [widened if v.name == "c_pc" else v for v in super().declare(p)] + [budget]

    def init(self, s: StateView) -> None:
        """v9's initial state (its vhost_init_used succeeded), and the failure budget."""
        super().init(s)
        s.init_used_left = self.p.init_used_failures

    @action(CONTROL, SET_BACKEND,
            "mutex_lock(&vq->mutex); if (sock != oldsock) { ubufs = vhost_ubuf_alloc(...); "
            "oldubufs = vq->ubufs; vq->ubufs = ubufs; vhost_net_disable_vq(n, vq); "
            "rcu_assign_pointer(vq->private_data, sock); vhost_net_enable_vq(n, vq); "
            "r = vhost_init_used(vq); if (r) goto err_vq; } ... err_vq: "
            "mutex_unlock(&vq->mutex); err: mutex_unlock(&n->dev.mutex); return r; "
            "/* new backend `to`; oldubufs and oldsock are left as they are */",
            over=lambda p: {"to": (SOCK_ZC, SOCK_COPY)}, adds=True,
            fairness=None)  # it starts a userspace call, which is never forced
    def set_backend_init_used_fails(self, s: StateView, to: int) -> None:
        s.require(s.all(s.c_pc == C_IDLE, s.changes_left > 0, s.vq_mutex == MUTEX_FREE,
                        s.init_used_left > 0))
        s.init_used_left = s.init_used_left - 1
        self.swap_backend(s, to)
        s.c_fput = 0  # oldsock is never fput: vhost's reference to it leaks

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
