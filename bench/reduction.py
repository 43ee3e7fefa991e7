"""Dead-value reduction: states with and without it, and the cost of its Z3 proof.

For each ring size (default 1 2), on a revision (default v3.1) in the data
path environment (no backend change, no release, no sendmsg failure) with
no-double-use and memory-safe: the proof's queries and wall time, then the
explicit BFS with the reduction (canonical states) and without, each with
its states, states/s, wall time and the peak memory of this process so far
(``ru_maxrss``, so run one ring size per process for clean memory
figures).  ``--max-states`` bounds each search (a cut search prints ``>``).

No assertions: numbers only.  The machine's load matters.

    .venv/bin/python bench/reduction.py
    .venv/bin/python bench/reduction.py --ring-sizes 2 --max-states 2000000 --no-full
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.engines.base import Limits
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic.deadproof import prove
from checker.runs.catalog import load_revision, select_properties
from checker.semantics.canon import canonicalizer

DATAPATH = {"max_backend_changes": 0, "release": "no", "send_failures": 0}
PROPERTIES = ("no-double-use", "memory-safe")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--revision", default="v3.1")
    parser.add_argument("--ring-sizes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--max-states", type=int, default=None)
    parser.add_argument("--no-full", action="store_true", help="skip the unreduced search")
    args = parser.parse_args()
    props = select_properties(PROPERTIES, ())
    for ring in args.ring_sizes:
        model = load_revision(args.revision)({"ring_size": ring, **DATAPATH})
        start = time.monotonic()
        proof = prove(model, props)
        print(f"{args.revision} ring {ring}: proof {'passed' if proof.passed else 'FAILED'}, "
              f"{proof.queries} queries, {time.monotonic() - start:.1f}s", flush=True)
        runs = [("reduced", canonicalizer(model))] + ([] if args.no_full else [("full", None)])
        for label, canon in runs:
            start = time.monotonic()
            result = ExplicitChecker(model, props, limits=Limits(max_states=args.max_states),
                                     canon=canon).run()
            wall = time.monotonic() - start
            cut = "" if result.complete else ">"
            print(f"  {label:8} {cut}{result.stats.states} states, "
                  f"{result.stats.states / wall:,.0f} states/s, {wall:.1f}s, "
                  f"peak {peak_mb():.0f} MB", flush=True)


if __name__ == "__main__":
    main()
