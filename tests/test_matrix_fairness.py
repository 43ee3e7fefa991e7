"""vhostmc matrix --fairness: the liveness grid's fairness axis (results/liveness.md).

One small grid (v3.1, ring 1, datapath, no-leak and its state-predicate form, under
the default fairness and may-hold) where the fairness flips the liveness verdict:
with the default fairness every posted head comes back; when the lower device may
hold an skb forever, handle_tx busy-polls on VHOST_MAX_PEND (FINDINGS.md, L2) --
a 22-step lasso whose steps 17 to 22 repeat.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest
from shared_checks import cli as run

from checker.cli import main
from checker.runs.fairness import FAIRNESS_PRESETS, get_fairness
from checker.runs.matrix import MatrixPlan
from checker.runs.matrixcells import Cell, MatrixResult
from checker.runs.matrixtable import lasso_shape

GRID = ("matrix", "--revisions", "v3.1", "--ring-sizes", "1", "--envs", "datapath",
        "--fairness", "default,may-hold", "--property", "no-leak",
        "--property", "no-quiescent-leak")


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, str, Path]:
    """The grid, run once for the module: (exit code, stdout, stderr, --out folder)."""
    out_dir = tmp_path_factory.mktemp("fair") / "m"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            pytest.raises(SystemExit) as exc:
        main([*GRID, "--out", str(out_dir)])
    return int(exc.value.code or 0), out.getvalue(), err.getvalue(), out_dir


def test_fairness_flips_the_liveness_verdict(grid: tuple[int, str, str, Path]) -> None:
    code, out, err, _ = grid
    assert code == 1
    assert out.splitlines()[:6] == [
        "| property | environment | fairness | v3.1 n=1 |",
        "| --- | --- | --- | --- |",
        "| no-leak | datapath | default | holds |",
        "| no-leak | datapath | may-hold | violated (22, cycle 17..) |",
        "| no-quiescent-leak | datapath | default | holds |",
        "| no-quiescent-leak | datapath | may-hold | holds |",
    ]
    assert "matrix: 2 cells, 1 violated, 0 inconclusive, 3 hold" in out
    assert "cell v3.1-n1-datapath-may-hold: 1 violated, 1 holds, 0 inconclusive" in err


def test_cells_are_named_by_fairness_and_link_their_lassos(
    grid: tuple[int, str, str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, _, out_dir = grid
    assert sorted(p.name for p in (out_dir / "cells").iterdir()) == [
        "v3.1-n1-datapath-default", "v3.1-n1-datapath-may-hold"]
    held = json.loads((out_dir / "cells/v3.1-n1-datapath-may-hold/result.json").read_text())
    assert held["params"]["device_progress"] == "may-hold"
    md = (out_dir / "matrix.md").read_text()
    assert "# Verdict matrix: revisions x ring sizes x fairness presets" in md
    assert "--envs datapath --fairness default,may-hold --property no-leak" in md
    link = "cells/v3.1-n1-datapath-may-hold/v3.1-n1-no-leak.itf.json"
    assert f"| no-leak | datapath | may-hold | [violated (22, cycle 17..)]({link}) |" in md
    assert "[v3.1-n1-datapath-default](cells/v3.1-n1-datapath-default/result.json)" in md
    assert "`may-hold`: the lower device may hold one skb forever" in md
    rows = list(csv.DictReader((out_dir / "matrix.csv").open()))
    assert [(r["property"], r["fairness"], r["status"], r["steps"]) for r in rows] == [
        ("no-leak", "default", "holds", ""), ("no-leak", "may-hold", "violated", "22"),
        ("no-quiescent-leak", "default", "holds", ""),
        ("no-quiescent-leak", "may-hold", "holds", "")]
    code, replayed, _ = run(capsys, "replay", str(out_dir / link), "-q")
    assert code == 0 and "22 steps replay on revision v3.1" in replayed


def test_unknown_fairness_preset_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "m"
    code, out, err = run(capsys, "matrix", "--ring-sizes", "1", "--fairness", "default,nope",
                         "--out", str(out_dir), "-q")
    assert code == 2 and out == ""
    assert err == ("vhostmc: error: unknown fairness preset 'nope' (known: default, may-hold, "
                   "keeps-posting, goes-idle)\n")
    assert not out_dir.exists()
    code, _, err = run(capsys, "matrix", "--fairness", "default,,may-hold", "--out",
                       str(out_dir), "-q")
    assert code == 2 and "empty fairness preset in 'default,,may-hold'" in err


def test_presets_and_cell_names() -> None:
    assert list(FAIRNESS_PRESETS) == ["default", "may-hold", "keeps-posting", "goes-idle"]
    assert get_fairness("default").switches == {}
    assert get_fairness("goes-idle").args() == ["--guest-progress", "goes-idle"]
    assert Cell("v9", "v9", 1, "rogue", "keeps-posting").key == "v9-n1-rogue-keeps-posting"
    assert Cell("v9", "v9", 1, "rogue").key == "v9-n1-rogue"
    plan = MatrixPlan(revisions=["v9"], ring_sizes=[1], envs=["datapath"],
                      fairness=["may-hold"])
    assert plan.params(1, "datapath", "may-hold") == {
        "ring_size": 1, "max_backend_changes": 0, "release": "no", "send_failures": 0,
        "device_progress": "may-hold"}
    assert plan.command(2).startswith("vhostmc matrix --revisions v9 --ring-sizes 1 --envs "
                                      "datapath --fairness may-hold --jobs 2")


@pytest.mark.parametrize(("loop", "length", "shape"), [
    (None, 14, ""), (14, 14, ", stutter"), (16, 22, ", cycle 17.."),
])
def test_lasso_shape(loop: int | None, length: int, shape: str) -> None:
    assert lasso_shape({"loop": loop, "length": length}) == shape


def test_without_the_axis_rows_are_as_before() -> None:
    cells = [Cell("v9", "v9", 1, "default")]
    result = MatrixResult(cells, ["p"], ["default"])
    assert result.rows() == [("default", "p", None)]
    assert result.cell("v9", 1, "default") is cells[0]


def test_list_shows_the_presets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--ring-size", "1")
    assert code == 0
    assert "Fairness presets (vhostmc matrix --fairness):" in out
    assert "  may-hold       --device-progress may-hold" in out
