"""The extension API: split steps, fairness of new steps, RCU, assumptions, stacked
revision files, revision parameters on the CLI, layout-proof properties, and the
model-owned presentation (docs/extending.md, sections 9-16)."""

from __future__ import annotations

import json
import shutil
import textwrap
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from checker.cli import main
from checker.lang.model import Model, ModelError, Params, Var, action, bool_var, int_var
from checker.lang.rcu import RcuModel
from checker.lang.spec import invariant
from checker.lang.split import part, split_step
from checker.lang.view import StateView
from checker.outputs.chart import sequence_chart
from checker.runs.catalog import load_revision
from checker.runs.environments import ENVIRONMENTS, environments_of
from checker.runs.revision_diff import diff_revisions
from checker.runs.userfiles import guarded, load_revision_file
from checker.semantics.states import expand, initial_state, property_view
from checker.traces.trace import build_trace

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/ in a fresh working folder (relative paths as the docs use)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def reachable(model: Model, compiled: bool) -> list[tuple[Any, ...]]:
    """Every reachable state (small models only)."""
    start = initial_state(model)
    seen = {start}
    queue = deque([start])
    while queue:
        for _, nxt in expand(model, queue.popleft(), compiled=compiled).successors:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return list(seen)


UAF = ["--spec", "examples/uaf_spec.py", "--property", "no-ubufs-use-after-free",
       "--ring-size", "1", "--pictures", "none", "-q"]
UAF_TUN = [*UAF, "--lower-device", "tun"]
"""The use after free needs a lower device that frees the skb inside a failing sendmsg
(with macvtap, the default, it cannot happen: docs/model.md)."""


# -- 1. split steps ----------------------------------------------------------------

def test_split_callback_violates_through_its_new_step(
    examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["check", "--revision", "examples/split_callback.py", *UAF_TUN, "--json"],
                       capsys)
    doc = json.loads(out)
    assert code == 1
    (prop,) = doc["properties"]
    assert (prop["status"], prop["length"]) == ("violated", 25)
    steps = json.loads((examples / prop["trace"]["itf"]).read_text())["states"]
    actions = [s.get("#meta", {}).get("action", "") for s in steps]
    text = (examples / prop["trace"]["text"]).read_text()
    assert "dev_complete(k=0, c=0)" in text and "dev_complete_put(c=0)" in text, actions


def test_split_reuses_the_base_body_and_adds_context_variables() -> None:
    cls = load_revision_file(str(ROOT / "examples" / "split_callback.py"))
    model = cls({"ring_size": 1})
    names = [spec.name for spec in model.action_specs]
    assert names.count("dev_complete") == 1 and "dev_complete_put" in names
    assert {"dev_complete_pc", "dev_complete_ubufs", "dev_complete_when"} <= set(model.var_index)
    assert [i.label for i in model.instances if i.name == "dev_complete_put"] == [
        "dev_complete_put(c=0)", "dev_complete_put(c=1)"]
    # compiled and interpreted expansions agree on the first states
    state = initial_state(model)
    for _ in range(6):
        a = expand(model, state, compiled=True).successors
        b = expand(model, state, compiled=False).successors
        assert [(i.label, s) for i, s in a] == [(i.label, s) for i, s in b]
        state = a[0][1]


def test_split_of_a_plain_function_is_refused() -> None:
    def not_a_step(self: Any, s: StateView) -> None:
        pass

    with pytest.raises(ModelError, match="is not a step"):
        split_step(not_a_step, parts=[part("x", "f", "code", lambda m, s, c: None)])


# -- 2. fairness of new steps ----------------------------------------------------------

def test_new_step_without_fairness_is_refused(
    examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["check", "--revision", "examples/unfair_step.py", "--ring-size", "1"],
                         capsys)
    assert code == 2 and out == ""
    assert err.strip() == (
        "vhostmc: error: examples/unfair_step.py:22: new step dev_stall of actor device, which "
        "the base model treats fairly, says nothing about fairness; declare fairness=\"weak\" "
        "(or \"strong\") in its @action, or fairness=None if it may be postponed for ever")


