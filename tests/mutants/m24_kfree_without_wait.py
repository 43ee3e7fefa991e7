"""Mutant m24: vhost_ubuf_put_and_wait frees the object without waiting.

Patch (vhost_ubuf_put_and_wait)::

    kref_put(&ubufs->kref, vhost_zerocopy_done_signal);
    wait_event(ubufs->wait, !atomic_read(&ubufs->kref.refcount));
    kfree(ubufs);

Mutant::

    kref_put(&ubufs->kref, vhost_zerocopy_done_signal);
    kfree(ubufs);

(A put that hits zero still runs ``vhost_zerocopy_done_signal`` first.)
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import C_FREE, C_PUT, C_SELF_WAKE
from models.v9.control import PUT_AND_WAIT
from models.v9.state import CONTROL


class KfreeWithoutWait(V9):
    """v9 whose vhost_ubuf_put_and_wait does not wait for the refcount to reach zero."""

    name = "m24-kfree-without-wait"
    description = "vhost_ubuf_put_and_wait: wait_event missing between kref_put and kfree"

    @action(CONTROL, PUT_AND_WAIT, "kref_put(&ubufs->kref, vhost_zerocopy_done_signal); "
            "(the decrement) /* mutant: wait_event(...) missing: kfree(ubufs) next */")
    def put_and_wait_put(self, s: StateView) -> None:
        s.require(s.c_pc == C_PUT)
        hit_zero = self.kref_put(s, s.c_obj)
        s.c_pc = s.ite(hit_zero, C_SELF_WAKE, C_FREE)

    @action(CONTROL, "vhost_zerocopy_done_signal", "wake_up(&ubufs->wait);  /* own put hit "
            "zero; mutant: kfree(ubufs) next */")
    def put_and_wait_self_wake(self, s: StateView) -> None:
        s.require(s.c_pc == C_SELF_WAKE)
        s.c_pc = C_FREE
        self.wake_up(s, s.c_obj)
