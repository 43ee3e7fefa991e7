"""Every kind of bad input: exit 2, one line on stderr saying what to change, no traceback,
nothing written.  One table; each row builds its input in a temporary folder."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from checker.cli import main

SMALL = ["--ring-size", "1", "--max-backend-changes", "0", "--release", "no",
         "--send-failures", "0", "-q"]


def _trace(tmp: Path) -> dict:
    """A real counterexample (ring 1, no-stuck-waiter, 3 steps), as an ITF document."""
    out = tmp / "src"
    with pytest.raises(SystemExit):
        main(["check", "--ring-size", "1", "--property", "no-stuck-waiter", "--out", str(out),
              "-q", "--pictures", "none"])
    return json.loads((out / "v9-n1-no-stuck-waiter.itf.json").read_text())


def _write_trace(tmp: Path, edit: Callable[[dict], object]) -> str:
    doc = _trace(tmp)
    edit(doc)
    path = tmp / "edited.itf.json"
    path.write_text(json.dumps(doc))
    return str(path)


def _bytes(tmp: Path, data: bytes) -> str:
    path = tmp / "t.itf.json"
    path.write_bytes(data)
    return str(path)


def _run_dir(tmp: Path, result: bytes) -> str:
    folder = tmp / "run"
    folder.mkdir()
    (folder / "result.json").write_bytes(result)
    return str(folder)


def _file(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


FAIR_TYPO = """\
from checker.lang.fairness import Fair
from models.v9 import V9


class FairTypo(V9):
    name = "fair-typo"

    def fairness(self):
        return super().fairness() + [
            Fair("weak", "typo", actors=("control",), except_actions=("set_backnd",))]
"""

ACTOR_TYPO = """\
from checker.lang.spec import invariant


@invariant("bad-actor", "the guest can always move")
def bad_actor(s):
    return s.enabled("gust")
"""

SOMETIMES = """\
from checker.lang.spec import sometimes


@sometimes("dma-outstanding", "a zero-copy DMA is outstanding")
def dma_outstanding(s):
    return s.upend != s.done
