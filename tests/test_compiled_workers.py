"""The compiled explorer on two workers (``--workers 2``) against one.

The parallel loop numbers states exactly as the sequential one, so complete
and cut runs agree on everything: counts, depth, bounds, verdicts and the
shortest traces, state by state.  The vhost cases are the ring-1 data path
with the dead-value reduction (the canonicalisation runs on the worker
threads); each configuration costs one numba compile of the parallel loop
(cached in $VHOSTMC_CACHE or ~/.cache/vhostmc).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from shared_checks import cli, replays_canonically

from checker.engines.base import EngineRequest, Limits, RunResult
from checker.engines.explicit.engine import ENGINE
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.runs.catalog import all_properties, load_revision
from checker.runs.environments import get_environment

pytest.importorskip("numba")


def invariants() -> list[Property]:
    return [p for p in all_properties() if not p.is_liveness]


def datapath(revision: str) -> Model:
    return load_revision(revision)({"ring_size": 1, **get_environment("datapath").switches})


def run(model: Model, workers: int, **limits: Any) -> RunResult:
    return ENGINE.run(EngineRequest(model, invariants(), Limits(**limits), backend="compiled",
                                    reduction=True, workers=workers))


def outline(res: RunResult) -> tuple[Any, ...]:
    """Everything one and two workers must agree on."""
    verdicts = tuple(
        (p.name, p.status, p.reason,
         None if p.trace is None else len(p.trace.steps),
         None if p.trace is None else tuple((s.label, s.state) for s in p.trace.steps))
        for p in res.properties)
    return (res.complete, tuple(res.bounds_hit), res.stats.states, res.stats.transitions,
            res.stats.max_depth, res.stats.queue, verdicts)




@pytest.mark.parametrize("revision, states, verdicts", [
    ("v9", 3499, {"no-quiescent-leak": ("violated", 47)}),
    pytest.param("v3.1", 3599, {}, marks=pytest.mark.slow),  # also test_compiled_explorer's
])
def test_two_workers_give_one_workers_counts_verdicts_and_traces(
        revision: str, states: int, verdicts: dict[str, tuple[str, int]]) -> None:
    model = datapath(revision)
    one, two = run(model, 1), run(model, 2)
    assert one.stats.backend == two.stats.backend == "compiled"
    assert (one.stats.workers, two.stats.workers) == (1, 2)
    assert two.reduction is not None and two.reduction["on"] is True
    assert outline(two) == outline(one)
    assert two.complete and two.stats.states == states
    got = {p.name: (p.status, len(p.trace.steps) if p.trace else None)
           for p in two.properties}
    assert got == {p.name: verdicts.get(p.name, ("holds", None)) for p in invariants()}
    replays_canonically(model, two)


@pytest.mark.parametrize("limits, bound", [
    ({"max_states": 1000}, "1000 states"),   # the bound falls inside a chunk
    ({"max_depth": 30}, "depth 30"),
])
def test_two_workers_cut_where_one_worker_cuts(limits: dict[str, int], bound: str) -> None:
    model = datapath("v3.1")
    one, two = run(model, 1, **limits), run(model, 2, **limits)
    assert outline(two) == outline(one)
    assert two.complete is False and two.bounds_hit == [bound]
    assert {p.status for p in two.properties} == {"inconclusive"}
    assert all(p.reason == f"search cut by {bound}" for p in two.properties)


def test_two_workers_stop_on_an_interrupt() -> None:
    res = ENGINE.run(EngineRequest(datapath("v3.1"), invariants(), backend="compiled",
                                   workers=2, stop=lambda: "SIGINT"))
    assert res.stopped == "SIGINT" and res.complete is False
    assert res.bounds_hit == ["interrupted (SIGINT)"]
    assert {p.status for p in res.properties} == {"inconclusive"}


# -- the command line ----------------------------------------------------------------------



DATAPATH_R1 = ["check", "--revision", "v3.1", "--ring-size", "1", "--max-backend-changes", "0",
               "--release", "no", "--send-failures", "0", "-q", "--pictures", "none"]
CORES = len(os.sched_getaffinity(0))


@pytest.mark.skipif(CORES < 2, reason="--workers 2 needs two cores")
def test_cli_workers_2_records_the_workers(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    props = [arg for p in invariants() for arg in ("--property", p.name)]
    code, out, err = cli(capsys, *DATAPATH_R1, *props, "--backend", "compiled",
                         "--workers", "2", "--out", str(tmp_path))
    assert code == 0, err
    assert "explored 3599 states" in out and "(backend: compiled, 2 workers)" in out
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["settings"]["workers"] == 2 and doc["stats"]["workers"] == 2
    assert doc["stats"]["states"] == 3599


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "--workers must be at least 1, not 0"),
    (["--workers", "two"], "--workers: 'two' is not a valid integer"),
    (["--workers", str(CORES + 1)],
     (f"--workers {CORES + 1} is more than the {CORES} cores this machine lets vhostmc use; "
     f"give 1 to {CORES}")),
    (["--workers", "2", "--backend", "python"],
     ("--workers applies to the compiled backend; use --backend compiled (or auto), "
     "or drop --workers")),
    (["--workers", "2", "--engine", "bmc"], "--workers applies to --engine explicit only"),
])
def test_cli_bad_workers_exit_2(args: list[str], message: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = cli(capsys, *DATAPATH_R1, *args, "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_two_workers_stop_at_the_memory_limit_with_their_work_arrays_counted() -> None:
    from checker.engines.explicit.compiled.kernel import MIN_CHUNK, par_buffer_bytes
    from checker.engines.explicit.compiled.layout import layout_of
    from checker.engines.explicit.compiled.search import CompiledChecker

    model = datapath("v3.1")
    limit = 400_000
    res = CompiledChecker(model, invariants(), workers=2, table_limit=limit).run()
    buffers = par_buffer_bytes(MIN_CHUNK, layout_of(model).words, len(model.instances), 2)
    assert res.bounds_hit == ["memory limit 0 MiB"]
    assert 0 < res.stats.table_bytes <= limit - buffers
    assert 0 < res.stats.states < 12419
    assert {p.status for p in res.properties} == {"inconclusive"}


def test_two_workers_give_one_workers_liveness_verdicts() -> None:
    # the fair-cycle analysis reads the graph the parallel loop built
    model = datapath("v9")
    live = [p for p in all_properties() if p.is_liveness]

    def verdicts(workers: int) -> tuple[Any, ...]:
        res = ENGINE.run(EngineRequest(model, live, Limits(), backend="compiled",
                                       reduction=True, workers=workers))
        assert res.stats.backend == "compiled"
        return (res.complete, res.stats.states, tuple((p.name, p.status) for p in res.properties))

    one = verdicts(1)
    assert one == verdicts(2)
    assert ("no-leak", "violated") in one[2]
