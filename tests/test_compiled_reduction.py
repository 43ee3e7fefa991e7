"""The compiled explorer with the dead-value reduction against the reduced Python explorer.

Both store canonical states in the same BFS order, so state and transition
counts, depths, verdicts and the shortest traces (canonical states, marked
reduced) must be equal; the traces replay with ``vhostmc replay``.  Numba
compiles each configuration once, the reduction's proof is made once
(both cached in $VHOSTMC_CACHE, else ~/.cache/vhostmc).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shared_checks import cli, replays_canonically

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit import engine as engine_module
from checker.engines.explicit.compiled.flatcanon import flat_canon_source
from checker.engines.explicit.compiled.flatcode import Refused
from checker.engines.explicit.compiled.layout import layout_of
from checker.engines.explicit.engine import ENGINE
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.runs.catalog import all_properties, load_revision, select_properties
from checker.runs.environments import get_environment
from checker.semantics.canon import canonicalizer

pytest.importorskip("numba")

ENVIRONMENTS = ("default", "datapath", "rogue")
SAFETY = ("no-double-use", "memory-safe")


def invariants() -> list[Property]:
    return [p for p in all_properties() if not p.is_liveness]


def vhost_model(revision: str, env: str) -> Model:
    return load_revision(revision)({"ring_size": 1, **get_environment(env).switches})


def engine_run(model: Model, props: list[Property], backend: str) -> RunResult:
    return ENGINE.run(EngineRequest(model, props, backend=backend, reduction=True))


def outline(res: RunResult) -> tuple[Any, ...]:
    """What both backends must agree on: counts, verdicts, traces (labels and states)."""
    verdicts = tuple(
        (p.name, p.status, p.reason,
         None if p.trace is None else len(p.trace.steps),
         None if p.trace is None else p.trace.initial,
         None if p.trace is None else tuple((s.label, s.state) for s in p.trace.steps),
         None if p.trace is None else p.trace.reduced)
        for p in res.properties)
    return (res.complete, tuple(res.bounds_hit), res.stats.states, res.stats.transitions,
            res.stats.max_depth, verdicts)


def replays_reduced(model: Model, res: RunResult) -> None:
    """Every trace is marked reduced and replays as canonical model transitions."""
    assert all(p.trace.reduced is True for p in res.properties if p.trace is not None)
    replays_canonically(model, res)


# -- the generated canon -------------------------------------------------------------------

@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_flat_canon_is_straight_line_and_agrees_with_the_tuple_canon(revision: str) -> None:
    """On every state of the full (unreduced) ring-1 datapath space, the flat canon
    (run as plain Python on the packed words) gives the packed tuple canon."""
    model = vhost_model(revision, "datapath")
    layout = layout_of(model)
    source = flat_canon_source(model, layout)
    assert source is not None and source.startswith("def canon(u, nw):")
    assert " if " not in source and "for " not in source and "while " not in source
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102 - code we generated
    flat = namespace["canon"]
    canon = canonicalizer(model)
    full = ExplicitChecker(model, [], record_graph=True).run()
    assert full.complete and full.graph is not None
    states = full.graph.states
    assert len(states) == {"v9": 11083, "v3.1": 12419}[revision]
    changed = 0
    for state in states:
        words = layout.pack(state)
        flat([-7] * layout.slots, words)  # scratch holds garbage: every read is loaded first
        assert words == layout.pack(canon(state))
        changed += canon(state) != state
    assert changed > 0


@pytest.mark.parametrize("revision", ["v9", "v3.1"])
@pytest.mark.parametrize("env", ["default", "datapath", "rogue"])
def test_flat_canon_loads_every_slot_before_reading_it(revision: str, env: str) -> None:
    """The scratch ``u`` is not the state: each ``u[k]`` a line reads (a computation
    or a final write) was assigned from ``nw`` on an earlier line."""
    import re

    model = vhost_model(revision, env)
    source = flat_canon_source(model, layout_of(model))
    assert source is not None
    loaded: set[str] = set()
    for line in source.splitlines()[1:]:
        target, _, expr = line.strip().partition(" = ")
        assert set(re.findall(r"\bu\[(\d+)\]", expr)) <= loaded, line
        if target.startswith("u["):
            loaded.add(target[2:-1])


def test_a_model_without_dead_values_has_no_flat_canon() -> None:
    from reference_models import Counter

    model = Counter()
    assert flat_canon_source(model, layout_of(model)) is None


# -- reduced runs: compiled against python -------------------------------------------------

COMPILES = pytest.mark.slow
"""Each model configuration costs a numba compile (tens of seconds on a cold cache): the
default suite keeps the data path's, the other environments run with -m slow."""


