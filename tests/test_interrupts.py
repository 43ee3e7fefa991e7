"""Interrupts and limits end a run cleanly: what was found is written, the rest is
inconclusive ('interrupted'), the exit code says which signal (130 SIGINT, 143 SIGTERM)."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import z3

from checker.cli import main
from checker.cli.interrupts import Aborted, Interrupts
from checker.engines.base import Limits
from checker.engines.explicit.liveness import LiveSearch
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.registry import get_engine
from checker.engines.stategraph import StateGraph
from checker.engines.symbolic.bounded import new_solver, solve
from checker.engines.symbolic.unroll import internal_errors
from checker.runs.catalog import select_properties
from checker.runs.matrix import MatrixPlan, run_matrix
from models.v9 import V9
from tests.liveness_models import SF_SERVER, WF_NOISE, WF_SERVER, Server, served

# the run of the issue: two violations within seconds, the rest takes minutes
LONG_RUN = ["check", "--ring-size", "2", "--max-backend-changes", "0", "--release", "no",
            "--send-failures", "0", "--pictures", "none"]


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from checker.cli import main; main()", *args],
                            cwd=cwd, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})


def _wait_for_progress(proc: subprocess.Popen[str]) -> list[str]:
    """Read stderr up to the first progress line."""
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("progress:"):
            return seen
    raise AssertionError("no progress line: " + "".join(seen))


@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGINT, 130, "SIGINT"),
                                                   (signal.SIGTERM, 143, "SIGTERM")])
def test_signal_after_first_progress_line_writes_the_result(
    tmp_path: Path, sig: int, code: int, name: str,
) -> None:
    out = tmp_path / "out"
    proc = _start([*LONG_RUN, "--out", str(out), "--json"], tmp_path)
    _wait_for_progress(proc)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    assert f"vhostmc: {name}: stopping the search and writing what was found" in stderr
    doc = json.loads((out / "result.json").read_text())
    assert doc == json.loads(stdout)
    assert doc["interrupted"] == name and doc["exit_code"] == code
    assert doc["complete"] is False
    assert f"interrupted ({name})" in doc["bounds_hit"]
    statuses = {p["name"]: (p["status"], p["reason"]) for p in doc["properties"]}
    assert set(statuses.values()) <= {("violated", None), ("inconclusive", "interrupted")}
    assert ("inconclusive", "interrupted") in statuses.values()
    for p in doc["properties"]:  # every violation found is written
        if p["status"] == "violated":
            assert Path(p["trace"]["itf"]).is_file()
    assert f"result: interrupted ({name})" in stderr
    assert "Traceback" not in stderr


def test_sigint_while_z3_solves_aborts_a_bmc_run_with_130(tmp_path: Path) -> None:
    """Z3 takes SIGINT itself while it solves; the run still ends as a signal ends a Z3
    engine's run (exit 130, one line), not as if Z3 had given up (exit 3)."""
    out = tmp_path / "out"
    proc = _start(["check", "--engine", "bmc", "--revision", "v3.1", "--ring-size", "8",
                   "--max-backend-changes", "0", "--release", "no", "--send-failures", "0",
                   "--depth", "50", "--out", str(out)], tmp_path)
    _wait_for_progress(proc)  # depth 0 done: the solver is at work on depth 1 (seconds)
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "vhostmc: aborted by SIGINT; nothing more was written" in stderr
    assert "Traceback" not in stderr and not (out / "result.json").exists()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


def test_sigterm_to_matrix_stops_its_workers(tmp_path: Path) -> None:
    out = tmp_path / "m"
    proc = _start(["matrix", "--revisions", "v9", "--ring-sizes", "2,3", "--envs", "datapath",
                   "--jobs", "2", "--out", str(out)], tmp_path)
    workers: list[int] = []
    for _ in range(200):  # the workers start within seconds
        workers = _children(proc.pid)
        if len(workers) >= 2:
            break
        time.sleep(0.1)
    assert len(workers) >= 2
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(
            f"/proc/{pid}/status").read_text()
    assert (out / "matrix.md").is_file()
    assert "inconclusive (interrupted (SIGTERM)" in (out / "matrix.md").read_text()


def _stop_after(calls: int) -> Callable[[], str | None]:
    """A stop check that says SIGINT from its ``calls + 1``-th call on."""
    count = [0]

    def stop() -> str | None:
        count[0] += 1
        return "SIGINT" if count[0] > calls else None

    return stop


