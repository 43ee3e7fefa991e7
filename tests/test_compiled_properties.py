"""Compiled property predicates agree with the interpreted ones, state by state.

:mod:`checker.semantics.compiledprops` turns each property (and each liveness
obligation instance) into a Python function of the state tuple and the set
of enabled actors.  On every state of complete small explorations it must
give exactly what the predicate gives on a :func:`property_view`: the same
bool for an invariant (:func:`holds_in`), the same ``(premise, goal)`` for
an obligation (:meth:`Obligation.evaluate`), and the same exception where
the interpreted predicate raises.  A predicate the tracer cannot follow is
interpreted instead, and a whole run gives the same verdicts, traces and
state counts with and without ``VHOSTMC_INTERPRET=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from checker.engines.base import Limits, RunResult
from checker.engines.explicit.liveness import Obligation, obligations
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import Model, ModelError, State
from checker.lang.spec import Property, eventually, invariant, leads_to, properties_in
from checker.lang.view import StateView
from checker.runs.catalog import load_revision
from checker.runs.userfiles import guarded, load_spec_file
from checker.semantics.compiledprops import invariant_checks, obligation_checks
from checker.semantics.states import expand, holds_in, initial_state, property_view, use_compiled
from specs import zerocopy
from tests import liveness_models as lm
from tests import reference_models as rm

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = properties_in(zerocopy)
DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}


def reachable(model: Model, limit: int | None = None) -> Iterator[tuple[State, set[str]]]:
    """Every reachable state (BFS, at most ``limit``) with its enabled actors."""
    init = initial_state(model)
    seen, queue, count = {init}, deque([init]), 0
    while queue and (limit is None or count < limit):
        state = queue.popleft()
        count += 1
        exp = expand(model, state)
        yield state, exp.enabled_actors
        for _, nxt in exp.successors:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)


def outcome(run: Callable[[], Any]) -> Any:
    """What ``run()`` returns (with its exact type), or the type and message it raises."""
    try:
        value = run()
    except Exception as err:  # noqa: BLE001 - compared between the two evaluations
        return type(err), str(err)
    return value, type(value), tuple(type(x) for x in value) if isinstance(value, tuple) else ()


def compare(model: Model, props: Sequence[Property], limit: int | None = None,
            fallbacks: Sequence[str] = ()) -> int:
    """Compare compiled and interpreted evaluation of ``props`` on every reachable
    state; the number of states.  ``fallbacks``: titles expected to be interpreted."""
    invariants = [p for p in props if not p.is_liveness]
    obls = obligations(model, props)
    inv_code = invariant_checks(model, invariants, compiled=True)
    obl_code = obligation_checks(model, [(o.prop, dict(o.args)) for o in obls], compiled=True)
    assert sorted(t for t, _ in inv_code.fallbacks + obl_code.fallbacks) == sorted(fallbacks)
    assert inv_code.source.count("def prop_") + obl_code.source.count("def prop_") == (
        len(invariants) + len(obls) - len(fallbacks))
    plain_inv = invariant_checks(model, invariants, compiled=False).checks
    plain_obl = obligation_checks(model, [(o.prop, dict(o.args)) for o in obls],
                                  compiled=False).checks
    count = 0
    for state, enabled in reachable(model, limit):
        count += 1
        for prop, fast, slow in zip(invariants, inv_code.checks, plain_inv):
            view = property_view(model, state, enabled)  # one each: a property may write it
            want = outcome(lambda: holds_in(prop, view))  # noqa: B023 - called at once
            assert outcome(lambda: fast(state, enabled)) == want, (prop.name, state)  # noqa: B023
            assert outcome(lambda: slow(state, enabled)) == want  # noqa: B023
        for obl, fast, slow in zip(obls, obl_code.checks, plain_obl):
            view = property_view(model, state, enabled)
            want = outcome(lambda: obl.evaluate(view))  # noqa: B023
            assert outcome(lambda: fast(state, enabled)) == want, (obl.title, state)  # noqa: B023
            assert outcome(lambda: slow(state, enabled)) == want  # noqa: B023
    return count


# -- the revisions, every built-in property -----------------------------------------------

REVISION_RUNS = [
    ("v9", {"ring_size": 1, **DATAPATH}, 11083),
    ("v9", {"ring_size": 1, **DATAPATH, "initial_backend": "copy"}, 467),
    ("v9", {"ring_size": 1, **DATAPATH, "uio_maxiov": 1}, 193),
    ("v3.1", {"ring_size": 1, **DATAPATH}, 12419),
    ("v3.1", {"ring_size": 1, **DATAPATH, "uio_maxiov": 1}, 193),
]


@pytest.mark.parametrize(("revision", "params", "states"), REVISION_RUNS,
                         ids=[f"{r}-{p}" for r, p, _ in REVISION_RUNS])
def test_builtin_properties_agree_on_complete_explorations(
    revision: str, params: dict[str, Any], states: int
) -> None:
    model = load_revision(revision)(params)
    assert compare(model, BUILTIN) == states


@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_builtin_properties_agree_at_ring_size_2(revision: str) -> None:
    # two instances of no-leak (h = 0, 1); the first states of the default environment
    model = load_revision(revision)({"ring_size": 2})
    assert compare(model, BUILTIN, limit=3000) == 3000


@pytest.mark.slow
@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_builtin_properties_agree_with_release(revision: str) -> None:
    model = load_revision(revision)({"ring_size": 1, "max_backend_changes": 0,
                                     "send_failures": 0})
    assert compare(model, BUILTIN) in (30491, 35907)


def test_user_spec_examples_agree() -> None:
    # as the runner checks them: wrapped by userfiles.guarded
    mine = load_spec_file(str(ROOT / "examples" / "my_spec.py"))
    guest = load_spec_file(str(ROOT / "examples" / "guest_liveness.py"))
    model = load_revision("v9")({"ring_size": 1, **DATAPATH, "initial_backend": "copy"})
    props = [guarded(p, model) for p in [*mine, *guest, *BUILTIN]]
    assert compare(model, props) == 467
    model = load_revision("v9")({"ring_size": 1, **DATAPATH})
    assert compare(model, [guarded(p, model) for p in [*mine, *guest]]) == 11083


# -- the tiny models ------------------------------------------------------------------------

TINY = [
    (rm.Counter(), [rm.x_not(2), rm.x_not_bad, rm.x_in_range, rm.counter_live, rm.reset_enabled],
     4),
    (rm.TwoSpeed(), [rm.x_not_4], 5),
    (rm.Lock({"procs": 3}), [rm.mutual_exclusion, rm.lock_consistent], 20),
    (rm.BrokenLock(), [rm.mutual_exclusion, rm.lock_consistent], None),
    (rm.Bounded(), [rm.n_nonnegative, rm.n_not_2], 4),
    (rm.Cells({"cells": 3}), [rm.not_all_two, rm.cells_in_range], 81),
    (lm.Server(), [lm.served, lm.eventually_req], 4),
]


@pytest.mark.parametrize(("model", "props", "states"), TINY, ids=[m.name for m, _, _ in TINY])
def test_tiny_models_agree(model: Model, props: list[Property], states: int | None) -> None:
    count = compare(model, props)
    assert states is None or count == states


# -- what cannot be compiled is interpreted --------------------------------------------------


@invariant("branchy", "x != 3, with a Python branch on the state")
def branchy(s: StateView) -> Any:
    if s.x > 0:  # SymbolicBranch: left to the interpreter
        return s.x != 3
    return True


@invariant("writer", "writes the state it checks (holds)")
def writer(s: StateView) -> Any:
    s.x = 0
    return s.x == 0


@invariant("requires", "calls s.require (holds where x < 3)")
def requires(s: StateView) -> Any:
    s.require(s.x < 3)
    return True


@invariant("counts", "returns an int, not a bool")
def counts(s: StateView) -> Any:
    return s.x


@invariant("maybe-int", "an int where x > 1, else a bool: not certainly a bool")
def maybe_int(s: StateView) -> Any:
    return s.ite(s.x > 1, s.x, True)


@leads_to("int-pair", "premise and goal as ints (coerced by Obligation.evaluate)")
def int_pair(s: StateView) -> Any:
    return s.x, s.ite(s.x == 0, 1, 0)


@leads_to("single", "returns one value, not a pair")
def single(s: StateView) -> Any:
    return s.x == 0


@eventually("reaches-3", "x eventually reaches 3, with a Python branch")
def reaches_3(s: StateView) -> Any:
    return s.x == 3 if s.x > 2 else False


def test_uncompilable_predicates_fall_back() -> None:
    model = rm.Counter()
    props = [branchy, writer, requires, counts, maybe_int, int_pair, single, reaches_3,
             rm.x_in_range]
    code = invariant_checks(model, [p for p in props if not p.is_liveness], compiled=True)
    reasons = dict(code.fallbacks)
    assert sorted(reasons) == ["branchy", "counts", "maybe-int", "requires", "writer"]
    assert reasons["branchy"].startswith("SymbolicBranch: model code branched")
    assert reasons["writer"] == "NotCompilable: the property writes the state variable x"
    assert "not certainly a bool" in reasons["counts"]
    live = obligation_checks(model, [(p, {}) for p in props if p.is_liveness], compiled=True)
    assert sorted(t for t, _ in live.fallbacks) == ["int-pair", "reaches-3", "single"]
    compare(model, props, fallbacks=["branchy", "counts", "maybe-int", "requires", "writer",
                                     "int-pair", "reaches-3", "single"])


def verdicts(result: RunResult) -> list[tuple[Any, ...]]:
    """Everything a run says, traces included."""
    out: list[tuple[Any, ...]] = [(result.complete, result.stats.states,
                                   result.stats.transitions, tuple(result.bounds_hit))]
    for p in result.properties:
        t = p.trace
        out.append((p.name, p.status, p.reason) if t is None else (
            p.name, p.status, len(t), t.loop, t.explanation, t.property_args,
            [s.label for s in t.steps], [s.state for s in t.steps]))
    return out


def run_both(model: Model, props: list[Property], **kw: Any) -> list[tuple[Any, ...]]:
    """The run's verdicts, asserting the interpreted engine gives the same."""
    got = verdicts(ExplicitChecker(model, props, **kw).run())
    use_compiled(model, False)
    try:
        assert verdicts(ExplicitChecker(model, props, **kw).run()) == got
    finally:
        use_compiled(model, None)
    return got


