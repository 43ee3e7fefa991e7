"""Candidate mining for pdr: indirection columns and class-keyed exploration."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest
import z3

from checker.engines.symbolic.columns import base_columns, declared_ids, indirections, occupancy
from checker.engines.symbolic.limits import SolverGaveUp
from checker.engines.symbolic.mining import PRIME, _null_space, _rational, explore, mine
from checker.engines.symbolic.pdr import _class_key
from checker.engines.symbolic.symexec import flatten
from checker.engines.symbolic.termeval import Unsupported, evaluate
from checker.engines.symbolic.unroll import StepTemplate
from checker.semantics.states import initial_state
from models.v3_1 import V3_1
from models.v9.dead import ROLLBACK_PCS

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}


def _datapath(ring: int) -> V3_1:
    return V3_1({**DATAPATH, "ring_size": ring})


def test_indirections_follow_skb_slots_into_heads_and_descriptors() -> None:
    model = _datapath(2)
    t = StepTemplate(model, True, None)
    states = explore(model, 3000, None).states
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
    states = explore(model, 20_000, None).states
    candidates = mine(t, states)
    assert any("[skb_slot[0]]" in c.text for c in candidates)
    assert any("#{i: heads_len[i] == 2}" in c.text for c in candidates)
    assert any("(upend - done) mod 4" in c.text for c in candidates)
    # where a head is held, counted (columns.occupancy): outside bookkeeping, every head
    # fetched and not returned sits in the heads[] window
    assert ("w_pc in {8} or -inflight[0] + #{i: heads_id[i] == 0 and heads_len[i] == 1} + "
            "#{i: heads_id[i] == 0 and heads_len[i] == 2} == 0") in {c.text for c in candidates}
    # each descriptor is in exactly one place; the avail ring counts where it is live
    # (its dead-value declaration), the used ring below used_cnt (the symmetry's)
    assert ("-g_owned[0] - inflight[0] - #{k: avail[k] == 0, where it is live} - "
            "#{k: used[k] == 0, where it holds an id} == -1") in {c.text for c in candidates}
    # the slot handle_tx filled last, split by its pc: a large buffer's slot is in flight
    assert any(c.text.endswith("or w_len - heads_len[(upend - 1) mod 4] == -1")
               and c.text.startswith("w_pc in {") and " 9" not in c.text for c in candidates)
    for state in states[::4000]:
        subst = [(c, z3.BoolVal(bool(v)) if z3.is_bool(c) else z3.BitVecVal(v, c.size()))
                 for c, v in zip(t.cur, state)]
        for cand in candidates:
            assert z3.is_true(z3.simplify(z3.substitute(cand.term, *subst))), cand.text


def test_exploring_by_dead_value_class_keeps_one_real_state_per_class() -> None:
    model = _datapath(1)
    key = _class_key(model)
    assert key is not None
    every = explore(model, 100_000, None).states
    by_class = explore(model, 100_000, None, key=key).states
    assert len(every) == 12_419  # every reachable state (the explicit engine's count)
    assert len(by_class) < len(every)
    assert set(by_class) <= set(every)  # real reachable states, not canonical ones
    assert by_class[0] == tuple(int(v) for v in flatten(model, initial_state(model)))


def test_exploration_polls_its_deadline() -> None:
    # 12 419 states: past 1 024 expansions a deadline already gone stops it
    with pytest.raises(SolverGaveUp):
        explore(_datapath(1), 100_000, time.monotonic() - 1)


@pytest.fixture(scope="module")
def ring_2() -> tuple[V3_1, StepTemplate, list[tuple[int, ...]], set[str]]:
    """The ring-2 data path, its template, 5 000 class representatives and what is mined."""
    model = _datapath(2)
    t = StepTemplate(model, True, None)
    states = explore(model, 5000, None, key=_class_key(model)).states
    return model, t, states, {c.text for c in mine(t, states)}


def test_an_skb_names_the_head_its_heads_slot_holds_while_the_device_holds_it(
    ring_2: tuple[V3_1, StepTemplate, list[tuple[int, ...]], set[str]],
) -> None:
    # the fact pdr's ring-2 proof attempt lacked: a guarded equality through skb_slot
    texts = ring_2[3]
    assert "skb_cnt in {0} or heads_id[skb_slot[0]] == skb_head[0]" in texts
    assert "not (skb_cnt == 1 and heads_len[skb_slot[0]] == 0)" in texts


def test_a_held_skbs_slot_lies_in_the_heads_window(
    ring_2: tuple[V3_1, StepTemplate, list[tuple[int, ...]], set[str]],
) -> None:
    # the fact the held-skb-in-flight fact needs to be inductive (results/proofs.md)
    texts = ring_2[3]
    assert "skb_cnt in {0} or (skb_slot[0] - done) mod 8 < (upend - done) mod 8" in texts
    assert "(skb_slot[0] - done) mod 8 < (upend - done) mod 8" not in texts  # not always


def test_the_descriptor_handle_tx_records_is_the_slot_before_upend_under_two_guards(
    ring_2: tuple[V3_1, StepTemplate, list[tuple[int, ...]], set[str]],
) -> None:
    # the link before the refcount CTI at ring 2 (results/proofs.md): about to send a
    # large zero-copy buffer (w_pc 9, w_len 1), ubuf_info[head].desc is upend - 1 mod 8;
    # w_pc alone does not give it (a small buffer at pc 9 records nothing)
    fact = "or (ubuf_desc[w_head] - upend) mod 8 == 7"
    texts = ring_2[3]
    pairs = [t for t in texts if t.startswith("(w_pc, w_len) not in {") and t.endswith(fact)]
    assert len(pairs) == 1 and "(9, 1)" in pairs[0]
    alone = [t for t in texts if t.startswith("w_pc not in {") and t.endswith(fact)]
    assert alone and not any(" 9" in t.split("}")[0] or "{9" in t for t in alone)


def states_column(t: StepTemplate, states: list[tuple[int, ...]], name: str) -> np.ndarray:
    """The values of the state's scalar ``name`` in ``states``."""
    at = [n for _, n in t.scalars].index(name)
    return np.array([s[at] for s in states])


