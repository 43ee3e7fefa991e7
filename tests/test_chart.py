"""The sequence chart of a counterexample: lanes, rows, interaction arrows, lasso, pictures."""

from __future__ import annotations

import pytest
from reference_models import Counter, x_not_bad

from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import Model
from checker.outputs.chart import render_chart, sequence_chart
from checker.runs.catalog import load_revision
from checker.semantics.states import fire, initial_state
from checker.traces.trace import Trace, build_trace
from models.v9.presentation import INTERACTIONS, WATCHED

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
KICK_TO_COMPLETION = [
    "guest_post(h=0, large=1)", "guest_kick", "worker_run_kick", "tx_read_sock", "tx_lock",
    "tx_signal_used", "tx_get_desc_head", "tx_zerocopy_bookkeeping", "tx_sendmsg_handoff",
    "dev_complete(k=0)",
]
"""A guest posts a zero-copy buffer and kicks; handle_tx sends it; the device completes it."""


def walk(model: Model, labels: list[str]) -> Trace:
    """The trace firing ``labels`` in order from the initial state."""
    state = initial_state(model)
    path = []
    for label in labels:
        inst = model.instance(label)
        nxt = fire(model, inst, state)
        assert nxt is not None, f"{label} is not enabled"
        path.append((inst, nxt))
        state = nxt
    return build_trace(model, "by-hand", initial_state(model), path, "by-hand: explained")


@pytest.fixture(scope="module")
def model() -> Model:
    return load_revision("v9")({"ring_size": 1})


@pytest.fixture(scope="module")
def trace(model: Model) -> Trace:
    return walk(model, KICK_TO_COMPLETION)


def arrows(chart_rows: list, step: int) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(a.source, a.target, a.label) for a in chart_rows[step - 1].arrows]


def test_lanes_are_the_actors_and_rows_the_steps(model: Model, trace: Trace) -> None:
    chart = sequence_chart(model, trace)
    assert chart.lanes == ("guest", "worker", "device", "control") == model.actors
    assert [(r.step, r.actor, r.action, r.function) for r in chart.rows] == [
        (s.index, s.actor, s.label, s.function) for s in trace.steps]
    assert chart.loop is None and chart.cycle_text is None
    assert not any(r.in_cycle for r in chart.rows)


def test_interactions_come_from_the_data(model: Model, trace: Trace) -> None:
    rows = sequence_chart(model, trace).rows
    assert arrows(rows, 2) == [("guest", "worker", "kick")]  # guest_kick sets kick_q
    assert rows[1].arrows[0].variables == ("kick_q",)
    assert arrows(rows, 9) == [("worker", "device", "sendmsg: skb")]  # skb_cnt 0 -> 1
    assert arrows(rows, 10) == [("device", "worker", "DMA done")]  # heads_len[0] -> 1
    assert rows[9].arrows[0].variables == ("heads_len[0]",)
    with_arrows = {r.step for r in rows if r.arrows}
    assert with_arrows == {2, 9, 10}


def test_rows_list_the_watched_changes(model: Model, trace: Trace) -> None:
    rows = sequence_chart(model, trace).rows
    assert rows[0].changes == ("avail_cnt: 0 -> 1",)
    assert rows[8].changes == ("skb_cnt: 0 -> 1",)
    assert "heads_len[0]: 2 -> 1" in rows[9].changes
    assert rows[1].changes == ()  # kick_q is shown by the arrow, not watched
    for row, step in zip(rows, trace.steps):
        watched = [n for n, _, _ in step.changes if n.split("[")[0] in WATCHED]
        assert [c.split(":")[0] for c in row.changes] == watched


def test_used_ring_and_wake_up_arrows(model: Model) -> None:
    # the worker returns a copied buffer: the used ring grows, a message to the guest
    copy = walk(model, ["guest_post(h=0, large=0)", "guest_kick", "worker_run_kick",
                        "tx_read_sock", "tx_lock", "tx_signal_used", "tx_get_desc_head",
                        "tx_zerocopy_bookkeeping", "tx_sendmsg_ok_weight", "worker_run_kick",
                        "tx_read_sock", "tx_lock", "tx_signal_used"])
    rows = sequence_chart(model, copy).rows
    used = [(r.step, a.source, a.target, a.label) for r in rows for a in r.arrows
            if a.label == "used"]
    assert used == [(13, "worker", "guest", "used")]
    assert "used_cnt: 0 -> 1" in rows[12].changes


