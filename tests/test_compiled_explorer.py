"""The compiled explicit backend (checker.engines.explicit.compiled) against the Python one.

Both explore in the same BFS order, so state and transition counts, depths,
verdicts, bounds and the shortest traces must be equal.  Numba compiles each
model configuration once (cached in $VHOSTMC_CACHE or ~/.cache/vhostmc): the
first run of this file takes minutes, later runs seconds.
"""

from __future__ import annotations

import json

import pytest
from liveness_models import Server, served
from reference_models import (
    Bounded,
    BrokenLock,
    Cells,
    Counter,
    Lock,
    TwoSpeed,
    cells_in_range,
    counter_live,
    lock_consistent,
    mutual_exclusion,
    n_nonnegative,
    n_not_2,
    not_all_two,
    reset_enabled,
    x_in_range,
    x_not,
    x_not_4,
    x_not_bad,
)
from shared_checks import cli

from checker.engines.base import EngineRequest, Limits, RunResult
from checker.engines.explicit import engine as engine_module
from checker.engines.explicit.compiled.layout import layout_of
from checker.engines.explicit.compiled.search import CompiledChecker
from checker.engines.explicit.engine import ENGINE
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import Model, action
from checker.lang.spec import Property, invariant
from checker.runs.catalog import all_properties, load_revision
from checker.runs.environments import get_environment
from checker.semantics.states import fire, initial_state

pytest.importorskip("numba")


def python_run(model: Model, props: list[Property], **limits: float) -> RunResult:
    return ExplicitChecker(model, props, limits=Limits(**limits)).run()  # type: ignore[arg-type]


def compiled_run(model: Model, props: list[Property], table_limit: int | None = None,
                 **limits: float) -> RunResult:
    return CompiledChecker(model, props, Limits(**limits),  # type: ignore[arg-type]
                           table_limit=table_limit).run()


def outline(res: RunResult) -> tuple:
    """Everything both backends must agree on (traces by their labels and states, and
    each action instance's transitions and first-reached states)."""
    verdicts = tuple(
        (p.name, p.status, p.reason,
         None if p.trace is None else tuple((s.label, s.state) for s in p.trace.steps),
         None if p.trace is None else p.trace.explanation)
        for p in res.properties)
    return (res.complete, tuple(res.bounds_hit), res.stats.states, res.stats.transitions,
            res.stats.max_depth, res.stats.queue, verdicts, res.coverage)


def replays(model: Model, res: RunResult) -> None:
    """Every trace starts in the initial state and each step is a transition of the model."""
    for p in res.properties:
        if p.trace is None:
            continue
        before = p.trace.initial
        assert before == initial_state(model)
        for step in p.trace.steps:
            assert fire(model, model.instance(step.label), before) == step.state
            before = step.state


# -- layout ---------------------------------------------------------------------------

def test_layout_round_trips_a_state_and_packs_tightly() -> None:
    model = load_revision("v3.1")({"ring_size": 2, **get_environment("datapath").switches})
    layout = layout_of(model)
    assert layout.slots == 93
    assert layout.words == 3  # 147 bits of fields in 63-bit words
    state = initial_state(model)
    assert layout.unpack(model, layout.pack(state)) == state
    assert all(0 <= w < 2**63 for w in layout.pack(state))


# -- the hand-counted reference models ----------------------------------------------

