"""Dead-value reduction: declarations, generated canon, the Z3 proof, reduced runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from shared_checks import cli

from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.reduction import decide
from checker.engines.symbolic.deadproof import prove
from checker.lang.dead import dead_when
from checker.lang.model import ModelError
from checker.lang.spec import Property
from checker.runs.catalog import load_revision, select_properties
from checker.runs.check import CheckRequest, run_check
from checker.runs.environments import ENVIRONMENTS
from checker.semantics.canon import canon_source, canonicalizer, interpreted_canon
from checker.semantics.deadvalues import checked_declarations
from models.v3_1 import V3_1
from models.v9 import V9

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
SAFETY = ("no-double-use", "memory-safe")

PEEK_REVISION = '''
from checker.lang.model import action
from models.v9 import V9
from models.v9.constants import VHOST_DMA_DONE_LEN, W_GET, W_SIGNAL
from models.v9.state import WORKER


class Peek(V9):
    """Reads vq->heads[] one slot beyond upend_idx, which v9 declares dead."""

    name = "peek"

    @action(WORKER, "handle_tx", "if (zcopy) vhost_zerocopy_signal_used(vq); "
            "/* and stall while heads[upend_idx + 1] looks done */")
    def tx_signal_used(self, s):
        s.require(s.w_pc == W_SIGNAL)
        s.require(s.heads_len[(s.upend + 1) % self.p.uio_maxiov] != VHOST_DMA_DONE_LEN)
        self.zerocopy_signal_used(s, s.w_zcopy)
        s.w_pc = W_GET
'''


@pytest.fixture(autouse=True)
def proof_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One proof cache for this module's tests, not the user's."""
    folder = tmp_path_factory.getbasetemp() / "reduction-cache"
    monkeypatch.setenv("VHOSTMC_CACHE", str(folder))
    return folder




def check(revision: str, params: dict[str, Any], out: Path, reduction: bool,
          properties: tuple[str, ...] = ()) -> dict[str, Any]:
    return run_check(CheckRequest(revision, params, properties=properties, out_dir=out,
                                  formats=("itf",), reduction=reduction)).doc


def verdicts(doc: dict[str, Any]) -> list[tuple[str, str, int | None, int | None]]:
    return [(p["name"], p["status"], p["length"], p["loop"]) for p in doc["properties"]]


# -- declarations and canon ----------------------------------------------------------
def test_v9_declares_the_dead_values_and_v3_1_inherits_them() -> None:
    names = [d.var for d, _, _ in checked_declarations(V9({"ring_size": 2}))]
    assert names == ["heads_id", "heads_len", "ubuf_arg", "ubuf_desc", "avail", "desc_len",
                     "w_head", "w_len", "w_sock", "w_wlow", "w_wfull", "w_ubufs"]
    assert [d.var for d, _, _ in checked_declarations(V3_1({"ring_size": 2}))] == names


def test_a_declaration_of_an_unknown_variable_is_refused() -> None:
    class Bad(V9):
        def dead_values(self) -> list[Any]:
            return [dead_when("no_such_var", lambda s: True)]

    with pytest.raises(ModelError, match="no state variable 'no_such_var'"):
        checked_declarations(Bad({"ring_size": 1}))


def test_canon_is_straight_line_code_that_agrees_with_the_interpreter() -> None:
    model = V3_1({"ring_size": 2, **DATAPATH})
    source = canon_source(model)
    assert source.startswith("def canon(v):") and "for " not in source and "while " not in source
    canon = canonicalizer(model)
    result = ExplicitChecker(model, select_properties(SAFETY, ()), record_graph=True,
                             limits=Limits(max_states=3000)).run()
    assert result.graph is not None
    for state in result.graph.states:
        reduced = canon(state)
        assert reduced == interpreted_canon(model, state)
        assert canon(reduced) == reduced


# -- the proof ---------------------------------------------------------------------------
@pytest.mark.parametrize("model", [V9, V3_1])
def test_the_proof_passes_at_ring_1(model: type[V9]) -> None:
    result = prove(model({"ring_size": 1}), select_properties((), ()))
    assert result.passed, [f.what for f in result.failures]
    assert len(result.assumptions) == 5


@pytest.mark.slow
@pytest.mark.parametrize("model", [V9, V3_1])
def test_the_proof_passes_at_ring_2(model: type[V9]) -> None:
    result = prove(model({"ring_size": 2}), select_properties((), ()))
    assert result.passed, [f.what for f in result.failures]


