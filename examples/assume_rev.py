"""An environment assumption, declared: macvtap fails a sendmsg only before the hand-off.

PATCHv9's error path puts the reference of a zero-copy skb even when the
lower device already holds that skb (the double put of docs/extending.md,
section 3).  Whether a real ``sendmsg`` can fail after handing the skb over
is a question about the environment, not about vhost: this revision states
the answer "never" as an assumption instead of hiding it in a guard of
``tx_sendmsg_err``.  ``vhostmc check`` lists it with the verdicts.
"""

from __future__ import annotations

from typing import Any

from checker.lang.assume import assume
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.constants import W_SENT


class EarlySendFailures(V9):
    """v9, run only where sendmsg fails before it hands an skb to the lower device."""

    name = "early-send-failures"
    description = "v9 assuming sendmsg never fails after the hand-off (docs/extending.md)"

    @assume("sendmsg-fails-before-handoff",
            "sendmsg returns an error only before it hands the skb to the lower device",
            actions=("tx_sendmsg_err",))
    def fails_before_handoff(self, s: StateView) -> Any:
        return s.w_pc != W_SENT
