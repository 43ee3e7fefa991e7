"""``--engine inductive``: the grounded, per-action step case behind the CLI.

Verdicts against what the other engines say of the same invariant (kind proves the
data path with these lemmas at ring 1 and 2: tests/test_quantified.py), the
counterexample to induction when a lemma is left out, the initial state, and the
kernel's constants accepted with the time limit honoured."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import z3

from checker.cli import main
from checker.engines.symbolic import goalcases, groundstep, slices
from checker.engines.symbolic.goalcases import goal_cases, indexed, weakened
from checker.engines.symbolic.groundstep import GroundedStep
from checker.engines.symbolic.instantiate import ground
from checker.runs.catalog import select_properties
from checker.semantics.states import initial_state
from models.v3_1 import V3_1

ROOT = Path(__file__).resolve().parent.parent
SPECS = ["--spec", str(ROOT / "specs" / "datapath_invariant.py"),
         "--spec", str(ROOT / "specs" / "datapath_quantified.py")]
DATAPATH = ["--engine", "inductive", "--revision", "v3.1", "--max-backend-changes", "0",
            "--release", "no", "--send-failures", "0", "--signal-loop", "iteration", *SPECS]
LEMMAS = ["dp-environment", "dp-worker", "dp-skbs", "dp-count", "q-places", "q-distinct",
          "q-window"]
PARAMS = {"max_backend_changes": 0, "release": "no", "send_failures": 0,
          "signal_loop": "iteration"}


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def strengthen(*lemmas: str) -> list[str]:
    return ["--strengthen", ",".join(lemmas)]


def test_the_data_path_invariant_is_inductive_at_ring_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "check", *DATAPATH, "--ring-size", "1", "--property",
                       "no-double-use,memory-safe", *strengthen(*LEMMAS), "--out", str(tmp_path))
    assert code == 0, out
    assert "no-double-use  HOLDS" in out and "memory-safe    HOLDS" in out
    assert re.search(r"inductive: step case finished, \d+ solver queries", out)
    text = (tmp_path / "no-double-use.invariant.txt").read_text()
    assert "q-window  (" in text and "safe: no step hits a model capacity" in text
    assert "# re-checked on the flat encoding by fresh solvers" in text
    assert re.search(r"^#   guest_post\(h, large\): \d+, 0, ", text, re.MULTILINE)  # all heads
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["engine"] == "inductive" and doc["complete"] is True


def test_without_q_window_the_device_completion_breaks_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lemma that says each skb's slot is in flight is what keeps dev_complete safe."""
    code, out, _ = cli(capsys, "check", *DATAPATH, "--ring-size", "1", "--property",
                       "no-double-use,memory-safe", *strengthen(*LEMMAS[:-1]),
                       "--out", str(tmp_path))
    assert code == 3, out
    # which skb completes is the solver's choice
    assert re.search(r"memory-safe    INCONCLUSIVE  \(step case fails: dev_complete\(k=[01]\) "
                     "breaks memory-safe, dp-environment from a state where the invariant "
                     "held", out)
    assert "counterexample to induction in memory-safe.cti.txt" in out
    cti = (tmp_path / "memory-safe.cti.txt").read_text()
    assert cti.startswith("# counterexample to induction for memory-safe: from states where "
                          "the invariant holds, dev_complete(k=")
    assert re.search(r"^step: dev_complete\(k=[01]\)$", cti, re.MULTILINE)
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["bounds_hit"] == ["counterexample to induction"]


def busy_spec(tmp_path: Path) -> Path:
    """A spec whose one invariant, ``busy``, is false in the initial state."""
    spec = tmp_path / "busy.py"
    spec.write_text("from checker.lang.spec import invariant\n\n\n"
                    "@invariant('busy', 'the used ring is never empty')\n"
                    "def busy(s):\n    return s.used_cnt > 0\n")
    return spec


def test_a_property_false_initially_is_violated_with_a_trace_of_no_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = busy_spec(tmp_path)
    code, out, _ = cli(capsys, "check", "--engine", "inductive", "--ring-size", "1",
                       "--spec", str(spec), "--property", "busy,memory-safe",
                       "--out", str(tmp_path / "out"), "--pictures", "none")
    assert code == 1, out
    assert "busy         VIOLATED  (0 steps)" in out
    assert "memory-safe  INCONCLUSIVE" in out  # v9's memory-safe is no invariant alone


