"""The compiled explicit backend against the Python explorer on the v3.1 data path.

For each ring size and backend, one fresh child process runs the datapath
question (``--max-backend-changes 0 --release no --send-failures 0``,
properties no-double-use and memory-safe) through the explicit engine and
reports states, states/s, bytes per state, wall time and peak RSS, with the
dead-value reduction on (canonical states, as ``vhostmc check`` explores by
default) and off (``--no-reduction``).  The reduction's Z3 proof is decided
(or read from the cache) before the clock starts; its time is printed as
"proof".  Before the
compiled runs, a warm-up child compiles the code of each ring size into the
cache (its time is printed as "cold compile"), so the table's compiled wall
time is from a warm cache, generation and loading included.

``states/s`` is states over the exploring time (compiled: after generating
and loading the code); ``states/CPU-s`` is states over the child's CPU time
(all of it, code generation included), the fairer figure on a shared machine.  ``B/state``: compiled, the visited table (packed
states, parents, actions, hash index) over the states; python, peak RSS over
the states (an upper bound: the interpreter and imports are included).

    .venv/bin/python bench/compiled.py --ring-sizes 1 2 3 --time-limit 60
    .venv/bin/python bench/compiled.py --ring-sizes 1 2 3 4 --backends compiled \
        --guests linux rogue --reductions on off --time-limit 300 --memory-limit 6000
    .venv/bin/python bench/compiled.py --ring-sizes 2 3 --backends compiled \
        --reductions on --time-limit 300
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
PROPERTIES = ("no-double-use", "memory-safe")


def run_one(backend: str, ring: int, time_limit: float, memory_limit: int | None,
            warmup: bool, reduced: bool, guest: str = "linux") -> dict[str, Any]:
    """One run in this process; its measurements."""
    sys.path.insert(0, str(ROOT))
    from checker.engines.base import Limits
    from checker.engines.explicit.compiled.flatcanon import flat_canon_source
    from checker.engines.explicit.compiled.layout import layout_of
    from checker.engines.explicit.compiled.search import CompiledChecker
    from checker.engines.explicit.search import ExplicitChecker
    from checker.engines.reduction import decide
    from checker.runs.catalog import load_revision, select_properties

    model = load_revision("v3.1")({"ring_size": ring, "guest": guest, **DATAPATH})
    props = select_properties(list(PROPERTIES))
    t0 = time.perf_counter()
    reduction = decide(model, props, reduced)
    proof = time.perf_counter() - t0
    if reduced and reduction.canon is None:
        raise SystemExit(f"the reduction is off: {reduction.info.get('why')}")
    limits = Limits(time_limit=time_limit, memory_limit=memory_limit,
                    max_states=1 if warmup else None)
    start = time.perf_counter()
    cpu0 = time.process_time()
    build = 0.0
    if backend == "compiled":
        canon = flat_canon_source(model, layout_of(model)) if reduced else None
        checker = CompiledChecker(model, props, limits, canon=canon)
        result = checker.run()
        build = checker.build_seconds
    else:
        result = ExplicitChecker(model, props, limits=limits, canon=reduction.canon).run()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    return {
        "proof": proof,
        "cpu": cpu,
        "states": result.stats.states,
        "transitions": result.stats.transitions,
        "wall": wall,
        "explore": wall - build,
        "table_bytes": result.stats.table_bytes,
        "complete": result.complete,
        "verdicts": [p.status for p in result.properties],
        "bounds": result.bounds_hit,
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


def child(backend: str, ring: int, time_limit: float, memory_limit: int | None,
          reduced: bool, guest: str, warmup: bool = False) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", backend, str(ring), str(time_limit),
            str(memory_limit or 0), "1" if warmup else "0", "1" if reduced else "0", guest]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        backend, ring, limit, mem, warm, reduced, guest = sys.argv[2:9]
        print(json.dumps(run_one(backend, int(ring), float(limit), int(mem) or None,
                                 warm == "1", reduced == "1", guest)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-sizes", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--time-limit", type=float, default=60.0,
                    help="per run (the python backend is cut there)")
    ap.add_argument("--compiled-time-limit", type=float, default=None,
                    help="per compiled run (default: --time-limit)")
    ap.add_argument("--memory-limit", type=int, default=None,
                    help="MiB, as vhostmc check --memory-limit (default: 60%% of RAM)")
    ap.add_argument("--backends", nargs="+", default=["python", "compiled"])
    ap.add_argument("--reductions", nargs="+", choices=["on", "off"], default=["on", "off"],
                    help="dead-value reduction on (canonical states) and/or off")
    ap.add_argument("--guests", nargs="+", choices=["linux", "rogue"], default=["linux"],
                    help="the guest environment (--guest): linux (default) and/or rogue")
    args = ap.parse_args()
    rows = []
    for ring, guest, reduction in itertools.product(args.ring_sizes, args.guests,
                                                    args.reductions):
        reduced = reduction == "on"
        if "compiled" in args.backends:
            t0 = time.perf_counter()
            warmed = child("compiled", ring, 3600, args.memory_limit, reduced, guest,
                         warmup=True)
            print(f"ring {ring} {guest} reduction {reduction}: proof {warmed['proof']:.1f}s, cold "
                  f"compile (or cache load) {time.perf_counter() - t0:.1f}s", flush=True)
        for backend in args.backends:
            limit = args.time_limit
            if backend == "compiled" and args.compiled_time_limit is not None:
                limit = args.compiled_time_limit
            r = child(backend, ring, limit, args.memory_limit, reduced, guest)
            per_state = (r["table_bytes"] if backend == "compiled" else r["peak_rss"]) \
                / max(1, r["states"])
            rows.append((ring, guest, backend, reduction, r, per_state))
            print(f"ring {ring} {guest} {backend} reduction {reduction}: {r['states']} states, "
                  f"{r['wall']:.1f}s", flush=True)
    print()
    print("| ring | guest | backend | reduction | result | states | transitions | states/s "
          "| states/CPU-s | B/state | wall s | CPU s | peak RSS MiB |")
    print("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for ring, guest, backend, reduction, r, per_state in rows:
        result = "complete" if r["complete"] else "cut: " + ", ".join(r["bounds"])
        rate = r["states"] / r["explore"] if r["explore"] > 0 else 0
        per_cpu = r["states"] / r["cpu"] if r["cpu"] > 0 else 0
        print(f"| {ring} | {guest} | {backend} | {reduction} | {result} {'/'.join(r['verdicts'])} | {r['states']:,} "
              f"| {r['transitions']:,} | {rate:,.0f} | {per_cpu:,.0f} | {per_state:,.0f} "
              f"| {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak_rss'] / 2**20:,.0f} |")


if __name__ == "__main__":
    main()
