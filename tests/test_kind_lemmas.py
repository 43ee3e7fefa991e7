"""k-induction with user lemmas: the data path's ring-generic invariant
(specs/datapath_invariant.py), the step case one action at a time
(checker/engines/symbolic/localstep.py), its counterexamples and its written invariant."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import z3

from checker.cli import main
from checker.engines.symbolic import recheck
from checker.engines.symbolic.kinduction import run_kind
from checker.engines.symbolic.localstep import broken_step, conjuncts
from checker.engines.symbolic.unroll import StepTemplate
from checker.engines.symbolic.validity import type_ranges
from checker.lang.model import Model
from checker.runs.catalog import select_properties
from checker.semantics.states import enabled_actors, fire, holds
from models.v3_1 import V3_1

SPEC = "specs/datapath_invariant.py"
LEMMAS = ["dp-environment", "dp-worker", "dp-heads", "dp-window", "dp-skbs"]
DATA_PATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
DATA_PATH_FLAGS = ["--revision", "v3.1", "--max-backend-changes", "0", "--release", "no",
                   "--send-failures", "0"]

# a query thread of the per-instance step case must never die with an exception
pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnhandledThreadExceptionWarning")


def data_path(ring: int) -> Model:
    return V3_1({"ring_size": ring, **DATA_PATH})


def props(*names: str) -> list:
    return select_properties(list(names), [SPEC])


def test_the_lemmas_prove_both_properties_at_ring_sizes_1_and_2() -> None:
    for ring in (1, 2):
        run = run_kind(data_path(ring), props("no-double-use", "memory-safe"), max_k=1,
                       strengthening=props(*LEMMAS))
        assert [(r.name, r.status, r.k) for r in run.properties] == [
            ("no-double-use", "holds", 1), ("memory-safe", "holds", 1)]
        assert run.complete
        text = run.properties[1].evidence["invariant.txt"]  # one step case for both
        assert "no-double-use  (a property proved with it)" in text


def test_without_a_lemma_the_step_case_names_what_breaks_and_the_cti_is_concrete() -> None:
    model = data_path(2)
    lemmas = props(*[name for name in LEMMAS if name != "dp-skbs"])
    run = run_kind(model, props("no-double-use"), max_k=1, strengthening=lemmas)
    res = run.properties[0]
    assert res.status == "inconclusive"
    # the first instance in the model's order that breaks the invariant; which state the
    # solver picks (and so which lemmas it breaks) may vary with Z3's term order
    found = re.search(r"step case fails: (.*) breaks after dev_complete\(k=0\) ", res.reason or "")
    assert found is not None, res.reason
    assert res.cti is not None and len(res.cti) == 2 and res.cti_actions == ["dev_complete(k=0)"]
    text = res.evidence["cti.txt"]  # program counters and other enumerated ints are named
    assert re.search(r"^  w_pc = \d+ \([a-z-]+\)$", text, re.MULTILINE), text
    assert re.search(r"^  heads_len = \[\d \((clear|done|in-flight)\), ", text, re.MULTILINE), text
    # the pair replays: the first state satisfies every lemma, its step breaks the named ones
    first = tuple(tuple(v) if isinstance(v, list) else v for v in res.cti[0].values())
    [inst] = [i for i in model.instances if i.label == res.cti_actions[0]]
    after = fire(model, inst, first)
    assert after is not None and list(res.cti[1].values()) == [
        list(v) if isinstance(v, tuple) else v for v in after]
    assert all(holds(p, model, first, enabled_actors(model, first)) for p in lemmas)
    broken = [p.name for p in props("no-double-use", *[p.name for p in lemmas])
              if not holds(p, model, after, enabled_actors(model, after))]
    assert broken and ", ".join(broken) == found.group(1)


def test_the_cli_writes_the_invariant_with_each_lemma_and_where_it_is_declared(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "proof"
    args = ["check", "--engine", "kind", *DATA_PATH_FLAGS, "--ring-size", "2", "--spec", SPEC,
            "--property", "no-double-use", "--depth", "1", "--out", str(out),
            "--strengthen", ",".join(LEMMAS[:2]), "--strengthen", ",".join(LEMMAS[2:])]
    with pytest.raises(SystemExit) as exc:
        main(args)
    output = capsys.readouterr().out
    assert exc.value.code == 0, output
    assert "no-double-use  HOLDS" in output
    text = (out / "no-double-use.invariant.txt").read_text()
    lines = text.splitlines()
    assert lines[0] == "# Invariant proving no-double-use on revision v3.1"
    assert "k-induction at k = 1" in lines[2]
    for name in LEMMAS:
        [line] = [ln for ln in lines if ln.startswith(f"{name}  (")]
        # the spec's path as it was first loaded in this process: relative or absolute
        assert re.search(rf"\((\S*/)?{re.escape(SPEC)}:\d+\)", line), line
    assert lines[-1].startswith("safe: ")
    doc = json.loads((out / "result.json").read_text())
    assert doc["settings"]["strengthen"] == LEMMAS
    [entry] = doc["properties"]
    assert entry["evidence"]["invariant.txt"].endswith("no-double-use.invariant.txt")


def _invariant_terms(model: Model, names: list[str]) -> tuple[StepTemplate, list[z3.BoolRef]]:
    t = StepTemplate(model, True)
    return t, [t.holds(p) for p in props("no-double-use", "memory-safe", *names)] + [t.safe]


@pytest.mark.parametrize("names, closed", [(LEMMAS, True), (LEMMAS[:3], False)])
def test_one_query_per_instance_agrees_with_the_recheck_over_the_whole_step(
        names: list[str], closed: bool) -> None:
    model = data_path(1)
    t, terms = _invariant_terms(model, names)
    found = broken_step(t, terms)
    assert recheck.consecution(t, z3.And(*terms)) is closed
    assert (found is None) is closed
    if found is not None:  # a real step of the model from a state satisfying every term
        after = fire(model, found.instance, found.before)
        assert after is not None


def test_conjuncts_opens_nested_ands_and_drops_true() -> None:
    a, b, c = z3.Bools("a b c")
    parts = conjuncts([z3.And(a, z3.And(b, z3.BoolVal(True))), c])
    assert [str(p) for p in parts] == ["a", "b", "c"]


def test_a_long_step_case_reports_progress_with_the_instances_being_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.engines.symbolic import localstep

    monkeypatch.setattr(localstep, "PROGRESS_EVERY", 0.05)
    model = data_path(2)
    t, terms = _invariant_terms(model, LEMMAS)
    seen: list[tuple[int, int, list[str]]] = []
    assert broken_step(t, terms, None, lambda *report: seen.append(report)) is None
    labels = {inst.label for inst in model.instances}
    assert seen and all(done < total for done, total, _ in seen)
    assert all(busy and set(busy) <= labels for _, _, busy in seen)


@pytest.mark.parametrize("ring", [1, 2])
@pytest.mark.parametrize("lemma", ["dp-heads", "dp-window"])
def test_the_pairwise_lemmas_mean_what_the_counted_ones_meant(ring: int, lemma: str) -> None:
    """"No two places hold one head, and each head is in one" is "each head is in
    exactly one place" (and the same for skbs and slots): in every typed state the two
    texts agree, so rewriting the counts as pairs changed no statement."""
    t = StepTemplate(data_path(ring), True)
    pairs, counts = select_properties([lemma, f"{lemma}-counted"],
                                      [SPEC, "bench/counted_lemmas.py"])
    solver = z3.SolverFor("QF_FD")
    solver.add(*type_ranges(t), t.holds(pairs) != t.holds(counts))
    assert solver.check() == z3.unsat
    solver = z3.SolverFor("QF_FD")  # and neither is trivially true or false
    solver.add(*type_ranges(t), t.holds(pairs))
    assert solver.check() == z3.sat
    solver = z3.SolverFor("QF_FD")
    solver.add(*type_ranges(t), z3.Not(t.holds(pairs)))
    assert solver.check() == z3.sat
