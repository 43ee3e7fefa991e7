"""Descriptor symmetry (--symmetry): declaration, generated representative, Z3 proof,
reduced runs with the same verdicts and shortest traces, fallback when asymmetric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shared_checks import cli

from checker.engines.symbolic.symproof import prove_symmetry
from checker.engines.symmetry import decide
from checker.lang.model import ModelError
from checker.lang.symmetry import declared_symmetry, generators, permutations, permute
from checker.lang.view import StateView
from checker.runs.catalog import select_properties
from checker.runs.check import CheckRequest, run_check
from checker.runs.environments import ENVIRONMENTS
from checker.semantics.canon import canonicalizer
from checker.semantics.states import expand, initial_state
from checker.semantics.symcanon import representative
from models.v3_1 import V3_1
from models.v9 import V9

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
SAFETY = ("no-double-use", "memory-safe", "no-stuck-waiter", "no-quiescent-leak")

PREFER_HEAD_0 = '''
from checker.lang.model import action
from models.v9 import V9
from models.v9.guest import GUEST_DRIVER
from models.v9.state import GUEST


class PreferHead0(V9):
    """A guest driver that always posts descriptor 0 first while it owns it."""

    name = "prefer0"

    @action(GUEST, GUEST_DRIVER, "add descriptor `h` to the avail ring (head 0 first)",
            over=lambda p: {"h": range(p.ring_size), "large": (0, 1)})
    def guest_post(self, s, h, large):
        s.require(s.g_owned[h])
        if h != 0:
            s.require(s.neg(s.g_owned[0]))
        s.g_owned[h] = False
        self._post(s, h, large)
'''

HEAD_0_SPEC = '''
from checker.lang.spec import invariant


@invariant("head0-fetched-once", "descriptor 0 is never held by vhost twice at once")
def head0_fetched_once(s):
    return s.inflight[0] < 2
'''


@pytest.fixture(autouse=True)
def proof_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One proof cache for this module's tests, not the user's."""
    folder = tmp_path_factory.getbasetemp() / "symmetry-cache"
    monkeypatch.setenv("VHOSTMC_CACHE", str(folder))
    return folder




def check(revision: str, params: dict[str, Any], out: Path, symmetry: bool,
          properties: tuple[str, ...] = SAFETY, specs: tuple[str, ...] = ()) -> dict[str, Any]:
    return run_check(CheckRequest(revision, params, properties=properties, specs=specs,
                                  out_dir=out, formats=("itf",), symmetry=symmetry)).doc


