"""User files: --revision PATH.py and --spec PATH.py, and every way they can be wrong.

Each error is one line on stderr naming the file and line, with exit 2.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from checker.cli import main
from checker.lang.model import ModelError
from checker.runs.catalog import load_revision, select_properties
from checker.runs.userfiles import load_spec_file

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--ring-size", "1", "--max-backend-changes", "0", "--release", "no",
         "--send-failures", "0", "-q"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def one_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run, assert exit 2 with exactly one stderr line and nothing on stdout; the line."""
    code, out, err = run(capsys, *args)
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


REV_OK = """
    from models.v9 import V9


    class KrefInitOnly(V9):
        def initial_refcount(self) -> int:
            return 1
"""

SPEC_OK = """
    from checker.lang.spec import invariant


    @invariant("rc-nonneg", "no refcount below zero")
    def rc_nonneg(s):
        return s.all(*(s.rc[o] >= 0 for o in range(len(s.rc))))
"""


# -- loading by name and by path ------------------------------------------------------------
def test_revision_by_name_and_by_path(tmp_path: Path) -> None:
    assert load_revision("v3.1").name == "v3.1"
    path = write(tmp_path, "kref_only.py", REV_OK)
    cls = load_revision(path)
    assert cls.__name__ == "KrefInitOnly"
    assert cls.name == "kref_only"  # no `name`: the file's name
    assert load_revision(path) is cls  # loaded once
    assert load_revision(str(ROOT / "examples" / "my_rev.py")).name == "my-rev"


def test_model_variable_picks_among_several(tmp_path: Path) -> None:
    path = write(tmp_path, "two.py", """
        from models.v9 import V9


        class A(V9):
            name = "a"


        class B(V9):
            name = "b"


        MODEL = B
    """)
    assert load_revision(path).name == "b"