def test_fallback_verdicts_match_the_interpreter() -> None:
    model = rm.Counter()
    got = run_both(model, [branchy, writer, rm.x_not(2), reaches_3])
    assert [row[:3] for row in got[1:]] == [("branchy", "violated", 3), ("writer", "holds", None),
                                             ("x-not-2", "violated", 2),
                                             ("reaches-3", "violated", 0)]
    # reaches-3 holds once the counter is forced to move
    lm_model = lm.Server()
    lm_model.rules = (lm.WF_CLIENT,)
    assert run_both(lm_model, [lm.eventually_req])[1][:2] == ("eventually-req", "holds")


def test_non_boolean_and_raising_properties_raise_as_interpreted() -> None:
    model = rm.Counter()
    for prop in (counts, maybe_int):
        for compiled in (True, False):
            use_compiled(model, compiled)
            try:
                with pytest.raises(TypeError, match=f"property {prop.name} returned int"):
                    ExplicitChecker(model, [prop]).run()
            finally:
                use_compiled(model, None)


@invariant("peek-ahead", "the cell after the cursor is not 2 (reads past the end)")
def peek_ahead(s: StateView) -> Any:
    return s.a[s.i + 1] != 2


def test_compiled_code_that_raises_gives_the_interpreted_error() -> None:
    model = rm.Cells()  # i in 0..1: a[i + 1] is out of range when i == 1
    prop = guarded(peek_ahead, model)
    code = invariant_checks(model, [prop], compiled=True)
    assert code.fallbacks == [] and "try:" in code.source
    state = ((0, 0), 1)
    view = property_view(model, state, set())
    with pytest.raises(ModelError) as want:
        holds_in(prop, view)
    assert str(want.value).endswith(
        "property 'peek-ahead' raised IndexError: model indexed an array of 2 elements at 2")
    assert f"{__file__}:" in str(want.value)
    with pytest.raises(ModelError) as got:
        code.checks[0](state, set())
    assert str(got.value) == str(want.value)
    assert code.checks[0](((0, 2), 0), set()) is False
    compare(model, [prop])  # the exception, state by state


