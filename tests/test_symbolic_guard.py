"""Code the Z3 engines cannot represent is refused (one line, file:line, exit 2), never
silently mis-encoded; the explicit engine still checks the same code correctly."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.cli import main

SMALL = ["--ring-size", "1", "--max-backend-changes", "0", "--release", "no",
         "--send-failures", "0", "-q"]
SYMBOLIC = ("bmc", "kind", "pdr", "inductive")

HEADER = """\
from typing import Any
from checker.lang.spec import invariant
from checker.lang.view import StateView

TABLE = {0: True}


@invariant("odd", "a property written with a construct Z3 terms cannot stand for")
def odd(s: StateView) -> Any:
"""

# (name, body of the predicate, line of the offending statement within the body)
PROPERTY_BODIES = [
    ("if", "    if s.mem_err == 2:\n        return False\n    return True\n", 0),
    ("and", "    return s.mem_err == 0 and s.use_err == 0\n", 0),
    ("not", "    return not s.mem_err == 2\n", 0),
    ("in", "    return s.mem_err in (0, 1)\n", 0),
    ("min", "    return min(s.mem_err, 1) == s.mem_err\n", 0),
    ("ternary", "    return True if s.mem_err == 0 else False\n", 0),
    ("range", "    return s.all(*(s.used_cnt >= 0 for _ in range(s.used_cnt + 1)))\n", 0),
    ("dict", "    return TABLE.get(s.mem_err, True)\n", 0),
    ("division", "    return s.used_cnt // 2 >= 0\n", 0),
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def depth(engine: str) -> list[str]:
    """``--depth 3`` for the engines that take a depth (the inductive engine takes none)."""
    return [] if engine == "inductive" else ["--depth", "3"]


def write_spec(tmp_path: Path, name: str, body: str) -> tuple[Path, int]:
    """The spec file and the line number of the predicate's first body line."""
    path = tmp_path / f"spec_{name}.py"
    path.write_text(HEADER + body)
    return path, HEADER.count("\n") + 1


@pytest.mark.parametrize("name,body,offset", PROPERTY_BODIES, ids=[b[0] for b in PROPERTY_BODIES])
@pytest.mark.parametrize("engine", SYMBOLIC)
def test_property_construct_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str, name: str, body: str,
    offset: int,
) -> None:
    spec, line = write_spec(tmp_path, name, body)
    code, out, err = run(capsys, "check", "--engine", engine, *depth(engine), "--spec", str(spec),
                         "--property", "odd", "--out", str(tmp_path / "out"), *SMALL)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"vhostmc: error: {spec}:{line + offset}:")
    assert "s.ite" in lines[0] and "--engine explicit" in lines[0]
    assert not (tmp_path / "out").exists()


def test_explicit_checks_the_if_property(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec, _ = write_spec(tmp_path, "if", PROPERTY_BODIES[0][1])
    code, out, _ = run(capsys, "check", "--spec", str(spec), "--property", "odd",
                       "--out", str(tmp_path / "out"), "--ring-size", "1", "-q")
    assert code == 1
    assert "odd  VIOLATED  (8 steps)" in out


REVISION = """\
from checker.lang.model import action
from checker.lang.view import StateView
from models.v9 import V9
from models.v9.state import GUEST


class IfKick(V9):
    name = "if-kick"
    description = "v9 with the kick written as a Python if"

    @action(GUEST, "virtqueue_kick", "notify the host (kick eventfd)")
    def guest_kick(self, s: StateView) -> None:
        s.require(s.all(s.g_kick, s.neg(s.no_notify)))
        s.g_kick = False
        if s.kick_poll:
            s.kick_q = True
"""


@pytest.mark.parametrize("engine", SYMBOLIC)
def test_revision_if_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str) -> None:
    rev = tmp_path / "if_kick.py"
    rev.write_text(REVISION)
    code, out, err = run(capsys, "check", "--engine", engine, *depth(engine), "--revision", str(rev),
                         "--property", "memory-safe", "--out", str(tmp_path / "out"), *SMALL)
    assert code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1
    line = REVISION.splitlines().index("        if s.kick_poll:") + 1
    assert lines[0].startswith(f"vhostmc: error: {rev}:{line}: `if s.kick_poll:`")


def test_explicit_checks_the_if_revision(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rev = tmp_path / "if_kick.py"
    rev.write_text(REVISION)
    code, out, _ = run(capsys, "check", "--revision", str(rev), "--property", "memory-safe",
                       "--out", str(tmp_path / "out"), "--ring-size", "1", "-q")
    assert code == 1
    assert "memory-safe  VIOLATED  (8 steps)" in out


def test_symbolic_bmc_still_finds_the_rewritten_property(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same property written with s.neg is checked by bmc: 8 steps, as explicit."""
    spec, _ = write_spec(tmp_path, "ok", "    return s.neg(s.mem_err == 2)\n")
    code, out, _ = run(capsys, "check", "--engine", "bmc", "--depth", "8", "--spec", str(spec),
                       "--property", "odd", "--out", str(tmp_path / "out"), "--ring-size", "1",
                       "-q")
    assert code == 1
    assert "odd  VIOLATED  (8 steps)" in out


# -- ring sizes, time limits while building, internal errors -------------------------


def test_explicit_refuses_a_large_ring_with_its_own_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "check", "--ring-size", "65", "--out", str(tmp_path / "o"), "-q")
    assert code == 2 and out == ""
    assert err.startswith("vhostmc: error: --ring-size 65 is too large for explicit exploration")
    assert "--engine bmc, kind, pdr or inductive" in err
    assert not (tmp_path / "o").exists()


def test_symbolic_engines_accept_the_kernels_ring_sizes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ring 65 is accepted by bmc; the time limit stops it while the step is built."""
    code, out, err = run(capsys, "check", "--engine", "bmc", "--ring-size", "65",
                         "--time-limit", "0.5", "--property", "memory-safe",
                         "--out", str(tmp_path / "o"), "-q")
    assert code == 3, err
    assert "ran out while building the transition formulas" in out
    code, _, err = run(capsys, "check", "--engine", "bmc", "--ring-size", "32769",
                       "--out", str(tmp_path / "o2"), "-q")
    assert code == 2 and "above the kernel's limit" in err


def test_an_engine_crash_exits_4_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import functools
    import operator

    from checker.engines.symbolic import bounded

    # a crash inside vhostmc's own code (a C callable: no frame of this test file)
    monkeypatch.setattr(bounded, "new_solver", functools.partial(operator.truediv, 1, 0))
    code, _out, err = run(capsys, "check", "--engine", "bmc", "--out", str(tmp_path / "o"), *SMALL)
    assert code == 4
    lines = err.strip().splitlines()
    log = tmp_path / "o" / "vhostmc-crash.log"
    assert lines == [("vhostmc: internal error: engine bmc failed: ZeroDivisionError: division "
                     f"by zero (a bug in vhostmc, not a verdict; the traceback is in {log}, "
                     "please report it)")]
    assert "ZeroDivisionError" in log.read_text()
