"""One conjunct's step goal split into cases, each asked on a slice grown from candidates.

For an action and a changed conjunct of the v3.1 data path's invariant (the lemmas of
bench/quantstep.py), the goal is split along the ``If`` chain of the value it compares
(:func:`checker.engines.symbolic.goalcases.goal_cases`), each case weakened
(:func:`~checker.engines.symbolic.goalcases.weakened`) and, when it has a wide
disjunction, split per disjunct (``--disjuncts N`` asks the first N) or, with
``--indexed``, asked as one disjunct at a fresh index
(:func:`~checker.engines.symbolic.goalcases.indexed`); a goal with no cases is asked
whole.  Each query is
the engine's :meth:`GroundedStep.closed_on_grown_slice`: it starts from the premise's
conjuncts over the query's own variables; while the answer is a candidate, the nearest
conjunct the candidate's state breaks is added, and once none is, the premise is
grounded two levels deep.  One line per query: round, slice size, level, solver,
answer, seconds.  No assertions; docs/engines.md, "Splitting a goal into cases".

    .venv/bin/python bench/casesplit.py --ring-size 2 --action tx_signal_used
    .venv/bin/python bench/casesplit.py --ring-size 256 --action tx_signal_used \\
        --conjunct no-double-use --indexed --timeout 30
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import z3
from quantstep import NAMES  # bench/, the script's own folder

from checker.engines.symbolic import groundstep
from checker.engines.symbolic.goalcases import disjuncts, goal_cases, indexed, weakened
from checker.engines.symbolic.groundstep import GroundedStep
from checker.engines.symbolic.groups import Group
from checker.engines.symbolic.instantiate import ground
from checker.runs.catalog import select_properties
from models.v3_1 import V3_1


def closes(step: GroundedStep, g: Group, goal: z3.BoolRef, label: str) -> bool:
    """Whether ``goal`` after ``g`` is unsat on a slice grown from candidates
    (:meth:`GroundedStep.closed_on_grown_slice`), printing a row per query."""
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
    ap.add_argument("--disjuncts", type=int, default=3, help="disjuncts asked per case")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per slice query (SLICE_BUDGET)")
    ap.add_argument("--indexed", action="store_true",
                    help="ask a case's disjuncts that differ only in an index as one query")
    args = ap.parse_args()
    ring = args.ring_size
    kernel = {"uio_maxiov": 1024, "max_pend": 128} if ring == 256 else {}
    model = V3_1({"ring_size": ring, "max_backend_changes": 0, "release": "no",
                  "send_failures": 0, "signal_loop": "iteration", **kernel})
    props = [p for spec, names in NAMES for p in select_properties(names, [spec])]
    groundstep.SLICE_BUDGET = args.timeout
    step = GroundedStep(model, props)
    wanted = {int(c) for c in args.cases.split(",") if c}
    g = next(g for g in step.t.groups if groundstep.action_name(g).startswith(args.action))
    print("| query | round | conjuncts | level | solver | answer | seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for number, (name, part) in enumerate(step._changed(g)):
        if name != args.conjunct:
            continue
        goal = z3.Not(ground(part, [], asserted=False)[0])
        cases = goal_cases(goal)
        if not cases:
            closes(step, g, goal, f"{name} (changed conjunct {number}), whole")
        for i, case in enumerate(cases):
            if wanted and i not in wanted:
                continue
            weak = weakened(case)
            one_query = indexed(weak) if args.indexed else None
            if one_query is not None:
                closes(step, g, one_query, f"case {i} at one index")
                continue
            parts = disjuncts(weak)
            if not parts:
                closes(step, g, weak, f"case {i} of {len(cases)}")
                continue
            for j, d in enumerate(parts[:args.disjuncts]):
                closes(step, g, d, f"case {i}, disjunct {j} of {len(parts)}")


if __name__ == "__main__":
    main()