def test_stop_keeps_violations_and_leaves_the_rest_inconclusive() -> None:
    model = V9({"ring_size": 1})
    no_stuck_waiter, memory_safe = select_properties(["no-stuck-waiter", "memory-safe"])
    full = ExplicitChecker(model, [no_stuck_waiter, memory_safe]).run()
    assert [p.status for p in full.properties] == ["violated", "violated"]
    # no-stuck-waiter is found at depth 3, memory-safe at depth 8: stop in between
    run = ExplicitChecker(model, [no_stuck_waiter, memory_safe], stop=_stop_after(200)).run()
    assert run.stopped == "SIGINT"
    assert [(p.name, p.status, p.reason) for p in run.properties] == [
        ("no-stuck-waiter", "violated", None), ("memory-safe", "inconclusive", "interrupted")]
    assert run.properties[0].trace is not None and len(run.properties[0].trace) == 3
    assert not run.complete and "interrupted (SIGINT)" in run.bounds_hit


def test_stop_during_the_final_fair_cycle_analysis() -> None:
    """The explorer polls once per expanded state; the next poll is the final analysis's.
    The exploration was complete, so the invariant holds; the liveness property is
    undecided."""
    from checker.lang.spec import invariant

    @invariant("true", "always true")
    def true(s: object) -> bool:
        return True

    model = Server()
    Server.rules = (WF_SERVER, WF_NOISE)
    try:
        full = ExplicitChecker(model, [served, true]).run()
        states = full.stats.states
        run = ExplicitChecker(model, [served, true], stop=_stop_after(states)).run()
    finally:
        Server.rules = ()
    assert [p.status for p in full.properties] == ["violated", "holds"]
    assert [(p.status, p.reason) for p in run.properties] == [("inconclusive", "interrupted"),
                                                              ("holds", None)]


def test_a_cut_analysis_leaves_liveness_pending() -> None:
    model = Server()
    graph = StateGraph()
    live = LiveSearch(model, graph, [served], [], cut=lambda: True)
    live.finish()
    assert live.cut_short and live.pending == ["served"] and not live.found


class _Clock:
    """A stand-in for the ``time`` module of the explorer: a millisecond per call, and
    ``jump`` seconds more once asked."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        self.now += 0.001
        return self.now


def test_time_limit_bounds_the_fair_cycle_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline passes when the exploration ends: the final analysis does not run, the
    liveness property is inconclusive with the time limit named, the invariant (fully
    explored) holds."""
    from checker.engines.explicit import search
    from checker.lang.spec import invariant

    @invariant("true", "always true")
    def true(s: object) -> bool:
        return True

    clock = _Clock()
    monkeypatch.setattr(search, "time", clock)
    real_finish = LiveSearch.finish

    def late_finish(self: LiveSearch) -> None:
        clock.now += 2000.0  # the analysis starts after the deadline
        real_finish(self)

    monkeypatch.setattr(LiveSearch, "finish", late_finish)
    Server.rules = (SF_SERVER, WF_NOISE)
    try:
        run = ExplicitChecker(Server(), [served, true], limits=Limits(time_limit=1000.0)).run()
    finally:
        Server.rules = ()
    assert [(p.status, p.reason) for p in run.properties] == [
        ("inconclusive", "search cut by time limit 1000s (fair-cycle analysis)"),
        ("holds", None)]
    assert not run.complete


def test_interrupted_matrix_writes_what_finished(tmp_path: Path) -> None:
    plan = MatrixPlan(revisions=["v9"], ring_sizes=[1, 2], envs=["default"],
                      properties=["no-stuck-waiter"], out_dir=tmp_path)
    result = run_matrix(plan, jobs=1, stop=lambda: "SIGINT")
    assert result.stopped == "SIGINT" and result.exit_code() == 130
    assert set(result.statuses()) == {"inconclusive"}
    text = (tmp_path / "matrix.md").read_text()
    assert "not run: interrupted (SIGINT) before it ran" in text


def test_memory_limit_cuts_the_search() -> None:
    """A limit of 1 MiB is passed at once: the search stops at its first memory check
    (after 1024 expanded states) and nothing is decided."""
    from checker.lang.spec import invariant

    @invariant("true", "always true")
    def true(s: object) -> bool:
        return True

    run = ExplicitChecker(V9({"ring_size": 1}), [true], limits=Limits(memory_limit=1)).run()
    (prop,) = run.properties
    assert (prop.status, prop.reason) == ("inconclusive", "search cut by memory limit 1 MiB")
    assert run.bounds_hit == ["memory limit 1 MiB"] and not run.complete


