"""The compiled explorer with --symmetry against the Python explorer with it.

Both store one state per class of descriptor renamings (maybe different
members: the two compare states in different orders), so state counts,
verdicts and trace lengths must be equal, and both backends' traces are
model paths (re-fired from the initial state).  Numba compiles each
configuration once (cached in $VHOSTMC_CACHE, else ~/.cache/vhostmc).
"""

from __future__ import annotations

import pytest
from shared_checks import replays_canonically

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit.compiled.flatsym import flat_symmetry_source
from checker.engines.explicit.compiled.layout import layout_of
from checker.engines.explicit.engine import ENGINE
from checker.lang.model import Model
from checker.lang.symmetry import declared_symmetry
from checker.runs.catalog import load_revision, select_properties

pytest.importorskip("numba")

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
SAFETY = ("no-double-use", "memory-safe", "no-stuck-waiter", "no-quiescent-leak")


def engine_run(model: Model, backend: str) -> RunResult:
    return ENGINE.run(EngineRequest(model, select_properties(SAFETY), backend=backend,
                                    symmetry=True))


def test_the_compiled_representative_renames_every_permutation() -> None:
    model = load_revision("v3.1")({"ring_size": 3, **DATAPATH})
    decl = declared_symmetry(model)
    assert decl is not None
    source = flat_symmetry_source(model, layout_of(model), decl, True)
    assert source.count("def perm_") == 5
    assert "def dead_canon(u, nw):" in source and "def canon(u2, nw):" in source


def test_compiled_and_python_agree_at_ring_2() -> None:
    model = load_revision("v9")({"ring_size": 2, **DATAPATH})
    compiled = engine_run(model, "compiled")
    python = engine_run(load_revision("v9")({"ring_size": 2, **DATAPATH}), "python")
    assert compiled.stats.backend == "compiled"
    assert compiled.symmetry is not None and compiled.symmetry["on"] is True
    assert compiled.stats.states == python.stats.states == 53415
    assert [(p.name, p.status, None if p.trace is None else len(p.trace))
            for p in compiled.properties] == [
        (p.name, p.status, None if p.trace is None else len(p.trace)) for p in python.properties]
    replays_canonically(model, compiled)