def test_declared_fairness_joins_the_model_fairness(tmp_path: Path) -> None:
    path = tmp_path / "fair_stall.py"
    path.write_text((ROOT / "examples" / "unfair_step.py").read_text().replace(
        "adds=True)", "adds=True, fairness=None)"))
    model = load_revision_file(str(path))({"ring_size": 1})
    assert not any("dev_stall" in f.describe() for f in model.fairness())
    split = load_revision_file(str(ROOT / "examples" / "split_callback.py"))({"ring_size": 1})
    texts = [f.describe() for f in split.fairness()]
    assert any(t.startswith("weak fairness on dev_complete_put (each instance)") for t in texts)
    assert "examples/split_callback.py" in next(t for t in texts if "dev_complete_put" in t)


def test_a_new_step_an_actor_wide_constraint_covers_needs_no_declaration() -> None:
    model = load_revision("v3.1")({"ring_size": 1})  # set_backend_signal_used: control, adds
    assert "set_backend_signal_used" in model.new_steps()


# -- 3. RCU ------------------------------------------------------------------------------

class Publish(RcuModel):
    """A reader dereferences a pointer in a read-side section; the updater unpublishes
    it and frees it after synchronize_rcu (or, in the variants, too early / by kfree_rcu)."""

    name = "publish"
    actors = ("reader", "updater")
    mode = "synchronize"
    rcu_callbacks = ("free_it",)

    def declare(self, p: Params) -> Sequence[Var]:
        return [bool_var("published"), bool_var("freed"), int_var("r_pc", 0, 1),
                bool_var("r_has"), int_var("u_pc", 0, 2), bool_var("uaf")]

    def init(self, s: StateView) -> None:
        s.published = True

    @action("reader", "reader", "rcu_read_lock(); p = rcu_dereference(gp);")
    def r_lock(self, s: StateView) -> None:
        s.require(s.r_pc == 0)
        self.rcu_read_lock(s, 0)
        s.r_has = s.published
        s.r_pc = 1

    @action("reader", "reader", "if (p) use(p); rcu_read_unlock();")
    def r_use(self, s: StateView) -> None:
        s.require(s.r_pc == 1)
        s.uaf = s.any(s.uaf, s.all(s.r_has, s.freed))
        self.rcu_read_unlock(s, 0)
        s.r_pc = 0
        s.r_has = False

    @action("updater", "updater", "rcu_assign_pointer(gp, NULL); synchronize_rcu() begins")
    def u_unpublish(self, s: StateView) -> None:
        s.require(s.u_pc == 0)
        s.published = False
        if self.mode == "kfree_rcu":
            self.call_rcu(s, "free_it", 0)
            s.u_pc = 2
        else:
            self.synchronize_rcu_start(s)
            s.u_pc = 1

    @action("updater", "updater", "synchronize_rcu() returns; kfree(p);")
    def u_free(self, s: StateView) -> None:
        s.require(s.u_pc == 1)
        if self.mode == "synchronize":
            s.require(self.rcu_synchronized(s))
        s.freed = True
        self.synchronize_rcu_done(s)
        s.u_pc = 2

    def free_it(self, s: StateView, arg: Any, when: Any) -> None:
        s.freed = s.any(s.freed, when)


class EarlyFree(Publish):
    mode = "no-wait"


class DeferredFree(Publish):
    mode = "kfree_rcu"


@pytest.mark.parametrize("compiled", [True, False])
def test_rcu_grace_periods_protect_readers(compiled: bool) -> None:
    uaf = Publish().var_index["uaf"]
    for cls, unsafe in ((Publish, False), (EarlyFree, True), (DeferredFree, False)):
        states = reachable(cls(), compiled)
        assert any(s[uaf] for s in states) is unsafe, cls.__name__
    # synchronize_rcu waits only for sections that began before it: a reader that
    # locks after the unpublish does not hold up the free
    model = Publish()
    s0 = initial_state(model)
    by = {i.label: i for i in model.instances}
    from checker.semantics.states import fire
    s1 = fire(model, by["u_unpublish"], s0)
    s2 = fire(model, by["r_lock"], s1)
    assert fire(model, by["u_free"], s2) is not None
    s1 = fire(model, by["r_lock"], s0)
    s2 = fire(model, by["u_unpublish"], s1)
    assert fire(model, by["u_free"], s2) is None
    assert fire(model, by["u_free"], fire(model, by["r_use"], s2)) is not None
    assert "rcu" in Publish.actors


