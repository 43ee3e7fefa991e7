"""One conjunct's step goal split into cases, each asked on a slice grown from candidates.

For an action and a changed conjunct of the v3.1 data path's invariant (the lemmas of
bench/quantstep.py), the goal is split along the ``If`` chain of the value it compares
(:func:`checker.engines.symbolic.goalcases.goal_cases`), each case weakened
(:func:`~checker.engines.symbolic.goalcases.weakened`) and, when it has a wide
disjunction, split per disjunct (``--disjuncts N`` asks the first N).  Each query
starts from the premise's conjuncts over the query's own variables; while the
answer is a candidate, the conjuncts the candidate's state breaks are added (concretely
judged, :meth:`GroundedStep.false_conjuncts`), and once none is, the premise is
grounded two levels deep.  One line per query: slice size, level, solver, answer,
seconds.  No assertions; docs/engines.md, "Splitting a goal into cases".

    .venv/bin/python bench/casesplit.py --ring-size 2 --action tx_signal_used
    .venv/bin/python bench/casesplit.py --ring-size 256 --action tx_signal_used \\
        --conjunct no-double-use --cases 0,1 --disjuncts 3 --timeout 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import z3
from quantstep import NAMES  # bench/, the script's own folder

from checker.engines.symbolic import groundstep
from checker.engines.symbolic.bounded import new_array_solver, solve
from checker.engines.symbolic.goalcases import disjuncts, goal_cases, weakened
from checker.engines.symbolic.groundstep import GroundedStep
from checker.engines.symbolic.groups import Group
from checker.engines.symbolic.instantiate import ground
from checker.engines.symbolic.limits import SolverGaveUp
from checker.runs.catalog import select_properties
from models.v3_1 import V3_1

ROUNDS = 8
"""Slice-growing rounds per query."""


def closes(step: GroundedStep, g: Group, goal: z3.BoolRef, label: str, timeout: float) -> bool:
    """Whether ``goal`` after ``g`` is unsat on a slice grown from candidates (above)."""
    query = [g.domain(), g.ex.enabled, goal]
    seed = groundstep.constant_names(z3.And(*query))
    chosen = {i for i, vs in enumerate(step.part_vars) if vs <= seed}
    zero = [z3.BitVecVal(0, step.t.bits)]
    deep = False
    for round_ in range(ROUNDS):
        used = seed.union(*(step.part_vars[i] for i in chosen))
        premise = [*(step.parts[i][1] for i in sorted(chosen)),
                   *(ty for ty, vs in step.types if vs <= used)]
        pools = step.slice_pools(premise, query)
        began = time.monotonic()
        grounded = step._grounded(premise, zero, pools, None)
        if deep:
            grounded = step._deeper(premise, zero, pools, grounded, None)
        seconds = time.monotonic() - began
        m, answer = None, "unknown"
        for make in (new_array_solver, z3.Solver):
            solver = make()
            solver.add(grounded, *query)
            began = time.monotonic()
            try:
                m = solve(solver, timeout)
                answer = "unsat" if m is None else "sat"
            except SolverGaveUp:
                answer = "unknown"
            print(f"| {label} | {round_} | {len(chosen)} | {'two' if deep else 'one'} "
                  f"| {make.__name__} | {answer} | {seconds:.1f} "
                  f"| {time.monotonic() - began:.1f} |", flush=True)
            if answer != "unknown":
                break
        if answer != "sat" or m is None:
            return answer == "unsat"
        broken, _ = step.false_conjuncts(step._clamped(step.t.layout.decode(m, step.t.cur)))
        more = broken - chosen
        if not more:
            if deep:
                return False
            deep = True
        chosen |= more
    return False


def main() -> None:
    """Parse the arguments and print one row per query."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-size", type=int, default=2)
    ap.add_argument("--action", default="tx_signal_used")
    ap.add_argument("--conjunct", default="no-double-use", help="a changed conjunct's name")
    ap.add_argument("--cases", default="", help="comma-separated case numbers (default: all)")
    ap.add_argument("--disjuncts", type=int, default=3, help="disjuncts asked per case")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per query")
    args = ap.parse_args()
    ring = args.ring_size
    kernel = {"uio_maxiov": 1024, "max_pend": 128} if ring == 256 else {}
    model = V3_1({"ring_size": ring, "max_backend_changes": 0, "release": "no",
                  "send_failures": 0, "signal_loop": "iteration", **kernel})
    props = [p for spec, names in NAMES for p in select_properties(names, [spec])]
    step = GroundedStep(model, props)
    wanted = {int(c) for c in args.cases.split(",") if c}
    g = next(g for g in step.t.groups if groundstep.action_name(g) == args.action)
    print("| query | round | conjuncts | level | solver | answer | grounding s | solving s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, part in step._changed(g):
        if name != args.conjunct:
            continue
        cases = goal_cases(z3.Not(ground(part, [], asserted=False)[0]))
        for i, case in enumerate(cases):
            if wanted and i not in wanted:
                continue
            weak = weakened(case)
            parts = disjuncts(weak)
            if not parts:
                closes(step, g, weak, f"case {i} of {len(cases)}", args.timeout)
                continue
            for j, d in enumerate(parts[:args.disjuncts]):
                closes(step, g, d, f"case {i}, disjunct {j} of {len(parts)}", args.timeout)


if __name__ == "__main__":
    main()
