"""rcu_fix.py plus the release side: synchronize_rcu() before the device is freed.

Upstream ``vhost_net_release`` waits for every callback still in its
read-side section before it frees the device::

    /* Make sure no callbacks are outstanding */
    synchronize_rcu_bh();
    ...
    kfree(n);

This file builds on the revision *file* rcu_fix.py (``extends``, resolved
relative to this file) and changes two steps of release, each calling v9's
body.  The walk-through is docs/extending.md.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.revision import extends
from checker.lang.view import StateView
from models.v9.control import CLEANUP
from models.v9.state import CONTROL

RcuFix = extends("rcu_fix.py")


class RcuRelease(RcuFix):  # type: ignore[misc, valid-type]
    """rcu-fix whose release waits for a grace period before kfree(n)."""

    name = "rcu-release"
    description = "rcu-fix with synchronize_rcu_bh() in vhost_net_release (docs/extending.md)"

    @action(CONTROL, CLEANUP, "vhost_zerocopy_signal_used(&dev->vqs[i]); ... "
            "synchronize_rcu_bh();  /* begins: waits for the sections in progress */")
    def cleanup_signal_used(self, s: StateView) -> None:
        super().cleanup_signal_used(s)
        self.synchronize_rcu_start(s)

    @action(CONTROL, CLEANUP, "synchronize_rcu_bh() returns; vhost_vq_reset ...; "
            "kthread_stop(dev->worker); vhost_net_flush(n); kfree(n);")
    def cleanup_finish(self, s: StateView) -> None:
        s.require(self.rcu_synchronized(s))
        super().cleanup_finish(s)
        self.synchronize_rcu_done(s)
