"""Random simulation (checker/engines/simulation.py): violations with replayable walks,
never a proof, the same walks for the same seed, and the CLI around it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from checker.engines.base import EngineRequest, Limits, RunResult
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.simulation import ENGINE, LIVENESS, run_simulation
from checker.lang.spec import Property, properties_in
from checker.runs.environments import ENVIRONMENTS
from checker.semantics.states import enabled_actors, fire, holds, initial_state, use_compiled
from checker.traces.trace import Trace
from models.v9 import V9
from specs import zerocopy
from tests.shared_checks import cli

PROPS = properties_in(zerocopy)
INVARIANTS = [p for p in PROPS if not p.is_liveness]


def simulate(model: V9, props: list[Property], walks: int = 30, depth: int = 200,
             seed: int = 0, limits: Limits | None = None) -> RunResult:
    request = EngineRequest(model, props, limits or Limits())
    return run_simulation(model, props, request, walks, depth, seed)


def replays(model: V9, prop: Property, trace: Trace) -> bool:
    """Each step fires in the state before it and yields the recorded state, and the
    last state violates ``prop``."""
    state = trace.initial
    assert state == initial_state(model)
    for step in trace.steps:
        after = fire(model, model.instance(step.label), state)
        if after is None or after != step.state:
            return False
        state = after
    return not holds(prop, model, state, enabled_actors(model, state))


def test_the_walks_find_v9s_violations_at_ring_1_and_each_replays() -> None:
    model = V9({"ring_size": 1})
    run = simulate(model, PROPS, walks=100, depth=100)
    status = {p.name: p.status for p in run.properties}
    assert status == {"no-double-use": "inconclusive", "memory-safe": "violated",
                      "no-stuck-waiter": "violated", "no-quiescent-leak": "violated",
                      "no-leak": "inconclusive", "put-and-wait-terminates": "inconclusive"}
    for p in run.properties:
        if p.trace is not None:
            prop = next(q for q in PROPS if q.name == p.name)
            assert replays(model, prop, p.trace), p.name
            assert not p.trace.shortest and p.trace.origin.startswith("random walk ")
            assert p.trace.origin.endswith("(seed 0)")
    live = next(p for p in run.properties if p.name == "no-leak")
    assert live.reason == LIVENESS
    assert not run.complete and run.engine == "simulate"
    assert run.bounds_hit[0].endswith("random walks of at most 100 steps (seed 0)")


def test_the_same_seed_gives_the_same_walks() -> None:
    model = V9({"ring_size": 2})
    first, again = (simulate(model, INVARIANTS, walks=5, seed=7) for _ in range(2))
    assert first.stats.transitions == again.stats.transitions > 0
    for a, b in zip(first.properties, again.properties):
        assert a.status == b.status
        assert (a.trace is None) == (b.trace is None)
        if a.trace is not None and b.trace is not None:
            assert [s.label for s in a.trace.steps] == [s.label for s in b.trace.steps]


def test_a_property_no_walk_breaks_is_inconclusive_with_the_walks_as_its_bound() -> None:
    model = V9({"ring_size": 1})
    prop = next(p for p in PROPS if p.name == "no-double-use")
    run = simulate(model, [prop], walks=4, depth=50, seed=1)
    (res,) = run.properties
    assert res.status == "inconclusive" and res.trace is None
    assert res.reason == ("no violation in 4 random walks of at most 50 steps (seed 1); "
                          "a simulation proves nothing")
    assert run.stats.states == 4 and run.stats.max_depth == 50
    assert 50 <= run.stats.transitions <= 200  # a walk may end where nothing is enabled


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_every_violation_found_is_one_the_explicit_engine_finds(env: str) -> None:
    """Soundness against the reference: at ring 1, each environment, simulation never
    reports a violation the complete search does not."""
    model = V9({**ENVIRONMENTS[env].switches, "ring_size": 1})
    run = simulate(model, INVARIANTS, walks=20, depth=100)
    bfs = ExplicitChecker(model, INVARIANTS).run()
    assert bfs.complete
    verdict = {p.name: p.status for p in bfs.properties}
    for p in run.properties:
        assert p.status in ("violated", "inconclusive")
        if p.status == "violated":
            assert verdict[p.name] == "violated", p.name
            assert p.trace is not None
            prop = next(q for q in INVARIANTS if q.name == p.name)
            assert replays(model, prop, p.trace)
            assert len(p.trace) >= len(next(q.trace for q in bfs.properties
                                            if q.name == p.name) or [])


def test_the_time_and_memory_limits_and_a_stop_end_the_walks() -> None:
    model = V9({"ring_size": 1})
    timed = simulate(model, INVARIANTS, walks=10**6, depth=1000,
                     limits=Limits(time_limit=0.5))
    assert any(b == "time limit 0.5s" for b in timed.bounds_hit)
    assert timed.stats.states < 10**6
    capped = simulate(model, INVARIANTS, walks=10, limits=Limits(memory_limit=1))
    assert capped.bounds_hit[1] == "memory limit 1 MiB" and capped.stats.transitions == 0
    assert capped.bounds_hit[0] == "1 random walk of at most 200 steps (seed 0)"
    request = EngineRequest(model, INVARIANTS, Limits(), stop=lambda: "SIGINT")
    stopped = ENGINE.run(request)
    assert stopped.stopped == "SIGINT" and stopped.stats.transitions == 0
    assert {p.reason for p in stopped.properties} == {"interrupted"}


def test_the_cli_runs_it_and_writes_its_settings(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--engine", "simulate", "--ring-size", "1",
                       "--property", "no-stuck-waiter,no-double-use", "--walks", "3",
                       "--depth", "40", "--seed", "2", "--pictures", "none",
                       "--out", str(tmp_path), "-q")
    assert code == 1, out
    assert "simulate: 3 random walks, " in out
    assert re.search(r"^  no-stuck-waiter +VIOLATED  \(\d+ steps, random walk \d+ \(seed 2\)\)",
                     out, re.MULTILINE), out
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["engine"] == "simulate" and doc["complete"] is False
    assert doc["settings"]["walks"] == 3 and doc["settings"]["seed"] == 2
    assert doc["settings"]["depth"] == 40
    status = {p["name"]: p["status"] for p in doc["properties"]}
    assert status == {"no-stuck-waiter": "violated", "no-double-use": "inconclusive"}
    [stuck] = [p for p in doc["properties"] if p["name"] == "no-stuck-waiter"]
    assert stuck["origin"].startswith("random walk ")
    code, out, err = cli(capsys, "replay", stuck["trace"]["itf"])
    assert code == 0 and "replay: OK" in out + err


def test_only_inconclusive_verdicts_exit_3(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--engine", "simulate", "--ring-size", "1",
                       "--property", "no-double-use", "--walks", "2", "--depth", "10",
                       "--out", str(tmp_path), "-q")
    assert code == 3, out
    assert "INCONCLUSIVE  (no violation in 2 random walks of at most 10 steps (seed 0)" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--walks", "3"], "--walks and --seed apply to --engine simulate only"),
    (["--seed", "0"], "--walks and --seed apply to --engine simulate only"),
    (["--engine", "simulate", "--seed", "-1"], "--seed must be at least 0, not -1"),
    (["--engine", "simulate", "--walks", "0"], "--walks must be at least 1, not 0"),
    (["--engine", "simulate", "--max-states", "5"], "--max-states applies to"),
])
def test_bad_simulation_options_are_refused_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, _, err = cli(capsys, "check", "--ring-size", "1", "--out", str(tmp_path / "o"),
                       *args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()


def test_a_model_too_large_to_compile_is_walked_one_actor_at_a_time() -> None:
    """The interpreted scheduler (ring 256's): same verdicts at ring 1, traces replay."""
    model = V9({"ring_size": 1})
    use_compiled(model, False)
    try:
        run = simulate(model, INVARIANTS, walks=100, depth=100)
    finally:
        use_compiled(model, None)
    status = {p.name: p.status for p in run.properties}
    assert status == {"no-double-use": "inconclusive", "memory-safe": "violated",
                      "no-stuck-waiter": "violated", "no-quiescent-leak": "violated"}
    for p in run.properties:
        if p.trace is not None:
            assert replays(model, next(q for q in INVARIANTS if q.name == p.name), p.trace)


def test_the_walks_reach_v9s_violations_at_the_kernels_constants() -> None:
    """Ring 256, UIO_MAXIOV 1024, VHOST_MAX_PEND 128: no small ring, no solver (about ten
    seconds)."""
    model = V9({"ring_size": 256, "uio_maxiov": 1024, "max_pend": 128})
    props = [p for p in INVARIANTS if p.name in ("memory-safe", "no-stuck-waiter")]
    run = simulate(model, props, walks=10, depth=2000)
    assert {p.name: p.status for p in run.properties} == {
        "memory-safe": "violated", "no-stuck-waiter": "violated"}
    for p in run.properties:
        assert p.trace is not None and p.trace.params["ring_size"] == 256
        assert replays(model, next(q for q in props if q.name == p.name), p.trace)
