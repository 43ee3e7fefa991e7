"""What liveness checking costs the explicit explorer.

For each configuration, three complete BFS runs in fresh child processes:

* ``invariant``: the ``true`` invariant only (the explorer as before);
* ``graph``: the same, keeping every state's edges (``record_graph``);
* ``liveness``: ``no-leak`` and ``put-and-wait-terminates`` (the graph, the
  per-state premise/goal flags and the fair-SCC analyses at each doubling).

It prints states, states per second, wall time and peak memory (the child's
``ru_maxrss``), then each run's wall time and memory as ratios to
``invariant`` taken in the same invocation (the machine is shared: compare
ratios, not seconds).  The default configurations are ones where both
liveness properties hold, so every run explores the whole graph.

    .venv/bin/python bench/liveness.py
    .venv/bin/python bench/liveness.py --config v3.1:ring_size=1,max_backend_changes=0

``--grid``: the compiled backend against the Python one on the liveness grid
(the cells of ``results/regenerate.sh liveness``: revision x environment x
fairness preset of ``checker/runs/fairness.py``, its four properties) at ``--ring-size`` (default 2), each cell and backend in a fresh
child process through the engine (dead-value reduction as decided, as ``vhostmc
check`` runs it), cut at ``--time-limit`` seconds.  Per run: states, states/s,
states/s over the search (exploration and fair-cycle analyses), bytes per
state (compiled: the visited table and the state graph with the analysis's
arrays), search and wall time (wall: process work included, numba's cache
load, the reduction proof from its cache), peak RSS; and whether both
backends' verdicts and lasso lengths agree.  A warm-up run per cell (unless
``--cold``) first fills numba's cache and the proof cache.

    .venv/bin/python bench/liveness.py --grid --envs datapath --fairness default,keeps-posting
    .venv/bin/python bench/liveness.py --grid --backends compiled   # every cell, compiled only
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
MODES = ("invariant", "graph", "liveness")
DATAPATH = "max_backend_changes=0,release=no,send_failures=0"
CONFIGS = (
    f"v3.1:ring_size=1,{DATAPATH}",
    "v3.1:ring_size=1,max_backend_changes=0,release=no",
    f"v9:ring_size=1,{DATAPATH},initial_backend=copy",
)


def parse_config(text: str) -> tuple[str, dict[str, Any]]:
    revision, _, rest = text.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, _, value = item.partition("=")
        params[key] = int(value) if value.lstrip("-").isdigit() else value
    return revision, params


def run_one(mode: str, config: str) -> dict[str, Any]:
    """One complete run in this process; its measurements."""
    sys.path.insert(0, str(ROOT))
    from checker.engines.explicit.search import ExplicitChecker
    from checker.lang.spec import Property
    from checker.runs.catalog import load_revision, select_properties

    revision, params = parse_config(config)
    model = load_revision(revision)(params)
    props = [Property("true", "always holds", lambda s: True)]
    if mode == "liveness":
        props += select_properties(["no-leak", "put-and-wait-terminates"])
    start = time.perf_counter()
    result = ExplicitChecker(model, props, record_graph=mode == "graph").run()
    wall = time.perf_counter() - start
    return {
        "states": result.stats.states,
        "complete": result.complete,
        "verdicts": {p.name: p.status for p in result.properties},
        "wall": wall,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


GRID_PROPERTIES = ("no-leak", "no-quiescent-leak", "put-and-wait-terminates", "no-stuck-waiter")


def run_cell(backend: str, cell: str) -> dict[str, Any]:
    """One grid cell ``revision:ring:env:fairness:time_limit`` on ``backend``, in this process."""
    sys.path.insert(0, str(ROOT))
    from checker.engines.base import EngineRequest, Limits
    from checker.engines.explicit.engine import ENGINE
    from checker.runs.catalog import load_revision, select_properties
    from checker.runs.environments import get_environment
    from checker.runs.fairness import get_fairness

    revision, ring, env, fair, limit = cell.split(":")
    params = {**get_environment(env).switches, **get_fairness(fair).switches,
              "ring_size": int(ring)}
    model = load_revision(revision)(params)
    start = time.perf_counter()
    result = ENGINE.run(EngineRequest(model, select_properties(list(GRID_PROPERTIES)),
                                      backend=backend, limits=Limits(time_limit=float(limit))))
    wall = time.perf_counter() - start
    return {
        "states": result.stats.states,
        "backend": result.stats.backend,
        "complete": result.complete,
        "bytes": result.stats.table_bytes,
        "verdicts": {p.name: [p.status, None if p.trace is None else len(p.trace),
                              None if p.trace is None else p.trace.loop]
                     for p in result.properties},
        "wall": wall,
        "search": result.stats.seconds,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def verdict_text(verdicts: dict[str, list[Any]]) -> str:
    """``V14s H I ...``: violated (lasso length, s = stutter), holds, inconclusive, in the
    order of :data:`GRID_PROPERTIES`."""
    out = []
    for name in GRID_PROPERTIES:
        status, length, loop = verdicts[name]
        if status == "violated":
            out.append(f"V{length}" + ("s" if loop == length else ""))
        else:
            out.append(status[0].upper())
    return " ".join(out)


def grid(args: argparse.Namespace) -> None:
    """Print the compiled-vs-python table of the liveness grid (see the module docstring)."""
    sys.path.insert(0, str(ROOT))
    from checker.runs.environments import ENVIRONMENTS
    from checker.runs.fairness import FAIRNESS_PRESETS

    envs = args.envs.split(",") if args.envs else list(ENVIRONMENTS)
    fairs = args.fairness.split(",") if args.fairness else list(FAIRNESS_PRESETS)
    backends = args.backends.split(",")
    print(f"liveness grid at ring size {args.ring_size}, time limit {args.time_limit:g}s, "
          f"properties {', '.join(GRID_PROPERTIES)}")
    print("| revision | env | fairness | backend | states | states/s | B/state | search s "
          "| wall s | peak MiB | verdicts | agree |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for rev in args.revisions.split(","):
        for env in envs:
            for fair in fairs:
                cell = f"{rev}:{args.ring_size}:{env}:{fair}:{args.time_limit}"
                runs = {}
                if not args.cold:  # numba's compile and the reduction proof, cached once
                    subprocess.run([sys.executable, __file__, "--cell", "compiled", cell],
                                   capture_output=True, text=True, check=True)
                for backend in backends:
                    out = subprocess.run([sys.executable, __file__, "--cell", backend, cell],
                                         capture_output=True, text=True, check=True)
                    runs[backend] = json.loads(out.stdout)
                decided = [r for r in runs.values() if not any(
                    v[0] == "inconclusive" for v in r["verdicts"].values())]
                agree = ("yes" if all(r["verdicts"] == decided[0]["verdicts"] for r in decided)
                         else "NO") if len(decided) == len(runs) > 1 else "-"
                for backend, r in runs.items():
                    bps = f"{r['bytes'] / max(1, r['states']):.0f}" if r["bytes"] else "-"
                    print(f"| {rev} | {env} | {fair} | {backend} | {r['states']} "
                          f"| {r['states'] / max(r['search'], 1e-9):.0f} | {bps} "
                          f"| {r['search']:.1f} | {r['wall']:.1f} "
                          f"| {r['peak_mib']:.0f} | {verdict_text(r['verdicts'])} | {agree} |",
                          flush=True)


def measure(mode: str, config: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--child", mode, config],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", action="append", metavar="REV:k=v,...",
                    help="a revision and its parameters (repeatable)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--cell", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--grid", action="store_true",
                    help="compiled against python on the liveness grid (see above)")
    ap.add_argument("--ring-size", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=600)
    ap.add_argument("--revisions", default="v9,v3.1")
    ap.add_argument("--envs", default="", help="environment presets (default: all)")
    ap.add_argument("--fairness", default="", help="fairness presets (checker/runs/fairness.py; default: all)")
    ap.add_argument("--backends", default="compiled,python")
    ap.add_argument("--cold", action="store_true",
                    help="no warm-up run: wall time includes numba's compile and the proof")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(*args.child)))
        return
    if args.cell:
        print(json.dumps(run_cell(*args.cell)))
        return
    if args.grid:
        grid(args)
        return
    for config in args.config or CONFIGS:
        runs = {mode: measure(mode, config) for mode in MODES}
        base = runs["invariant"]
        print(config)
        for mode, r in runs.items():
            print(f"  {mode:<10} {r['states']:>8} states  {r['states'] / r['wall']:>8.0f} states/s"
                  f"  {r['wall']:>6.1f} s  {r['peak_mib']:>6.0f} MiB peak"
                  f"  x{r['wall'] / base['wall']:.2f} time  x{r['peak_mib'] / base['peak_mib']:.2f}"
                  f" memory  complete={r['complete']}")
        print(f"  liveness verdicts: {runs['liveness']['verdicts']}")


if __name__ == "__main__":
    main()
