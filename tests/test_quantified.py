"""``s.every``: one universal statement, a loop on every engine or a quantifier made
ground by instantiation (checker/engines/symbolic/instantiate.py)."""

from __future__ import annotations

from typing import Any

import pytest
import z3

from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic.encoding import QuantifyingBackend, SymArray, Z3Backend
from checker.engines.symbolic.instantiate import (
    NotGroundable,
    ground,
    has_quantifier,
    index_pools,
    index_terms,
)
from checker.engines.symbolic.kinduction import run_kind
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.view import StateView
from checker.runs.catalog import select_properties
from checker.semantics.states import initial_state
from models.v3_1 import V3_1

SPEC = "specs/datapath_invariant.py"
DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0,
            "signal_loop": "iteration"}


def used_below_ring(s: StateView) -> Any:
    """Every used entry names a head of the ring: written with ``s.every``."""
    return s.every(s.p.ring_size, lambda k: s.implies(k < s.used_cnt, s.used[k] < s.p.ring_size))


def used_below_ring_loop(s: StateView) -> Any:
    """The same statement as a Python loop over the positions."""
    return s.all(*(s.implies(k < s.used_cnt, s.used[k] < s.p.ring_size)
                   for k in range(s.p.ring_size)))


def test_every_is_a_loop_on_concrete_states() -> None:
    model = V3_1({"ring_size": 2, **DATAPATH})
    state = initial_state(model)
    view = StateView(model, state)
    assert view.every(3, lambda i: i < 3) is True
    assert view.every(3, lambda i: i < 2) is False
    assert used_below_ring(view) is True


def test_every_is_the_conjunction_over_positions_on_flat_terms() -> None:
    t = StepTemplate(V3_1({"ring_size": 2, **DATAPATH}), True)
    view = StateView(t.model, t.layout.state(t.cur), Z3Backend(t.bits), t.enabled)
    written = used_below_ring(view)
    assert z3.eq(written, used_below_ring_loop(view))  # the very same term


def test_a_quantified_every_means_what_the_loop_means() -> None:
    t = StepTemplate(V3_1({"ring_size": 2, **DATAPATH}), True, arrays=True)
    state = t.layout.state(t.cur)
    quantified = used_below_ring(StateView(t.model, state, QuantifyingBackend(t.bits)))
    assert z3.is_quantifier(quantified) and quantified.is_forall()
    loop = used_below_ring_loop(StateView(t.model, state, Z3Backend(t.bits)))
    solver = z3.Solver()
    solver.add(quantified != loop)
    assert solver.check() == z3.unsat


def avail_toy(n: int) -> tuple[z3.BoolRef, z3.BoolRef, z3.BoolRef]:
    """A guest posting head ``h`` into a ring of ``n`` whose posted entries are
    distinct and none the guest's: the lemma before, the step, the lemma after."""
    bits = 16
    backend = QuantifyingBackend(bits)
    sort = z3.BitVecSort(bits)
    last, cnt, h = z3.BitVec("last", bits), z3.BitVec("cnt", bits), z3.BitVec("h", bits)
    avail = SymArray(z3.Array("avail", z3.BitVecSort(8), sort), n, bits)
    owned = SymArray(z3.Array("owned", z3.BitVecSort(8), z3.BoolSort()), n, bits)

    def posted(c: Any, p: Any) -> Any:
        return z3.URem(p - last + n, n) < c

    def lemma(av: SymArray, ow: SymArray, c: Any) -> z3.BoolRef:
        distinct = backend.every(n, lambda p: backend.every(n, lambda q: z3.Implies(
            z3.And(posted(c, p), posted(c, q), p != q), av.term[av.index(p)] != av.term[av.index(q)])))
        mine = backend.every(n, lambda p: z3.Implies(
            posted(c, p), z3.And(av.term[av.index(p)] < n, z3.Not(ow.term[ow.index(av.term[av.index(p)])]))))
        return z3.And(c >= 0, c < n, last >= 0, last < n, distinct, mine)

    pos = z3.URem(last + cnt, n)
    step = z3.And(h >= 0, h < n, owned.term[owned.index(h)], cnt + 1 < n)
    after = lemma(SymArray(z3.Store(avail.term, avail.index(pos), h), n, bits),
                  SymArray(z3.Store(owned.term, owned.index(h), False), n, bits), cnt + 1)
    return lemma(avail, owned, cnt), step, after