def test_pictures_and_neighbourhoods_are_skipped_once_the_time_limit_has_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The search ends within the limit, but drawing would overrun it: the traces are
    written without pictures, and a note says so."""
    import checker.runs.check as runs_check

    offset = [0.0]

    class Clock:
        @staticmethod
        def monotonic() -> float:
            return time.monotonic() + offset[0]

    real_engine = runs_check.run_engine

    def engine_then_late(*args: object, **kwargs: object) -> object:
        result = real_engine(*args, **kwargs)  # type: ignore[arg-type]
        offset[0] = 10_000.0  # the search took (apparently) far longer than the limit
        return result

    monkeypatch.setattr(runs_check, "time", Clock)
    monkeypatch.setattr(runs_check, "run_engine", engine_then_late)
    req = runs_check.CheckRequest(revision="v9", params={"ring_size": 1},
                                  properties=("no-stuck-waiter",), out_dir=tmp_path,
                                  limits=Limits(time_limit=3600.0))
    outcome = runs_check.run_check(req)
    (prop,) = outcome.doc["properties"]
    assert prop["status"] == "violated"
    assert set(prop["trace"]) == {"itf", "dot", "graphml", "text", "graph.json"}
    note = ("pictures and neighbourhood graphs not written: the time limit had passed (the "
            "traces are written; 'vhostmc report' draws them later)")
    assert outcome.notes == [note]


def _pigeonhole(solver: z3.Solver, holes: int) -> None:
    """``holes + 1`` pigeons in ``holes`` holes: unsat, and hard for a SAT solver."""
    p = [[z3.Bool(f"p{i}_{j}", solver.ctx) for j in range(holes)] for i in range(holes + 1)]
    for row in p:
        solver.add(z3.Or(*row))
    for j in range(holes):
        for a in range(holes + 1):
            for b in range(a + 1, holes + 1):
                solver.add(z3.Or(z3.Not(p[a][j]), z3.Not(p[b][j])))


def test_sigterm_interrupts_the_z3_query_being_solved() -> None:
    """Python runs its SIGTERM handler only between bytecodes, not inside a Z3 query:
    the signal's watch interrupts the query, so the run aborts at once instead of when
    the query ends (it had run on for 58 minutes in a kind step case)."""
    solver = new_solver()
    _pigeonhole(solver, 11)  # minutes of solving; the time limit below is the fallback
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
    with Interrupts(hard=True, announce=False).installed():
        timer.start()
        began = time.monotonic()
        with pytest.raises(Aborted, match="SIGTERM"):
            solve(solver, 120)
    timer.join()
    assert time.monotonic() - began < 60  # without the watch: SolverGaveUp after 120 s


def test_a_signal_that_lands_in_a_z3_calls_arguments_still_aborts_with_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python runs the handler between two bytecodes; inside ctypes' conversion of a Z3
    call's arguments its Aborted becomes an ArgumentError (seen under load: exit 4, "engine
    bmc failed: ArgumentError: argument 1: Aborted: SIGINT").  The run still ends as the
    signal's abort: exit 130, one line, no crash log, nothing written."""
    def signalled_inside_ctypes(request: object) -> None:
        with internal_errors("bmc"):
            try:
                signal.raise_signal(signal.SIGINT)  # the installed handler raises Aborted
                time.sleep(1)
            except Aborted as err:  # what ctypes does with an exception in from_param
                raise ctypes.ArgumentError(f"argument 1: Aborted: {err}") from None

    monkeypatch.setattr(get_engine("bmc"), "run", signalled_inside_ctypes)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["check", "--engine", "bmc", "--ring-size", "1", "--depth", "2", "--out", str(out)])
    _, err = capsys.readouterr()
    assert exc.value.code == 130, err
    assert err.strip().splitlines()[-1] == "vhostmc: aborted by SIGINT; nothing more was written"
    assert "internal error" not in err and not out.exists()


class _TakesTheSignalWhenDropped:
    """An object whose ``__del__`` is where the signal's handler runs."""

    def __del__(self) -> None:
        signal.raise_signal(signal.SIGINT)
        sum(range(100))  # the handler raises Aborted here, inside __del__


def test_an_abort_raised_inside_a_del_is_delivered_again(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Python ignores an exception raised in ``__del__`` (seen under load in Z3's
    ``AstRef.__del__``: the bmc run went on after Ctrl-C); the signal is delivered again
    and the run still ends with Aborted, with no "Exception ignored" report."""
    interrupts = Interrupts(hard=True, announce=False)
    with pytest.raises(Aborted) as err, interrupts.installed():
        _TakesTheSignalWhenDropped()
        for _ in range(1000):
            time.sleep(0.001)
    assert err.value.name == "SIGINT"
    assert "Exception ignored" not in capsys.readouterr().err


def test_an_abort_hides_the_finalizer_errors_of_what_the_signal_half_built(
    tmp_path: Path
) -> None:
    """A signal inside a Z3 term's constructor leaves an object whose ``__del__`` fails at
    exit; after the abort line nothing else is printed (it made the SIGINT test flaky)."""
    code = ("import checker.cli as c\n"
            "class HalfBuilt:\n"
            "    def __del__(self):\n"
            "        raise AttributeError(\"'BoolSortRef' object has no attribute 'ctx'\")\n"
            "debris = HalfBuilt()\n"
            "c._exit_aborted('SIGINT')\n")
    proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=tmp_path,
                          capture_output=True,
                          text=True, env={**os.environ,
                                          "PYTHONPATH": str(Path(__file__).parents[1])})
    assert proc.returncode == 130
    assert proc.stderr == "vhostmc: aborted by SIGINT; nothing more was written\n", proc.stderr
