"""Mutant m01: handle_tx forgets the reference a zero-copy skb holds.

Patch (handle_tx, zero-copy branch)::

    ubufs = vq->ubufs;
    kref_get(&ubufs->kref);

Mutant::

    ubufs = vq->ubufs;
    /* kref_get dropped */

``kref_get`` is called only there, so the helper becomes a no-op.
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9 import V9


class NoKrefGet(V9):
    """v9 whose handle_tx does not take a reference for a zero-copy skb."""

    name = "m01-no-kref-get"
    description = "handle_tx: kref_get(&ubufs->kref) dropped"

    def kref_get(self, s: StateView, ubufs: Any, when: Any = True) -> None:
        """(mutant) ``kref_get(&ubufs->kref);`` dropped: nothing happens."""
