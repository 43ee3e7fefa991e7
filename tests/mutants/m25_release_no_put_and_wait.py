"""Mutant m25: vhost_dev_cleanup does not wait for the lower device's DMAs.

Patch (vhost_dev_cleanup)::

    /* Wait for all lower device DMAs done. */
    if (dev->vqs[i].ubufs)
        vhost_ubuf_put_and_wait(dev->vqs[i].ubufs);

    /* Signal guest as appropriate. */
    vhost_zerocopy_signal_used(&dev->vqs[i]);

Mutant: the first two statements are missing.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import C_CLEANUP, C_FLUSH, C_IDLE, C_SIGNAL, OP_RELEASE
from models.v9.state import CONTROL


class ReleaseNoPutAndWait(V9):
    """v9 whose device release goes straight from the flush to signalling used heads."""

    name = "m25-release-no-put-and-wait"
    description = "vhost_dev_cleanup: if (ubufs) vhost_ubuf_put_and_wait(ubufs); missing"

    @action(CONTROL, "vhost_poll_flush / vhost_net_flush_vq",
            "flush returns: every work run queued before the flush has finished; "
            "(release: /* mutant: if (dev->vqs[i].ubufs) vhost_ubuf_put_and_wait(...) "
            "missing */ vhost_zerocopy_signal_used next)")
    def flush_done(self, s: StateView) -> None:
        s.require(s.all(s.c_pc == C_FLUSH, s.flush_kick == 0, s.flush_sock == 0))
        release = s.c_op == OP_RELEASE
        s.c_pc = s.ite(release, s.ite(s.kick_poll, C_CLEANUP, C_SIGNAL), C_IDLE)  # mutant
        s.c_obj = s.ite(release, s.vq_ubufs, 0)
        s.c_op = s.ite(release, OP_RELEASE, 0)
        s.c_oldsock = False
