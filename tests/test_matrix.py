"""vhostmc matrix: ring-size ranges, outputs, exit codes, bad input, failing cells.

The v9/v3.1 verdicts themselves are asserted in test_revisions.py; here the
searches are bounded (--max-states, a 3-step violation) so each test is quick.
"""

from __future__ import annotations

import csv
import textwrap
from pathlib import Path

import pytest

from checker.cli import main
from checker.lang.model import ModelError
from checker.runs.environments import ENVIRONMENTS, get_environment
from checker.runs.environments import main as environments_main
from checker.runs.matrix import parse_list, parse_ring_sizes
from checker.runs.matrixcells import Cell, MatrixResult


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize(("text", "sizes"), [
    ("1-3", [1, 2, 3]), ("1,2,4", [1, 2, 4]), ("2", [2]), ("1-2,4", [1, 2, 4]),
    (" 3 , 1 ", [3, 1]), ("1-2,2-3", [1, 2, 3]),
])
def test_ring_sizes_ranges_and_lists(text: str, sizes: list[int]) -> None:
    assert parse_ring_sizes(text) == sizes


@pytest.mark.parametrize(("args", "message"), [
    (["--ring-sizes", "0"], ("Invalid value for '--ring-sizes': ring sizes must be at least 1, "
                            "not 0")),
    (["--ring-sizes", "3-1"], ("Invalid value for '--ring-sizes': range '3-1' is empty; write "
                              "the smaller size first")),
    (["--ring-sizes", "1-x"], ("Invalid value for '--ring-sizes': '1-x' is not a ring size or "
                              "range; write e.g. 1-3 or 1,2,4")),
    (["--ring-sizes", "1,,2"], "'' is not a ring size or range"),
    (["--ring-sizes", "65"], "--ring-size 65 is too large for explicit exploration"),
    (["--revisions", "v9,,v3.1"], "empty revision in 'v9,,v3.1'"),
    (["--revisions", "v7"], "unknown revision 'v7' (known: v9, v3.1"),
    (["--envs", "default,nope"], ("unknown environment 'nope' in revision v9 (known: "
                                 "default, datapath, sendfail, backend, release, rogue, "
                                 "bigring)")),
    (["--property", "nope"], "unknown property 'nope'"),
    (["--jobs", "0"], "--jobs must be at least 1, not 0"),
    (["--time-limit", "0"], "--time-limit must be positive, not 0"),
])
def test_bad_input_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out_dir = tmp_path / "m"
    code, out, err = run(capsys, "matrix", *args, "--out", str(out_dir), "-q")
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vhostmc: error: ") and message in lines[0], lines[0]
    assert not out_dir.exists()


def test_environments_are_defined_once() -> None:
    assert list(ENVIRONMENTS)[:2] == ["default", "datapath"]
    assert get_environment("default").switches == {}
    assert get_environment("datapath").args() == [
        "--max-backend-changes", "0", "--release", "no", "--send-failures", "0"]
    assert get_environment("rogue").switches["guest"] == "rogue"
    with pytest.raises(ModelError, match="unknown environment 'x'"):
        get_environment("x")
    with pytest.raises(ValueError, match="empty environment"):
        parse_list("a,", "environment")


def test_environments_print_for_the_shell(capsys: pytest.CaptureFixture[str]) -> None:
    """results/reproduce.sh reads the presets this way."""
    assert environments_main(["--names"]) == 0
    assert capsys.readouterr().out.split() == list(ENVIRONMENTS)
    assert environments_main(["bigring"]) == 0
    assert capsys.readouterr().out.strip() == ("--max-backend-changes 0 --release no "
                                               "--send-failures 0 --uio-maxiov 1")
    assert environments_main(["nope"]) == 2


