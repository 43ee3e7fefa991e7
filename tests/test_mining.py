"""Candidate mining for pdr: indirection columns and class-keyed exploration."""

from __future__ import annotations

import z3

from checker.engines.symbolic.columns import base_columns, declared_ids, indirections
from checker.engines.symbolic.mining import explore, mine
from checker.engines.symbolic.pdr import _class_key
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.unroll import StepTemplate
from checker.semantics.states import initial_state
from models.v3_1 import V3_1

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}


def _datapath(ring: int) -> V3_1:
    return V3_1({**DATAPATH, "ring_size": ring})


def test_indirections_follow_skb_slots_into_heads_and_descriptors() -> None:
    model = _datapath(2)
    t = StepTemplate(model, True, None)
    states = explore(model, 3000, None)
    base = base_columns(t, states)
    made = {c.name: c for c in indirections(t, base, declared_ids(model))}
    assert {"heads_len[skb_slot[0]]", "heads_id[skb_slot[0]]", "g_owned[heads_id[skb_slot[0]]]",
            "g_owned[skb_head[0]]", "heads_len[done]"} <= set(made)
    # descriptor-indexed arrays are indexed only by what holds descriptors
    assert "g_owned[w_sock_id]" not in made and "g_owned[desc_len[0]]" not in made
    names = [name for _, name in t.scalars]
    col = made["g_owned[heads_id[skb_slot[0]]]"]
    for row, state in enumerate(states[:500]):
        flat = dict(zip(names, state))
        head = flat[f"heads_id[{flat['skb_slot[0]']}]"]
        assert col.values[row] == flat[f"g_owned[{head}]"]
        # the Z3 term means the same as the values it was mined from
        term = z3.substitute(col.term, *[(c, z3.BoolVal(bool(v)) if z3.is_bool(c)
                                          else z3.BitVecVal(v, c.size()))
                                         for c, v in zip(t.cur, state)])
        assert z3.is_true(z3.simplify(term)) == bool(col.values[row])


def test_candidates_over_indirections_are_true_in_every_mined_state() -> None:
    model = _datapath(1)
    t = StepTemplate(model, True, None)
    states = explore(model, 20_000, None)
    candidates = mine(t, states)
    assert any("[skb_slot[0]]" in c.text for c in candidates)
    assert any("#{i: heads_len[i] == 2}" in c.text for c in candidates)
    assert any("(upend - done) mod 4" in c.text for c in candidates)
    for state in states[::4000]:
        subst = [(c, z3.BoolVal(bool(v)) if z3.is_bool(c) else z3.BitVecVal(v, c.size()))
                 for c, v in zip(t.cur, state)]
        for cand in candidates:
            assert z3.is_true(z3.simplify(z3.substitute(cand.term, *subst))), cand.text


def test_exploring_by_dead_value_class_keeps_one_real_state_per_class() -> None:
    model = _datapath(1)
    key = _class_key(model)
    assert key is not None
    every = explore(model, 100_000, None)
    by_class = explore(model, 100_000, None, key=key)
    assert len(every) == 12_419  # every reachable state (the explicit engine's count)
    assert len(by_class) < len(every)
    assert set(by_class) <= set(every)  # real reachable states, not canonical ones
    assert by_class[0] == tuple(int(v) for v in flatten(model, initial_state(model)))


def test_an_skb_names_the_head_its_heads_slot_holds_while_the_device_holds_it() -> None:
    # the fact pdr's ring-2 proof attempt lacked: a guarded equality through skb_slot
    model = _datapath(2)
    t = StepTemplate(model, True, None)
    texts = {c.text for c in mine(t, explore(model, 5000, None, key=_class_key(model)))}
    assert "skb_cnt in {0} or heads_id[skb_slot[0]] == skb_head[0]" in texts
    assert "not (skb_cnt == 1 and heads_len[skb_slot[0]] == 0)" in texts
