"""One conjunct's step goal split into cases, each asked on a slice grown from candidates.

For an action and a changed conjunct of the v3.1 data path's invariant (the lemmas of
bench/quantstep.py), the engine's queries for it
(:func:`checker.engines.symbolic.goalcases.case_queries`: one per case along the ``If``
chain of the value it compares, weakened, a per-skb disjunction at one fresh index; the
goal whole when it has no cases), each asked as the engine asks it,
:meth:`~checker.engines.symbolic.slices.SliceQueries.closed_on_grown_slice`: from the premise's conjuncts over the
query's own variables, adding the nearest conjunct each candidate breaks, two levels
deep once none is.  ``--per-disjunct N`` asks the first N disjuncts of each case one by
one instead (the variant measured and not kept).  One line per query: round, slice
size, level, solver, answer, seconds.  No assertions; docs/engines.md, "Splitting a
goal into cases".

    .venv/bin/python bench/casesplit.py --ring-size 2 --action tx_signal_used
    .venv/bin/python bench/casesplit.py --ring-size 256 --action tx_signal_used \\
        --conjunct no-double-use --timeout 30
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import z3
from quantstep import data_path, lemmas  # bench/, the script's own folder

from checker.engines.symbolic import groundstep, slices
from checker.engines.symbolic.goalcases import case_queries, disjuncts, goal_cases, weakened
from checker.engines.symbolic.groundstep import GroundedStep
from checker.engines.symbolic.groups import Group
from checker.engines.symbolic.instantiate import ground


def closes(step: GroundedStep, g: Group, goal: z3.BoolRef, label: str) -> bool:
    """Whether ``goal`` after ``g`` is unsat on a slice grown from candidates
    (:meth:`~checker.engines.symbolic.slices.SliceQueries.closed_on_grown_slice`), printing a row per query."""
    def row(round_: int, conjuncts: int, deep: bool, solver: str, answer: str,
            seconds: float) -> None:
        print(f"| {label} | {round_} | {conjuncts} | {'two' if deep else 'one'} | {solver} "
              f"| {answer} | {seconds:.1f} |", flush=True)

    return step.closed_on_grown_slice(g, goal, None, row)[0]


def main() -> None:
    """Parse the arguments and print one row per query."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-size", type=int, default=2)
    ap.add_argument("--action", default="tx_signal_used", help="an action name's prefix")
    ap.add_argument("--conjunct", default="no-double-use", help="a changed conjunct's name")
    ap.add_argument("--cases", default="", help="comma-separated case numbers (default: all)")
    ap.add_argument("--per-disjunct", type=int, default=0,
                    help="ask the first N disjuncts of each case one by one instead "
                         "(the variant measured and not kept)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per slice query (SLICE_BUDGET)")
    args = ap.parse_args()
    slices.SLICE_BUDGET = args.timeout
    step = GroundedStep(data_path(args.ring_size), lemmas())
    wanted = {int(c) for c in args.cases.split(",") if c}
    g = next(g for g in step.t.groups if groundstep.action_name(g).startswith(args.action))
    print("| query | round | conjuncts | level | solver | answer | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for number, (name, part) in enumerate(step.changed(g)):
        if name != args.conjunct:
            continue
        goal = z3.Not(ground(part, [], asserted=False)[0])
        cases = goal_cases(goal)
        for i, query in enumerate(case_queries(goal)):
            if wanted and i not in wanted:
                continue
            label = f"{name} (changed conjunct {number}), query {i}"
            if not args.per_disjunct:
                closes(step, g, query, label)
                continue
            parts = disjuncts(weakened(cases[i])) if cases else []
            for j, d in enumerate(parts[:args.per_disjunct] or [query]):
                closes(step, g, d, f"{label}, disjunct {j} of {len(parts)}")


if __name__ == "__main__":
    main()