def test_user_property_raising_in_compiled_code_names_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from checker.cli import main

    path = tmp_path / "peek.py"
    path.write_text(textwrap.dedent("""
        from checker.lang.spec import invariant


        @invariant("peek", "reads inflight[] at the skb count: out of range once 2 skbs")
        def peek(s):
            return s.inflight[s.skb_cnt] >= 0
    """).lstrip("\n"))
    model = load_revision("v9")({"ring_size": 1, **DATAPATH})
    (prop,) = load_spec_file(str(path))
    code = invariant_checks(model, [guarded(prop, model)], compiled=True)
    assert code.fallbacks == [] and "try:" in code.source
    with pytest.raises(SystemExit) as exc:
        main(["check", "--spec", str(path), "--property", "peek", "--ring-size", "1",
              "--max-backend-changes", "0", "--release", "no", "--send-failures", "0", "-q",
              "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1
    assert err[0] == (f"vhostmc: error: {path}:6: property 'peek' raised IndexError: model "
                      "indexed an array of 1 elements at 1")


def test_interpreter_switches_turn_compilation_off() -> None:
    model = rm.Counter()
    use_compiled(model, False)
    try:
        code = invariant_checks(model, [rm.x_in_range])
    finally:
        use_compiled(model, None)
    assert code.source == "" and code.fallbacks == []
    assert "def prop_0(v, e):" in invariant_checks(model, [rm.x_in_range]).source
    script = ("from checker.semantics.compiledprops import invariant_checks; "
              "from tests.reference_models import Counter, x_in_range; "
              "print(repr(invariant_checks(Counter(), [x_in_range]).source))")
    for value, compiled in (("1", False), ("0", True)):
        env = {**os.environ, "VHOSTMC_INTERPRET": value}
        out = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True)
        assert ("def prop_0" in out.stdout) is compiled


# -- whole runs -------------------------------------------------------------------------------

WHOLE_RUN = """
import json, sys
from checker.runs.catalog import load_revision
from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.spec import properties_in
from specs import zerocopy
from tests.test_compiled_properties import verdicts
model = load_revision("v3.1")({"ring_size": 1, "lower_device": "tun"})
run = ExplicitChecker(model, properties_in(zerocopy), limits=Limits(max_states=30000)).run()
print(json.dumps(verdicts(run), default=list))
"""


def test_whole_run_is_the_same_with_and_without_the_interpreter() -> None:
    # v3.1 with tun violates all but no-double-use at ring size 1 within 30,000 states:
    # traces and lassos to compare
    runs = []
    for value in ("0", "1"):
        env = {**os.environ, "VHOSTMC_INTERPRET": value}
        out = subprocess.run([sys.executable, "-c", WHOLE_RUN], env=env, cwd=ROOT, check=True,
                             capture_output=True, text=True)
        runs.append(json.loads(out.stdout))
    assert runs[0] == runs[1]
    statuses = {row[0]: row[1] for row in runs[0][1:]}
    assert statuses == {p.name: "inconclusive" if p.name == "no-double-use" else "violated"
                        for p in BUILTIN}
    assert runs[0][0][1] == 30000


def test_explicit_checker_on_a_revision_in_process() -> None:
    model = load_revision("v9")({"ring_size": 1, **DATAPATH, "send_failures": 1})
    got = run_both(model, BUILTIN, limits=Limits(max_states=4000))
    assert got[0][1] == 4000


def test_obligation_titles_and_arguments() -> None:
    model = load_revision("v9")({"ring_size": 2})
    obls = obligations(model, BUILTIN)
    assert [o.title for o in obls] == ["no-leak(h=0)", "no-leak(h=1)", "put-and-wait-terminates"]
    code = obligation_checks(model, [(o.prop, dict(o.args)) for o in obls], compiled=True)
    state = initial_state(model)
    enabled = expand(model, state).enabled_actors
    view = property_view(model, state, enabled)
    assert [c(state, enabled) for c in code.checks] == [
        Obligation(o.prop, o.args).evaluate(view) for o in obls]
