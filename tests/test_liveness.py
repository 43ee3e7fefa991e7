"""Liveness in the explicit engine: fair-cycle search, lassos, fairness switches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shared_checks import cli

from checker.engines.base import Limits, RunResult
from checker.engines.explicit.liveness import check_lasso
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.fairness import Fair, resolve
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.runs.catalog import select_properties
from checker.runs.replay import replay
from checker.traces.itf import to_itf
from checker.traces.trace import Trace, render_text
from models.v3_1 import V3_1
from models.v9 import V9
from tests.liveness_models import (
    SERVER_CASE_IDS,
    SERVER_CASES,
    SF_SERVER,
    WF_NOISE,
    WF_SERVER,
    Server,
    eventually_req,
    served,
)

LIVE = select_properties(["no-leak", "put-and-wait-terminates"])




def run(model: Model, props: list[Property], fairness: list[Fair] | None = None,
        limits: Limits | None = None) -> RunResult:
    return ExplicitChecker(model, props, fairness=fairness, limits=limits or Limits()).run()


def verdicts(result: RunResult) -> dict[str, tuple[str, int | None, int | None]]:
    return {p.name: (p.status, len(p.trace) if p.trace is not None else None,
                     p.trace.loop if p.trace is not None else None) for p in result.properties}


def instances(model: Model, trace: Trace) -> list[int]:
    return [model.instance(step.label).index for step in trace.steps]


def assert_valid_lasso(model: Model, prop: Property, trace: Trace,
                       fairness: list[Fair]) -> None:
    assert trace.loop is not None
    problems = check_lasso(model, prop, trace.property_args, fairness, trace.states,
                           instances(model, trace), trace.loop)
    assert problems == []


# -- tiny reference models with known answers (tests/liveness_models.py) -------------

@pytest.mark.parametrize("fairness, expected", SERVER_CASES, ids=SERVER_CASE_IDS)
def test_server_verdicts_under_each_fairness(fairness: list[Fair], expected: dict) -> None:
    model = Server({})
    result = run(model, [served, eventually_req], fairness)
    assert result.complete is True
    assert verdicts(result) == expected
    for p in result.properties:
        if p.trace is not None:
            prop = served if p.name == "served" else eventually_req
            assert_valid_lasso(model, prop, p.trace, fairness)


def test_weak_fairness_cycle_is_reported_with_its_steps() -> None:
    model = Server({})
    trace = run(model, [served], [WF_SERVER, WF_NOISE]).properties[0].trace
    assert trace is not None
    assert [s.label for s in trace.steps] == ["request", "toggle", "toggle"]
    assert trace.states[-1] == trace.states[trace.loop]
    text = render_text(trace)
    assert "---- cycle starts here: the steps below repeat forever ----" in text
    assert "(lasso: steps 2..3 repeat forever" in text
    assert "the run then repeats steps 2..3 forever" in trace.explanation


def test_strong_fairness_rejects_the_cycle_weak_fairness_accepts() -> None:
    model = Server({})
    weak_trace = run(model, [served], [WF_SERVER, WF_NOISE]).properties[0].trace
    assert weak_trace is not None
    problems = check_lasso(model, served, {}, [SF_SERVER, WF_NOISE], weak_trace.states,
                           instances(model, weak_trace), weak_trace.loop or 0)
    assert problems == [
        ("the repeating part is not fair: strong fairness on actor server: the server runs when "
         "it can, again and again")]


def test_finitely_keeps_an_action_out_of_the_cycle() -> None:
    model = Server({})
    no_toggle = Fair("finitely", "busy eventually stops toggling", actors=("noise",))
    trace = run(model, [served], [WF_SERVER, no_toggle]).properties[0].trace
    assert trace is not None
    assert trace.loop == len(trace)  # a stutter: the cycle has no step at all
    assert [s.label for s in trace.steps] == ["request", "toggle"]
    assert "stays forever in the state after step 2" in trace.explanation
    problems = check_lasso(model, served, {}, [WF_SERVER, no_toggle],
                           trace.states + [trace.states[1], trace.states[2]],
                           instances(model, trace) + [model.instance("toggle").index] * 2, 2)
    assert problems == [("the repeating part is not fair: finitely fairness on actor noise: "
                         "busy eventually stops toggling")]


def test_check_lasso_rejects_broken_lassos() -> None:
    model = Server({})
    trace = run(model, [served], [WF_SERVER, WF_NOISE]).properties[0].trace
    assert trace is not None
    insts = instances(model, trace)
    assert check_lasso(model, served, {}, [], trace.states, insts, 0) == [
        "the last state differs from state 0, where the loop is said to start"]
    assert check_lasso(model, served, {}, [], trace.states, insts, 9) == [
        "loop 9 is outside the trace (0..3)"]
    # the goal (req false) holds in state 0: a cycle through it does not violate served
    init_cycle = run(model, [eventually_req], [WF_NOISE]).properties[0].trace
    assert init_cycle is not None
    assert check_lasso(model, served, {}, [WF_NOISE], init_cycle.states,
                       instances(model, init_cycle), 0) == [
        "the goal of served holds in state 2, inside the repeating part",
        "the premise of served never holds where the goal stays false"]


def test_fairness_groups_resolve_per_instance() -> None:
    groups = resolve(V9({"ring_size": 2}), V9({"ring_size": 2}).fairness())
    texts = [g.text for g in groups]
    assert sum("dev_complete(k=" in t for t in texts) == 3  # device_capacity = ring + 1
    assert resolve(V9({"device_progress": "may-hold"}),
                   V9({"device_progress": "may-hold"}).fairness())[-1].text.startswith(
        "weak fairness on guest_kick, guest_no_kick")
    idle = V9({"guest_progress": "goes-idle"})
    assert resolve(idle, idle.fairness())[-1].kind == "finitely"


# -- the patch: lassos, partial graphs, the fairness switches -----------------------

def test_v9_put_and_wait_terminates_is_a_5_step_lasso() -> None:
    model = V9({"ring_size": 1})
    result = run(model, LIVE)
    assert verdicts(result)["put-and-wait-terminates"] == ("violated", 5, 5)
    trace = result.properties[1].trace
    assert trace is not None
    # The state-predicate form stops after 3 steps; fairness makes the queued worker run first.
    assert [s.label for s in trace.steps] == [
        "set_backend(to=0)", "put_and_wait_put", "put_and_wait_sleep", "worker_run_sock",
        "tx_no_sock"]
    assert_valid_lasso(model, LIVE[1], trace, model.fairness())


def test_a_lasso_on_a_partial_graph_is_reported_and_valid() -> None:
    model = V9({"ring_size": 1})
    result = run(model, LIVE, limits=Limits(max_states=3000))
    assert result.complete is False
    status = verdicts(result)
    assert status["put-and-wait-terminates"][0] == "violated"
    trace = result.properties[1].trace
    assert trace is not None
    assert_valid_lasso(model, LIVE[1], trace, model.fairness())


def test_liveness_is_inconclusive_when_the_search_is_cut_without_a_lasso() -> None:
    model = V3_1({"ring_size": 1, "max_backend_changes": 0, "release": "no",
                  "send_failures": 0})
    result = run(model, LIVE, limits=Limits(max_states=500))
    assert [p.status for p in result.properties] == ["inconclusive", "inconclusive"]
    assert result.properties[0].reason == "search cut by 500 states"


DATAPATH_31 = {"ring_size": 1, "max_backend_changes": 0, "release": "no", "send_failures": 0}


def test_device_may_hold_flips_no_leak_on_v3_1() -> None:
    holds = run(V3_1(DATAPATH_31), LIVE)
    assert holds.complete is True
    assert verdicts(holds)["no-leak"] == ("holds", None, None)
    model = V3_1({**DATAPATH_31, "device_progress": "may-hold"})
    flipped = run(model, LIVE)
    assert verdicts(flipped)["no-leak"] == ("violated", 22, 16)
    trace = flipped.properties[0].trace
    assert trace is not None and trace.property_args == {"h": 0}
    assert_valid_lasso(model, LIVE[0], trace, model.fairness())
    # the worker busy-polls: handle_tx finds too many DMAs pending and queues itself again
    assert [s.label for s in trace.steps[16:]] == [
        "worker_run_sock", "tx_read_sock", "tx_lock", "tx_signal_used", "tx_get_desc_empty",
        "tx_empty_max_pend"]


@pytest.mark.slow
def test_device_may_hold_flips_put_and_wait_on_v3_1_release() -> None:
    params = {**DATAPATH_31, "release": "yes"}
    assert verdicts(run(V3_1(params), LIVE))["put-and-wait-terminates"] == ("holds", None, None)
    flipped = run(V3_1({**params, "device_progress": "may-hold"}), LIVE)
    assert verdicts(flipped)["put-and-wait-terminates"] == ("violated", 18, 18)


COPY_DATAPATH = ["--ring-size", "1", "--initial-backend", "copy", "--max-backend-changes", "0",
                 "--release", "no", "--send-failures", "0", "--pictures", "none", "--json", "-q"]


@pytest.mark.parametrize("switch, expected", [
    ("any", {"guest-posts": ("violated", 6, 6), "worker-drains": ("violated", 16, 7)}),
    ("keeps-posting", {"guest-posts": ("holds", None, None),
                       "worker-drains": ("violated", 16, 7)}),
    ("goes-idle", {"guest-posts": ("violated", 6, 6), "worker-drains": ("holds", None, None)}),
])
def test_guest_progress_switches_flip_guest_dependent_properties(
    switch: str, expected: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "check", *COPY_DATAPATH, "--spec", "examples/guest_liveness.py",
                       "--property", "guest-posts", "--property", "worker-drains",
                       "--guest-progress", switch, "--out", str(tmp_path))
    doc = json.loads(out)
    assert doc["complete"] is True and code == 1
    assert {p["name"]: (p["status"], p["length"], p["loop"]) for p in doc["properties"]} == \
        expected


# -- outputs: ITF loop, replay, CLI ------------------------------------------------

def test_itf_records_the_loop_and_replay_checks_it(tmp_path: Path) -> None:
    model = V9({"ring_size": 1})
    trace = run(model, LIVE).properties[0].trace
    assert trace is not None
    doc = to_itf(model, trace)
    assert doc["loop"] == trace.loop == 14
    assert doc["#meta"]["property_args"] == {"h": 0}
    ok = replay(doc)
    assert ok.ok is True and ok.loop == 14 and ok.violated_at_end is True
    assert ok.messages[-1].startswith("lasso ok: the run stays in the last state forever")
    broken = dict(doc, loop=3)
    bad = replay(broken)
    assert bad.ok is False
    assert bad.messages[-1] == "the last state differs from state 3, where the loop is said to start"
    no_args = json.loads(json.dumps(doc))
    del no_args["#meta"]["property_args"]
    assert replay(no_args).messages[-1] == (
        "no-leak takes arguments (h) but the trace's #meta.property_args gives (none)")


def test_cli_summary_prints_fairness_and_lassos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "check", "--ring-size", "1", "--property",
                       "put-and-wait-terminates", "--out", str(tmp_path), "--pictures", "none")
    assert code == 1
    assert "liveness judged under these fairness assumptions:" in out
    assert ("  - weak fairness on dev_complete (each instance): the lower device eventually "
            "frees every skb it holds") in out
    assert "put-and-wait-terminates  VIOLATED  (lasso: 5 steps, then stays put)" in out
    doc = json.loads((tmp_path / "result.json").read_text())
    (prop,) = doc["properties"]
    assert (prop["kind"], prop["loop"], prop["length"]) == ("leads-to", 5, 5)
    assert len(doc["fairness"]) == 7  # with --mutex-fairness strong (the default)
    code, out, _ = cli(capsys, "replay", "-q", prop["trace"]["itf"])
    assert code == 0
    assert "a fair lasso (loop to state 5) violating put-and-wait-terminates" in out


def test_progress_announces_each_fair_cycle_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ExplicitChecker, "ANNOUNCE_FROM", 0)
    monkeypatch.setattr("checker.engines.explicit.liveness.LiveSearch.FIRST_CHECKPOINT", 100)
    seen: list[str] = []
    model = V3_1(DATAPATH_31)
    result = ExplicitChecker(model, LIVE, progress=lambda st: seen.append(st.phase),
                             progress_every=1e9).run()
    assert result.complete is True and result.stats.states == 12419
    phases = [p for p in seen if p]
    # one announcement per doubling from 100 expanded states, then the final analysis
    assert phases[0] == "looking for fair cycles in 100 expanded states"
    assert phases[-1] == "looking for fair cycles in 12419 expanded states"
    assert len(phases) == 8  # 100, 200, ..., 6400, then 12419


def test_a_stuck_lasso_names_many_instances_of_one_action_once() -> None:
    """At ring size 256 the guest could post any of 512 (head, size) pairs; the
    explanation names guest_post once with the count, and short lists in full."""
    from checker.engines.explicit.liveness import _instance_list

    model = V9({"ring_size": 16})
    posts = [i for i in model.instances if i.name == "guest_post"]
    backend = [i for i in model.instances if i.name == "set_backend"]
    assert _instance_list([*posts, *backend]) == [
        "guest_post (32 instances)", *sorted(i.label for i in backend)]
    assert _instance_list(posts[:2]) == sorted(i.label for i in posts[:2])
