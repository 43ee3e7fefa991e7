"""--signal-batch: how many heads one vhost_zerocopy_signal_used call may return."""

from __future__ import annotations

import pytest

from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.spec import properties_in
from models.v3_1 import V3_1
from models.v9 import V9
from specs import zerocopy

# A rogue guest reposts its one descriptor, so two zero-copy sends can be
# outstanding and both complete before the next signal_used call.
ROGUE_N1 = {"ring_size": 1, "guest": "rogue", "max_pend": 1, "max_backend_changes": 0,
            "release": "no", "send_failures": 0}


@pytest.mark.parametrize("values, batch", [
    ({"ring_size": 1}, 4), ({"ring_size": 8}, 32), ({"ring_size": 16}, 32), ({"ring_size": 256}, 32),
    ({"ring_size": 256, "uio_maxiov": 1024, "signal_batch": 1024}, 1024),
])
def test_default_is_uio_maxiov_at_most_32(values: dict, batch: int) -> None:
    assert V9(values).p.signal_batch == batch


def _run(values: dict) -> dict[str, str]:
    props = [p for p in properties_in(zerocopy) if p.name in ("no-double-use", "memory-safe")]
    res = ExplicitChecker(V3_1(values), props, limits=Limits()).run()
    return {"complete": str(res.complete), "bounds": ";".join(res.bounds_hit),
            **{p.name: p.status for p in res.properties}}


def test_a_call_returning_more_than_the_batch_stops_at_capacity() -> None:
    out = _run({**ROGUE_N1, "signal_batch": 1})
    assert out["complete"] == "False"
    assert out["bounds"] == ("model capacity: heads one vhost_zerocopy_signal_used call "
                             "returns (--signal-batch)")
    assert out["memory-safe"] == "inconclusive"
    assert out["no-double-use"] == "violated"  # F7, 17 steps, found before the cut


def test_the_default_batch_is_exact_below_32_entries() -> None:
    out = _run(ROGUE_N1)
    assert (out["complete"], out["bounds"]) == ("True", "")
    assert (out["memory-safe"], out["no-double-use"]) == ("holds", "violated")
