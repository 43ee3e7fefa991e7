"""Mutation testing: the built-in properties kill the seeded mutants of tests/mutants/.

``bench/mutants.py`` searches for kills and writes results/mutants.md; this file
pins what it found.  A kill of a safety property is replayed cheaply: the
mutant violates the property in L steps (a BFS bounded at depth L), and v9 does
not (the same bounded BFS on v9 finds nothing).  For a liveness property the
mutant's lasso comes from its complete search, and v9 explored to the
lasso's length has no violating lasso.  Every mutant file must be either
in :data:`KILLS` or in :data:`EXPLAINED_SURVIVORS` with a reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from checker.engines.base import Limits
from checker.runs.catalog import builtin_properties
from checker.runs.check import CheckRequest, run_check
from checker.runs.environments import ENVIRONMENTS

MUTANTS = Path(__file__).parent / "mutants"
ROOT = Path(__file__).parents[1]
LIVENESS = {p.name for p in builtin_properties() if p.is_liveness}

KILLS: dict[str, tuple[str, int, str, int]] = {
    # mutant file stem: (environment, ring size, killing property, counterexample steps)
}
"""The kill bench/mutants.py reports for each killed mutant (results/mutants.md)."""

EXPLAINED_SURVIVORS: dict[str, str] = {
    # mutant file stem: why no built-in property kills it
}
"""Mutants no built-in property kills, and why (bench/mutants.py copies these into the report)."""

FAST: dict[str, tuple[str, int, str, int]] = {
    "m13_add_used_always": ("datapath", 1, "no-double-use", 9),
    "m12_err_put_without_null_check": ("sendfail", 1, "memory-safe", 8),
    "m14_upend_mod_num": ("datapath", 1, "no-quiescent-leak", 15),  # v9: 47 steps
    "m09_no_discard_on_error": ("sendfail", 1, "no-quiescent-leak", 16),  # v9: 47 steps
}
"""Cheap kills replayed in the default suite (not necessarily the bench's first kill)."""


def _verdict(revision: str, env: str, ring: int, prop: str, tmp: Path,
             max_depth: int | None = None) -> tuple[str, int | None]:
    params: dict[str, Any] = {"ring_size": ring, **ENVIRONMENTS[env].switches}
    out = run_check(CheckRequest(revision=revision, params=params, properties=(prop,),
                                 limits=Limits(max_depth=max_depth), out_dir=tmp,
                                 formats=("itf",)))
    result = out.result.properties[0]
    return result.status, len(result.trace) if result.trace is not None else None


def _replay_kill(stem: str, kill: tuple[str, int, str, int], tmp: Path) -> None:
    """The mutant violates ``prop`` in ``steps`` steps; v9 explored to that depth does not."""
    env, ring, prop, steps = kill
    mutant = str((MUTANTS / f"{stem}.py").relative_to(ROOT))
    # a liveness lasso is found on the whole graph; a safety trace by BFS to its depth
    bound = None if prop in LIVENESS else steps
    assert _verdict(mutant, env, ring, prop, tmp / "m", max_depth=bound) == ("violated", steps)
    status, _ = _verdict("v9", env, ring, prop, tmp / "v9", max_depth=steps)
    assert status != "violated", f"v9 violates {prop} within {steps} steps too: not a kill"


def test_every_mutant_is_killed_or_an_explained_survivor() -> None:
    stems = {f.stem for f in MUTANTS.glob("m[0-9]*.py")}
    assert len(stems) >= 20
    assert stems == set(KILLS) | set(EXPLAINED_SURVIVORS)
    assert not set(KILLS) & set(EXPLAINED_SURVIVORS)
    assert all(len(reason) > 40 for reason in EXPLAINED_SURVIVORS.values())
    for env, ring, prop, steps in KILLS.values():
        assert env in ENVIRONMENTS and ring in (1, 2) and steps > 0
        assert prop in {p.name for p in builtin_properties()}


@pytest.mark.parametrize("stem", FAST)
def test_a_fast_kill(stem: str, tmp_path: Path) -> None:
    _replay_kill(stem, FAST[stem], tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(KILLS))
def test_every_kill(stem: str, tmp_path: Path) -> None:
    _replay_kill(stem, KILLS[stem], tmp_path)