def test_check_runs_user_revision_and_user_property(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rev = write(tmp_path, "kref_only.py", REV_OK)
    spec = write(tmp_path, "myspec.py", SPEC_OK)
    out_dir = tmp_path / "out"
    code, out, _ = run(capsys, "check", "--revision", rev, "--spec", spec, "--ring-size", "1",
                       "--lower-device", "tun", "--property", "rc-nonneg", "--out",
                       str(out_dir), "--json", "-q")
    assert code == 1
    doc = json.loads(out)
    assert doc["revision"] == "kref_only"
    assert doc["settings"]["revision_file"] == rev
    assert doc["settings"]["spec_files"] == [spec]
    (prop,) = doc["properties"]
    assert (prop["name"], prop["status"], prop["length"]) == ("rc-nonneg", "violated", 12)
    code, out, _ = run(capsys, "replay", prop["trace"]["itf"], "--revision", rev, "--spec", spec,
                       "-q")
    assert code == 0
    assert out.strip() == "replay: OK: 12 steps replay on revision kref_only; last state " \
                          "violates rc-nonneg"


def test_property_selects_among_builtin_and_user(tmp_path: Path) -> None:
    spec = write(tmp_path, "myspec.py", SPEC_OK)
    names = [p.name for p in select_properties([], [spec])]
    assert names == ["no-double-use", "memory-safe", "no-stuck-waiter", "no-quiescent-leak",
                     "no-leak", "put-and-wait-terminates", "rc-nonneg"]
    assert [p.name for p in select_properties(["rc-nonneg", "no-quiescent-leak"], [spec])] == \
        ["rc-nonneg", "no-quiescent-leak"]
    with pytest.raises(ModelError, match="unknown property 'rc-nonneg'"):
        select_properties(["rc-nonneg"])


def test_user_property_holds_on_a_complete_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write(tmp_path, "myspec.py", SPEC_OK)
    code, out, _ = run(capsys, "check", *SMALL, "--initial-backend", "copy", "--spec", spec,
                       "--property", "rc-nonneg", "--out", str(tmp_path / "o"))
    assert code == 0
    assert "rc-nonneg  HOLDS" in out


def test_list_shows_user_properties_and_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write(tmp_path, "myspec.py", SPEC_OK)
    code, out, _ = run(capsys, "list", "--spec", spec)
    assert code == 0
    assert "rc-nonneg" in out and "no refcount below zero" in out
    assert "datapath   --max-backend-changes 0 --release no --send-failures 0" in out


# -- errors in revision files ---------------------------------------------------------------
def test_revision_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad.py", """
        from models.v9 import V9

        class Bad(V9) oops:
            pass
    """)
    line = one_error(capsys, "check", "--revision", path, "--out", str(tmp_path / "o"))
    assert line == f"vhostmc: error: {path}:3: syntax error: invalid syntax"
    assert not (tmp_path / "o").exists()


def test_revision_exception_at_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "boom.py", """
        from models.v9 import V9

        LIMIT = {"a": 1}["b"]
    """)
    line = one_error(capsys, "check", "--revision", path)
    assert line == (f"vhostmc: error: {path}:3: error while loading the revision file: "
                    "KeyError: 'b'")


def test_revision_import_of_missing_module(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "missing.py", """
        \"\"\"A revision.\"\"\"
        from models.v10 import V10
    """)
    line = one_error(capsys, "check", "--revision", path)
    assert line == (f"vhostmc: error: {path}:2: error while loading the revision file: "
                    "ModuleNotFoundError: No module named 'models.v10'")


def test_revision_without_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "empty.py", "from models.v9 import V9\n")
    line = one_error(capsys, "check", "--revision", path)
    assert line == (f"vhostmc: error: {path}: defines no Model subclass; derive one from a "
                    "revision, e.g. 'from models.v9 import V9' and 'class MyRevision(V9): ...'")


def test_revision_with_several_models(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "two.py", """
        from models.v9 import V9


        class A(V9):
            pass


        class B(V9):
            pass
    """)
    line = one_error(capsys, "check", "--revision", path)
    assert line == (f"vhostmc: error: {path}: defines several Model subclasses (A, B); "
                    "set MODEL = <the one to check>")


def test_missing_revision_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(tmp_path / "nope.py")
    line = one_error(capsys, "check", "--revision", path)
    assert line == f"vhostmc: error: revision file {path} does not exist"


def test_override_of_a_step_the_base_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "typo.py", """
        from checker.lang.model import action
        from models.v9 import V9


        class Typo(V9):
            @action("control", "vhost_ubuf_put_and_wait", "kfree(ubufs);")
            def put_and_wait_kfre(self, s):
                s.require(False)
    """)
    line = one_error(capsys, "check", "--revision", path)
    assert line == (f"vhostmc: error: {path}:6: Typo.put_and_wait_kfre is not a step of its "
                    "base (did you mean 'put_and_wait_kfree'?); a step new in this revision "
                    "must say @action(..., adds=True)")


def test_adds_true_on_an_existing_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "dup.py", """
        from checker.lang.model import action
        from models.v9 import V9


        class Dup(V9):
            @action("control", "vhost_ubuf_put_and_wait", "kfree(ubufs);", adds=True)
            def put_and_wait_kfree(self, s):
                s.require(False)
    """)
    line = one_error(capsys, "check", "--revision", path)
    assert line == (f"vhostmc: error: {path}:6: Dup.put_and_wait_kfree says adds=True but its "
                    "base already has this step; drop adds=True to override it")


def test_new_step_with_adds_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "new.py", """
        from checker.lang.model import action
        from models.v9 import V9


        class WithNewStep(V9):
            @action("control", "vhost_net_set_backend", "/* nothing */", adds=True)
            def my_new_step(self, s):
                s.require(False)
    """)
    model = load_revision(path)({"ring_size": 1})
    assert model.action_specs[-1].name == "my_new_step"


@pytest.mark.filterwarnings("ignore::UserWarning")  # the compiler leaves raising steps interpreted
def test_revision_step_raising_during_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "bad_step.py", """
        from models.v9 import V9


        class BadStep(V9):
            def too_many_pending(self, s):
                return s.upend - s.done > self.p.no_such_parameter
    """)
    line = one_error(capsys, "check", "--revision", path, *SMALL, "--out", str(tmp_path / "o"))
    assert line == (f"vhostmc: error: {path}:6: revision bad_step raised AttributeError: "
                    "no_such_parameter")


# -- errors in spec files ------------------------------------------------------------------
def test_spec_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "bad_spec.py", """
        from checker.lang.spec import invariant

        @invariant("x", "y")
        def x(s):
            return s.rc[0] >= 0 +
    """)
    line = one_error(capsys, "check", "--spec", path)
    assert line == f"vhostmc: error: {path}:5: syntax error: invalid syntax"


def test_spec_exception_at_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "boom_spec.py", """
        from checker.lang.spec import invariant


        @invariant("x")
        def x(s):
            return True
    """)
    line = one_error(capsys, "check", "--spec", path)
    assert line.startswith(f"vhostmc: error: {path}:4: error while loading the spec file: "
                           "TypeError: invariant() missing 1 required positional argument")


def test_spec_without_properties(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "none.py", "X = 1\n")
    line = one_error(capsys, "check", "--spec", path)
    assert line == (f"vhostmc: error: {path}: defines no properties; declare one with "
                    "'@invariant(name, statement)' from checker.lang.spec on a function of the state "
                    "(or @leads_to / @eventually for liveness)")


def test_spec_reusing_a_builtin_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "dup.py", """
        from checker.lang.spec import invariant


        @invariant("no-quiescent-leak", "mine")
        def mine(s):
            return True
    """)
    line = one_error(capsys, "check", "--spec", path)
    assert line == (f"vhostmc: error: {path}:4: property 'no-quiescent-leak' is already defined "
                    "(built in); choose another name")


def test_property_reading_an_unknown_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "typo_spec.py", """
        from checker.lang.spec import invariant


        @invariant("rc-nonneg", "no refcount below zero")
        def rc_nonneg(s):
            ok = True
            return s.all(ok, *(s.rcc[o] >= 0 for o in range(2)))
    """)
    line = one_error(capsys, "check", "--spec", path, "--property", "rc-nonneg",
                     "--out", str(tmp_path / "o"))
    assert line == (f"vhostmc: error: {path}:7: property 'rc-nonneg' reads state variable "
                    "'rcc', which revision v9 does not have (did you mean 'rc'?); its declare() "
                    "lists the variables (v9's: models/v9/state.py)")
    assert not (tmp_path / "o").exists()


def test_property_returning_a_non_boolean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "int_spec.py", """
        from checker.lang.spec import invariant


        @invariant("count", "a count, not a condition")
        def count(s):
            return s.rc[1]
    """)
    line = one_error(capsys, "check", "--spec", path)
    assert line == (f"vhostmc: error: {path}:4: property 'count' returned int 2, not a bool; "
                    "compare values (==, <, ...) or combine conditions with s.all / s.any / s.neg")


def test_unselected_bad_property_is_not_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "int_spec.py", """
        from checker.lang.spec import invariant


        @invariant("count", "a count, not a condition")
        def count(s):
            return s.rc[1]
    """)
    code, _, _ = run(capsys, "check", "--spec", path, "--ring-size", "1", "--property",
                     "no-stuck-waiter", "--out", str(tmp_path / "o"), "-q")
    assert code == 1


def test_property_raising_during_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "late.py", """
        from checker.lang.spec import invariant


        @invariant("late", "fails only once an skb is held")
        def late(s):
            if s.skb_cnt > 0:
                raise ValueError("deep state")
            return True
    """)
    line = one_error(capsys, "check", "--spec", path, "--property", "late", *SMALL,
                     "--out", str(tmp_path / "o"))
    assert line == f"vhostmc: error: {path}:7: property 'late' raised ValueError: deep state"


def test_property_turning_non_boolean_during_the_search(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "late_int.py", """
        from checker.lang.spec import invariant


        @invariant("late-int", "an int once an skb is held")
        def late_int(s):
            return s.skb_cnt if s.skb_cnt > 0 else True
    """)
    line = one_error(capsys, "check", "--spec", path, "--property", "late-int", *SMALL,
                     "--out", str(tmp_path / "o"))
    assert line == (f"vhostmc: error: {path}:4: property 'late-int' returned int 1, not a bool; "
                    "compare values (==, <, ...) or combine conditions with s.all / s.any / s.neg")


def test_load_spec_file_returns_properties(tmp_path: Path) -> None:
    path = write(tmp_path, "myspec.py", SPEC_OK)
    (prop,) = load_spec_file(path)
    assert prop.name == "rc-nonneg"


def test_compiled_step_raising_names_the_file_and_how_to_get_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "zd.py", """
        from models.v9 import V9


        class ZeroDiv(V9):
            def too_many_pending(self, s):
                return 10 // (s.upend - s.done - 1) > self.p.max_pend
    """)
    line = one_error(capsys, "check", "--revision", "zd.py", *SMALL, "--out", "o")
    assert line.startswith("vhostmc: error: zd.py")
    assert "revision zd raised ZeroDivisionError: integer division or modulo by zero" in line


def test_preflight_evaluates_the_first_a_middle_and_the_last_instance() -> None:
    """At ring size 32768 every no-leak instance reads the whole used ring: all of them
    took hours before any search started."""
    from checker.lang.spec import leads_to
    from checker.runs.userfiles import preflight
    from models.v9 import V9

    seen: list[int] = []

    @leads_to("probe", "records the instances evaluated",
              over=lambda p: {"h": range(p.ring_size)})
    def probe(s: object, h: int) -> tuple[bool, bool]:
        seen.append(h)
        return False, True

    preflight(V9({"ring_size": 8}), [probe])
    assert seen == [0, 3, 7]

    @leads_to("last-breaks", "raises on the last head only",
              over=lambda p: {"h": range(p.ring_size)})
    def last_breaks(s: object, h: int) -> tuple[bool, bool]:
        if h == 7:
            raise IndexError("h out of range")
        return False, True

    with pytest.raises(ModelError, match="last-breaks.*IndexError"):
        preflight(V9({"ring_size": 8}), [last_breaks])
