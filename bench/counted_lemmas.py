"""specs/datapath_invariant.py's ``dp-heads`` and ``dp-window`` written with counts, as
they were until 2026-12-02, for ``bench/lemmas.py --counted``: the same statements
("each head in exactly one place", "each in-flight slot owned by exactly one skb") as a
sum of bits per head and per slot, where the spec now says "no two ... and at least
one"."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checker.lang.spec import invariant
from checker.lang.view import StateView
from models.v9.constants import LEN_IN_FLIGHT
from specs.datapath_invariant import (
    in_avail,
    in_window,
    last_slot,
    sending_large,
    window_length,
    worker_holds,
)


@invariant("dp-heads-counted", "dp-heads, counting each head's places")
def heads_counted(s: StateView) -> Any:
    n, m = s.p.ring_size, s.p.uio_maxiov
    facts = [s.avail_cnt <= n]
    facts += [s.implies(in_avail(s, pos), s.avail[pos] < n) for pos in range(n)]
    for h in range(n):
        posted = s.count(s.all(in_avail(s, pos), s.avail[pos] == h) for pos in range(n))
        returned = s.count(s.all(k < s.used_cnt, s.used[k] == h) for k in range(n))
        handed = s.count(s.all(in_window(s, i), s.heads_id[i] == h) for i in range(m))
        facts.append(s.ite(s.g_owned[h], 1, 0) + posted + s.inflight[h] + returned == 1)
        facts.append(s.inflight[h] == s.ite(worker_holds(s, h), 1, 0) + handed)
    return s.all(*facts)


@invariant("dp-window-counted", "dp-window, counting each slot's skbs")
def window_counted(s: StateView) -> Any:
    n, m, cap = s.p.ring_size, s.p.uio_maxiov, s.p.device_capacity
    facts = [window_length(s) <= n]
    for i in range(m):
        skbs = s.count(s.all(k < s.skb_cnt, s.skb_slot[k] == i) for k in range(cap))
        flying = s.all(in_window(s, i), s.heads_len[i] == LEN_IN_FLIGHT)
        waiting = s.all(sending_large(s), last_slot(s) == i)
        head = s.heads_id[i]
        facts.append(skbs == s.ite(s.all(flying, s.neg(waiting)), 1, 0))
        facts.append(s.implies(flying, s.all(s.ubuf_arg[head] == 1, s.ubuf_desc[head] == i)))
    return s.all(*facts)
