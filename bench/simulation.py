"""Random simulation (``--engine simulate``): steps per second, and how long each of v9's
invariant violations takes to turn up, at small rings and at the kernel's constants.

For each configuration and each invariant, one child process runs the walks for that
invariant alone (a run stops once its invariants are violated, so the wall time is the
time to the violation) and prints the verdict, the trace length, the walks and steps
it took, steps per second, wall time and peak memory (the child's ``ru_maxrss``).

    .venv/bin/python bench/simulation.py                       # ring 2 and ring 256
    .venv/bin/python bench/simulation.py --configs 256 --walks 20 --depth 3000 --seed 1
    .venv/bin/python bench/simulation.py --configs 2 --param release=no
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from explore import parse_param  # bench/explore.py, beside this script

ROOT = Path(__file__).resolve().parent.parent
KERNEL = {"uio_maxiov": 1024, "max_pend": 128}
"""The kernel's constants, used with ring size 256."""


def run_one(params: dict[str, Any], prop_name: str, walks: int, depth: int, seed: int,
            time_limit: float) -> dict[str, Any]:
    """Walk ``V9(params)`` for one invariant in this process; the measurements."""
    sys.path.insert(0, str(ROOT))
    from checker.engines.base import EngineRequest, Limits
    from checker.engines.simulation import run_simulation
    from checker.lang.spec import properties_in
    from checker.semantics.states import compiles
    from models.v9 import V9
    from specs import zerocopy

    model = V9(params)
    [prop] = [p for p in properties_in(zerocopy) if p.name == prop_name]
    request = EngineRequest(model, [prop], Limits(time_limit=time_limit))
    start = time.perf_counter()
    run = run_simulation(model, [prop], request, walks, depth, seed)
    wall = time.perf_counter() - start
    (res,) = run.properties
    return {"status": res.status, "length": len(res.trace) if res.trace else None,
            "walks": run.stats.states, "steps": run.stats.transitions, "wall": wall,
            "compiled": compiles(model), "bounds": run.bounds_hit,
            "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """:func:`run_one` in a fresh Python process (so peak memory is per run)."""
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the benchmark (or, with --child, one run)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", type=int, nargs="+", default=[2, 256],
                        help="ring sizes; 256 runs with the kernel's constants")
    parser.add_argument("--properties", nargs="+",
                        default=["memory-safe", "no-stuck-waiter", "no-quiescent-leak",
                                 "no-double-use"])
    parser.add_argument("--walks", type=int, default=100)
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--param", type=parse_param, action="append", default=[],
                        metavar="NAME=VALUE", help="a v9 model parameter (repeatable)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(run_one(**spec)))
        return
    print(f"v9 {dict(args.param) or ''} {args.walks} walks of at most {args.depth} steps, "
          f"seed {args.seed}, time limit {args.time_limit:g}s per run; peak memory is the "
          "run's own process, ru_maxrss (peak RSS)")
    print(f"{'ring':>4} {'property':<18} {'verdict':<12} {'steps':>6} {'walks':>6} "
          f"{'taken':>9} {'steps/s':>9} {'wall s':>7} {'peak MiB':>9}  stepper")
    for ring in args.configs:
        params = {**dict(args.param), "ring_size": ring, **(KERNEL if ring == 256 else {})}
        for name in args.properties:
            r = run_child({"params": params, "prop_name": name, "walks": args.walks,
                           "depth": args.depth, "seed": args.seed,
                           "time_limit": args.time_limit})
            rate = r["steps"] / r["wall"] if r["wall"] else 0.0
            length = "-" if r["length"] is None else str(r["length"])
            cut = "" if r["status"] == "violated" else "  " + ", ".join(r["bounds"])
            print(f"{ring:>4} {name:<18} {r['status']:<12} {length:>6} {r['walks']:>6} "
                  f"{r['steps']:>9,} {rate:>9,.0f} {r['wall']:>7.2f} "
                  f"{r['peak_rss_kib'] / 1024:>9.1f}  "
                  f"{'compiled' if r['compiled'] else 'interpreted'}{cut}", flush=True)


if __name__ == "__main__":
    main()
