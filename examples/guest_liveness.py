"""Liveness properties that depend on the guest: each flips with a --guest-progress switch.

    vhostmc check --spec examples/guest_liveness.py --ring-size 1 --initial-backend copy \
        --max-backend-changes 0 --release no --send-failures 0 [--guest-progress ...]

``guest-posts`` is violated when the guest may go quiet (the default) and
holds under ``keeps-posting``; ``worker-drains`` is violated while the guest
may post forever (the worker never gets to idle) and holds under ``goes-idle``.
"""

from __future__ import annotations

from typing import Any

from checker.lang.spec import eventually, leads_to
from checker.lang.view import StateView
from models.v9.constants import W_IDLE


@eventually("guest-posts", "the guest eventually posts a descriptor")
def guest_posts(s: StateView) -> Any:
    return s.any(*(s.neg(s.g_owned[h]) for h in range(s.p.ring_size)))


@leads_to("worker-drains", "after a post, the worker eventually drains the ring and idles")
def worker_drains(s: StateView) -> Any:
    drained = s.all(s.avail_cnt == 0, s.w_pc == W_IDLE, s.neg(s.kick_q), s.neg(s.sock_q))
    return s.avail_cnt > 0, drained
