"""Regression tests for results/FINDINGS.md: stored traces replay, findings reproduce."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from checker.engines.explicit.search import ExplicitChecker
from checker.runs.catalog import load_revision, select_properties
from checker.runs.replay import replay

REFERENCE = Path(__file__).resolve().parent / "reference_traces"
STORED = sorted(REFERENCE.glob("*.itf.json"))
"""One curated trace per finding of results/FINDINGS.md (made by regenerate.sh there)."""
DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}


def test_every_finding_has_a_reference_trace() -> None:
    names = {p.name.removesuffix(".itf.json") for p in STORED}
    findings = {"F1", "F2", "F4", "F5", "F6", "F7", "L1", "L2", "L3"}  # F3 is withdrawn
    assert findings <= {n.split("-")[0] for n in names}
    assert "v3.1-put-and-wait-use-after-free" in names
    lassos = {p.name.split("-")[0] for p in STORED if "loop" in json.loads(p.read_text())}
    assert lassos == {"L1", "L2", "L3"}


@pytest.mark.parametrize("path", STORED, ids=lambda p: p.name)
def test_stored_trace_replays_and_violates(path: Path) -> None:
    result = replay(json.loads(path.read_text()))
    assert result.ok, result.messages[-1]
    assert result.violated_at_end is True


def shortest(prop: str, params: dict[str, Any], revision: str = "v9") -> tuple[int, str]:
    model = load_revision(revision)(params)
    res = ExplicitChecker(model, select_properties([prop])).run()
    (r,) = res.properties
    assert r.status == "violated" and r.trace is not None
    return len(r.trace), r.trace.explanation


def test_f1_put_and_wait_hangs_after_backend_change() -> None:
    length, why = shortest("no-stuck-waiter", {"ring_size": 1})
    assert length == 3
    assert "refcount 1" in why


def test_f1_release_hangs_too() -> None:
    params = {"ring_size": 1, "max_backend_changes": 0, "send_failures": 0}
    assert shortest("no-stuck-waiter", params)[0] == 8


def test_f2_null_ubufs_after_backend_change() -> None:
    length, why = shortest("memory-safe", {"ring_size": 1})
    assert (length, why) == (8, "memory-safe: a NULL vhost_ubuf_ref was dereferenced")


def test_f3_withdrawn_macvtap_failure_never_reuses_a_slot() -> None:
    """F3 is withdrawn: macvtap attaches the ubuf only once sendmsg cannot fail, so the
    rollback is correct (the tun variant is in tests/test_environment.py)."""
    params = {"ring_size": 1, "max_backend_changes": 0, "release": "no"}
    res = ExplicitChecker(load_revision("v9")(params), select_properties(["no-double-use"])).run()
    assert res.complete and res.properties[0].status == "holds"


def test_f4_guest_stops_leak_at_ring_2() -> None:
    length, why = shortest("no-quiescent-leak", {"ring_size": 2, **DATAPATH})
    assert length == 14
    assert "heads [0] are held by vhost" in why


def test_f5_non_wrap_aware_max_pend_leak_at_ring_1() -> None:
    assert shortest("no-quiescent-leak", {"ring_size": 1, **DATAPATH})[0] == 47
    assert shortest("no-quiescent-leak", {"ring_size": 1, "uio_maxiov": 1, **DATAPATH})[0] == 15


def test_f6_ring_larger_than_uio_maxiov_is_out_of_bounds() -> None:
    length, why = shortest("memory-safe", {"ring_size": 2, "uio_maxiov": 1, **DATAPATH})
    assert length == 7
    assert "out of bounds" in why


def test_f7_rogue_guest_corrupts_ubuf_info() -> None:
    length, why = shortest("no-double-use", {"ring_size": 1, "guest": "rogue", **DATAPATH})
    assert length == 17
    assert "ubuf_info[head] was overwritten" in why


def lasso(prop: str, params: dict[str, Any], revision: str = "v9") -> tuple[int, int | None]:
    model = load_revision(revision)(params)
    (r,) = ExplicitChecker(model, select_properties([prop])).run().properties
    assert r.status == "violated" and r.trace is not None
    return len(r.trace), r.trace.loop


def holds(prop: str, params: dict[str, Any], revision: str = "v9") -> bool:
    model = load_revision(revision)(params)
    result = ExplicitChecker(model, select_properties([prop])).run()
    return result.complete and result.properties[0].status == "holds"


def test_l1_put_and_wait_hang_is_a_fair_lasso_under_every_switch() -> None:
    for switch, length in (({}, 5), ({"device_progress": "may-hold"}, 5),
                           ({"guest_progress": "keeps-posting"}, 9),
                           ({"guest_progress": "goes-idle"}, 5)):
        # the waiter sleeps forever once the queued work has run
        assert lasso("put-and-wait-terminates", {"ring_size": 1, **switch}) == (length, length)


def test_l2_handle_tx_busy_polls_while_the_device_holds_an_skb() -> None:
    params = {"ring_size": 1, **DATAPATH, "device_progress": "may-hold"}
    assert lasso("no-leak", params) == (22, 16)
    assert lasso("no-leak", params, "v3.1") == (22, 16)
    assert holds("no-leak", {"ring_size": 1, **DATAPATH}, "v3.1")


def test_l3_v3_1_release_waits_for_the_device() -> None:
    params = {"ring_size": 1, **DATAPATH, "release": "yes"}
    assert holds("put-and-wait-terminates", params, "v3.1")
    assert lasso("put-and-wait-terminates", {**params, "device_progress": "may-hold"},
                 "v3.1") == (18, 18)


RESULTS = Path(__file__).resolve().parent.parent / "results"
REPORT_LINK = re.compile(r"\(generated/reports/([\w.-]+)\.html\)")


def test_every_finding_links_a_report_that_regenerate_makes_from_a_reference_trace() -> None:
    linked = REPORT_LINK.findall((RESULTS / "FINDINGS.md").read_text())
    assert len(linked) >= 10  # F3 is withdrawn
    script = (RESULTS / "regenerate.sh").read_text()
    for name in linked:
        assert (REFERENCE / f"{name}.itf.json").is_file(), name
        assert re.search(rf"^{re.escape(name)} ", script, re.MULTILINE), name