def test_a_completion_wakes_the_sleeping_control_thread() -> None:
    # Linux 3.1: set_backend's put-and-wait sleeps until the last DMA completes
    merged = load_revision("v3.1")({"ring_size": 1})
    run = walk(merged, KICK_TO_COMPLETION[:-1] + [
        "tx_sendmsg_ok_weight", "set_backend(to=2)", "put_and_wait_put", "put_and_wait_sleep",
        "dev_complete(k=0)", "dev_done_signal(o=1)"])
    rows = sequence_chart(merged, run).rows
    assert arrows(rows, 15) == [("device", "control", "wake_up + done_signal")]
    assert set(rows[14].arrows[0].variables) == {"c_pc", "cb_wake[1]"}
    assert arrows(rows, 14) == [("device", "worker", "DMA done")]
    assert rows[13].changes == ("heads_len[0]: 2 -> 1", "rc[1]: 1 -> 0", "cb_wake[1]: 0 -> 1",
                                "skb_cnt: 1 -> 0")


def test_a_lasso_marks_the_cycle(model: Model, trace: Trace) -> None:
    lasso = walk(model, KICK_TO_COMPLETION)
    lasso.loop = 7
    chart = sequence_chart(model, lasso)
    assert [r.in_cycle for r in chart.rows] == [False] * 7 + [True] * 3
    assert chart.cycle_text == "cycle: steps 8..10 repeat forever"
    svg = render_chart(chart, "svg").decode()
    assert svg.count("cycle: steps 8..10 repeat forever") == 2  # bracket label and footer
    lasso.loop = 10
    assert sequence_chart(model, lasso).cycle_text == (
        "cycle: the run stays in the state after step 10 forever")


def test_svg_shows_lanes_steps_and_arrows_and_is_deterministic(
    model: Model, trace: Trace
) -> None:
    chart = sequence_chart(model, trace)
    svg = render_chart(chart, "svg")
    assert svg.startswith(b"<?xml") and b"<svg" in svg
    text = svg.decode()
    for title in ("guest", "worker (handle_tx)", "device (lower device)", "control (userspace)"):
        assert f">{title}<" in text
    for step in trace.steps:
        assert step.label in text
    for label in ("kick", "sendmsg: skb", "DMA done"):
        assert f">{label}<" in text
    assert "=&gt; by-hand: explained" in text
    assert render_chart(chart, "svg") == svg
    png = render_chart(chart, "png")
    assert png.startswith(PNG_MAGIC)


def test_picture_height_grows_with_the_rows(model: Model, trace: Trace) -> None:
    def height(n: int) -> float:
        svg = render_chart(sequence_chart(model, walk(model, KICK_TO_COMPLETION[:n])), "svg")
        head = svg.decode().split('height="', 1)[1]
        return float(head.split("pt", 1)[0])

    assert height(10) - height(5) == pytest.approx(5 * 0.55 * 72)


def test_rules_name_real_variables_and_lanes(model: Model) -> None:
    for rule in INTERACTIONS:
        assert rule.variable in model.var_index, rule
        assert rule.target in model.actors, rule
        assert rule.sources is None or set(rule.sources) <= set(model.actors), rule
    assert all(name in model.var_index for name in WATCHED)


def test_a_model_without_the_variables_gets_rows_and_no_arrows() -> None:
    counter = Counter()
    (result,) = ExplicitChecker(counter, [x_not_bad]).run().properties
    assert result.trace is not None
    chart = sequence_chart(counter, result.trace)
    assert chart.lanes == counter.actors
    assert [r.changes for r in chart.rows] == [("x: 0 -> 1",), ("x: 1 -> 2",), ("x: 2 -> 3",)]
    assert not any(r.arrows for r in chart.rows)
    assert render_chart(chart, "svg").count(b"x: 2 -&gt; 3") == 1