REFERENCE = [
    pytest.param(Counter(), [x_in_range], {}, id="counter-M4"),
    pytest.param(Counter(), [counter_live, reset_enabled], {}, id="counter-enabled"),
    pytest.param(Counter({"modulus": 6}), [x_not(1), x_not(2)], {}, id="counter-stops"),
    pytest.param(Counter(), [x_in_range, x_not_bad], {"max_states": 2}, id="counter-max-states"),
    pytest.param(Counter(), [x_in_range, x_not_bad], {"max_depth": 2}, id="counter-max-depth"),
    pytest.param(Counter(), [x_not_bad], {"max_depth": 3}, id="counter-depth-violation"),
    pytest.param(Counter(), [x_in_range], {"time_limit": 0}, id="counter-time-0"),
    pytest.param(TwoSpeed(), [x_not_4], {}, id="two-speed"),
    pytest.param(Lock({"procs": 3}), [mutual_exclusion, lock_consistent], {}, id="lock-P3"),
    pytest.param(BrokenLock(), [mutual_exclusion, lock_consistent], {}, id="broken-lock"),
    pytest.param(Cells({"cells": 3}), [cells_in_range, not_all_two], {}, id="cells-N3"),
    pytest.param(Bounded(), [n_nonnegative, n_not_2], {}, id="bounded-capacity"),
    pytest.param(Bounded({"cap": 0}), [n_nonnegative], {}, id="bounded-capacity-initial"),
    pytest.param(Lock(), [], {}, id="lock-no-properties"),
]


@pytest.mark.parametrize("model, props, limits", REFERENCE)
def test_reference_models_agree_with_the_python_explorer(model, props, limits) -> None:
    want = python_run(model, props, **limits)
    got = compiled_run(model, props, **limits)
    assert outline(got) == outline(want)
    assert got.stats.backend == "compiled"
    replays(model, got)


def test_reference_counts_are_the_hand_counted_ones() -> None:
    res = compiled_run(Cells({"cells": 3}), [cells_in_range])
    assert (res.stats.states, res.stats.transitions, res.stats.max_depth) == (81, 216, 7)
    assert [p.status for p in res.properties] == ["holds"]
    res = compiled_run(Bounded(), [n_nonnegative])
    assert res.bounds_hit == ["model capacity: pool of n"]
    assert (res.stats.states, res.stats.transitions, res.stats.max_depth) == (4, 6, 3)


# -- limits -----------------------------------------------------------------------------

def test_a_tiny_memory_limit_is_inconclusive_memory_limit() -> None:
    model = Cells({"cells": 3})
    res = compiled_run(model, [cells_in_range], table_limit=1000)
    assert res.complete is False
    assert res.bounds_hit == ["memory limit 0 MiB"]
    (r,) = res.properties
    assert r.status == "inconclusive"
    assert "memory limit" in (r.reason or "")


def test_the_memory_limit_stops_before_growing_past_it() -> None:
    model = load_revision("v3.1")({"ring_size": 1, **get_environment("datapath").switches})
    props = [p for p in all_properties() if p.name == "no-double-use"]
    res = compiled_run(model, props, table_limit=200_000)
    assert res.bounds_hit == ["memory limit 0 MiB"]
    assert res.stats.table_bytes <= 200_000
    assert 0 < res.stats.states < 12419
    assert res.properties[0].status == "inconclusive"


# -- engine glue ---------------------------------------------------------------------------

def test_engine_uses_the_python_explorer_for_dfs_and_says_why(capsys) -> None:
    res = ENGINE.run(EngineRequest(Server(), [served], backend="compiled", search="dfs"))
    assert res.stats.backend.startswith("python (compiled backend refused: it searches breadth")
    assert "compiled backend refused" in capsys.readouterr().err


def test_engine_runs_the_compiled_backend_when_asked() -> None:
    res = ENGINE.run(EngineRequest(Counter(), [x_in_range], backend="compiled"))
    assert res.stats.backend == "compiled"
    assert res.properties[0].status == "holds"


# -- the vhost models ----------------------------------------------------------------------

def invariants() -> list[Property]:
    return [p for p in all_properties() if not p.is_liveness]


def vhost_case(revision: str, env: str) -> tuple[Model, list[Property]]:
    model = load_revision(revision)({"ring_size": 1, **get_environment(env).switches})
    return model, invariants()


@pytest.mark.parametrize("revision", ["v3.1", "v9"])
def test_vhost_datapath_agrees_with_the_python_explorer(revision: str) -> None:
    model, props = vhost_case(revision, "datapath")
    want = python_run(model, props)
    got = compiled_run(model, props)
    assert outline(got) == outline(want)
    replays(model, got)