def test_a_revision_reading_a_dead_value_fails_the_proof_and_runs_unreduced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rev = tmp_path / "peek.py"
    rev.write_text(PEEK_REVISION)
    model = load_revision(str(rev))({"ring_size": 1, **DATAPATH})
    result = prove(model, select_properties(SAFETY, ()))
    assert not result.passed
    assert [f.what for f in result.failures] == ["action tx_signal_used"]
    assert "enabled in" in result.failures[0].reason
    out = tmp_path / "out"
    code, _, err = cli(capsys, "check", "--revision", str(rev), "--ring-size", "1",
                       "--max-backend-changes", "0", "--release", "no", "--send-failures", "0",
                       "--property", "no-double-use", "--property", "memory-safe", "-q",
                       "--pictures", "none", "--out", str(out))
    assert code == 0
    assert ("vhostmc: dead-value reduction off for peek: the proof failed for action "
            "tx_signal_used: enabled in") in err
    doc = json.loads((out / "result.json").read_text())
    assert doc["reduction"]["on"] is False
    assert doc["reduction"]["why"].startswith("the proof failed for action tx_signal_used")
    unreduced = check(str(rev), {"ring_size": 1, **DATAPATH}, tmp_path / "full", False, SAFETY)
    assert doc["stats"]["states"] == unreduced["stats"]["states"]


def test_the_proof_is_cached(proof_cache: Path) -> None:
    model = V9({"ring_size": 1, **DATAPATH})
    props = select_properties(SAFETY, ())
    first = decide(model, props)
    again = decide(V9({"ring_size": 1, **DATAPATH}), props)
    assert first.canon is not None and again.canon is not None
    assert again.info["proof"]["cached"] is True
    assert again.info["proof"]["passed"] is True
    assert any(proof_cache.joinpath("reduction").iterdir())


# -- reduced runs ------------------------------------------------------------------------
def test_no_reduction_gives_the_full_count(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "check", "--ring-size", "1", "--max-backend-changes", "0",
                       "--release", "no", "--send-failures", "0", "--no-reduction", "-q",
                       "--pictures", "none", "--out", str(tmp_path))
    assert code == 1
    assert "explored 11083 states" in out
    assert "dead-value reduction: off (--no-reduction)" in out


def test_v9_datapath_ring_1_reduced_and_full_agree(tmp_path: Path) -> None:
    reduced = check("v9", {"ring_size": 1, **DATAPATH}, tmp_path / "r", True)
    full = check("v9", {"ring_size": 1, **DATAPATH}, tmp_path / "f", False)
    assert (reduced["stats"]["states"], full["stats"]["states"]) == (3499, 11083)
    assert verdicts(reduced) == verdicts(full)
    assert [v[2] for v in verdicts(reduced)] == [None, None, None, 47, 47, None]
    assert reduced["reduction"]["on"] is True
    assert reduced["reduction"]["proof"]["passed"] is True


def test_reduced_traces_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check("v9", {"ring_size": 1, **DATAPATH}, tmp_path, True)
    for name in ("no-quiescent-leak", "no-leak"):
        trace = tmp_path / f"v9-n1-{name}.itf.json"
        assert json.loads(trace.read_text())["#meta"]["reduced"] is True
        code, out, _ = cli(capsys, "replay", str(trace))
        assert code == 0, out
        assert "canonical states" in out


def test_v3_1_datapath_ring_1_holds_with_fewer_states(tmp_path: Path) -> None:
    reduced = check("v3.1", {"ring_size": 1, **DATAPATH}, tmp_path / "r", True, SAFETY)
    full = check("v3.1", {"ring_size": 1, **DATAPATH}, tmp_path / "f", False, SAFETY)
    assert (reduced["stats"]["states"], full["stats"]["states"]) == (3599, 12419)
    assert verdicts(reduced) == verdicts(full)
    assert {v[1] for v in verdicts(reduced)} == {"holds"}


RING_1_COUNTS = {
    ("v9", "datapath"): (3499, 11083),
    ("v9", "sendfail"): (51503, 103866),
    ("v9", "backend"): (53656, 222523),
    ("v9", "release"): (9257, 30491),
    ("v9", "rogue"): (40302, 102182),
    ("v9", "bigring"): (159, 193),
    ("v3.1", "default"): (19831, 20208),
    ("v3.1", "sendfail"): (71403, 200839),
    ("v3.1", "backend"): (216747, 902695),
    ("v3.1", "release"): (9815, 35907),
    ("v3.1", "rogue"): (40979, 113815),
    ("v3.1", "bigring"): (159, 193),
}
"""(reduced, full) state counts at ring 1, every property, per revision and environment."""


