"""Revisions: v3.1 against v9, the adds=True rule, and diff-revisions.

The v9/v3.1 verdicts come from one small matrix (ring size 1, environments
default and datapath) run once for the module.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checker.cli import main
from checker.engines.base import Limits
from checker.lang.model import ModelError, action, source_location
from checker.runs.check import CheckRequest, run_check
from checker.runs.matrix import MatrixPlan, run_matrix
from checker.runs.matrixcells import MatrixResult
from models.v3_1 import V3_1
from models.v9 import V9
from models.v9.state import CONTROL

BACKEND_ONLY = {"ring_size": 1, "send_failures": 0, "release": "no", "max_backend_changes": 1}


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> MatrixResult:
    out = tmp_path_factory.mktemp("grid")
    plan = MatrixPlan(revisions=["v9", "v3.1"], ring_sizes=[1], envs=["default", "datapath"],
                      properties=["no-stuck-waiter", "no-quiescent-leak"], out_dir=out)
    return run_matrix(plan, jobs=2)


def verdict(grid: MatrixResult, rev: str, env: str, prop: str) -> dict[str, Any]:
    return grid.verdict(grid.cell(rev, 1, env), prop)


def itf_states(p: dict[str, Any]) -> list[dict[str, Any]]:
    states: list[dict[str, Any]] = json.loads(Path(p["trace"]["itf"]).read_text())["states"]
    return states


def actions(p: dict[str, Any]) -> list[str]:
    return [st["mbt::actionTaken"].split("(")[0] for st in itf_states(p)[1:]]


def value(state: dict[str, Any], name: str) -> int:
    return int(state[name]["#bigint"])


# -- v9 against v3.1 ------------------------------------------------------------------------
def test_v9_hangs_in_three_steps_from_the_extra_kref_get(grid: MatrixResult) -> None:
    p = verdict(grid, "v9", "default", "no-stuck-waiter")
    assert (p["status"], p["length"]) == ("violated", 3)
    assert actions(p) == ["set_backend", "put_and_wait_put", "put_and_wait_sleep"]
    last = itf_states(p)[-1]
    assert last["rc"][1] == {"#bigint": "1"}  # kref_init + kref_get, one put: never zero


def test_v31_put_and_wait_terminates_by_default(grid: MatrixResult) -> None:
    # The 14-step hang needed a sendmsg failing after the hand-off, whose skb the device
    # completed later: no 2011 lower device does that (FINDINGS, F3 withdrawn)
    assert verdict(grid, "v3.1", "default", "no-stuck-waiter")["status"] == "holds"


def test_default_no_leak_is_longer_in_v31(grid: MatrixResult) -> None:
    assert verdict(grid, "v9", "default", "no-quiescent-leak")["length"] == 14
    assert verdict(grid, "v3.1", "default", "no-quiescent-leak")["length"] == 18


def test_v9_datapath_leak_needs_upend_to_wrap_below_done(grid: MatrixResult) -> None:
    p = verdict(grid, "v9", "datapath", "no-quiescent-leak")
    assert (p["status"], p["length"]) == ("violated", 47)
    states = itf_states(p)
    assert any(value(st, "upend") < value(st, "done") for st in states)
    last = states[-1]
    # stuck: upend_idx wrapped below done_idx, so upend - done is negative and the
    # (non-wrap-aware) VHOST_MAX_PEND check never backs off, yet nothing moves
    assert value(last, "upend") < value(last, "done")


def test_v31_wrap_aware_check_has_no_datapath_leak(grid: MatrixResult) -> None:
    assert verdict(grid, "v3.1", "datapath", "no-quiescent-leak")["status"] == "holds"
    for rev in ("v9", "v3.1"):
        assert verdict(grid, rev, "datapath", "no-stuck-waiter")["status"] == "holds"
    assert grid.docs[grid.cell("v3.1", 1, "datapath")]["complete"] is True


def test_backend_changes_alone_hang_v9_in_three_steps(tmp_path: Path) -> None:
    doc = run_check(CheckRequest("v9", dict(BACKEND_ONLY),
                                 properties=("no-stuck-waiter",),
                                 out_dir=tmp_path)).doc
    (p,) = doc["properties"]
    assert (p["status"], p["length"]) == ("violated", 3)


def test_backend_changes_alone_do_not_hang_v31_within_ten_steps(tmp_path: Path) -> None:
    doc = run_check(CheckRequest("v3.1", dict(BACKEND_ONLY),
                                 properties=("no-stuck-waiter",),
                                 limits=Limits(max_depth=10), out_dir=tmp_path)).doc
    (p,) = doc["properties"]
    assert p["status"] == "inconclusive" and p["reason"] == "search cut by depth 10"


@pytest.mark.slow
def test_backend_changes_alone_never_hang_v31(tmp_path: Path) -> None:
    """Complete search (about 900,000 states): without a sendmsg failure there is no
    double put, so v3.1's put-and-wait always terminates; the other findings stay."""
    doc = run_check(CheckRequest("v3.1", dict(BACKEND_ONLY), out_dir=tmp_path)).doc
    assert doc["complete"] is True
    got = {p["name"]: (p["status"], p["length"]) for p in doc["properties"]}
    assert got == {"no-double-use": ("holds", None), "memory-safe": ("violated", 8),
                   "no-stuck-waiter": ("holds", None), "no-quiescent-leak": ("violated", 18),
                   "no-leak": ("violated", 18), "put-and-wait-terminates": ("holds", None)}


