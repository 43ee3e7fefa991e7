"""vhostmc shrink: DFS counterexamples cut to 1-minimal ones that replay; the default explanation.

The lengths are measured on v9 at ring size 1 (all other switches at their
defaults): DFS finds a 131-step memory-safe trace and a 103-step
no-stuck-waiter trace, BFS the shortest (8 and 3 steps); shrinking gives 9
and 12 (1-minimal, not shortest: the rest of the run cannot lose a single
step, only several blocks at once).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from checker.cli import main
from checker.lang.explain import RecordingView
from checker.lang.model import Model
from checker.lang.spec import Property, invariant
from checker.lang.view import CapacityReached
from checker.runs.catalog import select_properties
from checker.runs.check import CheckRequest, run_check
from checker.runs.shrink import ShrinkError, shrink_trace
from checker.semantics.states import expand, fire, holds, initial_state, property_view
from checker.traces.trace import Trace
from models.v9 import V9

MEASURED = {  # property: (DFS length, BFS length, shrunk length)
    "memory-safe": (131, 8, 9),
    "no-stuck-waiter": (103, 3, 12),
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def counterexample(prop: str, search: str, out: Path) -> tuple[Model, Trace, Path]:
    """The model, trace and ITF file of ``prop`` on v9 at ring size 1."""
    outcome = run_check(CheckRequest("v9", {"ring_size": 1}, (prop,), search=search,  # type: ignore[arg-type]
                                     out_dir=out, formats=("itf",)))
    (result,) = outcome.result.properties
    assert result.trace is not None
    return outcome.model, result.trace, out / f"v9-n1-{prop}.itf.json"


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Model, Trace, Path]]:
    out = tmp_path_factory.mktemp("traces")
    return {(prop, search): counterexample(prop, search, out / search)
            for prop in MEASURED for search in ("dfs", "bfs")}


def still_violates(model: Model, prop: Property, labels: list[str]) -> bool:
    """Re-execute ``labels`` from the initial state: all enabled and the last state violates."""
    state = initial_state(model)
    for label in labels:
        try:
            nxt = fire(model, model.instance(label), state)
        except CapacityReached:
            return False
        if nxt is None:
            return False
        state = nxt
    return not holds(prop, model, state, expand(model, state).enabled_actors)


def is_subsequence(part: list[str], whole: list[str]) -> bool:
    rest = iter(whole)
    return all(label in rest for label in part)


@pytest.mark.parametrize("prop_name", list(MEASURED))
def test_shrink_dfs_trace_to_1_minimal_trace_that_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], traces: dict, prop_name: str
) -> None:
    dfs_len, bfs_len, shrunk_len = MEASURED[prop_name]
    model, dfs, dfs_file = traces[prop_name, "dfs"]
    _, bfs, _ = traces[prop_name, "bfs"]
    assert (len(dfs), len(bfs)) == (dfs_len, bfs_len)
    source = tmp_path / dfs_file.name
    source.write_text(dfs_file.read_text())

    code, out, err = run(capsys, "shrink", str(source))
    assert code == 0, err
    assert f"shrink: {prop_name} on revision v9: {dfs_len} -> {shrunk_len} steps (1-minimal" in out
    itf = tmp_path / f"v9-n1-{prop_name}.shrunk.itf.json"
    text = tmp_path / f"v9-n1-{prop_name}.shrunk.txt"
    assert f"written: {itf} and {text}; replay: OK" in out
    doc = json.loads(itf.read_text())
    labels = [s["mbt::actionTaken"] for s in doc["states"][1:]]
    assert bfs_len <= len(labels) == shrunk_len <= dfs_len
    assert is_subsequence(labels, [s.label for s in dfs.steps])
    explanation = doc["#meta"]["explanation"]
    assert explanation.startswith(f"{prop_name}: ")
    assert text.read_text().rstrip("\n").endswith(f"  => {explanation}")
    assert out.split("\n\n")[0].endswith(f"  => {explanation}")

    code, out, _ = run(capsys, "replay", str(itf))
    assert code == 0
    assert out.strip().endswith(f"{shrunk_len} steps replay on revision v9; last state "
                                f"violates {prop_name}")

    (prop,) = select_properties([prop_name])
    assert still_violates(model, prop, labels)
    for i in range(len(labels)):
        assert not still_violates(model, prop, labels[:i] + labels[i + 1:]), f"step {i + 1}"


def test_minimal_trace_is_said_so_and_written_to_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], traces: dict
) -> None:
    _, bfs, bfs_file = traces["no-stuck-waiter", "bfs"]
    out_file = tmp_path / "sub" / "short.itf.json"
    code, out, _ = run(capsys, "shrink", str(bfs_file), "--out", str(out_file))
    assert code == 0
    assert "3 -> 3 steps (already 1-minimal: no step can be removed" in out
    doc = json.loads(out_file.read_text())
    assert [s["mbt::actionTaken"] for s in doc["states"][1:]] == [s.label for s in bfs.steps]
    assert (tmp_path / "sub" / "short.txt").read_text().startswith(
        "Counterexample for no-stuck-waiter on revision v9 (3 steps)")


def test_shrink_trace_accepts_a_trace_and_is_deterministic(traces: dict) -> None:
    model, dfs, dfs_file = traces["memory-safe", "dfs"]
    (prop,) = select_properties(["memory-safe"])
    from_trace = shrink_trace(model, dfs, prop)
    from_doc = shrink_trace(model, json.loads(dfs_file.read_text()), prop)
    assert [s.label for s in from_trace.trace.steps] == [s.label for s in from_doc.trace.steps]
    assert from_trace.runs == from_doc.runs
    assert (from_trace.original_length, len(from_trace.trace)) == (131, 9)
    assert not from_trace.already_minimal
    with pytest.raises(ShrinkError, match="is a lasso"):
        shrink_trace(model, dataclasses.replace(dfs, loop=2), prop)


def test_shrink_trace_refuses_steps_that_do_not_run(traces: dict) -> None:
    model, dfs, _ = traces["memory-safe", "dfs"]
    (prop,) = select_properties(["memory-safe"])
    swapped = [dfs.steps[1], dfs.steps[0], *dfs.steps[2:]]
    with pytest.raises(ShrinkError, match=r"^step 1: .* is not enabled .* revision v9$"):
        shrink_trace(model, dataclasses.replace(dfs, steps=swapped), prop)
    renamed = [dataclasses.replace(dfs.steps[0], label="no_such_step"), *dfs.steps[1:]]
    with pytest.raises(ShrinkError, match="^step 1: no action 'no_such_step' in revision v9$"):
        shrink_trace(model, dataclasses.replace(dfs, steps=renamed), prop)
    liveness = dataclasses.replace(prop, kind="leads-to")
    with pytest.raises(ShrinkError, match="memory-safe is a liveness property"):
        shrink_trace(model, dfs, liveness)


def _lasso(doc: dict) -> dict:
    return {**doc, "loop": 1}


def _truncated(doc: dict) -> dict:
    return {**doc, "states": doc["states"][:-1]}


def _tampered(doc: dict) -> dict:
    states = json.loads(json.dumps(doc["states"]))
    states[2]["w_pc"] = {"#bigint": "7"}
    return {**doc, "states": states}


def _unknown_property(doc: dict) -> dict:
    return {**doc, "#meta": {**doc["#meta"], "property": "no-such"}}


@pytest.mark.parametrize(("make", "message"), [
    (None, "cannot read"),
    ("not json", "is not JSON"),
    (_lasso, "is a lasso (it loops back to state 1): a liveness counterexample"),
    (_truncated, "the last state does not violate memory-safe"),
    (_tampered, "does not replay on revision v9: step 2: "),
    (_unknown_property, "the trace's property 'no-such' is unknown here"),
])
def test_unusable_trace_exit_2_one_line_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], traces: dict, make: object, message: str
) -> None:
    _, _, dfs_file = traces["memory-safe", "dfs"]
    source = tmp_path / "t.itf.json"
    if isinstance(make, str):
        source.write_text(make)
    elif make is not None:
        source.write_text(json.dumps(make(json.loads(dfs_file.read_text()))))  # type: ignore[operator]
    before = sorted(tmp_path.iterdir())
    code, out, err = run(capsys, "shrink", str(source))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vhostmc: error: ") and message in lines[0]
    assert sorted(tmp_path.iterdir()) == before


def test_out_that_is_a_folder_or_the_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], traces: dict
) -> None:
    _, _, dfs_file = traces["memory-safe", "dfs"]
    source = tmp_path / "t.itf.json"
    source.write_text(dfs_file.read_text())
    for out_arg, message in ((tmp_path, "is a directory"), (source, "is the input trace")):
        code, out, err = run(capsys, "shrink", str(source), "--out", str(out_arg))
        assert code == 2 and out == "" and message in err
        assert len(err.strip().splitlines()) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["t.itf.json"]


USER_SPEC = '''
from checker.lang.spec import invariant


@invariant("upend-stays-0", "upend_idx never moves while slot 0 is in flight")
def upend_stays_0(s):
    return s.any(s.upend == 0, s.heads_len[0] != 2)
'''


def test_default_explanation_lists_what_the_predicate_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "spec.py"
    spec.write_text(USER_SPEC)
    expected = ("upend-stays-0 is false (upend_idx never moves while slot 0 is in flight): "
                "it read upend = 1, heads_len[0] = 2")
    code, out, _ = run(capsys, "check", "--ring-size", "1", "--spec", str(spec), "--property",
                       "upend-stays-0", "--search", "dfs", "--out", str(tmp_path), "-q")
    assert code == 1
    assert f"  => {expected}\n" in out
    assert "upend-stays-0  VIOLATED  (8 steps)" in out
    itf = tmp_path / "v9-n1-upend-stays-0.itf.json"
    assert json.loads(itf.read_text())["#meta"]["explanation"] == expected

    code, out, _ = run(capsys, "shrink", str(itf), "--spec", str(spec))
    assert code == 0
    assert "8 -> 7 steps" in out
    text = (tmp_path / "v9-n1-upend-stays-0.shrunk.txt").read_text()
    assert text.rstrip("\n").endswith(f"  => {expected}")


def test_recording_view_reads_without_changing_the_verdict() -> None:
    model = V9({"ring_size": 2})

    @invariant("mixed", "a predicate that reads scalars, elements, arrays and enabled()")
    def mixed(s):  # type: ignore[no-untyped-def]
        return s.all(s.upend == 0, s.heads_len[1] == 5, s.neg(s.enabled("worker")),
                     sum(s.rc) < 0, len(s.inflight) == 2)

    view = property_view(model, initial_state(model), {"guest"})
    recorder = RecordingView(view)
    assert mixed.predicate(recorder) is mixed.predicate(view) is False
    assert recorder.reads == {"upend": 0, "heads_len[1]": 0, "enabled(worker)": False,
                              "rc": (0, 2, 0)}
    assert mixed.describe_violation(view) == (
        "mixed is false (a predicate that reads scalars, elements, arrays and enabled()): "
        "it read upend = 0, heads_len[1] = 0, enabled(worker) = false, rc = [0, 2, 0]")
