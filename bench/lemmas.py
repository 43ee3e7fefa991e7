"""k-induction's step case with the data path's lemmas, three ways, per ring size.

On v3.1's data path (``--max-backend-changes 0 --release no --send-failures 0``) at
each ring size (default 1 2 4), the invariant ``no-double-use and memory-safe and the
six lemmas of specs/datapath_invariant.py and safe`` is shown closed under the step:

1. ``whole``: one query over the whole transition relation (what ``kind`` asked at
   k = 1 before 2026-12-02; :func:`checker.engines.symbolic.recheck.consecution` asks
   one per instance with the selector fixed, on threads: ``--with-recheck``);
2. ``local-1``: :func:`checker.engines.symbolic.localstep.broken_step` on one thread
   (one query per instance, only the conjuncts the instance can change);
3. ``local``: the same on its default threads (what ``kind`` does now).

Each prints the seconds the check took, the slowest instance's seconds (``local-1``),
and the peak memory of this process so far (``ru_maxrss``).  ``--skip-whole`` leaves
out the first (153 s at ring size 4).  ``--counted`` times the same ways again with
``dp-heads`` and ``dp-window`` written as counts (bench/counted_lemmas.py, the spec's
text until 2026-12-02).  No assertions: numbers only; run it with the other cores idle.

    .venv/bin/python bench/lemmas.py
    .venv/bin/python bench/lemmas.py --ring-sizes 4 --skip-whole --counted
    .venv/bin/python bench/lemmas.py --ring-sizes 8 --signal-loop iteration --skip-whole
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

from checker.engines.symbolic import localstep, recheck
from checker.engines.symbolic.bounded import new_solver
from checker.engines.symbolic.unroll import StepTemplate
from checker.engines.symbolic.validity import type_ranges
from checker.runs.catalog import select_properties
from models.v3_1 import V3_1
from models.v9.state import SIGNAL_LOOP_CALL, SIGNAL_LOOPS

SPEC = str(ROOT / "specs" / "datapath_invariant.py")
COUNTED = str(ROOT / "bench" / "counted_lemmas.py")
NAMES = ["no-double-use", "memory-safe", "dp-environment", "dp-worker", "dp-heads",
         "dp-window", "dp-skbs", "dp-count"]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def whole_step(t: StepTemplate, terms: list[z3.BoolRef]) -> bool:
    """One query: a typed state satisfying every term, any step, a successor that
    breaks one."""
    inv = z3.And(*terms)
    solver = new_solver()
    solver.add(*type_ranges(t), inv, t.transition, t.sel != t.halt,
               z3.Not(z3.substitute(inv, *zip(t.cur, t.nxt))))
    return solver.check() == z3.unsat


def one_thread(t: StepTemplate, terms: list[z3.BoolRef]) -> tuple[bool, str, float]:
    """:func:`localstep.step_queries` one after the other; the slowest instance."""
    parts = localstep.conjuncts(terms)
    premise = z3.And(*type_ranges(t), *parts)
    closed, slowest, worst = True, "", 0.0
    for g, query in localstep.step_queries(t, parts):
        began = time.monotonic()
        solver = new_solver()
        solver.add(premise, query)
        closed = closed and solver.check() == z3.unsat
        took = time.monotonic() - began
        if took > worst:
            slowest, worst = g.instances[0].label, took
    return closed, slowest, worst


def run_way(name: str, t: StepTemplate, terms: list[z3.BoolRef]) -> tuple[bool, str, float]:
    """Whether ``terms`` are closed under the step, asked the way ``name`` says; the
    slowest instance and its seconds where the way times each."""
    if name == "whole":
        return whole_step(t, terms), "", 0.0
    if name == "recheck":
        return recheck.consecution(t, z3.And(*terms)), "", 0.0
    if name == "local-1":
        return one_thread(t, terms)
    return localstep.broken_step(t, terms) is None, "", 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-sizes", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--skip-whole", action="store_true")
    ap.add_argument("--signal-batch", type=int, default=0,
                    help="the model's --signal-batch (default: its own default, "
                         "min(UIO_MAXIOV, 32))")
    ap.add_argument("--signal-loop", choices=SIGNAL_LOOPS, default=SIGNAL_LOOP_CALL,
                    help="the model's --signal-loop (one step per call, or per turn of the loop)")
    ap.add_argument("--counted", action="store_true",
                    help="also time the lemmas with dp-heads and dp-window written as counts "
                         "(bench/counted_lemmas.py), as ways suffixed '(counted)'")
    ap.add_argument("--with-recheck", action="store_true",
                    help="also time recheck.consecution (pdr's per-instance re-check)")
    args = ap.parse_args()
    print("| ring | way | closed | seconds | slowest instance | peak MiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for ring in args.ring_sizes:
        model = V3_1({"ring_size": ring, "max_backend_changes": 0, "release": "no",
                      "send_failures": 0, "signal_loop": args.signal_loop,
                      **({"signal_batch": args.signal_batch} if args.signal_batch else {})})
        began = time.monotonic()
        t = StepTemplate(model, True)
        terms = [t.holds(p) for p in select_properties(NAMES, [SPEC])] + [t.safe]
        print(f"| {ring} | (build the step and the terms) | | "
              f"{time.monotonic() - began:.1f} | | {peak_mib():.0f} |", flush=True)
        ways = ([] if args.skip_whole else ["whole"]) + (
            ["recheck"] if args.with_recheck else []) + ["local-1", "local"]
        sets = [("", terms)]
        if args.counted:
            counted = [n + "-counted" if n in ("dp-heads", "dp-window") else n for n in NAMES]
            sets.append((" (counted)", [t.holds(p) for p in select_properties(
                counted, [SPEC, COUNTED])] + [t.safe]))
        for suffix, chosen in sets:
            for name in ways:
                began = time.monotonic()
                closed, slowest, worst = run_way(name, t, chosen)
                where = f"{slowest} ({worst:.1f} s)" if slowest else ""
                print(f"| {ring} | {name}{suffix} | {closed} | {time.monotonic() - began:.1f} "
                      f"| {where} | {peak_mib():.0f} |", flush=True)

if __name__ == "__main__":
    main()
