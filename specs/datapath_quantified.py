"""The data path's lemmas written for any ring size: universal statements only.

The same facts as specs/datapath_invariant.py, restated so that a step case can prove
them at the kernel's ring size (docs/engines.md, "Toward ring 256"): every statement
over positions is an ``s.every`` (one quantifier on a quantifying engine, a loop
elsewhere), and none says "some place holds this head", which a counterexample's
Skolem constants cannot refute.  The bound on the lower device's skbs comes from their
arrival order (their slots' distances from ``done_idx`` grow with their position)
instead of a count of distinct slots, which is a pigeonhole argument.
"""

from __future__ import annotations

from typing import Any

from checker.lang.spec import invariant
from checker.lang.view import StateView
from models.v9.constants import LEN_IN_FLIGHT, W_BOOKKEEP
from specs.datapath_invariant import (
    distance,
    in_avail,
    in_window,
    last_slot,
    sending_large,
    window_length,
)


def held(s: StateView) -> Any:
    """The worker holds a head it fetched and has not yet written into ``heads[]``."""
    return s.w_pc == W_BOOKKEEP


@invariant("q-places", "a head in the avail or used ring is neither the guest's nor in flight; "
           "one in the window or the worker's hands is in flight once; the guest's are not")
def places(s: StateView) -> Any:
    n, m = s.p.ring_size, s.p.uio_maxiov

    def idle(h: Any) -> Any:
        return s.all(s.neg(s.g_owned[h]), s.inflight[h] == 0)

    def flying(h: Any) -> Any:
        return s.all(s.neg(s.g_owned[h]), s.inflight[h] == 1)

    return s.all(
        s.avail_cnt <= n,
        s.every(n, lambda p: s.implies(in_avail(s, p), s.all(
            s.avail[p] < n, idle(s.ite(s.avail[p] < n, s.avail[p], 0))))),
        s.every(n, lambda k: s.implies(k < s.used_cnt, idle(s.used[k]))),
        s.every(m, lambda i: s.implies(in_window(s, i), flying(s.heads_id[i]))),
        s.implies(held(s), flying(s.w_head)),
        s.every(n, lambda h: s.implies(s.g_owned[h], s.inflight[h] == 0)),
    )


@invariant("q-distinct", "no two entries of the avail ring, the used ring or the window, and "
           "not the worker's head and a window slot, hold the same head")
def distinct(s: StateView) -> Any:
    n, m = s.p.ring_size, s.p.uio_maxiov
    return s.all(
        s.every(n, lambda p: s.every(n, lambda q: s.implies(
            s.all(in_avail(s, p), in_avail(s, q), p != q), s.avail[p] != s.avail[q]))),
        s.every(n, lambda k: s.every(n, lambda j: s.implies(
            s.all(k < s.used_cnt, j < s.used_cnt, k != j), s.used[k] != s.used[j]))),
        s.every(n, lambda p: s.every(n, lambda k: s.implies(
            s.all(in_avail(s, p), k < s.used_cnt), s.avail[p] != s.used[k]))),
        s.every(m, lambda i: s.every(m, lambda j: s.implies(
            s.all(in_window(s, i), in_window(s, j), i != j), s.heads_id[i] != s.heads_id[j]))),
        s.every(m, lambda i: s.implies(s.all(in_window(s, i), held(s)),
                                       s.heads_id[i] != s.w_head)),
    )


@invariant("q-window", "the window is at most the ring size; each skb's slot is in it, in "
           "flight and not the one about to be sent, farther in the later the skb; a slot in "
           "flight has its head's ubuf_info pointing back at it")
def window(s: StateView) -> Any:
    n, m, cap = s.p.ring_size, s.p.uio_maxiov, s.p.device_capacity

    def slot_ok(k: Any) -> Any:
        slot = s.skb_slot[k]
        return s.all(in_window(s, slot), s.heads_len[slot] == LEN_IN_FLIGHT,
                     s.neg(s.all(sending_large(s), last_slot(s) == slot)))

    return s.all(
        window_length(s) <= n,
        s.every(cap, lambda k: s.implies(k < s.skb_cnt, slot_ok(k))),
        s.every(cap, lambda j: s.every(cap, lambda k: s.implies(
            s.all(j < k, k < s.skb_cnt),
            distance(s, s.skb_slot[k]) - distance(s, s.skb_slot[j]) >= k - j))),
        s.implies(s.skb_cnt > 0, distance(s, s.skb_slot[s.ite(s.skb_cnt > 0, s.skb_cnt - 1, 0)])
                  - distance(s, s.skb_slot[0]) >= s.skb_cnt - 1),
        s.every(m, lambda i: s.implies(
            s.all(in_window(s, i), s.heads_len[i] == LEN_IN_FLIGHT),
            s.all(s.ubuf_arg[s.heads_id[i]] == 1, s.ubuf_desc[s.heads_id[i]] == i))),
    )
