"""docs/extending.md runs as written: its files are examples/, its commands give its output.

Every ```console block is a list of ``$ vhostmc ...`` commands, each followed
by the output it shows: those lines must appear in that order in what the
command prints (stdout, then stderr); a ``...`` line stands for any lines,
``[...]`` for any text within a line.  The exit code is the ``(exit N)`` the
output shows, 2 for a ``vhostmc: error:`` line, else 0.  Every ```python
block that starts with ``# examples/NAME.py`` is that file, verbatim.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from checker.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "extending.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```\n", re.DOTALL | re.MULTILINE)


def blocks(kind: str) -> list[str]:
    return [body for lang, body in FENCE.findall(DOC.read_text()) if lang == kind]


def commands() -> list[tuple[str, list[str]]]:
    """``(command, expected output lines)`` in document order."""
    out: list[tuple[str, list[str]]] = []
    for body in blocks("console"):
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            else:
                out[-1][1].append(line.rstrip())
    return out


def expected_exit(lines: list[str]) -> int:
    for line in lines:
        found = re.search(r"\(exit (\d)\)", line)
        if found:
            return int(found.group(1))
    return 2 if any(line.startswith("vhostmc: error:") for line in lines) else 0


def matches(expected: list[str], actual: list[str]) -> str | None:
    """None when ``expected`` (with ``...``/``[...]``) matches ``actual`` in order,
    else the first expected line not found."""
    pos = 0
    skipping = False
    for line in expected:
        if line == "...":
            skipping = True
            continue
        pattern = re.compile(".*".join(re.escape(part) for part in line.split("[...]")) + "$")
        while pos < len(actual) and not pattern.match(actual[pos]):
            if not skipping:
                return line
            pos += 1
        if pos == len(actual):
            return line
        pos += 1
        skipping = False
    return None


def test_doc_files_are_the_examples() -> None:
    files = [b for b in blocks("python") if b.startswith("# examples/")]
    assert len(files) >= 3
    for body in files:
        first, _, rest = body.partition("\n")
        assert (ROOT / first[2:]).read_text() == rest, first


def chains() -> list[list[tuple[str, list[str]]]]:
    """The commands grouped so that each group runs on its own: a command naming a
    file in an output folder (``vhostmc-out/``, or an earlier ``--out``) reads what
    an earlier command wrote, so it runs after that one, in the same group."""
    out: list[list[tuple[str, list[str]]]] = []
    folders = {"vhostmc-out"}
    for command, expected in commands():
        argv = shlex.split(command)
        folders.update(argv[k + 1] for k, arg in enumerate(argv[:-1]) if arg == "--out")
        reads_output = any(arg.split("/")[0] in folders for arg in argv[2:] if "/" in arg)
        if reads_output and out:
            out[-1].append((command, expected))
        else:
            out.append([(command, expected)])
    return out


def test_the_doc_has_commands_to_run() -> None:
    assert len(commands()) >= 5
    assert any(len(chain) > 1 for chain in chains())  # the replay follows its check


@pytest.mark.parametrize("chain", chains(),
                         ids=[f"{k}-{c[0][0].split()[1]}" for k, c in enumerate(chains())])
def test_doc_commands_run_as_written(
    chain: list[tuple[str, list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each group of commands on a fresh copy of examples/: a failure names its
    command and ``--durations`` shows what each costs (with ``--dist loadscope`` the
    whole module still runs on one worker)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for command, expected in chain:
        argv = shlex.split(command)
        assert argv[0] == "vhostmc"
        with pytest.raises(SystemExit) as exc:
            main(argv[1:])
        out, err = capsys.readouterr()
        actual = [line.rstrip() for line in (out + err).splitlines()]
        assert int(exc.value.code or 0) == expected_exit(expected), (command, out, err)
        missing = matches(expected, actual)
        assert missing is None, f"{command}\nexpected line not found: {missing!r}\n{out}{err}"
