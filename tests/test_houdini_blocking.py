"""Houdini with a complete exploration: steps from unreachable states block a region
instead of dropping facts (checker/engines/symbolic/reachable.py)."""

from __future__ import annotations

from typing import Any

import pytest
import z3

from checker.engines.symbolic import pdr
from checker.engines.symbolic.bounded import solve
from checker.engines.symbolic.houdini import houdini
from checker.engines.symbolic.mining import explore
from checker.engines.symbolic.pdr import SAFE, PdrPropertyResult, run_pdr
from checker.engines.symbolic.reachable import Reachable
from checker.engines.symbolic.unroll import StepTemplate
from tests.test_symbolic import Toggle, not_three_toggle


def _check(solver: z3.Solver, goal: z3.BoolRef) -> z3.ModelRef | None:
    return solve(solver, None, goal)


def _toggle() -> tuple[StepTemplate, Reachable, list[tuple[str, z3.BoolRef]]]:
    model = Toggle()
    t = StepTemplate(model, True, None)
    explored = explore(model, 100, None)
    assert explored.complete and len(explored.states) == 2  # x in {0, 1}
    must = [("not-three-toggle", t.holds(not_three_toggle)), (SAFE, t.safe)]
    return t, Reachable(t, explored), must


def test_the_region_of_an_unreachable_state_is_blocked_and_proves() -> None:
    # without facts, "x != 3" fails induction from the unreachable x = 2; with the
    # explored states known, x = 2 is blocked and the property is proved
    t, reachable, must = _toggle()
    plain = houdini(t, must, [], _check, None)
    assert plain.cti is not None
    found = houdini(t, must, [], _check, None, reachable=reachable)
    assert found.cti is None
    assert [c.text for c in found.kept] == ["not (x == 2)  [no explored state]"]
    assert found.rounds == 2  # one block, then the proving query


def test_a_block_needs_no_equality_an_explored_state_shares() -> None:
    _, reachable, _ = _toggle()
    assert reachable.known((0,)) and not reachable.known((2,))
    region = reachable.block((3,))
    assert region is not None and region.text == "not (x == 3)  [no explored state]"
    assert reachable.block((1,)) is None  # explored: nothing to block


def test_pdr_writes_the_blocked_regions_into_the_checked_invariant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no mined fact at all: the proof rests on the blocked region, re-checked as usual
    monkeypatch.setattr(pdr, "mine", lambda t, states: [])
    result = run_pdr(Toggle(), [not_three_toggle], max_k=1, invariant="mined")
    (res,) = result.properties
    assert res.status == "holds" and isinstance(res, PdrPropertyResult)
    lines = res.evidence["invariant.txt"].splitlines()
    assert "not (x == 2)  [no explored state]" in lines
    assert "0 of 0 candidate facts mined from 2 explicitly explored states and 1 regions" in lines[2]


def test_an_incomplete_exploration_blocks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdr, "mine", lambda t, states: [])
    result = run_pdr(Toggle(), [not_three_toggle], depth=4, mine_states=1, max_k=1)
    (res,) = result.properties
    assert res.status == "inconclusive"
    assert "not 1-inductive" in (res.reason or "")


def test_a_region_names_live_values_only_and_dead_values_keep_a_state_known() -> None:
    from checker.engines.symbolic.pdr import _class_key
    from checker.semantics.states import initial_state
    from models.v3_1 import V3_1

    model = V3_1({"ring_size": 1, "max_backend_changes": 0, "release": "no",
                  "send_failures": 0})
    key = _class_key(model)
    assert key is not None
    explored = explore(model, 200_000, None, key)
    assert explored.complete and len(explored.seen) == 3599
    reachable = Reachable(StepTemplate(model, True, None), explored)
    names = [v.name for v in model.vars]
    first = list(initial_state(model))
    # heads_len[2] is dead in the initial state: changing it keeps the class
    first[names.index("heads_len")] = (0, 0, 1, 0)
    assert reachable.known(tuple(first)) and reachable.block(tuple(first)) is None
    # no reachable class has handle_tx at pc 2: blocked by that value alone, not by the
    # dead heads_len[2]
    first[names.index("w_pc")] = 2
    assert not reachable.known(tuple(first))
    region = reachable.block(tuple(first))
    assert region is not None and region.text == "not (w_pc == 2)  [no explored state]"


def test_pdr_blocks_only_after_plain_houdini_at_k_1_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    _, reachable, _ = _toggle()
    assert pdr.houdini_plan(4, None) == [(1, None), (4, None)]
    assert pdr.houdini_plan(4, reachable) == [(1, None), (1, reachable), (4, None)]
    assert pdr.houdini_plan(1, reachable) == [(1, None), (1, reachable)]
    monkeypatch.setattr(pdr, "mine", lambda t, states: [])
    phases: list[str] = []
    result = run_pdr(Toggle(), [not_three_toggle], max_k=1, invariant="mined",
                     progress=lambda st: phases.append(st.phase))
    assert result.properties[0].status == "holds"
    # the plain run ends on the CTI 2 -> 3 in its first round; the blocking run blocks
    # x == 2 in its first round and proves in its second
    assert phases[0] == "pdr: Houdini round 1 at k = 1, blocking unreached states done, " \
        "1 candidate facts left"
    assert result.stats.transitions == 3


def test_a_state_the_canon_cannot_take_is_unknown_and_blocked_as_it_is() -> None:
    t, _, _ = _toggle()

    def canon_fails(state: Any) -> Any:
        raise IndexError("index out of range")

    explored = explore(Toggle(), 100, None)
    reachable = Reachable(t, explored)
    reachable.key = canon_fails
    assert not reachable.known((2,))
    region = reachable.block((2,))
    assert region is not None and region.text == "not (x == 2)  [no explored state]"
