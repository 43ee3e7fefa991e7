"""Descriptor symmetry of the v9 model (and every revision of it).

The guest posts whichever descriptor it owns (``guest_post`` over every
head), so the heads ``0 .. num-1`` are interchangeable: renaming them by a
permutation, wherever a head is stored (the avail and used rings, heads[].id,
handle_tx's ``head``, the skb's ubuf_info entry) or indexes an array
(``g_owned``, ``desc_len``, ``ubuf_info[]``, the ``inflight`` monitor), maps
the reachable states onto themselves (docs/model.md, "Descriptor symmetry").
Ring positions and heads[] slots are not renamed, nor is the rogue guest's
"any head >= num" sentinel.  :mod:`checker.engines.symbolic.symproof` proves
the claim with Z3 for each revision and its parameters before ``--symmetry``
uses it.
"""

from __future__ import annotations

from typing import Any

from checker.lang.symmetry import SymmetricIds, ids_in, symmetric_ids
from checker.lang.view import StateView
from models.v9.dead import ROLLBACK_PCS
from models.v9.state import V9State


class DescriptorSymmetry(V9State):
    """``symmetric_ids()`` for the v9 model and its revisions."""

    def symmetric_ids(self) -> SymmetricIds | None:
        """Heads 0 .. ring size - 1 are interchangeable (module docstring)."""
        def in_used_ring(s: StateView, k: int) -> Any:
            return k < s.used_cnt

        def held_skb(s: StateView, k: int) -> Any:
            return k < s.skb_cnt

        def head_in_use(s: StateView) -> Any:
            return s.any(*(s.w_pc == pc for pc in ROLLBACK_PCS))

        return symmetric_ids(
            "descriptor", self.p.ring_size,
            values=["avail", ids_in("used", in_used_ring), "heads_id", ids_in("w_head", head_in_use),
                    ids_in("skb_head", held_skb)],
            indexed=["g_owned", "desc_len", "ubuf_arg", "ubuf_desc", "inflight"],
            action_args={"guest_post": ("h",), "guest_post_rogue": ("h",)},
            why="the guest posts any descriptor it owns; vhost treats every head alike",
        )