def verdicts(doc: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    return [(p["name"], p["status"], p["length"]) for p in doc["properties"]]


# -- declaration and renaming ------------------------------------------------------------
def test_v9_declares_descriptor_symmetry_and_v3_1_inherits_it() -> None:
    for model in (V9({"ring_size": 3}), V3_1({"ring_size": 3})):
        decl = declared_symmetry(model)
        assert decl is not None and decl.count == 3
        assert [v.var for v in decl.values] == ["avail", "used", "heads_id", "w_head", "skb_head"]
        assert decl.indexed == ("g_owned", "desc_len", "ubuf_arg", "ubuf_desc", "inflight")
        assert decl.action_args["guest_post"] == ("h",)


def test_generators_and_permutations() -> None:
    assert generators(3) == [(1, 0, 2), (0, 2, 1)]
    assert len(permutations(4)) == 23


def test_an_indexed_array_of_the_wrong_size_is_refused() -> None:
    model = V9({"ring_size": 2, **DATAPATH, "uio_maxiov": 1})  # ubuf_info[] has 1 entry
    with pytest.raises(ModelError, match="'ubuf_arg' has 1 elements, not one per id"):
        declared_symmetry(model)


def test_renaming_a_reached_state_moves_heads_and_keeps_the_rogue_sentinel() -> None:
    model = V9({"ring_size": 2, **DATAPATH, "guest": "rogue"})
    decl = declared_symmetry(model)
    assert decl is not None
    state = initial_state(model)
    for label in ("guest_post(h=0, large=1)", "guest_kick"):
        state = next(nxt for inst, nxt in expand(model, state).successors if inst.label == label)
    view = StateView(model, state)
    permute(model, decl, view, (1, 0))
    renamed = dict(zip((v.name for v in model.vars), view.values()))
    assert renamed["g_owned"] == (True, False)
    assert renamed["desc_len"] == (0, 1)
    assert renamed["avail"][0] == 1
    sentinel = StateView(model, state)
    sentinel.avail = (2, 0)  # the rogue guest's "any head >= num"
    permute(model, decl, sentinel, (1, 0))
    assert sentinel.avail[0] == 2


def test_the_representative_is_the_same_for_renamed_states() -> None:
    model = V3_1({"ring_size": 3, **DATAPATH})
    decl = declared_symmetry(model)
    assert decl is not None
    rep = representative(model, decl, True)
    canon = canonicalizer(model)
    state = initial_state(model)
    seen = 0
    for _ in range(12):  # a few steps of a run, renamed every way
        for perm in permutations(3):
            view = StateView(model, state)
            permute(model, decl, view, perm)
            assert rep(view.values()) == rep(state)
            assert rep(canon(view.values())) == rep(state)
            seen += 1
        state = expand(model, state).successors[-1][1]
    assert seen == 12 * 5


# -- the proof -----------------------------------------------------------------------------
@pytest.mark.parametrize("model", [V9, V3_1])
def test_the_proof_passes_at_ring_2(model: type[V9]) -> None:
    m = model({"ring_size": 2, **DATAPATH})
    decl = declared_symmetry(m)
    assert decl is not None
    result = prove_symmetry(m, decl, select_properties(SAFETY), with_canon=True)
    assert result.passed, result.failures
    assert result.queries == len(m.instances) + len(SAFETY) + 3  # live, assumptions, canon


def test_a_guest_preferring_head_0_fails_the_proof_and_the_run_falls_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rev = tmp_path / "prefer0.py"
    rev.write_text(PREFER_HEAD_0)
    out = tmp_path / "out"
    code, text, err = cli(capsys, "check", "--revision", str(rev), "--ring-size", "2",
                          "--max-backend-changes", "0", "--release", "no", "--send-failures",
                          "0", "--property", "no-double-use", "--property", "memory-safe",
                          "--symmetry", "-q", "--pictures", "none", "--out", str(out))
    assert code == 0
    assert ("vhostmc: symmetry reduction off for prefer0: the proof failed for action "
            "guest_post(h=0, large=0) (renaming (0 1) gives guest_post(h=1, large=0)): "
            "enabledness") in err
    assert "symmetry reduction: off (the proof failed for action guest_post" in text
    doc = json.loads((out / "result.json").read_text())
    assert doc["symmetry"]["on"] is False
    plain = check(str(rev), {"ring_size": 2, **DATAPATH}, tmp_path / "plain", False,
                  ("no-double-use", "memory-safe"))
    assert doc["stats"]["states"] == plain["stats"]["states"]


@pytest.mark.slow
def test_a_property_naming_descriptor_0_fails_the_proof(tmp_path: Path) -> None:
    spec = tmp_path / "head0.py"
    spec.write_text(HEAD_0_SPEC)
    doc = check("v9", {"ring_size": 2, **DATAPATH}, tmp_path / "o", True,
                ("head0-fetched-once", "memory-safe"), (str(spec),))
    assert doc["symmetry"]["on"] is False
    assert doc["symmetry"]["why"].startswith(
        "the proof failed for property head0-fetched-once (renaming (0 1))")


def test_liveness_properties_are_refused() -> None:
    model = V9({"ring_size": 2, **DATAPATH})
    sym = decide(model, select_properties(["no-leak"]), True, None)
    assert sym.rep is None
    assert sym.info["why"] == ("liveness properties (no-leak) need fairness tracked through "
                               "the renamings")


def test_off_by_default_and_the_proof_is_cached(proof_cache: Path) -> None:
    model = V9({"ring_size": 2, **DATAPATH})
    props = select_properties(("memory-safe",))
    assert decide(model, props, False, None).info == {
        "on": False, "why": "not asked for (--symmetry)"}
    first = decide(model, props, True, None)
    again = decide(V9({"ring_size": 2, **DATAPATH}), props, True, None)
    assert first.rep is not None and again.rep is not None
    assert first.info["proof"]["cached"] is False
    assert again.info["proof"]["cached"] is True
    assert any(proof_cache.joinpath("symmetry").iterdir())


def test_symmetry_is_refused_for_an_engine_without_states(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = cli(capsys, "check", "--engine", "bmc", "--symmetry", "--ring-size", "1",
                       "--out", str(tmp_path))
    assert code == 2
    assert "--symmetry applies to --engine explicit" in err


# -- reduced runs -----------------------------------------------------------------------------
RING_2_COUNTS = {
    ("v9", "datapath"): (53415, 105531),
    ("v3.1", "datapath"): (55083, 108835),
}
"""(symmetric, plain) state counts at ring 2, the four safety properties (dead values reset)."""


@pytest.mark.parametrize(("revision", "env"), [
    pytest.param(*key, marks=pytest.mark.slow) if key[0] == "v9" else key
    for key in RING_2_COUNTS])
def test_ring_2_same_verdicts_and_trace_lengths_and_traces_replay(
        revision: str, env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = {"ring_size": 2, **ENVIRONMENTS[env].switches}
    sym = check(revision, params, tmp_path / "s", True)
    plain = check(revision, params, tmp_path / "p", False)
    assert sym["symmetry"]["on"] is True
    assert sym["symmetry"]["renamings"] == 2
    assert verdicts(sym) == verdicts(plain)
    assert ("no-quiescent-leak", "violated", 14) in verdicts(sym)
    assert (sym["stats"]["states"], plain["stats"]["states"]) == RING_2_COUNTS[revision, env]
    trace = tmp_path / "s" / f"{revision}-n2-no-quiescent-leak.itf.json"
    code, out, _ = cli(capsys, "replay", str(trace))
    assert code == 0, out
    assert "OK: 14 steps replay" in out


RING_1_ENVS = ["datapath", "release", "rogue", "bigring",
               pytest.param("default", marks=pytest.mark.slow),
               pytest.param("sendfail", marks=pytest.mark.slow),
               pytest.param("backend", marks=pytest.mark.slow)]


@pytest.mark.parametrize("revision", ["v9", "v3.1"])
@pytest.mark.parametrize("env", RING_1_ENVS)
def test_ring_1_same_verdicts_and_counts(revision: str, env: str, tmp_path: Path) -> None:
    """One descriptor: no renaming but the identity, so the run equals the plain one."""
    params = {"ring_size": 1, **ENVIRONMENTS[env].switches}
    sym = check(revision, params, tmp_path / "s", True)
    plain = check(revision, params, tmp_path / "p", False)
    assert sym["symmetry"]["on"] is True
    assert sym["symmetry"]["renamings"] == 1
    assert verdicts(sym) == verdicts(plain)
    assert sym["stats"]["states"] == plain["stats"]["states"]


@pytest.mark.slow
@pytest.mark.parametrize(("revision", "env"), [
    ("v9", "rogue"), ("v3.1", "rogue"), ("v9", "release"), ("v3.1", "release"),
    ("v9", "sendfail"), ("v3.1", "sendfail")])
def test_ring_2_other_environments_agree(revision: str, env: str, tmp_path: Path) -> None:
    params = {"ring_size": 2, **ENVIRONMENTS[env].switches}
    sym = check(revision, params, tmp_path / "s", True)
    plain = check(revision, params, tmp_path / "p", False)
    assert sym["symmetry"]["on"] is True
    assert verdicts(sym) == verdicts(plain)
    assert sym["stats"]["states"] < plain["stats"]["states"]


def test_bigring_at_ring_2_falls_back_with_the_reason(tmp_path: Path) -> None:
    params = {"ring_size": 2, **ENVIRONMENTS["bigring"].switches}
    sym = check("v9", params, tmp_path / "s", True)
    plain = check("v9", params, tmp_path / "p", False)
    assert sym["symmetry"]["on"] is False
    assert "'ubuf_arg' has 1 elements, not one per id (2)" in sym["symmetry"]["why"]
    assert verdicts(sym) == verdicts(plain)
    assert sym["stats"]["states"] == plain["stats"]["states"]


def test_dump_graph_turns_symmetry_off(tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "check", "--ring-size", "1", "--max-backend-changes", "0",
                         "--release", "no", "--send-failures", "0", "--property", "memory-safe",
                         "--symmetry", "--dump-graph", "--pictures", "none", "-q",
                         "--out", str(tmp_path))
    assert code == 0
    assert "symmetry reduction: off (--dump-graph writes the model's own state graph" in out
    assert "vhostmc: symmetry reduction off: --dump-graph" in err
