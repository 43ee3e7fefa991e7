"""Partial-order reduction (``--por``): read/write sets, exact reduced counts on a
hand-counted model, same verdicts as the full search on v9 and v3.1, and the CLI's
refusals.  Numba compiles each configuration once (cached in $VHOSTMC_CACHE, else
~/.cache/vhostmc)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from shared_checks import cli, replays_canonically

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit.compiled import flatpor
from checker.engines.explicit.compiled.flatcanon import flat_canon_source
from checker.engines.explicit.compiled.flatcode import generate
from checker.engines.explicit.compiled.flatvalues import Evaluator, field_values, run_step
from checker.engines.explicit.compiled.layout import layout_of
from checker.engines.explicit.engine import ENGINE
from checker.lang.model import Model, Param, Params, Var, action, bool_var, int_var
from checker.lang.spec import Property, invariant
from checker.lang.view import StateView
from checker.runs.catalog import load_revision, select_properties
from checker.runs.environments import environments_of
from checker.semantics.states import fire, initial_state
from checker.traces.trace import render_text

pytest.importorskip("numba")

INVARIANTS = ("no-double-use", "memory-safe", "no-stuck-waiter", "no-quiescent-leak")


class TwoLocal(Model):
    """Two actors, each counting its own variable from 0 to N; ``flag`` is never set.

    Hand count for N = 3: the full space is every (pa, pb): 16 states, 24 transitions
    (each actor steps from 12 states).  With ``flag-clear`` (reads ``flag`` only) both
    actors' steps are invisible and independent; ``a`` is tried first, so the reduced
    search runs a to the end, then b: (0,0) (1,0) (2,0) (3,0) (3,1) (3,2) (3,3): 7 states,
    6 transitions.  With ``b-not-done`` (reads ``pb``) b's steps are visible, a's are
    not: the same 7 states, and the violation (pb = 3) is found after 6 steps, where
    the full BFS finds it after 3 (a reduced trace is not necessarily the shortest).
    """

    name = "two-local"
    description = "two actors, each counting its own variable up to N"
    parameters = (Param("n", "steps per actor", 3, minimum=1),)
    actors = ("a", "b")

    def declare(self, p: Params) -> Sequence[Var]:
        return [int_var("pa", 0, p.n, "a's counter"), int_var("pb", 0, p.n, "b's counter"),
                bool_var("flag", "never set")]

    @action("a", "a_step", "pa++;")
    def a_step(self, s: StateView) -> None:
        s.require(s.pa < self.p.n)
        s.pa = s.pa + 1

    @action("b", "b_step", "pb++;")
    def b_step(self, s: StateView) -> None:
        s.require(s.pb < self.p.n)
        s.pb = s.pb + 1


@invariant("flag-clear", "flag is never set")
def flag_clear(s: StateView) -> object:
    return s.neg(s.flag)


@invariant("b-not-done", "b never finishes", lambda s: f"pb reached {s.pb}")
def b_not_done(s: StateView) -> object:
    return s.pb != s.p.n


def run(model: Model, props: Sequence[Property], por: bool) -> RunResult:
    return ENGINE.run(EngineRequest(model, list(props), backend="compiled", por=por))


def verdicts(res: RunResult) -> list[tuple[str, str]]:
    return [(p.name, p.status) for p in res.properties]


def access(revision: str, label: str, canon: bool = False, **params: object) -> dict[str, list[str]]:
    model = load_revision(revision)({"ring_size": 1, **params})
    layout = layout_of(model)
    source = flat_canon_source(model, layout) if canon else None
    return flatpor.explain(model, layout, generate(model, layout, []), source, label)


def test_read_and_write_sets_of_v9_steps() -> None:
    kick = access("v9", "worker_run_kick")
    assert kick == {"reads": ["kick_q", "w_pc"], "writes": ["kick_q", "w_item", "w_pc"],
                    "pc": ["kick_q in [1]", "w_pc in [0]"]}
    guest_kick = access("v9", "guest_kick")
    assert guest_kick["reads"] == ["g_kick", "kick_poll", "kick_q", "no_notify"]
    assert guest_kick["writes"] == ["g_kick", "kick_q"]
    assert guest_kick["pc"] == ["g_kick in [1]"]  # require(s.g_kick): a bool guard
    # require(w_pc == W_SENDMSG and ... or w_pc == W_SEND_FAILED and ...): two pc values
    assert access("v9", "tx_sendmsg_err")["pc"] == ["w_pc in [9, 13]"]
    # a read at a computed index reads every element
    signal = access("v9", "tx_signal_used")
    assert {"heads_len[0]", "heads_len[1]", "heads_len[2]", "heads_len[3]"} <= set(
        signal["reads"])


def test_the_dead_value_canon_adds_the_values_it_may_reset() -> None:
    plain = access("v9", "worker_run_kick")
    reduced = access("v9", "worker_run_kick", canon=True)
    assert set(plain["writes"]) < set(reduced["writes"])
    assert "desc_len[0]" in reduced["writes"]  # dead once handle_tx leaves its iteration


def test_two_independent_actors_reduce_to_the_hand_counted_space() -> None:
    full = run(TwoLocal({"n": 3}), [flag_clear], por=False)
    reduced = run(TwoLocal({"n": 3}), [flag_clear], por=True)
    assert (full.stats.states, full.stats.transitions) == (16, 24)
    assert (reduced.stats.states, reduced.stats.transitions) == (7, 6)
    assert verdicts(full) == verdicts(reduced) == [("flag-clear", "holds")]
    assert reduced.por is not None and reduced.por["on"] is True
    assert reduced.por["actors"]["a"] == {"pc": "pa", "safe_at": [0, 1, 2], "unsafe_at": {}}


def test_a_reduced_violation_is_a_model_path_but_not_the_shortest() -> None:
    model = TwoLocal({"n": 3})
    full = run(model, [b_not_done], por=False)
    reduced = run(model, [b_not_done], por=True)
    assert verdicts(full) == verdicts(reduced) == [("b-not-done", "violated")]
    short, long = full.properties[0].trace, reduced.properties[0].trace
    assert short is not None and long is not None
    assert (len(short), len(long)) == (3, 6)
    assert short.shortest and not long.shortest
    assert "not necessarily the shortest" in render_text(long)
    state = initial_state(model)
    for step in long.steps:
        state = fire(model, model.instance(step.label), state)
        assert state == step.state
    assert reduced.por is not None
    assert reduced.por["actors"]["b"]["unsafe_at"]["0"] == (
        "b_step writes pb, which an invariant reads")


def por_plan(revision: str, env: str, props: Sequence[str], canon: bool) -> dict[str, object]:
    switches = environments_of(revision)[env].switches
    model = load_revision(revision)({"ring_size": 1, **switches})
    layout = layout_of(model)
    code = generate(model, layout, select_properties(props))
    source = flat_canon_source(model, layout) if canon else None
    return flatpor.plan(model, layout, code, source, len(props)).info


def test_a_step_that_only_hits_a_capacity_still_acts() -> None:
    layout = layout_of(TwoLocal({"n": 3}))
    body = ["t0 = u[0] == 1", "if not t0: return 0", "return 2", "return 0"]
    assert run_step(layout, body, [frozenset({0}), None, None]) == (False, {})
    assert run_step(layout, body, [frozenset({1}), None, None]) == (True, {})
    assert run_step(layout, body, [None, None, None]) == (True, {})


def test_an_output_of_unknown_shape_may_write_anything() -> None:
    layout = layout_of(TwoLocal({"n": 3}))
    ev = Evaluator([frozenset({0}), frozenset({0}), frozenset({0})])
    word = layout.fields[0].word
    fields = {k for k, f in enumerate(layout.fields) if f.word == word and f.width}
    assert field_values(layout, ev, f"nw[{word}] = w[{word}]", "w") == {}
    assert field_values(layout, ev, f"nw[{word}] = pack_something(u)", "w") == {
        k: None for k in fields}
    shift = layout.fields[0].shift
    keep = ((1 << 63) - 1) & ~layout.fields[0].mask
    assert field_values(layout, ev, f"nw[{word}] = (w[{word}] & {keep}) | ((u[0] + 1) << "
                        f"{shift})", "w") == {0: frozenset({1})}


def test_the_value_analysis_finds_the_steps_that_never_act() -> None:
    datapath = por_plan("v9", "datapath", ["no-double-use"], canon=False)
    default = por_plan("v9", "default", ["no-double-use"], canon=False)
    # no backend change, no release: the control thread never leaves c_pc 0
    assert {"put_and_wait_put", "cleanup_finish", "flush_done"} <= set(
        datapath["never_enabled"])  # type: ignore[arg-type]
    assert datapath["actors"]["control"] == {  # type: ignore[index]
        "pc": None, "safe": False, "why": "control has no live step"}
    assert "put_and_wait_put" not in default["never_enabled"]  # type: ignore[operator]


def test_the_worker_alone_at_pc_1_on_the_v9_data_path() -> None:
    """Without the dead-value reduction, tx_read_sock (w_pc 1) touches nothing another
    live step touches or no-double-use reads: the only safe group; 52 states fewer."""
    info = por_plan("v9", "datapath", ["no-double-use"], canon=False)
    assert info["actors"]["worker"]["safe_at"] == [1]  # type: ignore[index]
    model = load_revision("v9")({"ring_size": 1, **environments_of("v9")["datapath"].switches})
    props = select_properties(["no-double-use"])
    full = ENGINE.run(EngineRequest(model, props, backend="compiled", reduction=False))
    reduced = ENGINE.run(EngineRequest(model, props, backend="compiled", reduction=False,
                                       por=True))
    assert verdicts(full) == verdicts(reduced) == [("no-double-use", "holds")]
    assert (full.stats.states, reduced.stats.states) == (11083, 11031)


def same_verdicts(revision: str, ring: int, env: str) -> tuple[int, int]:
    """Every invariant: the same verdict with and without --por; traces replay; the
    reduced search stores at most as many states.  Returns both state counts."""
    switches = environments_of(revision)[env].switches
    props = select_properties(INVARIANTS)
    full = run(load_revision(revision)({"ring_size": ring, **switches}), props, por=False)
    model = load_revision(revision)({"ring_size": ring, **switches})
    reduced = run(model, props, por=True)
    assert reduced.stats.backend == "compiled"
    assert reduced.por is not None and reduced.por["on"] is True
    assert verdicts(reduced) == verdicts(full), (revision, env)
    assert reduced.stats.states <= full.stats.states
    replays_canonically(model, reduced)
    return full.stats.states, reduced.stats.states


@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_por_keeps_every_verdict_at_ring_1_on_the_data_path_and_with_a_rogue_guest(
    revision: str,
) -> None:
    for env in ("datapath", "rogue"):
        same_verdicts(revision, 1, env)


@pytest.mark.slow
@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_por_keeps_every_verdict_at_ring_1_in_every_environment(revision: str) -> None:
    for env in environments_of(revision):
        same_verdicts(revision, 1, env)


@pytest.mark.slow
@pytest.mark.parametrize("env", ["datapath", "default", "rogue"])
@pytest.mark.parametrize("revision", ["v9", "v3.1"])
def test_por_keeps_every_verdict_at_ring_2(revision: str, env: str) -> None:
    same_verdicts(revision, 2, env)


def test_cli_refuses_por_with_the_python_explorer(capsys: pytest.CaptureFixture[str],
                                                  tmp_path: Path) -> None:
    code, _, err = cli(capsys, "check", "--ring-size", "1", "--por", "--backend", "python",
                       "--out", str(tmp_path / "o"), "-q")
    assert code == 2
    assert err.strip().splitlines() == [
        ("vhostmc: error: --por applies to the compiled backend; use --backend compiled "
         "(or auto), or drop --por")]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("extra, words", [
    (("--workers", "2"), "--por runs on one worker"),
    (("--symmetry",), "--por and --symmetry cannot be combined"),
    (("--search", "dfs"), "--por needs --search bfs"),
    (("--engine", "bmc"), "--por applies to --engine explicit"),
])
def test_cli_refuses_por_combinations(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      extra: tuple[str, ...], words: str) -> None:
    code, _, err = cli(capsys, "check", "--ring-size", "1", "--por", *extra,
                       "--out", str(tmp_path / "o"), "-q")
    assert code == 2
    assert words in err and "Traceback" not in err


def test_cli_turns_por_off_with_a_liveness_property(capsys: pytest.CaptureFixture[str],
                                                    tmp_path: Path) -> None:
    out_dir = tmp_path / "o"
    code, out, err = cli(capsys, "check", "--ring-size", "1", "--por", "--property",
                         "no-leak", "--property", "no-double-use", "--max-backend-changes",
                         "0", "--release", "no", "--send-failures", "0",
                         "--out", str(out_dir), "-q")
    doc = json.loads((out_dir / "result.json").read_text())
    assert doc["por"] == {"on": False, "why": "it preserves invariants only, and liveness "
                          "properties are selected (no-leak)"}
    assert ("vhostmc: partial-order reduction off: it preserves invariants only, and "
            "liveness properties are selected (no-leak); exploring without it") in err
    assert "partial-order reduction: off (it preserves invariants only" in out
    assert code == doc["exit_code"]


def test_cli_names_the_reduction_in_the_result(capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    out_dir = tmp_path / "o"
    code, out, _ = cli(capsys, "check", "--ring-size", "1", "--por", "--property",
                       "no-double-use", "--max-backend-changes", "0", "--release", "no",
                       "--send-failures", "0", "--out", str(out_dir), "-q")
    doc = json.loads((out_dir / "result.json").read_text())
    assert code == 0
    assert doc["por"]["on"] is True
    assert doc["por"]["actors"]["worker"]["pc"] == "w_pc"
    assert "partial-order reduction: on (invariants only" in out
