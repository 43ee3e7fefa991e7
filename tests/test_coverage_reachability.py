"""Action coverage of explicit runs, ``sometimes`` (reachability) properties, the replay
checks of edited traces, and result.json as strict JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from checker.cli import main
from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.spec import sometimes
from checker.lang.view import StateView
from checker.outputs.summary import coverage_document, coverage_line, coverage_warnings
from models.v9 import V9
from tests.liveness_models import Server, served

DATAPATH = ["--ring-size", "1", "--max-backend-changes", "0", "--release", "no",
            "--send-failures", "0", "-q", "--pictures", "none"]

SPEC = """\
from checker.lang.spec import sometimes


@sometimes("dma-outstanding", "a zero-copy DMA is outstanding")
def dma_outstanding(s):
    return s.upend != s.done


@sometimes("index-wraps-twice", "upend runs past the ring twice")
def index_wraps_twice(s):
    return s.upend > 100
"""


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_coverage_counts_every_transition_and_names_actions_that_never_fired() -> None:
    model = Server()
    run_ = ExplicitChecker(model, [served]).run()
    assert run_.coverage is not None
    assert sum(f for f, _ in run_.coverage) == run_.stats.transitions
    assert sum(n for _, n in run_.coverage) == run_.stats.states - 1
    doc = {"coverage": coverage_document(model, run_)}
    assert doc["coverage"]["actions"]["serve"]["actor"] == "server"
    assert doc["coverage"]["never_fired"] == []
    assert coverage_line(doc) == "coverage: 3 of 3 actions fired"
    assert coverage_warnings(doc) == []


@pytest.mark.parametrize("backend", ["python", "compiled"])
def test_check_reports_coverage_in_result_json_summary_and_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str,
) -> None:
    code, out, err = run(capsys, "check", *DATAPATH, "--property", "no-double-use",
                         "--out", str(tmp_path), "--report", "--backend", backend)
    assert code == 0
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["stats"]["backend"] == backend
    cov = doc["coverage"]
    assert cov["search_complete"] is True
    assert sum(e["fired"] for e in cov["actions"].values()) == doc["stats"]["transitions"]
    assert sum(e["fired"] for e in cov["instances"].values()) == doc["stats"]["transitions"]
    # the datapath environment: no backend change, no release, no send failure
    assert "set_backend" in cov["never_fired"] and "release_stop" in cov["never_fired"]
    assert cov["actions"]["guest_post"]["fired"] > 0
    fired = len(cov["actions"]) - len(cov["never_fired"])
    assert f"coverage: {fired} of {len(cov['actions'])} actions fired; never fired: " in out
    warning = [line for line in err.splitlines() if "never fired in any reachable state" in line]
    assert len(warning) == 1 and "set_backend" in warning[0]
    html = (tmp_path / "report.html").read_text()
    assert '<section id="coverage">' in html and "never fired</strong>" in html


def test_sometimes_holds_with_an_example_and_unreachable_is_violated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    spec = tmp_path / "reach.py"
    spec.write_text(SPEC)
    out_dir = tmp_path / "out"
    code, out, _ = run(capsys, "check", *DATAPATH, "--spec", str(spec), "--out", str(out_dir),
                       "--property", "dma-outstanding", "--property", "index-wraps-twice")
    assert code == 1
    doc = json.loads((out_dir / "result.json").read_text())
    reach, never = doc["properties"]
    assert (reach["kind"], reach["status"], reach["length"]) == ("sometimes", "holds", 7)
    assert reach["explanation"].startswith("dma-outstanding is reached")
    assert (never["status"], never["trace"]) == ("violated", None)
    assert never["reason"].startswith("unreachable")
    assert "Example reaching dma-outstanding on revision v9 (7 steps)" in out
    assert "dma-outstanding    HOLDS  (reached: example of 7 steps)" in out
    itf = out_dir / "v9-n1-dma-outstanding.itf.json"
    assert json.loads(itf.read_text())["#meta"]["example"] is True
    code, out, _ = run(capsys, "replay", str(itf), "--spec", str(spec))
    assert code == 0
    assert out.strip().endswith("last state reaches dma-outstanding (an example of a sometimes "
                                "property)")


def test_sometimes_is_inconclusive_when_the_search_is_cut() -> None:
    @sometimes("never", "never")
    def never(s: StateView) -> object:
        return s.upend > 100

    run_ = ExplicitChecker(V9({"ring_size": 1}), [never], limits=Limits(max_states=50)).run()
    (p,) = run_.properties
    assert (p.status, p.reason) == ("inconclusive", "search cut by 50 states")


def _trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, dict]:
    run(capsys, "check", "--ring-size", "1", "--property", "no-stuck-waiter", "--out",
        str(tmp_path), "-q", "--pictures", "none")
    path = tmp_path / "v9-n1-no-stuck-waiter.itf.json"
    return path, json.loads(path.read_text())


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["states"][1]["mbt::nondetPicks"].update(to={"#bigint": "2"}),
     ("step 1: set_backend(to=1) but 'mbt::nondetPicks' says {'to': 2}; the label and the "
      "picks disagree")),
    (lambda d: d["states"][2]["#meta"].update(actor="guest"),
     ("step 2: put_and_wait_put is actor 'control' in revision v9, but the trace's #meta "
      "says 'guest'")),
    (lambda d: d["states"][3].update({"mbt::actionTaken": "put_and_wait_slep"}),
     "step 3: no action 'put_and_wait_slep' in revision v9"),
])
def test_replay_rejects_edited_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: object, message: str,
) -> None:
    path, doc = _trace(tmp_path, capsys)
    edit(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "replay", str(path))
    assert code == 1
    assert f"replay: FAILED: {message}" in out


def test_result_json_is_strict_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", *DATAPATH, "--property", "no-double-use",
                       "--time-limit", "600", "--json", "--out", str(tmp_path))
    assert code == 0

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in result.json")

    doc = json.loads((tmp_path / "result.json").read_text(), parse_constant=refuse)
    assert doc["settings"]["time_limit"] == 600.0
    assert json.loads(out, parse_constant=refuse) == doc



def test_bmc_finds_an_example_of_a_sometimes_property(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """bmc decides 'sometimes P' as the invariant 'never P': its counterexample is the
    example (the shortest, as the explicit engine's BFS finds it)."""
    spec = tmp_path / "reach.py"
    spec.write_text(SPEC)
    out_dir = tmp_path / "out"
    code, out, _ = run(capsys, "check", "--engine", "bmc", "--depth", "7", "--ring-size", "1",
                       "--spec", str(spec), "--property", "dma-outstanding", "--out",
                       str(out_dir), "-q", "--pictures", "none")
    assert code == 0
    doc = json.loads((out_dir / "result.json").read_text())
    (p,) = doc["properties"]
    assert (p["kind"], p["status"], p["length"]) == ("sometimes", "holds", 7)
    assert p["explanation"].startswith("dma-outstanding is reached")
    code, out, _ = run(capsys, "replay", p["trace"]["itf"], "--spec", str(spec))
    assert code == 0 and "last state reaches dma-outstanding" in out