def grounded_step_answer(n: int, with_terms: bool) -> z3.CheckSatResult:
    before, step, after = avail_toy(n)
    goal, skolems = ground(after, [], asserted=False)
    assert skolems and not any(z3.is_quantifier(k) for k in goal.children())
    terms = index_terms([step, z3.Not(goal)], z3.BitVecSort(16)) + skolems if with_terms else []
    premise, _ = ground(before, terms)
    solver = z3.Solver()
    solver.add(premise, step, z3.Not(goal))
    return solver.check()


def test_instances_at_the_steps_indices_prove_the_step_at_the_kernels_ring_size() -> None:
    assert grounded_step_answer(256, with_terms=True) == z3.unsat


def test_without_instances_the_premise_is_too_weak_to_prove_it() -> None:
    assert grounded_step_answer(256, with_terms=False) == z3.sat


def test_a_goals_quantifier_becomes_a_position_that_breaks_it() -> None:
    a = z3.Array("a", z3.BitVecSort(4), z3.BitVecSort(4))
    x = z3.BitVec("x", 4)
    goal, skolems = ground(z3.ForAll([x], a[x] == 0), [], asserted=False)
    solver = z3.Solver()
    solver.add(z3.Not(goal), a == z3.Store(z3.K(z3.BitVecSort(4), z3.BitVecVal(0, 4)), 9, 1))
    assert solver.check() == z3.sat
    assert solver.model().eval(skolems[0]).as_long() == 9


def test_a_compared_quantifier_is_refused() -> None:
    a = z3.Array("a", z3.BitVecSort(4), z3.BoolSort())
    x = z3.BitVec("x", 4)
    compared = z3.ForAll([x], a[x]) == z3.Bool("flag")
    with pytest.raises(NotGroundable, match="where its truth is compared"):
        ground(compared, [z3.BitVecVal(0, 4)])


def test_a_store_chain_deeper_than_the_recursion_limit_is_walked() -> None:
    """A whole-array assignment at UIO_MAXIOV 1024 is a chain of 1024 stores; three
    times that is still walked (an explicit stack, no recursion)."""
    a = z3.Array("a", z3.BitVecSort(12), z3.BitVecSort(4))
    x = z3.BitVec("x", 12)
    chain = a
    for i in range(3000):
        chain = z3.Store(chain, i, i % 16)
    assert not has_quantifier(chain[x] == 1)
    assert has_quantifier(z3.And(z3.ForAll([x], a[x] == 0), chain[x] == 1))
    assert not has_quantifier(z3.Lambda([x], chain[x])[x] == 1)  # a lambda is a term


def test_a_premise_quantifier_under_negation_gets_a_skolem_constant() -> None:
    a = z3.Array("a", z3.BitVecSort(4), z3.BoolSort())
    x = z3.BitVec("x", 4)
    premise, skolems = ground(z3.Not(z3.ForAll([x], a[x])), [])
    assert len(skolems) == 1 and z3.eq(premise, z3.Not(a[skolems[0]]))


def test_index_terms_read_a_narrowed_index_as_the_int_it_came_from() -> None:
    bits = 16
    arr = SymArray(z3.Array("arr", z3.BitVecSort(3), z3.BitVecSort(bits)), 8, bits)
    k = z3.BitVec("k", bits)
    terms = index_terms([arr.term[arr.index(k)] == arr.term[arr.index(2)]], z3.BitVecSort(bits))
    assert {str(t) for t in terms} == {"k", "2"}


def test_the_skb_lemma_is_preserved_by_the_hand_off_at_ring_256() -> None:
    """dp-skbs (written with s.every) and dp-worker before the skb hand-off imply dp-skbs
    after it, at the kernel's constants: one quantified lemma's step, ground."""
    model = V3_1({"ring_size": 256, "uio_maxiov": 1024, "max_pend": 128, **DATAPATH})
    t = StepTemplate(model, True, arrays=True, grouped=True)
    skbs, worker = select_properties(["dp-skbs", "dp-worker"], [SPEC])
    backend = QuantifyingBackend(t.bits)

    def term(pred: Any, state: Any) -> z3.BoolRef:
        return pred(StateView(model, state, backend, t.enabled))

    g = next(g for g in t.groups if g.instances[0].label == "tx_sendmsg_handoff")
    goal, skolems = ground(term(skbs.predicate, t.layout.state(g.ex.values)), [], asserted=False)
    premise = term(skbs.predicate, t.layout.state(t.cur))
    assert z3.is_quantifier(premise)
    query = [g.ex.enabled, z3.Not(goal)]
    terms = index_terms(query, z3.BitVecSort(t.bits)) + skolems
    solver = z3.Solver()
    solver.add(ground(premise, terms)[0], term(worker.predicate, t.layout.state(t.cur)), *query)
    assert solver.check() == z3.unsat
    solver = z3.Solver()  # without dp-worker the slot's head is unknown: a counterexample
    solver.add(ground(premise, terms)[0], *query)
    assert solver.check() == z3.sat


