"""Descriptor symmetry (--symmetry): states, states/s and wall time with and without it.

For each ring size (default 2 3), on a revision (default v3.1) in the data
path environment (no backend change, no release, no sendmsg failure) with
no-double-use and memory-safe, the dead-value reduction on: the explicit
engine with ``--symmetry`` and without, on a backend (default python), each
with its states, states/s, wall time (proofs included: run once to warm the
proof cache, or pass ``--cold`` to count them) and this process's peak
memory so far (``ru_maxrss``: run one configuration per process for clean
memory figures).  ``--uio-maxiov`` and ``--max-pend`` fix those constants
(the SPIN comparison of issue 11 uses 4 and 1); ``--time-limit`` bounds each
search (a cut search prints ``>``).

No assertions: numbers only.  The machine's load matters.

    .venv/bin/python bench/symmetry.py --ring-sizes 2 3 --uio-maxiov 4 --max-pend 1
    .venv/bin/python bench/symmetry.py --ring-sizes 4 --backend compiled --no-plain
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.engines.base import EngineRequest, Limits
from checker.engines.explicit.engine import ENGINE
from checker.runs.catalog import load_revision, select_properties

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
PROPERTIES = ("no-double-use", "memory-safe")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--revision", default="v3.1")
    parser.add_argument("--ring-sizes", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--uio-maxiov", type=int, default=None)
    parser.add_argument("--max-pend", type=int, default=None)
    parser.add_argument("--backend", default="python", choices=("python", "compiled"))
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--no-plain", action="store_true", help="skip the run without symmetry")
    parser.add_argument("--cold", action="store_true", help="a fresh proof cache")
    args = parser.parse_args()
    if args.cold:
        os.environ["VHOSTMC_CACHE"] = tempfile.mkdtemp(prefix="vhostmc-bench-")
    props = select_properties(PROPERTIES, ())
    extra = {k: v for k, v in (("uio_maxiov", args.uio_maxiov), ("max_pend", args.max_pend))
             if v is not None}
    print("| revision | ring | constants | backend | symmetry | states | states/s | wall s "
          "| peak MiB | verdicts |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for ring in args.ring_sizes:
        for symmetry in [True] + ([] if args.no_plain else [False]):
            model = load_revision(args.revision)({"ring_size": ring, **DATAPATH, **extra})
            start = time.monotonic()
            result = ENGINE.run(EngineRequest(model, props, Limits(time_limit=args.time_limit),
                                              backend=args.backend, symmetry=symmetry))
            wall = time.monotonic() - start
            states = result.stats.states
            more = "" if result.complete else ">"
            on = "off"
            if result.symmetry is not None:
                on = "on" if result.symmetry.get("on") else f"off ({result.symmetry.get('why')})"
            constants = ", ".join(f"{k}={v}" for k, v in extra.items()) or "default"
            rate = states / result.stats.seconds if result.stats.seconds else 0.0
            verdicts = " ".join(f"{p.name}={p.status}" for p in result.properties)
            print(f"| {args.revision} | {ring} | {constants} | {result.stats.backend} | {on} | "
                  f"{more}{states:,} | {rate:,.0f} | {wall:.1f} | {peak_mb():,.0f} | "
                  f"{verdicts} |", flush=True)


if __name__ == "__main__":
    main()
