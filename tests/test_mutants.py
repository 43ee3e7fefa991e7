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
LIVENESS = {p.name for p in builtin_properties() if p.is_liveness}

KILLS: dict[str, tuple[str, int, str, int]] = {
    # mutant file stem: (environment, ring size, killing property, counterexample steps)
    "m01_no_kref_get": ("datapath", 1, "memory-safe", 33),  # v9 holds
    "m02_alloc_kref_init_only": ("release", 1, "memory-safe", 20),  # v9 holds
    "m04_max_pend_too_late": ("datapath", 1, "no-quiescent-leak", 17),  # v9: 47 steps
    "m05_large_marked_done": ("datapath", 1, "no-double-use", 13),  # v9 holds
    "m07_desc_after_upend": ("datapath", 1, "no-leak", 23),  # v9: lasso of 47
    "m09_no_discard_on_error": ("default", 1, "no-quiescent-leak", 13),  # v9: 14 steps
    "m10_err_no_upend_rollback": ("default", 1, "no-double-use", 13),  # v9: 16 steps
    "m11_rollback_mod_num": ("sendfail", 1, "no-quiescent-leak", 33),  # v9: 47 steps
    "m12_err_put_without_null_check": ("sendfail", 1, "memory-safe", 8),  # v9 holds
    "m13_add_used_always": ("datapath", 1, "no-double-use", 9),  # v9 holds
    "m14_upend_mod_num": ("datapath", 1, "no-quiescent-leak", 15),  # v9: 47 steps
    "m15_signal_wrong_head": ("datapath", 2, "no-double-use", 20),  # v9: none in 20 steps
    "m16_done_idx_not_advanced": ("datapath", 1, "no-leak", 31),  # v9: lasso of 47
    "m19_no_signal_used_in_loop": ("datapath", 1, "no-leak", 21),  # v9: lasso of 47
    "m20_callback_no_kref_put": ("datapath", 1, "no-leak", 43),  # v9: lasso of 47
    "m21_callback_no_done_mark": ("datapath", 1, "no-leak", 23),  # v9: lasso of 47
    "m22_callback_wrong_slot": ("datapath", 1, "no-leak", 33),  # v9: lasso of 47
    "m24_kfree_without_wait": ("release", 1, "memory-safe", 18),  # v9 holds
    "m25_release_no_put_and_wait": ("release", 1, "memory-safe", 18),  # v9 holds
    "m27_set_backend_no_put_and_wait": ("default", 1, "no-quiescent-leak", 13),  # v9: 14 steps
    "m28_weight_no_requeue": ("datapath", 1, "no-quiescent-leak", 9),  # v9: 47 steps
    "m30_err_no_tx_poll_start": ("default", 1, "no-quiescent-leak", 10),  # v9: 14 steps
}
"""The kill bench/mutants.py reports for each killed mutant (results/mutants.md)."""

