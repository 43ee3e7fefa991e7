"""The data path's grounded step case (``--engine inductive``), one action at a time.

On v3.1's data path (``--max-backend-changes 0 --release no --send-failures 0
--signal-loop iteration``) at ``--ring-size N`` (256: the kernel's constants,
UIO_MAXIOV 1024, VHOST_MAX_PEND 128): for each action, is there a typed state
satisfying ``no-double-use``, ``memory-safe``, dp-environment, dp-worker, dp-skbs,
dp-count (specs/datapath_invariant.py) and q-places, q-distinct, q-window
(specs/datapath_quantified.py) from which the action reaches a state that breaks one
of them, stops at a capacity or writes outside a type?  What
:class:`checker.engines.symbolic.groundstep.GroundedStep` answers, with a cap on each
solver query (``--timeout``) so that one hard action does not take the others' time.

Prints per action: the answer (``closed``: proved), solver queries (refinement rounds),
positions refinement added, seconds, why an action stays open; then the build time, the
total and the peak memory.  With ``--conjuncts``, instead: for each conjunct each
chosen action changes, each of its two premise slices (the conjuncts whose variables
all occur in the query, then those sharing one with it), grounded once and one level
deeper, the answer and seconds of the array solver and of Z3's default solver, each
capped at ``--timeout`` (what :meth:`~checker.engines.symbolic.slices.SliceQueries.closed_on_slice` tries, every
combination asked).  No assertions: numbers only (docs/engines.md, "The inductive
engine").

    .venv/bin/python bench/quantstep.py --ring-size 2
    .venv/bin/python bench/quantstep.py --ring-size 256 --timeout 120
    .venv/bin/python bench/quantstep.py --ring-size 256 --actions tx_signal_used,dev_complete
    .venv/bin/python bench/quantstep.py --ring-size 256 --actions tx_signal_used \
        --conjuncts --timeout 30
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import z3

from checker.engines.symbolic import groundstep
from checker.engines.symbolic.bounded import new_array_solver
from checker.engines.symbolic.groundstep import ActionOutcome, GroundedStep
from checker.engines.symbolic.groups import Group
from checker.engines.symbolic.instantiate import ground
from checker.lang.spec import Property
from checker.runs.catalog import select_properties
from models.v3_1 import V3_1

NAMES = [(str(ROOT / "specs" / "datapath_invariant.py"),
          ["no-double-use", "memory-safe", "dp-environment", "dp-worker", "dp-skbs", "dp-count"]),
         (str(ROOT / "specs" / "datapath_quantified.py"), ["q-places", "q-distinct", "q-window"])]


def data_path(ring: int) -> V3_1:
    """v3.1's data path at ``ring`` (256: with the kernel's UIO_MAXIOV and
    VHOST_MAX_PEND), one turn of the signal loop per step."""
    kernel = {"uio_maxiov": 1024, "max_pend": 128} if ring == 256 else {}
    return V3_1({"ring_size": ring, "max_backend_changes": 0, "release": "no",
                 "send_failures": 0, "signal_loop": "iteration", **kernel})


def lemmas() -> list[Property]:
    """The two properties and the lemmas of :data:`NAMES`."""
    return [p for spec, names in NAMES for p in select_properties(names, [spec])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-size", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per solver query")
    ap.add_argument("--rounds", type=int, default=groundstep.ROUNDS,
                    help="refinement rounds per action")
    ap.add_argument("--actions", default="", help="comma-separated action prefixes (default: all)")
    ap.add_argument("--conjuncts", action="store_true",
                    help="per changed conjunct: each slice, level and solver")
    args = ap.parse_args()
    ring = args.ring_size
    began = time.monotonic()
    step = GroundedStep(data_path(ring), lemmas(), rounds=args.rounds,
                        query_limit=args.timeout)
    print(f"ring size {ring}: step built in {time.monotonic() - began:.1f} s")
    wanted = [w for w in args.actions.split(",") if w]
    if wanted:
        step.t.groups = [g for g in step.t.groups
                         if any(groundstep.action_name(g).startswith(w) for w in wanted)]
    if args.conjuncts:
        for g in step.t.groups:
            slice_table(step, g, args.timeout)
        return
    print("| action | answer | queries | positions added | seconds | why open |")
    print("| --- | --- | --- | --- | --- | --- |")

    def show(o: ActionOutcome, i: int, total: int) -> None:
        print(f"| {o.action} | {o.answer} | {o.queries} | {o.positions} | {o.seconds:.2f} "
              f"| {o.why if o.answer != 'closed' else ''} |", flush=True)

    total = time.monotonic()
    outcomes, _ = step.check(done=show)
    closed = sum(o.answer == "closed" for o in outcomes)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"closed {closed} of {len(outcomes)}; total {time.monotonic() - total:.1f} s; "
          f"peak memory {peak:.0f} MiB")


def slice_table(step: GroundedStep, g: Group, timeout: float) -> None:
    """One row per changed conjunct of ``g``, slice, grounding level and solver."""
    print(f"{groundstep.action_name(g)}:")
    print("| conjunct | slice | conjuncts | grounded | level | solver | answer | seconds |")
    print("| --- | --- | ---: | ---: | --- | --- | --- | ---: |")
    zero = [z3.BitVecVal(0, step.t.bits)]
    for name, part in step.changed(g):
        query = [g.domain(), g.ex.enabled, z3.Not(ground(part, [], asserted=False)[0])]
        for label, chosen, premise in step.slices(query):
            pools = step.slice_pools(premise, query)
            began = time.monotonic()
            once = step.grounded(premise, zero, pools, None)
            levels = {"one": (once, time.monotonic() - began)}
            began = time.monotonic()
            levels["two"] = (step.deeper(premise, zero, pools, once, None),
                             time.monotonic() - began)
            for level, (grounded, spent) in levels.items():
                for solver_name, make in (("array", new_array_solver), ("default", z3.Solver)):
                    solver = make()
                    solver.add(grounded, *query)
                    solver.set("timeout", int(timeout * 1000))
                    began = time.monotonic()
                    answer = solver.check()
                    print(f"| {name} | {label} | {len(chosen)} | {spent:.1f} | {level} "
                          f"| {solver_name} | {answer} | {time.monotonic() - began:.1f} |",
                          flush=True)


if __name__ == "__main__":
    main()