def test_rcu_fix_verdicts_at_ring_1(examples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bound = ["--release", "no", "--max-depth", "26", "--json"]
    code, out, _ = run(["check", "--revision", "v9", *UAF_TUN, *bound], capsys)
    assert code == 1 and json.loads(out)["properties"][0]["length"] == 24
    code, out, _ = run(["check", "--revision", "examples/rcu_fix.py", *UAF_TUN, *bound], capsys)
    prop = json.loads(out)["properties"][0]
    assert code == 3 and prop["status"] == "inconclusive"
    code, out, _ = run(["check", "--revision", "examples/rcu_fix.py", "--ring-size", "1",
                        "--max-backend-changes", "0", "--send-failures", "0", "--property",
                        "memory-safe", "--pictures", "none", "-q", "--json"], capsys)
    assert code == 0 and json.loads(out)["complete"] is True


# -- 4. assumptions --------------------------------------------------------------------

def test_assumption_restricts_steps_and_is_listed(
    examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["check", "--revision", "examples/assume_rev.py", *UAF, "--release",
                          "no", "--max-depth", "18", "--json"], capsys)
    doc = json.loads(out)
    assert code == 3 and doc["properties"][0]["status"] == "inconclusive"
    assert doc["assumptions"] == [
        ("sendmsg-fails-before-handoff: sendmsg returns an error only before it hands the skb "
         "to the lower device (restricts tx_sendmsg_err)")]
    assert "environment assumptions (runs are restricted to these):" in err
    code, out, _ = run(["list", "--revision", "examples/assume_rev.py"], capsys)
    assert "Environment assumptions of early-send-failures:" in out


def test_v9_declares_no_assumption(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(["check", "--ring-size", "1", "--property", "no-stuck-waiter", "-q",
                        "--pictures", "none", "--out", str(tmp_path), "--json"], capsys)
    assert code == 1 and json.loads(out)["assumptions"] == []


# -- 5. stacked revision files ------------------------------------------------------------

def test_extends_loads_the_base_file_once_and_diff_shows_only_changes(
    examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = load_revision_file("examples/rcu_fix.py")
    top = load_revision_file("examples/rcu_release.py")
    assert top.__mro__[1] is base
    diff = diff_revisions(base({"ring_size": 1}), top({"ring_size": 1}))
    assert [(d.name, d.kind) for d in diff.steps] == [("cleanup_signal_used", "changed"),
                                                      ("cleanup_finish", "changed")]
    assert diff.helpers == [] and diff.variables == []
    code, out, _ = run(["diff-revisions", "examples/rcu_fix.py", "examples/rcu_release.py",
                        "--steps-only"], capsys)
    assert code == 0 and "Steps that differ (2):" in out and "Helper methods that differ (0):" in out


def test_a_base_imported_by_hand_shows_no_false_differences(
    examples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (examples / "examples" / "by_hand.py").write_text(textwrap.dedent("""
        import importlib.util, pathlib
        _spec = importlib.util.spec_from_file_location(
            "copy_of_rcu_fix", pathlib.Path(__file__).parent / "rcu_fix.py")
        _mod = importlib.util.module_from_spec(_spec)
        _spec.loader.exec_module(_mod)


        class Same(_mod.RcuFix):
            name = "same"
    """))
    code, out, _ = run(["diff-revisions", "examples/rcu_fix.py", "examples/by_hand.py",
                        "--steps-only"], capsys)
    assert code == 0
    assert "Steps that differ (0):" in out and "Helper methods that differ (0):" in out


def test_extends_cycle_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for me, other in (("a", "b"), ("b", "a")):
        (tmp_path / f"{me}.py").write_text(
            f"from checker.lang.revision import extends\nBase = extends('{other}.py')\n"
            f"class {me.upper()}(Base):\n    name = '{me}'\n")
    code, _, err = run(["check", "--revision", str(tmp_path / "a.py"), "--ring-size", "1"],
                       capsys)
    assert code == 2 and "revision files extend each other in a cycle" in err


# -- 6. revision parameters on the CLI ------------------------------------------------------

def test_revision_parameter_is_an_option(examples: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", "--revision", "examples/split_callback.py", "--callback-cpus",
                        "1", *UAF_TUN, "--json"], capsys)
    doc = json.loads(out)
    assert code == 1 and doc["params"]["callback_cpus"] == 1
    model = load_revision_file("examples/split_callback.py")({"ring_size": 1,
                                                              "callback_cpus": 1})
    assert model.vars[model.var_index["dev_complete_pc"]].size == 1
    code, out, _ = run(["check", "--revision", "examples/split_callback.py", "--help"], capsys)
    assert code == 0 and "--callback-cpus N" in out
    code, out, _ = run(["list", "--revision", "examples/split_callback.py"], capsys)
    assert code == 0 and "--callback-cpus" in out
    code, _, err = run(["check", "--callback-cpus", "1", "--ring-size", "1"], capsys)
    assert code == 2 and "No such option '--callback-cpus'" in err
    code, _, err = run(["check", "--revision", "examples/split_callback.py", "--callback-cpus",
                        "0", "--ring-size", "1"], capsys)
    assert code == 2 and "--callback-cpus must be at least 1, not 0" in err


def test_plain_help_still_works(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", "--help"], capsys)
    assert code == 0 and "--ring-size N" in out and "--callback-cpus" not in out


# -- 7. properties and layouts -----------------------------------------------------------

def test_property_reads_the_model_query(tmp_path: Path) -> None:
    path = tmp_path / "other_layout.py"
    path.write_text(textwrap.dedent("""
        from models.v9 import V9


        class OtherLayout(V9):
            name = "other-layout"

            def skb_object(self, s, k):
                raise LookupError("asked the model")
    """))
    model = load_revision_file(str(path))({"ring_size": 1})
    from specs.zerocopy import no_stuck_waiter

    prop = guarded(no_stuck_waiter, model)
    view = property_view(model, initial_state(model), set())
    with pytest.raises(ModelError, match="property 'no-stuck-waiter' raised LookupError: "
                                          "asked the model"):
        prop.predicate(view)


def test_property_that_cannot_evaluate_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "slot_spec.py"
    path.write_text(textwrap.dedent("""
        from checker.lang.spec import invariant


        @invariant("by-slot", "reads ubuf_info[] at upend_idx")
        def by_slot(s):
            return s.ubuf_arg[s.upend] >= 0
    """).lstrip("\n"))
    code, _, err = run(["check", "--spec", str(path), "--property", "by-slot", "--ring-size", "1",
                        "--max-backend-changes", "0", "--release", "no", "--send-failures", "0",
                        "-q", "--pictures", "none", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"vhostmc: error: {path}:6: property 'by-slot' raised IndexError")


def test_explanation_that_raises_names_property_and_revision() -> None:
    def bad(s: StateView) -> str:
        return str(s.rc[99])

    @invariant("explained", "always false", bad)
    def explained(s: StateView) -> Any:
        return s.mem_err < 0

    model = load_revision("v9")({"ring_size": 1})
    prop = guarded(explained, model)
    view = property_view(model, initial_state(model), set())
    with pytest.raises(ModelError) as err:
        prop.describe_violation(view)
    assert "the explanation of property 'explained' cannot be evaluated on revision v9" in str(
        err.value)
    assert f"{__file__}:" in str(err.value)


# -- 8. presentation and environments belong to the model ------------------------------------

V9_NAMES = ("skb_cnt", "heads_len", "cb_wake", "vq_ubufs", "c_pc", "w_pc", "models.v9")


@pytest.mark.parametrize("rel", ["outputs/chart.py", "outputs/graphs.py",
                                 "runs/environments.py", "runs/catalog.py", "cli/app.py",
                                 "cli/listing.py"])
def test_checker_names_no_v9_variable(rel: str) -> None:
    text = (ROOT / "checker" / rel).read_text()
    assert not [n for n in V9_NAMES if n in text]


def test_generic_model_gets_generic_presentation() -> None:
    from checker.semantics.states import fire

    model = Publish()
    assert [e.name for e in model.environments] == ["default"]
    s0 = initial_state(model)
    path = []
    state = s0
    for label in ("u_unpublish", "r_lock"):
        inst = model.instance(label)
        state = fire(model, inst, state)
        path.append((inst, state))
    chart = sequence_chart(model, build_trace(model, "p", s0, path))
    assert [row.arrows for row in chart.rows] == [(), ()]
    assert chart.lanes == ("reader", "updater", "rcu") and chart.lane_titles == {}
    assert any(c.startswith("published: true -> false") for c in chart.rows[0].changes)


def test_v9_environments_come_from_the_model() -> None:
    assert list(ENVIRONMENTS)[:2] == ["default", "datapath"]
    assert environments_of("v3.1") == ENVIRONMENTS
    v9 = load_revision("v9")
    assert v9.presentation.lane_titles["worker"] == "worker (handle_tx)"
    assert "skb_cnt" in v9.presentation.key_variables