def test_bounded_grid_is_inconclusive_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "m"
    code, out, err = run(capsys, "matrix", "--revisions", "v9,v3.1", "--ring-sizes", "1-2",
                         "--envs", "datapath", "--max-states", "40", "--out", str(out_dir))
    assert code == 3
    assert out.splitlines()[0] == "| property | environment | v9 n=1 | v9 n=2 | v3.1 n=1 | v3.1 n=2 |"
    assert "| no-quiescent-leak | datapath | " + " | ".join(["inconclusive (40 states)"] * 4) + " |" in out
    assert out.rstrip().endswith(
        "result: inconclusive: nothing violated, but some search was bounded (exit 3)")
    assert "cell v3.1-n2-datapath: 0 violated, 0 holds, 6 inconclusive" in err
    md = (out_dir / "matrix.md").read_text()
    assert (f"vhostmc matrix --revisions v9,v3.1 --ring-sizes 1-2 --envs datapath "
            f"--max-states 40 --jobs 1 --out {out_dir.as_posix()}") in md
    rows = list(csv.DictReader((out_dir / "matrix.csv").open()))
    assert len(rows) == 6 * 4
    assert {r["status"] for r in rows} == {"inconclusive"}
    assert {r["bound"] for r in rows} == {"40 states"}
    assert (out_dir / "matrix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for key in ("v9-n1-datapath", "v9-n2-datapath", "v3.1-n1-datapath", "v3.1-n2-datapath"):
        assert (out_dir / "cells" / key / "result.json").is_file()


def test_violation_cells_link_their_traces_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "m"
    code, out, _ = run(capsys, "matrix", "--revisions", "v9", "--ring-sizes", "1,2",
                       "--property", "no-stuck-waiter", "--jobs", "2",
                       "--out", str(out_dir), "-q")
    assert code == 1
    assert "| no-stuck-waiter | default | violated (3 steps) | violated (3 steps) |" in out
    md = (out_dir / "matrix.md").read_text()
    link = "cells/v9-n2-default/v9-n2-no-stuck-waiter.itf.json"
    assert f"[violated (3 steps)]({link})" in md
    assert (out_dir / link).is_file()
    assert (out_dir / "cells/v9-n2-default/v9-n2-no-stuck-waiter.txt").is_file()
    assert not list((out_dir / "cells/v9-n2-default").glob("*.graphml"))
    code, replayed, _ = run(capsys, "replay", str(out_dir / link), "-q")
    assert code == 0 and "3 steps replay on revision v9" in replayed


def test_a_revision_file_brings_its_own_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rev = tmp_path / "quiet_rev.py"
    rev.write_text(textwrap.dedent("""
        from checker.lang.presentation import Environment
        from models.v9 import V9


        class QuietRev(V9):
            name = "quiet-rev"
            environments = (*V9.environments,
                            Environment("no-control", "no backend change, no release",
                                        {"max_backend_changes": 0, "release": "no"}))
    """).lstrip("\n"))
    out_dir = tmp_path / "m"
    code, out, _ = run(capsys, "matrix", "--revisions", str(rev), "--ring-sizes", "1",
                       "--envs", "no-control", "--property", "no-stuck-waiter",
                       "--out", str(out_dir), "-q")
    assert code == 0
    assert "| no-stuck-waiter | no-control | holds |" in out
    assert "`no-control`: no backend change, no release" in (out_dir / "matrix.md").read_text()
    code, out, err = run(capsys, "matrix", "--revisions", f"{rev},v9", "--ring-sizes", "1",
                         "--envs", "no-control", "--out", str(tmp_path / "m2"), "-q")
    assert code == 2 and out == ""
    assert err.startswith("vhostmc: error: unknown environment 'no-control' in revision v9 "
                          "(known: default, datapath")


def test_stale_cell_files_are_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "m"
    stale = out_dir / "cells" / "v9-n1-datapath" / "old.itf.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    code, _, _ = run(capsys, "matrix", "--revisions", "v9", "--ring-sizes", "1", "--envs",
                     "datapath", "--max-states", "10", "--out", str(out_dir), "-q")
    assert code == 3
    assert not stale.exists()


def test_property_error_in_a_cell_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "late.py"
    spec.write_text(textwrap.dedent("""
        from checker.lang.spec import invariant


        @invariant("late", "fails once an skb is held")
        def late(s):
            if s.skb_cnt > 0:
                raise ValueError("deep state")
            return True
    """).lstrip("\n"))
    out_dir = tmp_path / "m"
    code, out, err = run(capsys, "matrix", "--revisions", "v9,v3.1", "--ring-sizes", "1",
                         "--envs", "datapath", "--spec", str(spec), "--property", "late",
                         "--out", str(out_dir), "-q")
    assert code == 2 and out == ""
    assert err.strip() == (f"vhostmc: error: cell v9-n1-datapath: {spec}:7: property 'late' "
                           f"raised ValueError: deep state (and 1 more cells; see "
                           f"{out_dir / 'matrix.md'})")
    assert "| late | datapath | error (see Runs) | error (see Runs) |" in \
        (out_dir / "matrix.md").read_text()


def test_bad_property_fails_before_any_cell_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "typo.py"
    spec.write_text("from checker.lang.spec import invariant\n\n\n"
                    "@invariant('t', 'typo')\ndef t(s):\n    return s.upend_idx == 0\n")
    out_dir = tmp_path / "m"
    code, out, err = run(capsys, "matrix", "--spec", str(spec), "--out", str(out_dir))
    assert code == 2 and out == ""
    assert err.startswith(f"vhostmc: error: {spec}:6: property 't' reads state variable "
                          "'upend_idx', which revision v9 does not have (did you mean 'upend'?)")
    assert not out_dir.exists()


def _doc(*statuses: str) -> dict[str, object]:
    return {"properties": [{"name": f"p{i}", "status": s, "length": 1}
                           for i, s in enumerate(statuses)]}


@pytest.mark.parametrize(("cells", "code"), [
    ([_doc("holds", "holds"), _doc("holds", "holds")], 0),
    ([_doc("holds", "inconclusive"), _doc("holds", "holds")], 3),
    ([_doc("holds", "inconclusive"), _doc("violated", "holds")], 1),
    ([_doc("violated", "holds"), {"error": "boom"}], 2),
])
def test_matrix_exit_code_rules(cells: list[dict[str, object]], code: int) -> None:
    grid = [Cell("v9", "v9", n, "default") for n in range(1, len(cells) + 1)]
    result = MatrixResult(grid, ["p0", "p1"], ["default"], dict(zip(grid, cells)))
    assert result.exit_code() == code


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", "--help")
    assert code == 0
    assert "1  some property is violated in some cell" in out
    assert "3  nothing violated, but some cell's search was cut" in out
    assert "--ring-sizes 1-3|1,2,4" in out
