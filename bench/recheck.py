"""pdr's re-check: the consecution of the explored-classes invariant, three ways.

On v3.1 at one ring size (default 2) in one environment (default ``datapath``;
``release`` and ``sendfail`` complete at ring 2 too), the exploration pdr runs,
the class diagram, then the time of its consecution check:

1. one query over every step (the check before 2026-12-02);
2. one query per action instance, on one thread;
3. the same on ``--threads`` threads (default 2): what
   :func:`checker.engines.symbolic.recheck.consecution` does.

Each prints its wall time and the peak memory of this process so far
(``ru_maxrss``).  No assertions: numbers only.  The machine's load matters
(run it with the other cores idle).

    .venv/bin/python bench/recheck.py
    .venv/bin/python bench/recheck.py --env release
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

from checker.engines.symbolic import pdr, recheck
from checker.engines.symbolic.bounded import new_solver
from checker.engines.symbolic.deadproof import CanonEncoding
from checker.engines.symbolic.explored import class_diagram, diagram_term
from checker.engines.symbolic.mining import explore
from checker.engines.symbolic.reachable import Reachable
from checker.engines.symbolic.unroll import StepTemplate
from checker.engines.symbolic.validity import type_ranges
from checker.runs.environments import ENVIRONMENTS
from models.v3_1 import V3_1


def one_query(t: StepTemplate, inv: z3.BoolRef) -> bool:
    """Consecution as a single query over every step (the former check)."""
    solver = new_solver()
    solver.add(*type_ranges(t), inv, t.transition, t.sel != t.halt)
    solver.add(z3.Not(z3.substitute(inv, *zip(t.cur, t.nxt))))
    return solver.check() == z3.unsat


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--env", default="datapath", choices=sorted(ENVIRONMENTS))
    ap.add_argument("--ring-size", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    model = V3_1({**ENVIRONMENTS[args.env].switches, "ring_size": args.ring_size})
    start = time.monotonic()
    t = StepTemplate(model, True, None)
    explored = explore(model, pdr.exploration_budget(model), None, key=pdr._class_key(model))
    if not explored.complete:
        sys.exit(f"the exploration of {args.env} at ring {args.ring_size} is not complete")
    rows = Reachable(t, explored).rows
    d = class_diagram(rows)
    inv = diagram_term(d, t, CanonEncoding(model, t).canon_flat)
    print(f"v3.1 {args.env}, ring {args.ring_size}: {d.classes} classes, {len(d.nodes)} nodes, "
          f"{len(t.groups)} action instances; explored and built in "
          f"{time.monotonic() - start:.1f} s")
    print("| consecution | holds | wall s | peak MiB |")
    print("|---|---|---|---|")

    def per_instance(threads: int) -> bool:
        recheck.CONSECUTION_THREADS = threads
        return recheck.consecution(t, inv)

    runs = [("one query", lambda: one_query(t, inv)),
            ("per instance, 1 thread", lambda: per_instance(1)),
            (f"per instance, {args.threads} threads", lambda: per_instance(args.threads))]
    for name, fn in runs:
        began = time.monotonic()
        ok = fn()
        print(f"| {name} | {ok} | {time.monotonic() - began:.1f} | {peak_mib():.0f} |",
              flush=True)


if __name__ == "__main__":
    main()
