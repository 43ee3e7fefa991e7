"""Mutant m04: the window test compares against the wrong bound (one too many).

Patch (handle_tx, empty ring)::

    if (vq->upend_idx - vq->done_idx > VHOST_MAX_PEND) {

Mutant::

    if (vq->upend_idx - vq->done_idx > VHOST_MAX_PEND + 1) {
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9


class MaxPendTooLate(V9):
    """v9 whose handle_tx backs off one outstanding DMA too late."""

    name = "m04-max-pend-too-late"
    description = "handle_tx: upend_idx - done_idx > VHOST_MAX_PEND + 1"

    def too_many_pending(self, s: StateView) -> Any:
        """(mutant) ``vq->upend_idx - vq->done_idx > VHOST_MAX_PEND + 1``"""
        return s.upend - s.done > self.p.max_pend + 1