def test_a_lemma_false_initially_supports_no_proof(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = busy_spec(tmp_path)
    code, out, _ = cli(capsys, "check", *DATAPATH, "--ring-size", "1", "--spec", str(spec),
                       "--property", "memory-safe", *strengthen("busy"), "--out", str(tmp_path))
    assert code == 3, out
    assert ("memory-safe  INCONCLUSIVE  (strengthening invariant busy is false in the "
            "initial state: it cannot support a proof)") in out


def test_liveness_is_left_to_other_engines(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", *DATAPATH, "--ring-size", "1", "--property",
                       "no-double-use,no-leak", *strengthen(*LEMMAS),
                       "--out", str(tmp_path))
    assert code == 3, out
    assert "no-double-use  HOLDS" in out
    assert ("no-leak        INCONCLUSIVE  (the inductive engine checks invariants only; "
            "use --engine explicit or bmc)") in out


def test_the_kernels_constants_are_accepted_and_the_time_limit_honoured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "check", *DATAPATH, "--ring-size", "256", "--uio-maxiov", "1024",
                       "--max-pend", "128", "--property", "no-double-use",
                       *strengthen(*LEMMAS), "--time-limit", "15", "--out", str(tmp_path))
    assert code == 3, out
    assert "ring_size=256, uio_maxiov=1024, max_pend=128" in out
    assert "no-double-use  INCONCLUSIVE" in out
    assert "actions not asked (time limit 15s)" in out
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["bounds_hit"][0] == "time limit 15s"
    assert doc["stats"]["seconds"] < 60


