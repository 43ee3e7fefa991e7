"""The Z3 engines keep to --time-limit and --memory-limit while they build formulas,
and nothing before them expands a whole large state at once (ring size 32768)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import z3

from checker.engines.base import EngineRequest, Limits
from checker.engines.registry import get_engine
from checker.engines.symbolic import limits
from checker.engines.symbolic.bounded import BoundedSearch, concrete_path, solve
from checker.engines.symbolic.limits import SolverGaveUp, gave_up
from checker.engines.symbolic.symexec import _Recorder
from checker.lang.spec import properties_in
from checker.semantics import states
from checker.semantics.states import enabled_actors, expand, initial_state, successors
from models.v3_1 import V3_1
from models.v9 import V9
from specs import zerocopy
from tests.shared_checks import cli

MEMORY_SAFE = next(p for p in properties_in(zerocopy) if p.name == "memory-safe")

DATAPATH = ["--revision", "v3.1", "--max-backend-changes", "0", "--release", "no",
            "--send-failures", "0"]


@pytest.mark.parametrize("read", [
    lambda r: r.ite(z3.Bool("c"), 1, 2),
    lambda r: r.and_(z3.Bool("a"), z3.Bool("b")),
    lambda r: r.or_(z3.Bool("a"), z3.Bool("b")),
    lambda r: r.select((z3.Int("x"), z3.Int("y")), z3.Int("i")),
], ids=["ite", "and", "or", "select"])
def test_reads_while_building_a_step_poll_the_deadline(read) -> None:  # type: ignore[no-untyped-def]
    """A step that builds millions of terms between two writes still stops on time."""
    with pytest.raises(SolverGaveUp, match="time limit"):
        read(_Recorder(None, deadline=time.monotonic() - 1))
    assert read(_Recorder(None, deadline=time.monotonic() + 60)) is not None


@pytest.mark.parametrize("engine", ["bmc", "kind", "pdr", "inductive"])
def test_the_time_limit_counts_from_the_start_of_the_run(engine: str) -> None:
    """``Limits.counted_from``: preparing the model is part of the run's time, as for
    the explicit engine, so a run whose limit was spent before it started builds nothing."""
    model = V9({"ring_size": 1})
    spent = Limits(time_limit=50, counted_from=time.monotonic() - 100)
    result = get_engine(engine).run(EngineRequest(model, [MEMORY_SAFE], spent))
    assert result.bounds_hit == ["time limit 50s"]
    (verdict,) = result.properties
    assert verdict.status == "inconclusive"
    assert verdict.reason == ("nothing checked: time limit 50s ran out while building the "
                              "transition formulas")


@pytest.fixture
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory limit's watch looks every millisecond."""
    monkeypatch.setattr(limits, "MEMORY_POLL", 0.001)


@pytest.mark.parametrize("engine", ["bmc", "kind", "pdr"])
def test_a_memory_limit_below_the_process_is_inconclusive_with_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str, quick_watch: None
) -> None:
    code, out, err = cli(capsys, "check", "--engine", engine, *DATAPATH, "--ring-size", "1",
                         "--depth", "3", "--memory-limit", "1", "--property", "memory-safe",
                         "--out", str(tmp_path))
    assert code == 3, (out, err)
    assert ("memory-safe  INCONCLUSIVE  (nothing checked: memory limit 1 MiB ran out while "
            "building the transition formulas)") in out
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["settings"]["memory_limit_mib"] == 1
    assert doc["bounds_hit"] == ["memory limit 1 MiB"]
    assert not limits._watches  # the watch ended with the run


