"""The later upstream style: the zero-copy callback in an RCU read-side section, kfree_rcu.

Later kernels (vhost_net.c after 2013) run the whole callback inside
``rcu_read_lock_bh()`` ... ``rcu_read_unlock_bh()`` and drop the reference with
``vhost_net_ubuf_put``, whose ``wake_up(&ubufs->wait)`` follows the decrement
in the callback itself::

    rcu_read_lock_bh();
    vq->heads[ubuf->desc].len = success ? VHOST_DMA_DONE_LEN : VHOST_DMA_FAILED_LEN;
    cnt = vhost_net_ubuf_put(ubufs);   /* r = atomic_sub_return(1, ...); if (!r) wake_up(...) */
    ...
    rcu_read_unlock_bh();

This revision models that as three atomic steps (v9's ``dev_complete`` body
with the decrement held back; the decrement; the ``wake_up`` when it hit zero),
inside a read-side section of the CPU running it, and frees the
``vhost_ubuf_ref`` with ``kfree_rcu``: the free waits for every section in
progress, so the callback's ``wake_up`` never touches freed memory.
The walk-through is docs/extending.md.
"""

from __future__ import annotations

from typing import Any

from checker.lang.model import action
from checker.lang.rcu import RcuModel
from checker.lang.split import Context, part, split_step
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import OBJ_ALIVE, OBJ_FREED
from models.v9.control import PUT_AND_WAIT
from models.v9.state import CONTROL

CALLBACK = "vhost_zerocopy_callback -> vhost_net_ubuf_put"


def decrement(model: Any, s: StateView, ctx: Context) -> None:
    """``r = atomic_sub_return(1, &ubufs->refcount);`` -- on to the wake_up only if r == 0."""
    ctx.save("hit_zero", ctx.call())
    ctx.finish_if(s.neg(ctx.hit_zero))


def wake(model: Any, s: StateView, ctx: Context) -> None:
    """``if (unlikely(!r)) wake_up(&ubufs->wait);``"""
    model.wake_up(s, ctx.ubufs)


class RcuFix(RcuModel, V9):
    """v9 with the upstream RCU-protected callback and kfree_rcu of the vhost_ubuf_ref."""

    name = "rcu-fix"
    description = "callback under rcu_read_lock_bh, wake_up in the callback, kfree_rcu(ubufs)"

    rcu_readers = staticmethod(lambda p: p.device_capacity)  # one per callback context
    rcu_callbacks = ("kfree_ubufs",)
    rcu_arg_max = staticmethod(lambda m: m.n_objects)

    dev_complete, dev_complete_put, dev_complete_wake = split_step(
        V9.dev_complete, defer="kref_put",
        saved={"ubufs": lambda m: m.n_objects, "when": bool, "hit_zero": bool},
        parts=[part("dev_complete_put", CALLBACK, "r = atomic_sub_return(1, &ubufs->refcount);",
                    decrement, fairness="weak"),
               part("dev_complete_wake", CALLBACK,
                    "if (unlikely(!r)) wake_up(&ubufs->wait); ... rcu_read_unlock_bh();",
                    wake, fairness="weak")],
        contexts=lambda p: p.device_capacity)

    def split_enter(self, s: StateView, step: str, c: int) -> None:
        """``rcu_read_lock_bh();`` at the top of the callback (context ``c`` is reader ``c``)."""
        self.rcu_read_lock(s, c)

    def split_leave(self, s: StateView, step: str, c: int, when: Any) -> None:
        """``rcu_read_unlock_bh();`` when the callback returns."""
        self.rcu_read_unlock(s, c, when)

    @action(CONTROL, PUT_AND_WAIT, "kfree_rcu(ubufs, rcu);  /* freed after a grace period */")
    def put_and_wait_kfree(self, s: StateView) -> None:
        ubufs = s.c_obj
        super().put_and_wait_kfree(s)  # v9's step: kfree(ubufs), then set_backend/release go on
        s.obj[ubufs] = OBJ_ALIVE  # ... but the free itself waits for a grace period:
        self.call_rcu(s, "kfree_ubufs", ubufs)

    def kfree_ubufs(self, s: StateView, ubufs: Any, when: Any) -> None:
        """The kfree_rcu callback: ``kfree(ubufs)``."""
        s.obj.set_if(when, ubufs, OBJ_FREED)