QSPEC = "specs/datapath_quantified.py"
QLEMMAS = ["dp-environment", "dp-worker", "dp-skbs", "dp-count"]
QUANTIFIED = ["q-places", "q-distinct", "q-window"]


def test_the_quantified_lemmas_hold_in_every_reachable_state_at_ring_1() -> None:
    model = V3_1({"ring_size": 1, **DATAPATH})
    props = select_properties(QUANTIFIED, [QSPEC])
    res = ExplicitChecker(model, props).run()
    assert res.complete and [r.status for r in res.properties] == ["holds"] * 3


def test_the_quantified_lemmas_prove_the_data_path_with_kind_at_ring_2() -> None:
    """The flat step case (every lemma a loop) agrees with bench/quantstep.py's grounded
    one: the same lemmas are inductive at ring 2."""
    model = V3_1({"ring_size": 2, **DATAPATH})
    props = select_properties(["no-double-use", "memory-safe"], [SPEC])
    lemmas = select_properties(QLEMMAS, [SPEC]) + select_properties(QUANTIFIED, [QSPEC])
    res = run_kind(model, props, 1, strengthening=lemmas)
    assert [r.status for r in res.properties] == ["holds", "holds"]


def test_pools_instantiate_a_quantifier_at_the_indices_of_the_arrays_it_reads() -> None:
    bits = 8
    sort = z3.BitVecSort(bits)
    a, b = z3.Array("a", sort, sort), z3.Array("b", sort, sort)
    i, j, x = z3.BitVec("i", bits), z3.BitVec("j", bits), z3.BitVec("x", bits)
    pools = index_pools([a[i] == 1, b[j] == 2], sort)
    assert {k: [str(t) for t in v] for k, v in pools.items()} == {"a": ["i"], "b": ["j"]}
    premise, _ = ground(z3.ForAll([x], a[x] == 0), [], pools=pools)
    assert z3.eq(premise, z3.And(a[i] == 0))  # at a's index only, not at b's


def test_a_quantifier_reading_no_array_takes_every_pool() -> None:
    bits = 8
    sort = z3.BitVecSort(bits)
    a = z3.Array("a", sort, sort)
    i, x = z3.BitVec("i", bits), z3.BitVec("x", bits)
    premise, _ = ground(z3.ForAll([x], x != 7), [z3.BitVecVal(0, bits)],
                        pools=index_pools([a[i] == 1], sort))
    assert {str(c) for c in premise.children()} == {"0 != 7", "i != 7"}


def _pairs_over_a(bits: int) -> tuple[z3.BoolRef, dict[str, list[z3.ExprRef]]]:
    """"No two positions of ``a`` hold the same value" (a nest of two quantifiers),
    and the pools of a query reading ``a[0]`` and ``a[i]``."""
    sort = z3.BitVecSort(bits)
    a = z3.Array("a", sort, sort)
    i, x, y = z3.BitVec("i", bits), z3.BitVec("x", bits), z3.BitVec("y", bits)
    pairs = z3.ForAll([x], z3.ForAll([y], z3.Implies(x != y, a[x] != a[y])))
    return pairs, index_pools([a[0] == 1, a[i] == 2], sort)


def test_an_outer_quantifier_of_a_nest_takes_no_numeral_from_the_pools() -> None:
    """A count over an array's positions puts every position in its pool; the pairs
    of a nest are instantiated at the symbolic indices (and at the caller's terms)."""
    pairs, pools = _pairs_over_a(8)
    text = str(ground(pairs, [], pools=pools)[0])
    assert "Implies(i != 0, a[i] != a[0])" in text
    assert "Implies(0 != i" not in text


def test_an_outer_quantifier_of_a_nest_takes_the_numerals_named_for_its_array() -> None:
    """``outer`` names numerals by array: the nest's outer quantifier is instantiated
    there too, and only for the array its bound index reads."""
    pairs, pools = _pairs_over_a(8)
    one = [z3.BitVecVal(1, 8)]
    text = str(ground(pairs, [], pools=pools, outer={"a": one})[0])
    assert "Implies(1 != i, a[1] != a[i])" in text and "Implies(0 != i" not in text
    assert "1 !=" not in str(ground(pairs, [], pools=pools, outer={"b": one})[0])