def test_term_evaluation_on_many_states_matches_z3() -> None:
    x, y = z3.BitVecs("x y", 4)
    b = z3.Bool("b")
    wide = z3.ZeroExt(8, x) - z3.ZeroExt(8, y)
    terms = [x + y, x - y, x * y, z3.URem(x, y), x % y, z3.SRem(x, y), z3.ULT(x, y), x < y, wide,
             z3.If(b, x, -y), z3.And(b, x == 3), z3.Or(z3.Not(b), z3.SignExt(8, x) > 2)]
    xs = np.array([-8, -1, 0, 3, 7, 5, -3])
    ys = np.array([7, -8, 0, 5, 3, -1, 2])
    bs = np.array([1, 0, 1, 1, 0, 0, 1])
    env = {x.get_id(): xs, y.get_id(): ys, b.get_id(): bs}
    for term in terms:
        got = evaluate(term, env, len(xs))
        for row in range(len(xs)):
            want = z3.simplify(z3.substitute(term, (x, z3.BitVecVal(int(xs[row]), 4)),
                                             (y, z3.BitVecVal(int(ys[row]), 4)),
                                             (b, z3.BoolVal(bool(bs[row])))))
            expect = z3.is_true(want) if z3.is_bool(want) else want.as_signed_long()
            assert got[row] == expect, (term, row)
    with pytest.raises(Unsupported):
        evaluate(z3.BitVec("free", 4) + x, env, len(xs))


def test_where_a_head_is_held_is_counted_through_the_models_declaration(
    ring_2: tuple[V3_1, StepTemplate, list[tuple[int, ...]], set[str]],
) -> None:
    # the relation the ring-2 proof's last counterexample to induction lacked
    model, t, states, _ = ring_2
    ids = declared_ids(model)
    assert ids is not None
    counts, guards = occupancy(t, base_columns(t, states), ids)
    assert [g.name for g in guards] == ["used_cnt", "w_pc", "skb_cnt"]  # state order
    names = [name for _, name in t.scalars]
    held = {c.name: c for c in counts[1]}["[w_head == 1, where it holds an id]"]
    for row in range(0, len(states), 97):
        flat = dict(zip(names, states[row]))
        assert held.values[row] == (flat["w_head"] == 1 and flat["w_pc"] in ROLLBACK_PCS)
    window = [c for c in counts[1] if c.name.startswith("#{i: heads_id[i] == 1 and heads_len")]
    inflight = states_column(t, states, "inflight[1]")
    pc = states_column(t, states, "w_pc")
    outside = (pc != 9) & (pc != 10)
    assert (inflight == window[1].values + window[2].values + held.values)[outside].all()


def test_the_null_space_finds_small_relations_exactly() -> None:
    # columns x, y, z, 1 with x + 2y == 3 and z free: one relation, with its constant
    rows = np.array([[x, y, z, 1] for x, y, z in [(3, 0, 5), (1, 1, 2), (-1, 2, 7), (5, -1, 0)]])
    basis = _null_space(rows)
    assert len(basis) == 1
    scale = basis[0][0]
    assert [v / scale for v in basis[0]] == [1, 2, 0, -3]
    assert _rational(pow(3, PRIME - 2, PRIME)) == Fraction(1, 3)
    assert _rational(PRIME - 2) == -2