@pytest.mark.parametrize("env", [e if e == "datapath" else pytest.param(e, marks=COMPILES)
                                 for e in ENVIRONMENTS])
@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_compiled_reduced_equals_python_reduced(revision: str, env: str) -> None:
    model, props = vhost_model(revision, env), invariants()
    want = engine_run(model, props, "python")
    got = engine_run(model, props, "compiled")
    assert got.stats.backend == "compiled"
    assert want.reduction["on"] is True and got.reduction["on"] is True
    assert got.reduction["proof"]["passed"] is True
    assert outline(got) == outline(want)
    assert any(p.trace is not None for p in got.properties) or env == "datapath"
    replays_reduced(model, got)


def test_datapath_reduced_counts_are_the_python_ones() -> None:
    """The reduced counts of tests/test_reduction.py: some invariant stays unviolated,
    so the search is complete and the count is the whole reduced space."""
    got = engine_run(vhost_model("v9", "datapath"), invariants(), "compiled")
    assert got.complete and got.stats.backend == "compiled"
    assert got.stats.states == 3499


def test_auto_uses_the_compiled_backend_with_the_reduction(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VHOSTMC_BACKEND", raising=False)
    monkeypatch.setattr(engine_module, "SMALL_SPACE", 100)
    got = engine_run(vhost_model("v3.1", "datapath"), select_properties(list(SAFETY)), "auto")
    assert got.stats.backend == "compiled"
    assert got.reduction["on"] is True
    assert got.complete and got.stats.states == 3599
    assert [p.status for p in got.properties] == ["holds", "holds"]


def test_no_reduction_explores_the_full_space_compiled() -> None:
    model = vhost_model("v3.1", "datapath")
    got = ENGINE.run(EngineRequest(model, invariants(), backend="compiled", reduction=False))
    assert got.stats.backend == "compiled"
    assert got.reduction == {"on": False, "why": "--no-reduction"}
    assert got.stats.states == 12419


def test_declarations_without_a_flat_form_fall_back_to_the_reduced_python_search(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from checker.engines.explicit.compiled import flatcanon

    def refuse(model: Model, layout: Any) -> str:
        raise Refused("dead-value declarations: a value of mixed kind is written")

    monkeypatch.setattr(flatcanon, "flat_canon_source", refuse)
    got = engine_run(vhost_model("v9", "datapath"), invariants(), "compiled")
    assert got.stats.backend == ("python (compiled backend refused: the dead-value reduction "
                                 "has no compiled form: dead-value declarations: a value of "
                                 "mixed kind is written)")
    assert got.reduction["on"] is True
    assert got.stats.states == 3499
    assert "compiled backend refused: the dead-value reduction" in capsys.readouterr().err


# -- the command line: reduced traces replay -----------------------------------------------



@pytest.mark.parametrize("revision", ["v9", pytest.param("v3.1", marks=COMPILES)])
def test_cli_compiled_reduced_traces_replay(revision: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code, _, err = cli(capsys, "check", "--revision", revision, "--ring-size", "1",
                       "--backend", "compiled", "--property", "no-double-use",
                       "--property", "memory-safe", "--property", "no-stuck-waiter",
                       "--property", "no-quiescent-leak", "--pictures", "none",
                       "--out", str(out), "-q")
    assert code == 1, err
    doc = json.loads((out / "result.json").read_text())
    assert doc["reduction"]["on"] is True
    assert doc["stats"]["backend"] == "compiled"
    traces = sorted(out.rglob("*.itf.json"))
    assert len(traces) == sum(p["status"] == "violated" for p in doc["properties"]) > 0
    for trace in traces:
        assert json.loads(trace.read_text())["#meta"]["reduced"] is True
        code, text, err = cli(capsys, "replay", str(trace))
        assert code == 0, (trace.name, text, err)
        assert "canonical states" in text