"""


def _extra_var(doc: dict) -> None:
    doc["states"][1]["bogus"] = {"#bigint": "1"}


def _short_array(doc: dict) -> None:
    for st in doc["states"]:
        st["heads_len"] = st["heads_len"][:2]


def _out_of_range(doc: dict) -> None:
    doc["states"][0]["upend"] = {"#bigint": "99"}


def _unknown_property(doc: dict) -> None:
    doc["#meta"]["property"] = "no-such-property"


def _states_not_list(doc: dict) -> None:
    doc["states"] = {"0": 1}


def _picks_not_object(doc: dict) -> None:
    doc["states"][1]["mbt::nondetPicks"] = [1, 2]


# (id, argv builder given a temporary folder, expected text in the one stderr line)
CASES: list[tuple[str, Callable[[Path], list[str]], str]] = [
    ("time-limit-nan", lambda t: ["check", *SMALL, "--time-limit", "nan"],
     "--time-limit must be positive, not nan (a finite number of seconds)"),
    ("time-limit-inf", lambda t: ["check", *SMALL, "--time-limit", "inf"],
     "--time-limit must be positive, not inf (a finite number of seconds)"),
    ("time-limit-zero", lambda t: ["check", *SMALL, "--time-limit", "0"],
     "--time-limit must be positive"),
    ("time-limit-word", lambda t: ["check", *SMALL, "--time-limit", "soon"],
     "--time-limit: 'soon' is not a number of seconds"),
    ("time-limit-huge", lambda t: ["check", *SMALL, "--time-limit", "1e300"],
     "--time-limit must be at most"),
    ("max-states-zero", lambda t: ["check", *SMALL, "--max-states", "0"],
     "--max-states must be at least 1, not 0"),
    ("max-depth-negative", lambda t: ["check", *SMALL, "--max-depth", "-2"],
     "--max-depth must be at least 1, not -2"),
    ("depth-zero", lambda t: ["check", "--engine", "bmc", "--depth", "0"],
     "--depth must be at least 1, not 0"),
    ("memory-limit-zero", lambda t: ["check", *SMALL, "--memory-limit", "0"],
     "--memory-limit must be at least 1, not 0"),
    ("matrix-time-limit-nan", lambda t: ["matrix", "--time-limit", "nan"],
     "--time-limit must be positive"),
    ("matrix-jobs-zero", lambda t: ["matrix", "--jobs", "0"], "--jobs must be at least 1"),
    ("matrix-huge-range", lambda t: ["matrix", "--ring-sizes", "1-100000"],
     "'1-100000' names 100000 ring sizes; at most 256"),
    ("matrix-size-too-large", lambda t: ["matrix", "--ring-sizes", "60-100"],
     "--ring-size 65 is too large"),
    ("out-is-a-file", lambda t: ["check", *SMALL, "--out", _file(t, "f", "x")],
     "is a file"),
    ("out-cannot-be-created", lambda t: ["check", *SMALL, "--out", "/proc/vhostmc-test/out"],
     "cannot be created: /proc is not writable"),
    ("out-not-writable", lambda t: ["check", *SMALL, "--out", "/proc/self"],
     "--out /proc/self is not writable"),
    ("replay-not-utf8", lambda t: ["replay", _bytes(t, b'{"states": "\xff\xfe"}')],
     "is not UTF-8 text (byte 12)"),
    ("shrink-not-utf8", lambda t: ["shrink", _bytes(t, b"\x80abc")], "is not UTF-8 text"),
    ("replay-not-json", lambda t: ["replay", _bytes(t, b"{states: ")], "is not JSON"),
    ("replay-json-list", lambda t: ["replay", _bytes(t, b"[1, 2]")],
     "is JSON but not an ITF trace (a list"),
    ("replay-deep-json", lambda t: ["replay", _bytes(t, b"[" * 100000 + b"]" * 100000)],
     "is nested too deeply to be an ITF trace"),
    ("replay-states-not-list", lambda t: ["replay", _write_trace(t, _states_not_list)],
     "no 'states' list"),
    ("replay-extra-variable", lambda t: ["replay", _write_trace(t, _extra_var)],
     "state 1 has variable bogus, which revision v9 does not have"),
    ("replay-array-length", lambda t: ["replay", _write_trace(t, _short_array)],
     "state 0: heads_len has 2 entries but revision v9 with uio_maxiov=4 has 4"),
    ("replay-out-of-range", lambda t: ["replay", _write_trace(t, _out_of_range)],
     "state 0: upend = 99 is not a value of upend (an integer 0..3)"),
    ("replay-unknown-property", lambda t: ["replay", _write_trace(t, _unknown_property)],
     "the trace's property 'no-such-property' is unknown here; for a user property add --spec"),
    ("replay-picks-not-object", lambda t: ["replay", _write_trace(t, _picks_not_object)],
     "'mbt::nondetPicks' must be an object"),
    ("spec-not-utf8", lambda t: ["check", *SMALL, "--spec", _bytes(t, b'x = "\xff"\n')],
     "cannot read the spec file"),
    ("report-not-utf8", lambda t: ["report", _run_dir(t, b"\xff")], "is not UTF-8 text"),
    ("property-empty-name", lambda t: ["check", *SMALL, "--property", "no-double-use,"],
     "--property: an empty name in '--property no-double-use,'; separate names with single"),
    ("matrix-property-empty-name", lambda t: ["matrix", "--property", ",no-leak"],
     "--property: an empty name in '--property ,no-leak'"),
    ("strengthen-empty-name", lambda t: ["check", "--engine", "kind", *SMALL, "--strengthen",
                                         "a,,b"],
     "--strengthen: an empty name in '--strengthen a,,b'"),
    ("strengthen-with-sometimes", lambda t: [
        "check", "--engine", "kind", "--ring-size", "1", "--property", "no-double-use",
        "--strengthen", "dma-outstanding", "--spec", _file(t, "some.py", SOMETIMES)],
     "--strengthen dma-outstanding: a sometimes property is no invariant"),
    ("fairness-typo", lambda t: ["check", *SMALL, "--revision", _file(t, "fair_rev.py",
                                                                        FAIR_TYPO)],
     ("fairness 'typo' names except_actions 'set_backnd', which the model does not have; "
      "did you mean 'set_backend'?")),
    ("enabled-actor-typo", lambda t: ["check", *SMALL, "--spec", _file(t, "spec.py",
                                                                         ACTOR_TYPO)],
     "asks enabled('gust'), but revision v9 has no actor 'gust'"),
]


@pytest.mark.parametrize(("build", "message"), [(b, m) for _, b, m in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_exit_2_one_line_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    build: Callable[[Path], list[str]], message: str,
) -> None:
    argv = build(tmp_path)
    capsys.readouterr()
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # the default --out folders would land here
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    assert exc.value.code == 2, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vhostmc: error: ")
    assert message in lines[0]
    assert "Traceback" not in err
    assert list(work.iterdir()) == []


def test_out_without_free_space_is_refused_before_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 0))  # type: ignore[attr-defined]
    with pytest.raises(SystemExit) as exc:
        main(["check", *SMALL, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.strip() == (f"vhostmc: error: --out {tmp_path / 'out'}: only 0 bytes free on its "
                           "file system; free some space or choose another folder")


def test_write_error_names_the_users_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from checker.outputs import files

    def full(src: str, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["check", "--ring-size", "1", "--property", "no-stuck-waiter", "--out", str(out),
              "-q", "--pictures", "none"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert err.strip() == (f"vhostmc: error: cannot write {out / 'v9-n1-no-stuck-waiter.itf.json'}"
                           ": No space left on device")
    assert [p.name for p in out.iterdir()] == []  # no temporary file left behind


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_respect_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    from checker.outputs.files import write_atomic

    old = os.umask(umask)
    try:
        write_atomic(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == mode


def test_internal_error_exit_4_one_line_and_crash_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from checker.runs import check as runs_check

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the explorer lost its way")

    monkeypatch.setattr(runs_check, "run_engine", broken)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["check", *SMALL, "--out", str(out)])
    err = capsys.readouterr().err
    log = out / "vhostmc-crash.log"
    assert exc.value.code == 4
    assert err.strip() == ("vhostmc: internal error: RuntimeError: the explorer lost its way (a "
                           f"bug in vhostmc; the traceback is in {log}, please report it)")
    text = log.read_text()
    assert text.startswith("Traceback") and "the explorer lost its way" in text


def test_internal_error_without_out_folder_logs_to_a_temp_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    from checker.cli import app, listing

    monkeypatch.setattr(app, "crash_dir", None)
    monkeypatch.setattr(listing, "revision_names", lambda: 1 / 0)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    with pytest.raises(SystemExit) as exc:
        main(["list"])
    err = capsys.readouterr().err
    assert exc.value.code == 4
    logs = list(tmp_path.glob("vhostmc-crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    assert "ZeroDivisionError" in logs[0].read_text()


def test_z3_gave_up_reasons_are_cut_to_one_line() -> None:
    from checker.engines.symbolic.bmc import stop_reason
    from checker.engines.symbolic.limits import SolverGaveUp, one_line

    assert one_line("(incomplete quantifiers)\n" + "detail\n" * 5000) == "(incomplete quantifiers)"
    assert len(one_line("x" * 5000)) == 200
    assert stop_reason(SolverGaveUp("a\nb\nc"), None) == "Z3 returned unknown (a)"
