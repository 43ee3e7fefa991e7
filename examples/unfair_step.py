"""Deliberately wrong: a new step of the lower device that says nothing about fairness.

docs/extending.md ("Fairness for new steps") runs it to show the error: the
device is treated fairly in v9 (it eventually completes every skb), so a new
device step must declare ``fairness="weak"`` (or ``"strong"``), or
``fairness=None`` if the device may postpone it for ever.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.state import DEVICE


class SlowDevice(V9):
    """v9 whose lower device may also stall on a full queue."""

    name = "slow-device"

    @action(DEVICE, "netif_tx_stop_queue", "the lower device stops its queue", adds=True)
    def dev_stall(self, s: StateView) -> None:
        s.require(s.skb_cnt == self.p.device_capacity)
        s.nospace = True