# -- steps new in a revision ------------------------------------------------------------------
def test_v31_declares_its_new_step_with_adds() -> None:
    assert V3_1.set_backend_signal_used.__vhostmc_adds__ is True  # type: ignore[attr-defined]
    v9 = [s.name for s in V9({"ring_size": 1}).action_specs]
    v31 = [s.name for s in V3_1({"ring_size": 1}).action_specs]
    assert v31 == v9 + ["set_backend_init_used_fails", "set_backend_signal_used"]


def test_misspelt_override_is_an_error_with_a_suggestion() -> None:
    class Typo(V9):
        @action(CONTROL, "vhost_ubuf_put_and_wait", "kfree(ubufs);")
        def put_and_wait_kfre(self, s: Any) -> None:
            s.require(False)

    where = source_location(Typo.put_and_wait_kfre)
    with pytest.raises(ModelError) as err:
        Typo({"ring_size": 1})
    assert str(err.value) == (f"{where}: Typo.put_and_wait_kfre is not a step of its base "
                              "(did you mean 'put_and_wait_kfree'?); a step new in this "
                              "revision must say @action(..., adds=True)")


def test_adds_on_an_existing_step_is_an_error() -> None:
    class Dup(V9):
        @action(CONTROL, "vhost_ubuf_put_and_wait", "kfree(ubufs);", adds=True)
        def put_and_wait_kfree(self, s: Any) -> None:
            s.require(False)

    with pytest.raises(ModelError, match="says adds=True but its base already has this step"):
        Dup({"ring_size": 1})


def test_unrelated_new_step_without_adds_has_no_suggestion() -> None:
    class Odd(V9):
        @action(CONTROL, "x", "y")
        def zzzz(self, s: Any) -> None:
            s.require(False)

    with pytest.raises(ModelError) as err:
        Odd({"ring_size": 1})
    assert "Odd.zzzz is not a step of its base; a step new" in str(err.value)


# -- diff-revisions -----------------------------------------------------------------------------
def test_diff_revisions_lists_steps_helpers_and_variables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["diff-revisions", "v9", "v3.1", "--steps-only"])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "Steps that differ (3):" in out
    assert "  changed  put_and_wait_kfree  [control] -- vhost_ubuf_put_and_wait" in out
    assert "  added    set_backend_signal_used  [control] -- vhost_net_set_backend" in out
    assert "  added    set_backend_init_used_fails  [control] -- vhost_net_set_backend" in out
    assert "    v9: (no such step)" in out
    assert "Helper methods that differ (4):" in out
    for text in ("  initial_refcount", "kref_init (1) then kref_get (+1)",
                 "``kref_init(&ubufs->kref);`` only (refcount 1)", "  too_many_pending",
                 "(not wrap-aware)", "upend_idx + UIO_MAXIOV - done_idx",
                 "  c_pc: v9 int [0, 12], v3.1 int [0, 13]",
                 "  init_used_left: v9 (absent), v3.1 int [0, 0]"):
        assert text in out, text
    assert "Verdicts" not in out


@pytest.mark.slow  # a complete v3.1 search at ring 1, about 50 s
def test_diff_revisions_shows_verdicts_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        # v3.1 needs a complete search (about 5 million states): no default time limit
        main(["diff-revisions", "v9", "v3.1", "--property", "no-stuck-waiter",
              "--time-limit", "36000", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert exc.value.code == 0
    assert "Verdicts at ring size 1, environment default:" in out
    (line,) = [ln for ln in out.splitlines() if ln.startswith("  no-stuck-waiter  ")]
    assert line.split() == ["no-stuck-waiter", "violated", "(3", "steps)", "holds", "changed"]
    assert out.rstrip().endswith("verdicts that change: no-stuck-waiter")
    assert (tmp_path / "v9" / "v9-n1-no-stuck-waiter.itf.json").is_file()