@pytest.mark.slow
@pytest.mark.parametrize("env", ["default", "rogue", "sendfail", "backend", "release"])
@pytest.mark.parametrize("revision", ["v3.1", "v9"])
def test_vhost_environments_agree_with_the_python_explorer(revision: str, env: str) -> None:
    model, props = vhost_case(revision, env)
    want = python_run(model, props)
    got = compiled_run(model, props)
    assert outline(got) == outline(want)
    replays(model, got)


# -- the canonicalisation hook ----------------------------------------------------------

IDENTITY_CANON = '''def canon(u2, nw):
    unpack(nw, u2)
    pack(u2, nw)
'''


def test_a_canon_hook_runs_on_every_successor() -> None:
    """The hook compiles into the loop; an identity canonicalisation changes nothing."""
    model, props = Cells({"cells": 3}), [cells_in_range, not_all_two]
    want = python_run(model, props)
    got = CompiledChecker(model, props, canon=IDENTITY_CANON).run()
    assert outline(got) == outline(want)
    replays(model, got)


# -- the command line ---------------------------------------------------------------------



DATAPATH_R1 = ["check", "--revision", "v3.1", "--ring-size", "1", "--max-backend-changes", "0",
               "--release", "no", "--send-failures", "0", "-q"]


def test_cli_backend_compiled_reports_backend_speed_and_bytes(tmp_path, capsys) -> None:
    props = [arg for p in invariants() for arg in ("--property", p.name)]
    code, out, _ = cli(capsys, *DATAPATH_R1, *props, "--backend", "compiled",
                       "--out", str(tmp_path))
    assert code == 0
    assert "explored 3599 states" in out and "(backend: compiled)" in out  # reduced
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["settings"]["backend"] == "compiled"
    assert doc["stats"]["backend"] == "compiled"
    assert doc["stats"]["states"] == 3599
    assert doc["reduction"]["on"] is True
    assert 0 < doc["stats"]["bytes_per_state"] < 200
    assert doc["stats"]["states_per_second"] > 0


def test_cli_memory_limit_in_mib_bounds_the_compiled_table(tmp_path, capsys) -> None:
    """``--memory-limit`` is MiB for both backends; ring 1's table fits in 1 MiB."""
    props = [arg for p in invariants() for arg in ("--property", p.name)]
    code, _, _ = cli(capsys, *DATAPATH_R1, *props, "--backend", "compiled",
                     "--memory-limit", "1", "--out", str(tmp_path))
    doc = json.loads((tmp_path / "result.json").read_text())
    assert code == 0 and doc["settings"]["memory_limit_mib"] == 1
    assert doc["stats"]["backend"] == "compiled"
    assert 0 < doc["stats"]["table_bytes"] <= 1 << 20


@pytest.mark.parametrize("args, message", [
    (["--memory-limit", "lots"], "'lots' is not a valid integer"),
    (["--memory-limit", "0"], "--memory-limit must be at least 1, not 0"),
    (["--backend", "compiled", "--engine", "bmc"], "--backend applies to --engine explicit"),
])
def test_cli_bad_backend_options_exit_2(tmp_path, capsys, args, message) -> None:
    code, _, err = cli(capsys, *DATAPATH_R1, *args, "--out", str(tmp_path))
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_auto_takes_compiled_where_it_applies_and_python_quietly_elsewhere(
        monkeypatch, capsys) -> None:
    monkeypatch.delenv("VHOSTMC_BACKEND", raising=False)
    monkeypatch.setattr(engine_module, "SMALL_SPACE", 3)
    res = ENGINE.run(EngineRequest(Counter(), [x_in_range], backend="auto"))
    assert res.stats.backend == "compiled"
    assert res.complete and res.stats.states == 4
    res = ENGINE.run(EngineRequest(Server(), [served], backend="auto", search="dfs"))
    assert res.stats.backend.startswith("python (compiled backend refused: it searches breadth")
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("VHOSTMC_BACKEND", "python")
    res = ENGINE.run(EngineRequest(Counter(), [x_in_range], backend="auto"))
    assert res.stats.backend == "python"


