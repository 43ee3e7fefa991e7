"""One worker against two: the compiled explorer on the v3.1 ring-2 data path.

Runs 1, 2, 1, 2 workers (the order evens out a noisy shared machine) with no
reduction, cut at ``--max-states`` (default 5 M), and prints per run: states,
transitions, wall and CPU seconds, states/s and the process's peak resident
memory; then the best states/s of each worker count and their ratio.  The two
runs of a pair must agree on states and transitions (they do by construction:
the parallel loop numbers states as the sequential one); the script exits 1 if
they do not.  The first call compiles the model (minutes on a cold cache).

    .venv/bin/python bench/compiled_workers.py [--max-states N] [--ring-size R] [--chunk C]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from checker.engines.base import Limits
from checker.engines.explicit.compiled.search import DEFAULT_CHUNK, CompiledChecker
from checker.runs.catalog import load_revision, select_properties


def main() -> int:
    """Run the comparison and print the table; 1 if two runs disagree on the counts."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-states", type=int, default=5_000_000)
    ap.add_argument("--ring-size", type=int, default=2)
    ap.add_argument("--chunk", type=int, default=DEFAULT_CHUNK)
    ap.add_argument("--order", default="1,2,1,2", help="worker counts, in run order")
    args = ap.parse_args()
    model = load_revision("v3.1")({"ring_size": args.ring_size, "max_backend_changes": 0,
                                   "release": "no", "send_failures": 0})
    props = select_properties(["no-double-use", "memory-safe"])
    for w in (1, 2):  # compile both loops first
        CompiledChecker(model, props, Limits(max_states=10), workers=w).run()
    print(f"v3.1 ring {args.ring_size} datapath, no reduction, max {args.max_states} states, "
          f"chunk {args.chunk}")
    print(f"{'workers':>7} {'states':>10} {'transitions':>12} {'wall s':>7} {'cpu s':>7} "
          f"{'states/s':>10} {'peak MiB':>8}")
    best: dict[int, float] = {}
    counts: set[tuple[int, int]] = set()
    for w in (int(x) for x in args.order.split(",")):
        wall, cpu = time.perf_counter(), time.process_time()
        res = CompiledChecker(model, props, Limits(max_states=args.max_states), workers=w,
                              chunk=args.chunk).run()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rate = res.stats.states / wall
        best[w] = max(best.get(w, 0.0), rate)
        counts.add((res.stats.states, res.stats.transitions))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{w:>7} {res.stats.states:>10} {res.stats.transitions:>12} {wall:>7.2f} "
              f"{cpu:>7.2f} {rate:>10.0f} {peak:>8.0f}", flush=True)
    for w, rate in sorted(best.items()):
        print(f"best states/s with {w} worker{'s' if w > 1 else ''}: {rate:.0f}")
    if 1 in best and 2 in best:
        print(f"ratio 2 workers / 1 worker: {best[2] / best[1]:.2f}x")
    if len(counts) != 1:
        print(f"runs disagree on (states, transitions): {sorted(counts)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
