"""Explicit-explorer throughput: the interpreted model against the compiled step functions.

For each ring size, explores the v9 model by BFS once with each engine and
prints distinct states, transitions, states per second, wall time and peak
memory, then the compiled/interpreted ratio.  The only property checked is
``true``, so a run stops at exhaustion or at the time limit.

Each run is a fresh child process, so its peak memory is its own: the
child's ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (peak resident set
size, Python interpreter and imports included).

    .venv/bin/python bench/explore.py --ring-sizes 1 2 3 --time-limit 60
    .venv/bin/python bench/explore.py --max-states 100000   # the same states for both
    .venv/bin/python bench/explore.py --ring-sizes 1 --param max_backend_changes=0 \\
        --param release=no --param send_failures=0
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

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("interpreted", "compiled")


def run_one(
    engine: str, params: dict[str, Any], time_limit: float, max_states: int | None = None
) -> dict[str, Any]:
    """Explore ``V9(params)`` with one engine in this process; the measurements."""
    sys.path.insert(0, str(ROOT))
    from checker.engines.base import Limits
    from checker.engines.explicit.search import ExplicitChecker
    from checker.lang.spec import Property
    from checker.semantics.compiled import compiled
    from checker.semantics.states import use_compiled
    from models.v9 import V9

    model = V9(params)
    use_compiled(model, engine == "compiled")
    compile_s = 0.0
    if engine == "compiled":
        start = time.perf_counter()
        compiled(model)
        compile_s = time.perf_counter() - start
    always = Property("true", "always holds", lambda s: True)
    start = time.perf_counter()
    limits = Limits(max_states=max_states, time_limit=time_limit)
    result = ExplicitChecker(model, [always], limits=limits).run()
    wall = time.perf_counter() - start
    return {
        "states": result.stats.states,
        "transitions": result.stats.transitions,
        "wall": wall,
        "compile": compile_s,
        "complete": result.complete,
        "bounds": result.bounds_hit,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def run_child(
    engine: str, params: dict[str, Any], time_limit: float, max_states: int | None
) -> dict[str, Any]:
    """:func:`run_one` in a fresh Python process (so peak memory is per run)."""
    spec = json.dumps({"engine": engine, "params": params, "time_limit": time_limit,
                       "max_states": max_states})
    out = subprocess.run(
        [sys.executable, __file__, "--child", spec],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def parse_param(text: str) -> tuple[str, Any]:
    """``name=value``; the value is an int when it looks like one."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--param wants name=value, not '{text}'")
    return name.replace("-", "_"), int(value) if value.lstrip("-").isdigit() else value


def report(ring: int, engine: str, r: dict[str, Any]) -> None:
    rate = r["states"] / r["wall"] if r["wall"] else 0.0
    done = "complete" if r["complete"] else "cut by " + ", ".join(r["bounds"])
    print(
        f"{ring:>4} {engine:<12} {r['states']:>10,} {r['transitions']:>12,} {rate:>10,.0f} "
        f"{r['wall']:>8.1f} {r['compile']:>8.2f} {r['peak_rss_kib'] / 1024:>9.1f}  {done}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the benchmark (or, with --child, one run)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ring-sizes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--max-states", type=int, default=None,
                        help="stop each run at this many states (same work for both engines)")
    parser.add_argument("--param", type=parse_param, action="append", default=[],
                        metavar="NAME=VALUE", help="a v9 model parameter (repeatable)")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(run_one(spec["engine"], spec["params"], spec["time_limit"],
                                 spec["max_states"])))
        return
    extra = dict(args.param)
    cap = f", at most {args.max_states:,} states" if args.max_states else ""
    print(f"v9 {extra or ''} time limit {args.time_limit:g}s per run{cap}; peak memory is the "
          "run's own process, ru_maxrss (peak RSS)")
    print(f"{'ring':>4} {'engine':<12} {'states':>10} {'transitions':>12} {'states/s':>10} "
          f"{'wall s':>8} {'compile':>8} {'peak MiB':>9}")
    for ring in args.ring_sizes:
        rates = {}
        for engine in args.engines:
            r = run_child(engine, {**extra, "ring_size": ring}, args.time_limit,
                          args.max_states)
            report(ring, engine, r)
            rates[engine] = r["states"] / r["wall"] if r["wall"] else 0.0
        if len(rates) == 2 and rates["interpreted"]:
            print(f"{ring:>4} compiled/interpreted states/s: "
                  f"{rates['compiled'] / rates['interpreted']:.1f}x", flush=True)


if __name__ == "__main__":
    main()