@pytest.mark.slow
@pytest.mark.parametrize(("revision", "env"), list(RING_1_COUNTS))
def test_every_environment_gives_the_same_verdicts_reduced(
    revision: str, env: str, tmp_path: Path
) -> None:
    params = {"ring_size": 1, **ENVIRONMENTS[env].switches}
    reduced = check(revision, params, tmp_path / "r", True)
    full = check(revision, params, tmp_path / "f", False)
    assert reduced["reduction"]["on"] is True
    assert verdicts(reduced) == verdicts(full)
    assert (reduced["stats"]["states"], full["stats"]["states"]) == RING_1_COUNTS[revision, env]


def test_a_property_z3_cannot_evaluate_turns_the_reduction_off() -> None:
    branchy = Property("branchy", "branches in Python on a state value",
                       lambda s: True if s.use_err == 0 else False)  # noqa: SIM210
    reduction = decide(V9({"ring_size": 1, **DATAPATH}), [branchy])
    assert reduction.canon is None
    assert reduction.warning is not None
    assert "the proof failed for property branchy: cannot be evaluated on Z3 terms (SymbolicBranch" in (
        reduction.warning)


def test_no_reduction_is_refused_for_an_engine_without_states(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = cli(capsys, "check", "--engine", "bmc", "--no-reduction", "--ring-size", "1",
                       "--out", str(tmp_path))
    assert code == 2
    assert "--no-reduction applies to --engine explicit" in err


def test_an_interrupt_or_the_time_limit_cuts_the_proof_and_nothing_is_cached(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    monkeypatch.setenv("VHOSTMC_CACHE", str(tmp_path / "fresh"))
    model = V9({"ring_size": 1})
    props = select_properties(["memory-safe"])
    stopped = decide(model, props, stop=lambda: "SIGINT")
    assert stopped.canon is None
    assert stopped.info == {"on": False,
                            "why": "the proof was cut by interrupted (SIGINT)"}
    late = decide(model, props, deadline=time.monotonic() - 1)
    assert late.info["why"] == "the proof was cut by the time limit"
    assert not (tmp_path / "fresh" / "reduction").exists() or not any(
        (tmp_path / "fresh" / "reduction").iterdir())


def test_proof_key_covers_what_the_proof_runs_and_nothing_else() -> None:
    from checker.engines.reduction import _REPO, proof_key, proof_sources
    from checker.runs.catalog import load_revision, select_properties

    sources = {str(p.relative_to(_REPO)) for p in proof_sources() if p.is_relative_to(_REPO)}
    assert {"models/v9/dead.py", "specs/zerocopy.py", "checker/lang/dead.py",
            "checker/engines/symbolic/deadproof.py", "checker/engines/reduction.py",
            "checker/engines/symmetry.py"} <= sources
    assert not any(s.startswith(("checker/cli/", "checker/outputs/", "checker/runs/"))
                   for s in sources)
    assert not {"checker/engines/symbolic/pdr.py", "checker/engines/symbolic/mining.py",
                "checker/engines/symbolic/bmc.py", "checker/engines/explicit/search.py"} & sources
    v9 = load_revision("v9")
    props = select_properties(["no-double-use"])
    one = proof_key(v9({"ring_size": 1}), props)
    assert one == proof_key(v9({"ring_size": 1}), props)
    assert one != proof_key(v9({"ring_size": 2}), props)
    assert one != proof_key(v9({"ring_size": 1}), select_properties(["memory-safe"]))


def test_import_closure_follows_imports_inside_functions_and_nothing_else(
        tmp_path: Path) -> None:
    from checker.engines.imports import import_closure

    package = tmp_path / "checker"
    (package / "sub").mkdir(parents=True)
    for name, text in {"__init__.py": "", "sub/__init__.py": "",
                       "a.py": "import os\ndef f():\n    from checker.sub import (\n"
                               "        other,  # a name, not a module\n        b,\n    )\n",
                       "sub/b.py": "import checker.c as c\n",
                       "c.py": "thing = 1\n", "unused.py": ""}.items():
        (package / name).write_text(text)
    found = [p.relative_to(tmp_path).as_posix() for p in import_closure(tmp_path, ["checker.a"])]
    assert found == ["checker/__init__.py", "checker/a.py", "checker/c.py",
                     "checker/sub/__init__.py", "checker/sub/b.py"]


def test_proof_key_keeps_the_text_the_process_first_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.engines import reduction
    from checker.runs.catalog import load_revision, select_properties

    source = tmp_path / "rev.py"
    source.write_text("x = 1\n")
    monkeypatch.setattr(reduction, "proof_sources", lambda: [source])
    monkeypatch.setattr(reduction, "_read_sources", {})
    model, props = load_revision("v9")({"ring_size": 1}), select_properties(["no-double-use"])
    first = reduction.proof_key(model, props)
    source.write_text("x = 2\n")
    assert reduction.proof_key(model, props) == first
    reduction._read_sources.clear()
    assert reduction.proof_key(model, props) != first