def test_a_query_limit_leaves_actions_open_and_names_them_readably(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With each query capped at a millisecond, actions are left open (which ones varies
    with the machine's speed), each named with its conjunct and the cap, and the run
    goes on to ask every action: inconclusive, exit 3, nothing unasked."""
    code, out, _ = cli(capsys, "check", *DATAPATH, "--ring-size", "1", "--property",
                       "no-double-use", *strengthen(*LEMMAS), "--query-limit", "0.001",
                       "--out", str(tmp_path))
    assert code == 3, out
    assert "no-double-use  INCONCLUSIVE  (the step case is open for " in out
    assert "Z3 answered unknown after 0.001s" in out and "not asked" not in out
    assert "Store(" not in out  # a split case is named, not printed as a Z3 term
    doc = json.loads((tmp_path / "result.json").read_text())
    assert doc["settings"]["query_limit"] == 0.001
    assert doc["bounds_hit"][0].startswith("step case open: ")


def test_a_split_on_a_long_store_position_is_named_by_its_array() -> None:
    """The position the cleanup's used-ring signal stores at is a page of Z3 text; the
    case is named by the array instead.  The guest's reclaim keeps its short term."""
    step = data_path_step(1)
    groups = {groundstep.action_name(g): g for g in step.t.groups}
    cleanup = groundstep._stored_at(groups["cleanup_signal_used"], [v.name for v in step.model.vars])
    reclaim = groundstep._stored_at(groups["guest_reclaim"], [v.name for v in step.model.vars])
    assert cleanup is not None and cleanup[0] == "the position used is stored at"
    assert cleanup[2] == [0, 1]
    assert reclaim is not None and reclaim[0] == "Extract(0, 0, used@cur[0])"


def test_the_depth_option_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "check", *DATAPATH, "--ring-size", "1", "--depth", "2",
                         "--out", str(tmp_path / "out"))
    assert code == 2 and out == ""
    assert err.startswith("vhostmc: error: --depth applies to --engine bmc or kind or pdr")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_every_action_closes_at_ring_2() -> None:
    """As kind's flat step case proves it at ring 2 (tests/test_quantified.py)."""
    outcomes, cti = data_path_step(2).check()
    assert cti is None
    assert [o.action for o in outcomes if o.answer != "closed"] == []
    assert len(outcomes) == 47
    # the data path disables the backend change and the release: such an action is
    # closed by one query (it fires from no state satisfying the invariant)
    by_name = {o.action: o for o in outcomes}
    never = {a for a, o in by_name.items() if o.why == "never enabled where the invariant holds"}
    assert {"set_backend_signal_used", "cleanup_signal_used"} <= never
    assert by_name["set_backend_signal_used"].queries == 1
    assert "tx_lock" not in never and by_name["tx_lock"].queries > 1


def data_path_step(ring: int) -> GroundedStep:
    names = [(ROOT / "specs" / "datapath_invariant.py",
              ["no-double-use", "memory-safe", *LEMMAS[:4]]),
             (ROOT / "specs" / "datapath_quantified.py", LEMMAS[4:])]
    props = [p for spec, wanted in names for p in select_properties(wanted, [str(spec)])]
    return GroundedStep(V3_1({"ring_size": ring, **PARAMS}), props)


def post_queries_then_split_at_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The queries that close the guest's post at ring 2, with the default
    ``SPLIT_AFTER`` and then with none (every first try given up at once)."""
    counts = []
    for split_after in (groundstep.SPLIT_AFTER, 0.0):
        monkeypatch.setattr(groundstep, "SPLIT_AFTER", split_after)
        step = data_path_step(2)
        step.t.groups = [g for g in step.t.groups
                         if groundstep.action_name(g) == "guest_post(h, large)"]
        outcomes, cti = step.check()
        assert cti is None and [o.answer for o in outcomes] == ["closed"]
        counts.append(outcomes[0].queries)
    return counts


def test_a_query_still_open_is_asked_per_value_of_the_widest_argument(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no time before the split (and no slice of the premise to settle it first),
    each of the guest's post's queries becomes one failed try and one query per head
    (ring 2: h = 0, 1), and the action still closes."""
    monkeypatch.setattr(GroundedStep, "closed_on_slice", lambda *_: (False, 0))
    counts = post_queries_then_split_at_once(monkeypatch)
    assert counts[1] == 3 * counts[0] > 0


def test_an_action_without_arguments_is_split_per_position_it_stores_at(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When a query of the guest's reclaim (no argument) stays open on its short try
    and again with all its time, it is asked once per value of the position it stores
    at (``g_owned[used[0]]``, two at ring 2), which closes it: four queries a part."""
    monkeypatch.setattr(GroundedStep, "closed_on_slice", lambda *_: (False, 0))
    monkeypatch.setattr(groundstep, "SPLIT_AFTER", 0.0)
    real = groundstep.solve

    def whole_query_open(solver: z3.Solver, left: float | None,
                         *assumptions: z3.BoolRef) -> z3.ModelRef | None:
        if len(assumptions) == 1:  # the conjunct's literal alone: no case assumed
            raise groundstep.SolverGaveUp("time limit")
        return real(solver, left, *assumptions)

    monkeypatch.setattr(groundstep, "solve", whole_query_open)
    step = data_path_step(2)
    step.query_limit = 30.0  # a cap: its time-out leaves the query open, not the run
    step.t.groups = [g for g in step.t.groups if groundstep.action_name(g) == "guest_reclaim"]
    outcomes, cti = step.check()
    assert cti is None and [o.answer for o in outcomes] == ["closed"]
    assert outcomes[0].queries > 0 and outcomes[0].queries % 4 == 0


def test_a_query_still_open_is_first_asked_on_its_slice_of_the_premise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With no time before the split, each of the guest's post's queries is one failed
    try and then up to four on slices of the premise (two slices, each grounded once
    and then deeper), which close it at ring 2: no query is split per head."""
    sizes: list[int] = []
    sliced = GroundedStep.closed_on_slice

    def counted(self: GroundedStep, *args: object) -> tuple[bool, int]:
        closed, asked = sliced(self, *args)  # type: ignore[arg-type]
        sizes.append(asked)
        return closed, asked

    monkeypatch.setattr(GroundedStep, "closed_on_slice", counted)
    counts = post_queries_then_split_at_once(monkeypatch)
    assert len(sizes) == counts[0] > 0  # one slice per part, each closing it: no split
    assert all(1 <= asked <= 4 for asked in sizes)
    assert counts[1] == counts[0] + sum(sizes)


def test_a_query_the_array_solver_gives_up_is_asked_of_the_default_solver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With an array solver that answers unknown at once, every query of the guest's
    post is asked twice, and the default solver closes the action."""
    monkeypatch.setattr(groundstep, "new_array_solver", lambda: z3.Tactic("fail").solver())
    monkeypatch.setattr(GroundedStep, "closed_on_slice", lambda *_: (False, 0))
    step = data_path_step(2)
    step.t.groups = [g for g in step.t.groups
                     if groundstep.action_name(g) == "guest_post(h, large)"]
    outcomes, cti = step.check()
    assert cti is None and [o.answer for o in outcomes] == ["closed"]
    assert outcomes[0].queries % 2 == 0 and outcomes[0].queries >= 4


def test_a_slice_the_array_solver_gives_up_is_asked_of_the_default_solver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With an array solver that answers unknown at once, each part the guest's post
    changes is still closed on its slice, by Z3's default solver: two queries per
    slice level tried.  With the default solver failing too, no slice closes it: all
    eight are asked (two slices, two levels, two solvers), then its first case (or
    the goal whole) on a grown slice, at one level and two levels deep, two solvers
    each, and it stays open."""
    monkeypatch.setattr(slices, "new_array_solver", lambda: z3.Tactic("fail").solver())
    step = data_path_step(2)
    post = next(g for g in step.t.groups if groundstep.action_name(g) == "guest_post(h, large)")
    goals = [z3.Not(groundstep.ground(part, [], asserted=False)[0])
             for _, part in step.changed(post)]
    assert len(goals) >= 3
    answers = [step.closed_on_slice(post, goal, None) for goal in goals]
    assert all(closed and asked % 2 == 0 for closed, asked in answers), answers
    monkeypatch.setattr(groundstep.z3, "Solver", lambda: z3.Tactic("fail").solver())
    assert step.closed_on_slice(post, goals[0], None) == (False, 8 + 4)


def test_the_device_completion_closes_at_ring_4_with_few_positions() -> None:
    """The shift of the device's skbs is one ``Lambda`` (``s.delete_at``), and a candidate
    that breaks a lemma is first asked again with the instances grounded one level deeper
    (at the indices the instances themselves read, ``skb_slot[k]``): the completion then
    closes after adding at most five positions.  Grounded at the query's indices only, the
    refinement added 15 of the 16 ``heads[]`` slots one round at a time."""
    step = data_path_step(4)
    step.t.groups = [g for g in step.t.groups if groundstep.action_name(g) == "dev_complete(k)"]
    outcomes, cti = step.check()
    assert cti is None and [o.answer for o in outcomes] == ["closed"]
    assert outcomes[0].positions <= 5


def test_the_last_skbs_distance_after_a_completion_needs_the_named_pair() -> None:
    """After the device completes skb ``k``, q-window's "the last skb is at least
    ``skb_cnt - 1`` slots past the first" reads ``skb_slot[0]`` and ``skb_slot[1]``;
    its proof is the order of the pair (1, last), so the slice's pairs are instantiated
    at the numerals the query names: it closes in one query.  Without them every
    candidate is judged true on the full invariant and the slice stays open."""
    step = data_path_step(4)
    g = next(g for g in step.t.groups if groundstep.action_name(g) == "dev_complete(k)")
    part = next(part for name, part in step.changed(g)
                if name == "q-window" and not z3.is_quantifier(part))
    goal = z3.Not(ground(part, [], asserted=False)[0])
    query = [g.domain(), g.ex.enabled, goal]
    assert sorted(x.as_long() for x in step.named_numerals(query)["skb_slot@cur"]) == [0, 1]
    assert step.closed_on_grown_slice(g, goal, None) == (True, 1)
    step.named_numerals = lambda query: {}  # type: ignore[method-assign]
    assert step.closed_on_grown_slice(g, goal, None)[0] is False


def test_false_conjuncts_names_the_conjuncts_a_state_breaks() -> None:
    """The initial state breaks no conjunct of the data path's invariant; with a
    no-double-use error recorded it breaks exactly the property's conjunct, and
    false_parts names it."""
    step = data_path_step(1)
    init = initial_state(step.model)
    assert step.false_conjuncts(init) == (set(), set())
    at = [v.name for v in step.model.vars].index("use_err")
    broken, _ = step.false_conjuncts((*init[:at], 1, *init[at + 1:]))
    assert [step.parts[i][0] for i in broken] == ["no-double-use"]
    assert step.false_parts((*init[:at], 1, *init[at + 1:]))[0] == ["no-double-use"]


def _signal_used_goal(step: GroundedStep, negated: bool = True) -> tuple[Any, z3.BoolRef]:
    """tx_signal_used's group and its no-double-use goal (the conjunct's negation after
    the step; with ``negated=False`` the conjunct itself, which states can satisfy)."""
    g = next(g for g in step.t.groups if groundstep.action_name(g) == "tx_signal_used")
    part = next(part for name, part in step.changed(g) if name == "no-double-use")
    after = ground(part, [], asserted=False)[0]
    return g, z3.Not(after) if negated else after


def test_no_double_use_after_the_used_ring_signal_closes_case_by_case() -> None:
    """Four cases (used ring full, DMA pending at one skb index, head not
    outstanding, error already recorded), each closed on a grown slice; the conjunct
    itself, which holds in some states, does not close."""
    step = data_path_step(2)
    g, goal = _signal_used_goal(step)
    closed, asked = step.closed_by_cases(g, goal, None)
    assert closed and asked >= 4
    g, satisfiable = _signal_used_goal(step, negated=False)
    assert step.closed_by_cases(g, satisfiable, None)[0] is False


def _record_grown_slices(step: GroundedStep, monkeypatch: pytest.MonkeyPatch,
                         ) -> list[z3.BoolRef]:
    """The goals ``step`` asks on grown slices from now on (the list fills as it does)."""
    asked: list[z3.BoolRef] = []
    grow = step.closed_on_grown_slice

    def recorded(g: Any, goal: z3.BoolRef, deadline: float | None) -> tuple[bool, int]:
        asked.append(goal)
        return grow(g, goal, deadline)

    monkeypatch.setattr(step, "closed_on_grown_slice", recorded)
    return asked


def test_a_goal_no_slice_closes_is_closed_by_its_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no premise slice to ask, the conjunct still closes, by its four cases,
    each asked once on a grown slice."""
    step = data_path_step(2)
    g, goal = _signal_used_goal(step)
    monkeypatch.setattr(step, "slices", lambda query: [])
    asked = _record_grown_slices(step, monkeypatch)
    assert step.closed_on_slice(g, goal, None)[0] is True
    assert len(asked) == 4


def test_a_goal_with_no_cases_is_asked_whole_on_a_grown_slice(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A conjunct that compares no written value (here, as if no-double-use had no
    cases) is asked once, whole, on a slice grown from candidates, and closes."""
    step = data_path_step(2)
    g, goal = _signal_used_goal(step)
    monkeypatch.setattr(goalcases, "goal_cases", lambda goal: [])
    asked = _record_grown_slices(step, monkeypatch)
    assert step.closed_by_cases(g, goal, None)[0] is True
    assert len(asked) == 1


def test_a_growing_slice_reports_each_query_and_ends_deep_or_unsat() -> None:
    """The skb case at one index, at ring 2: every query is reported; the slice only
    grows, and the last answer is unsat."""
    step = data_path_step(2)
    g, goal = _signal_used_goal(step)
    skb_case = next(c for c in goal_cases(goal) if indexed(weakened(c)) is not None)
    rows: list[tuple[int, int, bool, str, str, float]] = []
    closed, asked = step.closed_on_grown_slice(g, indexed(weakened(skb_case)), None,
                                               lambda *row: rows.append(row))
    assert closed and asked == len(rows) > 1
    assert [r[1] for r in rows] == sorted(r[1] for r in rows)
    assert rows[-1][4] == "unsat" and all(r[4] == "sat" for r in rows[:-1])