EXPLAINED_SURVIVORS: dict[str, str] = {
    # mutant file stem: why no built-in property kills it
    "m03_max_pend_off_by_one": (
        "equivalent for these properties (a performance bug): backing off one DMA early "
        "still calls tx_poll_start, which with tap's unlimited sndbuf requeues handle_tx at "
        "once, so the worker busy-polls instead of sleeping and loses no head v9 does not "
        "lose. The busy loop even hides v9's quiescent leaks (no-quiescent-leak holds in "
        "bigring at ring 1; no-leak is still violated there, in 21 steps instead of 15)."),
    "m06_len_not_written": (
        "equivalent in every reachable state: vhost_zerocopy_signal_used only tests "
        "len == VHOST_DMA_DONE_LEN, and the stale length of the slot being written is "
        "VHOST_DMA_CLEAR_LEN (initially, or cleared when the slot was returned), which is "
        "'not done' as the real length is; it would differ only if upend_idx lapped done_idx "
        "onto a slot still marked done, which the checked rings do not reach before v9's own "
        "violations."),
    "m08_zcopy_small_buffers": (
        "equivalent by symmetry (a performance bug): the guest picks each buffer's length "
        "class freely, so swapping which class is zero-copied maps every run of the mutant "
        "onto a run of v9 with the classes swapped; same verdicts everywhere."),
    "m17_signal_used_no_clear": (
        "equivalent: a returned slot lies behind done_idx, and done_idx can only reach it "
        "again after upend_idx has passed it, and handle_tx rewrites heads[upend_idx].len "
        "when upend_idx passes; the stale VHOST_DMA_DONE_LEN is never read (the state space "
        "is larger, the verdicts are v9's)."),
    "m18_signal_used_no_break": (
        "needs a bigger ring, then masked by v9: skipping a slot still under DMA needs two "
        "zero-copy buffers outstanding that complete out of order (ring >= 2); the skipped "
        "head is then never returned, a leak, but v9 already leaks at ring 2 in 14 steps "
        "(no-quiescent-leak, no-leak), sooner than any run that skips a slot, and the "
        "45 s ring-2 searches find no other difference."),
    "m23_put_and_wait_without_put": (
        "masked by v9's F1: v9's vhost_ubuf_put_and_wait already never returns (refcount "
        "2 from vhost_ubuf_alloc, its own put leaves 1), in 3 steps after a backend change "
        "and 8 on release; without the put it hangs the same way, no sooner, and nothing "
        "else changes."),
    "m26_set_backend_unlocked": (
        "masked by v9's F2: the race it opens (vq->ubufs swapped while handle_tx runs with "
        "a zcopy decided from the old socket) ends in the same NULL vhost_ubuf_ref "
        "dereference that v9 already reaches in 8 steps through its unlocked "
        "rcu_dereference of the socket; no-double-use still holds in 'backend'."),
    "m29_zcopy_ignores_module_param": (
        "needs an environment no preset has: the mistake only shows with --zcopytx 0, and "
        "every named environment keeps the default 1; datapath with --zcopytx 0 kills it "
        "(memory-safe, 7 steps: kref_get on the NULL vq->ubufs; v9 holds), see "
        "test_the_zcopytx_survivor_dies_with_zcopytx_0."),
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
             max_depth: int | None = None, **extra: Any) -> tuple[str, int | None]:
    params: dict[str, Any] = {"ring_size": ring, **ENVIRONMENTS[env].switches, **extra}
    out = run_check(CheckRequest(revision=revision, params=params, properties=(prop,),
                                 limits=Limits(max_depth=max_depth), out_dir=tmp,
                                 formats=("itf",)))
    result = out.result.properties[0]
    return result.status, len(result.trace) if result.trace is not None else None


def _replay_kill(stem: str, kill: tuple[str, int, str, int], tmp: Path) -> None:
    """The mutant violates ``prop`` in ``steps`` steps; v9 explored to that depth does not."""
    env, ring, prop, steps = kill
    mutant = str(MUTANTS / f"{stem}.py")
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


def test_the_zcopytx_survivor_dies_with_zcopytx_0(tmp_path: Path) -> None:
    mutant = str(MUTANTS / "m29_zcopy_ignores_module_param.py")
    assert _verdict(mutant, "datapath", 1, "memory-safe", tmp_path, zcopytx=0) == ("violated", 7)
    assert _verdict("v9", "datapath", 1, "memory-safe", tmp_path, zcopytx=0) == ("holds", None)


def test_the_fast_kills_agree_with_the_bench() -> None:
    for stem, kill in FAST.items():
        env, ring, prop, steps = kill
        if KILLS[stem][:3] == (env, ring, prop):
            assert KILLS[stem][3] == steps


@pytest.mark.slow
@pytest.mark.parametrize("stem", sorted(KILLS))
def test_every_kill(stem: str, tmp_path: Path) -> None:
    _replay_kill(stem, KILLS[stem], tmp_path)
