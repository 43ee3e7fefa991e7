"""``--signal-loop iteration``: handle_tx's vhost_zerocopy_signal_used one turn of its
loop per step (docs/model.md, abstraction 10), against the one-step ``call``."""

from __future__ import annotations

from typing import Any

import pytest

from checker.cli import main
from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic.bmc import run_bmc
from checker.engines.symbolic.kinduction import run_kind
from checker.lang.model import State
from checker.runs.catalog import select_properties
from checker.runs.replay import replay
from checker.semantics.states import as_dict, fire, from_dict, initial_state
from checker.traces.itf import to_itf
from models.v3_1 import V3_1
from models.v9 import V9
from models.v9.constants import (
    LEN_IN_FLIGHT,
    MUTEX_WORKER,
    SOCK_ZC,
    VHOST_DMA_CLEAR_LEN,
    VHOST_DMA_DONE_LEN,
    W_GET,
    W_SIGNAL,
)

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
SPEC = "specs/datapath_invariant.py"
LEMMAS = ["dp-environment", "dp-worker", "dp-heads", "dp-window", "dp-skbs", "dp-count"]


def at_signal(model: V9) -> State:
    """The worker at ``if (zcopy) vhost_zerocopy_signal_used(vq);`` with heads 0 and 1
    handed on (slots 0 and 1 done) and head 2 in flight in slot 2."""
    d = as_dict(model, initial_state(model))
    d.update(w_pc=W_SIGNAL, vq_mutex=MUTEX_WORKER, w_zcopy=True, w_sock=SOCK_ZC,
             w_sock_id=1, upend=3, done=0)
    for slot, length in enumerate((VHOST_DMA_DONE_LEN, VHOST_DMA_DONE_LEN, LEN_IN_FLIGHT)):
        d["heads_id"][slot] = slot
        d["heads_len"][slot] = length
        d["inflight"][slot] = 1
        d["g_owned"][slot] = False
    return from_dict(model, d)


def signal_step(model: V9, state: State) -> dict[str, Any]:
    nxt = fire(model, model.instance("tx_signal_used"), state)
    assert nxt is not None
    return as_dict(model, nxt)


def test_the_call_returns_every_done_head_in_one_step() -> None:
    model = V3_1({"ring_size": 4, **DATAPATH})
    after = signal_step(model, at_signal(model))
    assert (after["w_pc"], after["done"], after["used_cnt"]) == (W_GET, 2, 2)
    assert after["used"][:2] == [0, 1]


def test_each_turn_returns_one_head_and_the_last_turn_leaves_the_loop() -> None:
    model = V3_1({"ring_size": 4, "signal_loop": "iteration", **DATAPATH})
    first = signal_step(model, at_signal(model))
    assert (first["w_pc"], first["done"], first["used_cnt"]) == (W_SIGNAL, 1, 1)
    assert first["heads_len"][:2] == [VHOST_DMA_CLEAR_LEN, VHOST_DMA_DONE_LEN]
    second = signal_step(model, from_dict(model, first))
    assert (second["w_pc"], second["done"], second["used_cnt"]) == (W_SIGNAL, 2, 2)
    third = signal_step(model, from_dict(model, second))  # slot 2's DMA is not done
    assert (third["w_pc"], third["done"], third["used_cnt"]) == (W_GET, 2, 2)
    assert third["used"][:2] == [0, 1]


def test_an_unknown_signal_loop_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["check", "--ring-size", "1", "--signal-loop", "turns"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'turns' is not one of 'call', 'iteration'" in err[0]


def test_iteration_finds_v9s_violations_no_shorter() -> None:
    """The call's runs are the iteration's with the turns back to back, so each
    violation is found in both, and one turn at a time never finds it sooner."""
    props = select_properties(["memory-safe", "no-stuck-waiter"])
    found = {}
    for loop in ("call", "iteration"):
        res = ExplicitChecker(V9({"ring_size": 1, "signal_loop": loop}), props,
                              limits=Limits(max_depth=10)).run()
        found[loop] = {r.name: (r.status, len(r.trace) if r.trace else 0)
                       for r in res.properties}
    assert found["call"] == {"memory-safe": ("violated", 8), "no-stuck-waiter": ("violated", 3)}
    assert {k: v[0] for k, v in found["iteration"].items()} == \
        {"memory-safe": "violated", "no-stuck-waiter": "violated"}
    assert all(found["iteration"][k][1] >= n for k, (_, n) in found["call"].items())


def test_bmc_finds_the_same_violations_one_turn_at_a_time() -> None:
    """Engines agree on the finer model: BMC's shortest traces have the explicit
    search's lengths, and each replays."""
    model = V9({"ring_size": 1, "signal_loop": "iteration"})
    props = select_properties(["memory-safe", "no-stuck-waiter"])
    explicit = ExplicitChecker(model, props, limits=Limits(max_depth=10)).run()
    bmc = run_bmc(model, props, depth=10)
    lengths = {r.name: len(r.trace) for r in explicit.properties if r.trace}
    assert lengths == {r.name: len(r.trace) for r in bmc.properties if r.trace}
    assert len(lengths) == 2
    for r in bmc.properties:
        assert r.trace is not None
        assert replay(to_itf(model, r.trace)).ok


def test_iteration_reaches_more_states_on_the_data_path() -> None:
    counts = {}
    for loop in ("call", "iteration"):
        model = V3_1({"ring_size": 1, "signal_loop": loop, **DATAPATH})
        res = ExplicitChecker(model, select_properties(["no-double-use"])).run()
        assert res.complete and res.properties[0].status == "holds"
        counts[loop] = res.stats.states
    assert counts["call"] < counts["iteration"]


@pytest.mark.parametrize("ring", [1, 2])
def test_the_lemmas_prove_the_data_path_one_turn_at_a_time(ring: int) -> None:
    model = V3_1({"ring_size": ring, "signal_loop": "iteration", **DATAPATH})
    props = select_properties(["no-double-use", "memory-safe"], [SPEC])
    lemmas = select_properties(LEMMAS, [SPEC])
    res = run_kind(model, props, 1, strengthening=lemmas)
    assert [r.status for r in res.properties] == ["holds", "holds"]


@pytest.mark.slow
def test_the_lemmas_prove_the_data_path_at_ring_8_one_turn_at_a_time() -> None:
    """results/proofs.md's ring 8 row (about 7.5 minutes on two threads)."""
    model = V3_1({"ring_size": 8, "signal_loop": "iteration", **DATAPATH})
    props = select_properties(["no-double-use", "memory-safe"], [SPEC])
    res = run_kind(model, props, 1, strengthening=select_properties(LEMMAS, [SPEC]))
    assert [r.status for r in res.properties] == ["holds", "holds"]