def test_auto_keeps_the_python_explorer_on_a_small_space(monkeypatch) -> None:
    """A space within SMALL_SPACE states is explored by the python explorer (no compiled
    code to load); one state more and the run is compiled, with the same verdict."""
    monkeypatch.delenv("VHOSTMC_BACKEND", raising=False)
    monkeypatch.setattr(engine_module, "SMALL_SPACE", 4)
    res = ENGINE.run(EngineRequest(Counter(), [x_in_range], backend="auto"))
    assert res.stats.backend == "python (auto: a space of at most 4 states)"
    assert res.complete and res.stats.states == 4 and res.coverage is not None
    res = ENGINE.run(EngineRequest(Counter(), [x_in_range], backend="auto",
                                   limits=Limits(max_states=2)))
    assert res.stats.backend == "python (auto: a space of at most 4 states)"
    assert res.bounds_hit == ["2 states"]
    assert [p.status for p in res.properties] == ["inconclusive"]


# -- where the model itself fails -----------------------------------------------------------

@invariant("true", "always holds")
def x_true(s) -> object:
    return True


class Overflow(Model):
    """``x`` in 0..2 is incremented without a guard: the write of 3 is a model bug;
    ``a[x]`` on a 2-element array is indexed out of range at x = 2 by ``peek``."""

    name = "overflow"
    actors = ("inc", "peek")

    def declare(self, p):
        from checker.lang.model import int_array, int_var
        return [int_var("x", 0, 2), int_array("a", 2, 0, 1)]

    @action("inc", "inc", "x++;")
    def inc(self, s) -> None:
        s.x = s.x + 1

    @action("peek", "peek", "y = a[x];", adds=False)
    def peek(self, s) -> None:
        s.require(s.x >= 2)
        s.a[0] = s.a[s.x]


class OutOfRange(Overflow):
    """:class:`Overflow` with ``inc`` guarded: only ``peek``'s index fails."""

    @action("inc", "inc", "if (x < 2) x++;")
    def inc(self, s) -> None:
        s.require(s.x < 2)
        s.x = s.x + 1


@pytest.mark.parametrize("make, error", [(Overflow, "ModelBug"), (OutOfRange, "IndexError")])
def test_a_model_bug_raises_the_models_own_exception(make, error) -> None:
    with pytest.raises(Exception) as want:
        python_run(make(), [x_true])
    with pytest.raises(Exception) as got:
        compiled_run(make(), [x_true])
    assert type(want.value).__name__ == type(got.value).__name__ == error
    assert str(got.value) == str(want.value)


# -- two workers ---------------------------------------------------------------------------

@pytest.mark.parametrize("model, props, limits", [
    p if p.id in ("counter-stops", "broken-lock")
    else pytest.param(*p.values, marks=pytest.mark.slow, id=p.id)  # a numba compile each
    for p in REFERENCE if p.id in ("counter-stops", "counter-max-states", "counter-max-depth",
                                   "lock-P3", "broken-lock", "bounded-capacity")])
def test_two_workers_give_the_sequential_result(model, props, limits) -> None:
    want = compiled_run(model, props, **limits)
    got = CompiledChecker(model, props, Limits(**limits), workers=2).run()
    assert outline(got) == outline(want)


def test_two_workers_on_the_vhost_datapath() -> None:
    model, props = vhost_case("v3.1", "datapath")
    want = compiled_run(model, props)
    got = CompiledChecker(model, props, workers=2).run()
    assert outline(got) == outline(want)
    replays(model, got)


def test_an_interrupt_ends_a_compiled_search_with_what_it_found() -> None:
    model = Cells({"cells": 3})
    res = CompiledChecker(model, [cells_in_range], stop=lambda: "SIGINT").run()
    assert res.stopped == "SIGINT" and res.complete is False
    assert res.bounds_hit == ["interrupted (SIGINT)"]
    assert [(p.status, p.reason) for p in res.properties] == [("inconclusive", "interrupted")]
