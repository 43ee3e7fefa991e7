"""The vhostmc command line: verdicts, exit codes, JSON, files, replay, bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from checker.cli import main

SMALL = ["--ring-size", "1", "--max-backend-changes", "0", "--release", "no",
         "--send-failures", "0", "-q"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_violation_exit_1_with_shortest_trace_files_and_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--ring-size", "1", "--property",
                       "no-stuck-waiter", "--out", str(tmp_path), "-q")
    assert code == 1
    assert "no-stuck-waiter  VIOLATED  (3 steps)" in out
    assert "[control] set_backend(to=" in out
    stem = tmp_path / "v9-n1-no-stuck-waiter"
    for suffix in (".itf.json", ".dot", ".graphml", ".txt"):
        assert Path(str(stem) + suffix).is_file()
    itf = json.loads(Path(str(stem) + ".itf.json").read_text())
    assert len(itf["states"]) == 4
    assert itf["states"][0]["mbt::actionTaken"] == "init"
    assert itf["states"][3]["mbt::actionTaken"] == "put_and_wait_sleep"
    assert itf["states"][3]["rc"][1] == {"#bigint": "1"}
    code, out, _ = run(capsys, "replay", str(stem) + ".itf.json")
    assert code == 0
    assert out.strip().endswith("3 steps replay on revision v9; last state violates "
                                "no-stuck-waiter")


def test_json_output_is_one_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "--ring-size", "1", "--property", "memory-safe",
                         "--out", str(tmp_path), "--json", "-q")
    assert code == 1
    doc = json.loads(out)
    assert doc["tool"] == "vhostmc" and doc["revision"] == "v9" and doc["engine"] == "explicit"
    assert doc["params"]["ring_size"] == 1 and doc["params"]["uio_maxiov"] == 4
    assert doc["environment"]["guest"] == "linux"
    assert doc["complete"] is False
    assert set(doc["stats"]) == {"states", "transitions", "max_depth", "seconds", "backend",
                                 "states_per_second", "workers"}
    assert doc["stats"]["workers"] == 1 and doc["settings"]["workers"] == 1
    assert doc["stats"]["backend"] == "python"
    (prop,) = doc["properties"]
    assert prop["name"] == "memory-safe" and prop["status"] == "violated"
    assert prop["length"] == 8
    assert prop["trace"]["itf"].endswith("v9-n1-memory-safe.itf.json")
    assert "NULL vhost_ubuf_ref" in prop["explanation"]
    assert "result: violations found (exit 1)" in err
    assert json.loads((tmp_path / "result.json").read_text())["properties"] == doc["properties"]


def test_limit_gives_inconclusive_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", *SMALL, "--property", "memory-safe", "--max-states",
                       "50", "--out", str(tmp_path), "--json")
    assert code == 3
    doc = json.loads(out)
    assert doc["complete"] is False
    assert doc["properties"][0]["status"] == "inconclusive"
    assert "50 states" in doc["properties"][0]["reason"]


def test_depth_limit_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", *SMALL, "--property", "no-double-use", "--max-depth", "5",
                       "--out", str(tmp_path))
    assert code == 3
    assert "INCONCLUSIVE  (search cut by depth 5)" in out


def test_complete_search_holds_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", *SMALL, "--initial-backend", "copy",
                       "--out", str(tmp_path), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["complete"] is True
    assert [p["status"] for p in doc["properties"]] == ["holds"] * 6
    assert [p["kind"] for p in doc["properties"]][-2:] == ["leads-to", "leads-to"]
    assert any("lower device eventually frees every skb" in f for f in doc["fairness"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ring-size", "0"], "--ring-size must be at least 1, not 0"),
        (["--ring-size", "-1"], "--ring-size must be at least 1, not -1"),
        (["--ring-size", "abc"], "'abc' is not a valid integer"),
        (["--ring-size", "1.5"], "'1.5' is not a valid integer"),
        (["--revision", "v7"], "unknown revision 'v7' (known: v9"),
        (["--property", "no-such"], "unknown property 'no-such'"),
        (["--guest", "evil"], "'evil' is not one of 'linux', 'rogue'"),
        (["--rogue-posts", "2"], "--rogue-posts only applies with --guest rogue"),
        (["--max-states", "0"], "--max-states must be at least 1"),
        (["--time-limit", "-3"], "--time-limit must be positive"),
        (["--zcopytx", "2"], "--zcopytx must be 0 or 1"),
        (["--bogus"], "No such option '--bogus'"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "check", *args, "--out", str(out_dir))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("vhostmc: error: ")
    assert message in lines[0]
    assert not out_dir.exists()


def test_replay_detects_tampered_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "check", "--ring-size", "1", "--property", "no-stuck-waiter",
        "--out", str(tmp_path), "-q")
    path = tmp_path / "v9-n1-no-stuck-waiter.itf.json"
    doc = json.loads(path.read_text())
    doc["states"][2]["rc"][1] = {"#bigint": "0"}
    bad = tmp_path / "bad.itf.json"
    bad.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "replay", str(bad))
    assert code == 1
    assert "replay: FAILED: step 2: put_and_wait_put reaches a different state" in out
    assert "rc[1]: model 1 vs trace 0" in out


@pytest.mark.parametrize(("content", "message"), [
    ("not json", "is not JSON"),
    ("{}", "not an ITF trace"),
    ('{"states": [{}], "#meta": {"revision": "v9", "params": {}}}', "lacks variable"),
    ('{"states": [{}], "#meta": {"revision": "v0", "params": {}}}', "unknown revision 'v0'"),
])
def test_replay_bad_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    code, out, err = run(capsys, "replay", str(path))
    assert code == 2
    assert out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_list_shows_revisions_properties_switches(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--ring-size", "4")
    assert code == 0
    for text in ("v9", "no-double-use", "memory-safe", "no-stuck-waiter", "no-quiescent-leak",
                 "Environment switches", "--guest", "--uio-maxiov             16",
                 "  put-and-wait-terminates   leads-to   every vhost_ubuf_put_and_wait call",
                 "--device-progress        completes",
                 "  - weak fairness on dev_complete (each instance): the lower device"):
        assert text in out


def test_list_shows_each_engine_with_the_check_flags_it_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from checker.cli.check import check

    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "  bmc        Z3 bounded model checking up to --depth steps" in out
    assert "[--depth, --lift-from, --memory-limit]" in out
    real = {opt for param in check.params for opt in param.opts}
    listed = re.findall(r"^  (\w+) .* \[(.*)\]$", out, flags=re.MULTILINE)
    assert [name for name, _ in listed] == ["explicit", "bmc", "kind", "pdr", "inductive",
                                          "simulate"]
    for _, flags in listed:
        assert set(flags.split(", ")) <= real


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--help")
    assert code == 0
    assert "3  nothing violated, but the search was cut" in out
    assert "--ring-size N" in out


def test_bmc_engine_finds_shortest_and_trace_replays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "check", "--engine", "bmc", "--depth", "8", "--ring-size", "1",
                       "--release", "no", "--send-failures", "0", "--out", str(tmp_path),
                       "--json", "-q")
    assert code == 1
    doc = json.loads(out)
    assert doc["engine"] == "bmc" and doc["depth"] == 8
    verdicts = {p["name"]: (p["status"], p["length"]) for p in doc["properties"]}
    assert verdicts["memory-safe"] == ("violated", 8)
    assert verdicts["no-stuck-waiter"] == ("violated", 3)
    assert verdicts["no-quiescent-leak"] == ("inconclusive", None)
    assert "bounded to depth 8" in next(p["reason"] for p in doc["properties"]
                                        if p["name"] == "no-quiescent-leak")
    code, out, _ = run(capsys, "replay", str(tmp_path / "v9-n1-memory-safe.itf.json"))
    assert code == 0


def test_bmc_lift_from_reports_and_replays_the_lifted_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", "--engine", "bmc", "--lift-from", "1",
                         "--ring-size", "3", "--depth", "1", "--property", "no-stuck-waiter",
                         "--out", str(tmp_path))
    assert code == 1
    assert "no-stuck-waiter  VIOLATED  (3 steps, lifted from ring size 1)" in out
    assert "(3 steps; lifted from ring size 1: not necessarily the shortest)" in out
    assert "progress: lifting the 3-step counterexample to no-stuck-waiter" in err
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["settings"]["lift_from"] == 1
    assert doc["properties"][0]["origin"] == "lifted from ring size 1"
    code, out, _ = run(capsys, "replay", str(tmp_path / "v9-n3-no-stuck-waiter.itf.json"))
    assert code == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--depth", "5"], "--depth applies to --engine bmc or kind"),
    (["--engine", "bmc", "--max-depth", "5"], "--search and --max-depth apply to the explicit engine"),
    (["--engine", "bmc", "--max-states", "5"], "--max-states applies to --engine explicit or pdr"),
    (["--engine", "bmc", "--strengthen", "no-quiescent-leak"], "--strengthen applies to --engine kind"),
    (["--engine", "bmc", "--depth", "0"], "--depth must be at least 1"),
    (["--lift-from", "1"], "--lift-from applies to --engine bmc only"),
    (["--engine", "bmc", "--lift-from", "2"], "--lift-from 2 must be below --ring-size 2"),
    (["--query-limit", "5"], "--query-limit applies to --engine inductive only; use --time-limit"),
])
def test_engine_option_conflicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, "check", *args, "--out", str(tmp_path / "o"))
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
