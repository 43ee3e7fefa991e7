"""Mutant m19: handle_tx never releases the DMA-done buffers.

Patch (handle_tx, top of the loop)::

    /* Release DMAs done buffers first */
    if (zcopy)
        vhost_zerocopy_signal_used(vq);

Mutant: the three lines are missing (done heads are only returned by
``vhost_dev_cleanup``).
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import W_GET, W_SIGNAL
from models.v9.state import WORKER


class NoSignalUsedInLoop(V9):
    """v9 whose handle_tx does not call vhost_zerocopy_signal_used."""

    name = "m19-no-signal-used-in-loop"
    description = "handle_tx: if (zcopy) vhost_zerocopy_signal_used(vq); missing"

    @action(WORKER, "handle_tx", "/* mutant: if (zcopy) vhost_zerocopy_signal_used(vq); missing */")
    def tx_signal_used(self, s: StateView) -> None:
        s.require(s.w_pc == W_SIGNAL)
        s.w_pc = W_GET
