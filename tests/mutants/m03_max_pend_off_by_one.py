"""Mutant m03: off-by-one in the outstanding-DMA window test.

Patch (handle_tx, empty ring)::

    if (vq->upend_idx - vq->done_idx > VHOST_MAX_PEND) {

Mutant::

    if (vq->upend_idx - vq->done_idx >= VHOST_MAX_PEND) {
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9


class MaxPendOffByOne(V9):
    """v9 whose handle_tx backs off one outstanding DMA too early."""

    name = "m03-max-pend-off-by-one"
    description = "handle_tx: upend_idx - done_idx >= VHOST_MAX_PEND (was >)"

    def too_many_pending(self, s: StateView) -> Any:
        """(mutant) ``vq->upend_idx - vq->done_idx >= VHOST_MAX_PEND``"""
        return s.upend - s.done >= self.p.max_pend
