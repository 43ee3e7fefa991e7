"""Userspace control: VHOST_NET_SET_BACKEND and close() of the device.

One control thread: ``dev->mutex`` serialises the ioctls, and release runs
after the last ioctl.  ``vhost_ubuf_put_and_wait`` and the work flush are
shared sub-sequences; ``c_op`` says where each returns to.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9.constants import (
    C_CLEANUP,
    C_DONE,
    C_FINISH,
    C_FLUSH,
    C_FREE,
    C_IDLE,
    C_PUT,
    C_SELF_WAKE,
    C_SIGNAL,
    C_SLEEP,
    C_WAIT,
    MUTEX_FREE,
    OBJ_FREED,
    OP_RELEASE,
    OP_SET_BACKEND,
    SOCK_COPY,
    SOCK_NONE,
    SOCK_ZC,
    SOCKET_HELD,
    SOCKET_RELEASED,
    SOCKET_UNOPENED,
    W_IDLE,
    W_STOPPED,
)
from models.v9.kernel import KernelHelpers
from models.v9.state import CONTROL

SET_BACKEND = "vhost_net_set_backend"
PUT_AND_WAIT = "vhost_ubuf_put_and_wait"
CLEANUP = "vhost_dev_cleanup"


class ControlActions(KernelHelpers):
    """The VMM's ioctls and close(), as far as the TX virtqueue sees them."""

    @action(CONTROL, SET_BACKEND,
            "mutex_lock(&vq->mutex); if (sock != oldsock) { ubufs = vhost_ubuf_alloc(vq, sock && "
            "vhost_sock_zcopy(sock)); oldubufs = vq->ubufs; vq->ubufs = ubufs; "
            "vhost_net_disable_vq(n, vq); rcu_assign_pointer(vq->private_data, sock); "
            "vhost_net_enable_vq(n, vq); } mutex_unlock(&vq->mutex);  /* new backend `to` */",
            over=lambda p: {"to": (SOCK_ZC, SOCK_COPY, SOCK_NONE)})
    def set_backend(self, s: StateView, to: int) -> None:
        s.require(s.all(s.c_pc == C_IDLE, s.changes_left > 0, s.vq_mutex == MUTEX_FREE))
        if to == SOCK_NONE:
            s.require(s.backend != SOCK_NONE)  # fd -1 over no backend: sock == oldsock
        old, oldsock = self.swap_backend(s, to)
        self.after_swap(s, old, oldsock)

    def swap_backend(self, s: StateView, to: int) -> tuple[object, object]:
        """The part of vhost_net_set_backend under vq->mutex, for new socket kind ``to``;
        returns (oldubufs, whether there was an old socket)."""
        s.changes_left = s.changes_left - 1
        oldsock = s.backend != SOCK_NONE
        s.c_fput = s.backend_sock
        ubufs = self.ubuf_alloc(s, to == SOCK_ZC and self.p.zcopytx == 1)
        old = s.vq_ubufs
        s.vq_ubufs = ubufs
        self.disable_vq(s)
        s.backend = to
        s.backend_sock = self.open_socket(s, to != SOCK_NONE)
        self.enable_vq(s)
        return old, oldsock

    def open_socket(self, s: StateView, when: object) -> object:
        """``sock = get_socket(fd)``: a socket never seen before (its id), or 0 for fd -1."""
        fresh = 1 + s.count(s.sock_state[i] != SOCKET_UNOPENED
                            for i in range(1, self.n_sockets + 1))
        s.capacity(s.implies(when, fresh <= self.n_sockets), "socket objects")
        s.sock_state.set_if(when, fresh, SOCKET_HELD)
        return s.ite(when, fresh, 0)

    def fput_socket(self, s: StateView, when: object = True) -> None:
        """``fput(sock->file)`` of the socket in ``c_fput`` (if any): vhost's reference goes."""
        drop = s.all(when, s.c_fput != 0)
        s.sock_state.set_if(drop, s.c_fput, SOCKET_RELEASED)
        s.c_fput = s.ite(when, 0, s.c_fput)

    def after_swap(self, s: StateView, old: object, oldsock: object) -> None:
        """mutex_unlock(&vq->mutex); if (oldubufs) vhost_ubuf_put_and_wait(oldubufs);
        if (oldsock) { vhost_net_flush_vq(n, index); ... }"""
        has_old = old != 0
        flush = s.all(s.neg(has_old), oldsock)
        idle = s.all(s.neg(has_old), s.neg(oldsock))
        s.c_fput = s.ite(oldsock, s.c_fput, 0)
        s.c_op = s.ite(idle, 0, OP_SET_BACKEND)
        s.c_obj = old
        s.c_oldsock = s.all(has_old, oldsock)
        s.c_pc = s.ite(has_old, C_PUT, s.ite(flush, C_FLUSH, C_IDLE))
        self.start_flush(s, flush)

    # -- vhost_ubuf_put_and_wait ---------------------------------------------------
    @action(CONTROL, PUT_AND_WAIT, "kref_put(&ubufs->kref, vhost_zerocopy_done_signal); "
            "(the decrement)")
    def put_and_wait_put(self, s: StateView) -> None:
        s.require(s.c_pc == C_PUT)
        hit_zero = self.kref_put(s, s.c_obj)
        s.c_pc = s.ite(hit_zero, C_SELF_WAKE, C_WAIT)

    @action(CONTROL, "vhost_zerocopy_done_signal", "wake_up(&ubufs->wait);  /* own put hit zero */")
    def put_and_wait_self_wake(self, s: StateView) -> None:
        s.require(s.c_pc == C_SELF_WAKE)
        s.c_pc = C_WAIT
        self.wake_up(s, s.c_obj)

    @action(CONTROL, PUT_AND_WAIT,
            "wait_event(ubufs->wait, !atomic_read(&ubufs->kref.refcount)): condition true")
    def put_and_wait_cond_true(self, s: StateView) -> None:
        s.require(s.all(s.c_pc == C_WAIT, s.rc[s.c_obj] == 0))
        self.touch_ubufs(s, s.c_obj)
        s.c_pc = C_FREE

    @action(CONTROL, PUT_AND_WAIT,
            "wait_event(ubufs->wait, !atomic_read(&ubufs->kref.refcount)): condition false, sleep "
            "until wake_up(&ubufs->wait)")
    def put_and_wait_sleep(self, s: StateView) -> None:
        s.require(s.all(s.c_pc == C_WAIT, s.rc[s.c_obj] != 0))
        self.touch_ubufs(s, s.c_obj)
        s.c_pc = C_SLEEP

    @action(CONTROL, PUT_AND_WAIT, "kfree(ubufs);")
    def put_and_wait_kfree(self, s: StateView) -> None:
        s.require(s.c_pc == C_FREE)
        s.obj[s.c_obj] = OBJ_FREED
        release = s.c_op == OP_RELEASE
        flush = s.all(s.neg(release), s.c_oldsock)
        s.c_pc = s.ite(release, C_SIGNAL, s.ite(flush, C_FLUSH, C_IDLE))
        s.c_op = s.ite(release, OP_RELEASE, s.ite(flush, OP_SET_BACKEND, 0))
        self.start_flush(s, flush)
        s.c_obj = s.ite(release, s.c_obj, 0)
        s.c_oldsock = False

    # -- flush -------------------------------------------------------------------
    @action(CONTROL, "vhost_poll_flush / vhost_net_flush_vq",
            "flush returns: every work run queued before the flush has finished; "
            "(set_backend: fput(oldsock->file); mutex_unlock(&n->dev.mutex))")
    def flush_done(self, s: StateView) -> None:
        s.require(s.all(s.c_pc == C_FLUSH, s.flush_kick == 0, s.flush_sock == 0))
        release = s.c_op == OP_RELEASE
        self.fput_socket(s, s.neg(release))
        # release flushes twice: after vhost_net_stop (kick poll still on), then in cleanup
        s.c_pc = s.ite(release, s.ite(s.kick_poll, C_CLEANUP,
                                      s.ite(s.vq_ubufs != 0, C_PUT, C_SIGNAL)), C_IDLE)
        s.c_obj = s.ite(release, s.vq_ubufs, 0)
        s.c_op = s.ite(release, OP_RELEASE, 0)
        s.c_oldsock = False

    # -- release -----------------------------------------------------------------
    @action(CONTROL, "vhost_net_release -> vhost_net_stop",
            "mutex_lock(&vq->mutex); vhost_net_disable_vq(n, vq); "
            "rcu_assign_pointer(vq->private_data, NULL); mutex_unlock(&vq->mutex); "
            "vhost_net_flush(n);")
    def release_stop(self, s: StateView) -> None:
        s.require(self.p.release == "yes")
        s.require(s.all(s.c_pc == C_IDLE, s.vq_mutex == MUTEX_FREE))
        self.disable_vq(s)
        s.backend = SOCK_NONE
        s.c_fput = s.backend_sock  # vhost_net_stop hands tx_sock back to vhost_net_release
        s.backend_sock = 0
        s.c_op = OP_RELEASE
        s.c_pc = C_FLUSH
        self.start_flush(s)

    @action(CONTROL, CLEANUP,
            "vhost_poll_stop(&dev->vqs[i].poll); vhost_poll_flush(&dev->vqs[i].poll);")
    def cleanup_poll_stop(self, s: StateView) -> None:
        s.require(s.c_pc == C_CLEANUP)
        s.kick_poll = False
        s.c_pc = C_FLUSH
        self.start_flush(s)

    @action(CONTROL, CLEANUP,
            "/* Signal guest as appropriate. */ vhost_zerocopy_signal_used(&dev->vqs[i]);")
    def cleanup_signal_used(self, s: StateView) -> None:
        s.require(s.c_pc == C_SIGNAL)
        self.zerocopy_signal_used(s)
        s.c_pc = C_FINISH
        s.c_obj = 0

    @action(CONTROL, CLEANUP,
            "vhost_vq_reset: vq->upend_idx = 0; vq->done_idx = 0; vq->ubufs = NULL; "
            "kthread_stop(dev->worker); (vhost_net_release:) if (tx_sock) "
            "fput(tx_sock->file); ... vhost_net_flush(n); kfree(n);")
    def cleanup_finish(self, s: StateView) -> None:
        s.require(s.all(s.c_pc == C_FINISH, s.w_pc == W_IDLE))
        self.fput_socket(s)
        s.upend = 0
        s.done = 0
        s.vq_ubufs = 0
        s.w_pc = W_STOPPED
        s.kick_q = False
        s.sock_q = False
        s.dev_freed = True
        s.c_pc = C_DONE
        s.c_op = 0

