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
    args = ap.parse_args()
    if args.child:
        print(json.dumps(run_one(*args.child)))
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
