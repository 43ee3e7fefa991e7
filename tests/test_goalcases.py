"""The goal splits of checker/engines/symbolic/goalcases.py: each is checked to be
equivalent to (or weaker than) the goal by Z3 itself."""

from __future__ import annotations

import z3

from checker.engines.symbolic.goalcases import (
    case_queries,
    disjuncts,
    goal_cases,
    indexed,
    weakened,
)

X, Y, ERR = z3.BitVecs("x y err", 8)
A, B, C = z3.Bools("a b c")


def _valid(claim: z3.BoolRef) -> bool:
    solver = z3.Solver()
    solver.add(z3.Not(claim))
    return solver.check() == z3.unsat


def test_an_if_chain_compared_gives_one_case_per_branch_whose_union_is_the_goal() -> None:
    written = z3.If(A, z3.BitVecVal(5, 8), z3.If(B, z3.BitVecVal(4, 8), ERR))
    goal = z3.Not(written == 0)
    cases = goal_cases(goal)
    assert len(cases) == 3
    assert _valid(goal == z3.Or(*cases))
    assert _valid(cases[0] == A)
    assert _valid(cases[1] == z3.And(z3.Not(A), B))
    assert _valid(cases[2] == z3.And(z3.Not(A), z3.Not(B), ERR != 0))


def test_a_goal_without_an_if_chain_is_not_split() -> None:
    assert goal_cases(z3.Not(X == Y)) == []
    assert goal_cases(z3.And(A, B)) == []


def test_weakened_drops_negated_conjunctions_only_and_is_implied() -> None:
    case = z3.And(A, z3.Not(z3.And(B, C)), X > 2)
    weak = weakened(case)
    assert _valid(z3.Implies(case, weak))
    assert _valid(weak == z3.And(A, X > 2))
    assert weakened(A) is A


def test_a_sum_of_flags_above_zero_splits_per_flag() -> None:
    one, zero = z3.BitVecVal(1, 8), z3.BitVecVal(0, 8)
    total = z3.If(A, one, zero) + z3.If(B, one, zero) + z3.If(C, one, zero)
    case = z3.simplify(z3.And(X == 1, total > 0))
    parts = disjuncts(case)
    assert len(parts) == 3
    assert _valid(case == z3.Or(*parts))


def test_an_or_splits_per_disjunct_and_a_lone_condition_does_not() -> None:
    case = z3.And(X == 1, z3.Or(A, B))
    parts = disjuncts(case)
    assert len(parts) == 2
    assert _valid(case == z3.Or(*parts))
    assert disjuncts(z3.And(X == 1, A)) == []


def test_a_sum_that_can_wrap_around_is_not_split() -> None:
    """Three 2-bit flags can add up to 4 = 0 (mod 4): the sum above 0 is not their
    disjunction there, so no split is offered."""
    one, zero = z3.BitVecVal(1, 2), z3.BitVecVal(0, 2)
    total = z3.If(A, one, zero) + z3.If(B, one, zero) + z3.If(C, one, zero)
    assert disjuncts(z3.simplify(z3.And(A, total > 0))) == []


def test_disjuncts_that_differ_only_in_their_index_become_one_at_a_fresh_index() -> None:
    """``Or_k (k < cnt and head[k] == h)`` over 5 skbs is one query at a fresh index
    ``K < 5``, equisatisfiable with the case: Z3 finds the same answer for each."""
    head = z3.Array("head", z3.BitVecSort(3), z3.BitVecSort(8))
    one, zero = z3.BitVecVal(1, 8), z3.BitVecVal(0, 8)
    total = z3.Sum([z3.If(z3.And(z3.BitVecVal(k, 8) < X, head[z3.BitVecVal(k, 3)] == Y),
                          one, zero) for k in range(5)])
    case = z3.simplify(z3.And(A, total > 0))
    one_query = indexed(case)
    assert one_query is not None
    for extra in ([], [X == 0], [X == 3, head[2] == Y], [X == 3, head[4] == Y]):
        expected = z3.Solver()
        expected.add(case, *extra)
        got = z3.Solver()
        got.add(one_query, *extra)
        assert got.check() == expected.check()


def test_disjuncts_of_different_shapes_are_not_made_one() -> None:
    case = z3.And(X == 1, z3.Or(X == Y, A, z3.And(B, C)))
    assert indexed(case) is None
    assert indexed(z3.And(A, B)) is None


def test_an_index_numeral_that_also_appears_as_a_constant_is_refused() -> None:
    """Replacing every numeral 2 would also rename the constant ``y == 2``: the check
    of each instance against its disjunct catches it."""
    head = z3.Array("head", z3.BitVecSort(8), z3.BitVecSort(8))
    case = z3.Or(*(z3.And(head[z3.BitVecVal(k, 8)] == X, Y == 2) for k in range(3)))
    assert indexed(case) is None


def test_case_queries_are_the_weakened_cases_or_the_goal_itself() -> None:
    """One query per branch of the chain, each implied by its case (the guard of an
    earlier write dropped); a goal with no chain is its own single query."""
    written = z3.If(z3.And(A, z3.Not(z3.And(B, C))), z3.BitVecVal(5, 8), ERR)
    goal = z3.Not(written == 0)
    queries = case_queries(goal)
    assert len(queries) == 2
    assert _valid(queries[0] == A)
    assert _valid(z3.Implies(goal, z3.Or(*queries)))
    plain = z3.Not(X == Y)
    assert [q.eq(plain) for q in case_queries(plain)] == [True]
