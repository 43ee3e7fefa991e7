"""Mutant m23: vhost_ubuf_put_and_wait waits without putting its reference.

Patch (vhost_ubuf_put_and_wait)::

    kref_put(&ubufs->kref, vhost_zerocopy_done_signal);
    wait_event(ubufs->wait, !atomic_read(&ubufs->kref.refcount));
    kfree(ubufs);

Mutant::

    wait_event(ubufs->wait, !atomic_read(&ubufs->kref.refcount));
    kfree(ubufs);
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import C_PUT, C_WAIT
from models.v9.control import PUT_AND_WAIT
from models.v9.state import CONTROL


class PutAndWaitWithoutPut(V9):
    """v9 whose vhost_ubuf_put_and_wait forgets the kref_put."""

    name = "m23-put-and-wait-without-put"
    description = "vhost_ubuf_put_and_wait: kref_put missing before wait_event"

    @action(CONTROL, PUT_AND_WAIT, "/* mutant: kref_put(&ubufs->kref, "
            "vhost_zerocopy_done_signal); missing */")
    def put_and_wait_put(self, s: StateView) -> None:
        s.require(s.c_pc == C_PUT)
        s.c_pc = C_WAIT