def test_bmc_keeps_its_violations_when_the_memory_limit_cuts_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    quick_watch: None
) -> None:
    """The process "reaches" the limit once the first trace is built: v9's 3-step
    no-stuck-waiter violation is kept, the deeper search stops and says why."""
    traced = []
    real_trace = BoundedSearch.trace
    monkeypatch.setattr(BoundedSearch, "trace",
                        lambda self, *a: (real_trace(self, *a), traced.append(1))[0])
    monkeypatch.setattr(limits, "peak_memory_mib", lambda: 10**6 if traced else 0)
    code, out, _ = cli(capsys, "check", "--engine", "bmc", "--ring-size", "1", "--depth", "40",
                       "--memory-limit", "5000", "--property", "no-stuck-waiter",
                       "--property", "no-double-use", "--out", str(tmp_path))
    assert code == 1
    assert "no-stuck-waiter  VIOLATED  (3 steps)" in out
    # depth 3, where the trace was found, was not finished for no-double-use
    assert "no-double-use    INCONCLUSIVE  (bounded to depth 2 (memory limit 5000 MiB))" in out


def test_the_watch_interrupts_a_query_z3_is_solving(
    monkeypatch: pytest.MonkeyPatch, quick_watch: None
) -> None:
    xs = [z3.BitVec(f"x{i}", 32) for i in range(40)]
    solver = z3.SolverFor("QF_FD")
    for i in range(39):  # hard for minutes
        solver.add(xs[i] * xs[i + 1] + 7 != xs[(i * 7) % 40] * 3 + xs[(i * 11) % 40])
    solver.add(z3.Distinct(*xs))
    monkeypatch.setattr(limits, "peak_memory_mib", lambda: 10**6)
    with limits.memory_limit(64), pytest.raises(SolverGaveUp, match="memory limit 64 MiB"):
        solve(solver, None)


def test_gave_up_names_a_reached_limit_and_passes_other_z3_errors_on(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(z3.Z3Exception, match="sort mismatch"):
        gave_up(z3.Z3Exception("sort mismatch"))
    assert str(gave_up(SolverGaveUp("time limit"))) == "time limit"
    monkeypatch.setattr(limits, "_watches", [limits._Watch(64)])
    limits._watches[0].reached = True
    assert str(gave_up(z3.Z3Exception("canceled"))) == "memory limit 64 MiB"
    with pytest.raises(SolverGaveUp, match="memory limit 64 MiB"):
        limits.check_deadline(None)


def test_enabled_actors_and_successors_agree_with_expand() -> None:
    model = V9({"ring_size": 1})
    frontier, seen = [initial_state(model)], set()
    while frontier and len(seen) < 300:
        state = frontier.pop()
        if state in seen:
            continue
        seen.add(state)
        full = expand(model, state, compiled=False)
        assert enabled_actors(model, state, compiled=False) == full.enabled_actors
        assert list(successors(model, state)) == full.successors
        frontier.extend(nxt for _, nxt in full.successors)
    assert len(seen) == 300


def test_one_state_is_not_expanded_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """At ring size 512 the initial state has 1024 guest_post successors: the first
    successor fires only the instances before it, the enabled actors skip the rest of
    an actor's instances once one fires."""
    model = V3_1({"ring_size": 512, "max_backend_changes": 0, "release": "no",
                  "send_failures": 0})
    fired = []
    real_fire = states.fire
    monkeypatch.setattr(states, "fire", lambda *a: fired.append(1) or real_fire(*a))
    init = initial_state(model)
    first, _ = next(successors(model, init))
    assert first.label == "worker_run_sock"
    assert len(fired) == model.instances.index(first) + 1 < len(model.instances) - 1000
    fired.clear()
    assert enabled_actors(model, init, compiled=False) == {"guest", "worker"}
    assert len(fired) < len(model.instances) - 1000
    assert concrete_path(model, 12)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["bmc", "kind", "pdr"])
def test_the_kernels_ring_limit_ends_at_the_time_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    """At ring size 32768 bmc ran the machine out of memory before the step was built,
    and pdr was still generating its class key's code, unpolled, after nine minutes."""
    code, out, _ = cli(capsys, "check", "--engine", engine, *DATAPATH, "--ring-size", "32768",
                       "--time-limit", "20", "--property", "memory-safe", "--out", str(tmp_path))
    assert code == 3
    assert "nothing checked: time limit 20s ran out while building" in out
