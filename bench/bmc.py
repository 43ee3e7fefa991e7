"""BMC throughput on the v9 model, next to the explicit engine.

Two tables, both engines run in this process:

1. *Depth reached*: for each ring size (default 2, 4, 8, 16; other
   parameters at their defaults), BMC with the four v9 properties and an
   always-true one (so the run only ends at the time budget) reports the
   deepest depth fully checked within the budget, the time spent building
   the symbolic step (running the model code on Z3 terms once), and the
   depth and time at which each property was found violated.  Next to it,
   the explicit BFS with the same budget (and at most a million states):
   the depth of the deepest state it reached and the states it stored.
2. *Time to first counterexample*: at ring size 1, for each property, the
   explicit engine's BFS (that property alone) and BMC (that property
   alone, up to depth 64): length found and wall time of each.  With
   ``--cex-rings 1 256`` a BMC column per further ring size (256 runs at the
   kernel's constants, ``--uio-maxiov 1024 --max-pend 128`` by default).

3. *Data path* (``--datapath``): v3.1 with ``--max-backend-changes 0
   --release no --send-failures 0`` at each ring size (``--uio-maxiov`` and
   ``--max-pend`` as given, else the defaults), the no-double-use and
   memory-safe properties: time to build the step (stopped at the budget)
   and the BMC depth reached within the budget.  The issue's target is
   ``--datapath --ring-sizes 256 --uio-maxiov 1024 --max-pend 128``: depth 30
   in 60 s.
4. *Lifted* (``--lift-from N``): v9's six properties at each ``--ring-sizes`` (256
   with the kernel's constants), one BMC run to depth 1 that first lifts the explicit
   engine's counterexamples from ring size N (``vhostmc check --lift-from``;
   docs/engines.md, "Lifting"): each property's verdict or trace length and the
   seconds from the start until its lift ended.

``--layout arrays`` / ``--layout flat`` force BMC's state layout (model
arrays as Z3 arrays, :class:`checker.engines.symbolic.layout.ArrayLayout`, or
one constant per element); the default, ``auto``, is BMC's own choice
(:func:`checker.engines.symbolic.layout.bmc_uses_arrays`; docs/engines.md,
"Arrays").  ``--grouping off`` runs every action instance's body on its own
even with arrays (the default, ``auto``, is BMC's: one run per parameterised
action with the array layout, :mod:`checker.engines.symbolic.groups`).

No assertions: numbers only.  The machine's load matters (the solver is
single-threaded).

    .venv/bin/python bench/bmc.py                 # 60 s budget per ring size
    .venv/bin/python bench/bmc.py --budget 10 --ring-sizes 2 4
    .venv/bin/python bench/bmc.py --datapath --ring-sizes 1 8 --budget 60 --layout arrays
    .venv/bin/python bench/bmc.py --datapath --ring-sizes 8 --signal-loop iteration
    .venv/bin/python bench/bmc.py --skip-depth --cex-rings 1 256
    .venv/bin/python bench/bmc.py --lift-from 2 --ring-sizes 256 --budget 300
    .venv/bin/python bench/bmc.py --datapath --layout arrays --ring-sizes 256 \
        --uio-maxiov 1024 --max-pend 128 --grouping off
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.engines.base import Limits, Stats
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.symbolic.bmc import run_bmc
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.spec import Property, properties_in
from models.v9 import V9
from models.v9.state import SIGNAL_LOOPS
from specs import zerocopy

ALWAYS = Property("true", "always holds", lambda s: True)


ARRAYS: bool | None = None
"""``--layout``: BMC with the array layout (True), the flat one (False), its own choice (None)."""

GROUPED: bool | None = None
"""``--grouping``: ``None`` is BMC's choice (grouped with arrays), ``False`` never grouped."""


def depth_row(ring: int, budget: float) -> dict[str, Any]:
    """BMC on ring size ``ring`` for ``budget`` seconds: depth reached and findings."""
    model = V9({"ring_size": ring})
    start = time.perf_counter()
    StepTemplate(model, arrays=_arrays(model), grouped=_grouped(model))  # measured alone
    build = time.perf_counter() - start
    props = [*properties_in(zerocopy), ALWAYS]
    seen: dict[str, tuple[int, float]] = {}
    times: list[tuple[int, float]] = []

    def progress(stats: Stats) -> None:
        """Note when each depth was done."""
        times.append((stats.max_depth, stats.seconds))

    result = run_bmc(model, props, depth=10_000, progress=progress, time_limit=budget,
                     arrays=ARRAYS, grouped=GROUPED)
    for r in result.properties:
        if r.trace is not None:
            at = next((sec for d, sec in times if d >= len(r.trace)), result.stats.seconds)
            seen[r.name] = (len(r.trace), at)
    return {
        "ring": ring,
        "build": build,
        "depth": result.stats.max_depth,
        "seconds": result.stats.seconds,
        "found": seen,
    }


def bfs_row(ring: int, budget: float) -> tuple[int, int]:
    """Explicit BFS on ring size ``ring`` for ``budget`` seconds: (depth, states)."""
    model = V9({"ring_size": ring})
    props = [*properties_in(zerocopy), ALWAYS]
    limits = Limits(time_limit=budget, max_states=1_000_000)
    result = ExplicitChecker(model, props, limits=limits).run()
    return result.stats.max_depth, result.stats.states


KERNEL = {"uio_maxiov": 1024, "max_pend": 128}
"""The kernel's constants next to ring size 256 (table 2's extra columns at ring 256)."""


def first_cex_rows(budget: float, rings: list[int]) -> list[dict[str, Any]]:
    """Each property alone: BFS then BMC at ``rings[0]``, BMC at each further ring
    size; length and time of each finding."""
    base = V9({"ring_size": rings[0]})
    others = [V9({"ring_size": r, **(KERNEL if r == 256 else {})}) for r in rings[1:]]
    rows = []
    for prop in properties_in(zerocopy):
        start = time.perf_counter()
        bfs = ExplicitChecker(base, [prop], limits=Limits(time_limit=budget)).run()
        bfs_s = time.perf_counter() - start
        row: dict[str, Any] = {
            "property": prop.name,
            "bfs": _length(bfs.properties[0].trace, bfs.properties[0].status),
            "bfs_s": bfs_s,
        }
        for i, model in enumerate([base, *others]):
            start = time.perf_counter()
            bmc = run_bmc(model, [prop], depth=64, time_limit=budget, arrays=ARRAYS,
                          grouped=GROUPED)
            row[f"bmc{i}"] = _length(bmc.properties[0].trace, bmc.properties[0].status)
            row[f"bmc{i}_s"] = time.perf_counter() - start
        rows.append(row)
    return rows


def lift_rows(ring: int, lift_from: int, budget: float) -> list[tuple[str, str, float]]:
    """v9's properties at ring size ``ring`` (the kernel's constants at 256), BMC to depth
    1 after lifting the ring-``lift_from`` counterexamples: (property, length or status,
    seconds from the start until the lift of that property ended, or the run's)."""
    model = V9({"ring_size": ring, **(KERNEL if ring == 256 else {})})
    start = time.perf_counter()
    phases: list[tuple[str, float]] = []  # (phase, when it began); "" is a BMC depth

    def progress(stats: Stats) -> None:
        """Note when each phase began."""
        phases.append((stats.phase, time.perf_counter() - start))

    result = run_bmc(model, list(properties_in(zerocopy)), depth=1, time_limit=budget,
                     progress=progress, lift_from=lift_from)
    ended = {phase: after for (phase, _), (_, after) in itertools.pairwise(phases)}
    rows = []
    for r in result.properties:
        lifted = next((p for p in ended if p.startswith("lifting") and f" to {r.name} " in p),
                      None)
        done = result.stats.seconds if lifted is None else ended[lifted]
        rows.append((r.name, _length(r.trace, r.status), done))
    return rows


def datapath_row(ring: int, budget: float, extra: dict[str, Any]) -> dict[str, Any]:
    """BMC on the v3.1 data path at ring size ``ring`` for ``budget`` seconds."""
    from checker.engines.symbolic.limits import SolverGaveUp
    from models.v3_1 import V3_1

    params = {"ring_size": ring, "max_backend_changes": 0, "release": "no", "send_failures": 0,
              **extra}
    model = V3_1(params)
    props = [p for p in properties_in(zerocopy) if p.name in ("no-double-use", "memory-safe")]
    start = time.perf_counter()
    try:
        StepTemplate(model, deadline=time.monotonic() + budget, arrays=_arrays(model),
                     grouped=_grouped(model))
        build: str = f"{time.perf_counter() - start:.1f}"
    except SolverGaveUp:
        return {"ring": ring, "build": f">{budget:g}", "depth": "-", "seconds": budget}
    result = run_bmc(model, props, depth=10_000, time_limit=budget, arrays=ARRAYS,
                     grouped=GROUPED)
    return {"ring": ring, "build": build, "depth": result.stats.max_depth,
            "seconds": result.stats.seconds}


def peak_mib() -> int:
    """The process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10


def _arrays(model: Any) -> bool:
    """Whether BMC runs ``model`` with the array layout under ``--layout``."""
    from checker.engines.symbolic.layout import bmc_uses_arrays

    return bmc_uses_arrays(model) if ARRAYS is None else ARRAYS


def _grouped(model: Any) -> bool:
    """Whether BMC runs each parameterised action once under ``--grouping``."""
    return _arrays(model) if GROUPED is None else GROUPED


def _length(trace: Any, status: str) -> str:
    """The trace length, or the status when there is no trace."""
    return str(len(trace)) if trace is not None else status


def main(argv: list[str] | None = None) -> None:
    """Run both tables and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds per ring size (table 1) and per engine run (table 2)")
    parser.add_argument("--ring-sizes", type=int, nargs="+", default=[2, 4, 8, 16])
    parser.add_argument("--skip-depth", action="store_true", help="only table 2")
    parser.add_argument("--datapath", action="store_true", help="only table 3 (v3.1 data path)")
    parser.add_argument("--uio-maxiov", type=int, help="table 3: UIO_MAXIOV")
    parser.add_argument("--max-pend", type=int, help="table 3: VHOST_MAX_PEND")
    parser.add_argument("--signal-loop", choices=SIGNAL_LOOPS,
                        help="table 3: the model's --signal-loop (default: its own, 'call')")
    parser.add_argument("--no-bfs", action="store_true", help="table 1 without the BFS columns")
    parser.add_argument("--layout", choices=("auto", "flat", "arrays"), default="auto",
                        help="BMC's state layout (auto: BMC's own choice by array size)")
    parser.add_argument("--cex-rings", type=int, nargs="+", default=[1],
                        help="table 2: ring sizes (BFS at the first only; 256 with the kernel's "
                             "UIO_MAXIOV and VHOST_MAX_PEND)")
    parser.add_argument("--grouping", choices=("auto", "off"), default="auto",
                        help="one symbolic run per parameterised action (auto: with arrays)")
    parser.add_argument("--lift-from", type=int, default=None, metavar="N",
                        help="only table 4: v9's invariants at each --ring-sizes, lifted "
                             "from ring N (vhostmc check --lift-from)")
    args = parser.parse_args(argv)
    global ARRAYS, GROUPED
    ARRAYS = {"auto": None, "flat": False, "arrays": True}[args.layout]
    GROUPED = None if args.grouping == "auto" else False
    print(f"BMC layout: {args.layout}, grouping: {args.grouping}")

    if args.datapath:
        extra = {k: v for k, v in (("uio_maxiov", args.uio_maxiov), ("max_pend", args.max_pend),
                                   ("signal_loop", args.signal_loop)) if v is not None}
        print(f"v3.1 data path, BMC within {args.budget:g} s ({extra or 'default constants'})")
        print(f"{'ring':>5} {'build s':>8} {'depth':>6} {'total s':>8} {'peak MiB':>9}")
        for ring in args.ring_sizes:
            row = datapath_row(ring, args.budget, extra)
            print(f"{row['ring']:>5} {row['build']:>8} {row['depth']:>6} {row['seconds']:>8.1f} "
                  f"{peak_mib():>9}", flush=True)
        print("(peak: the process's resident peak so far, so a row includes the rows above)")
        return

    if args.lift_from is not None:
        for ring in args.ring_sizes:
            print(f"v9 at ring {ring}: properties lifted from ring {args.lift_from} "
                  f"(one BMC run to depth 1, {args.budget:g} s budget)")
            print(f"{'property':<24} {'length':>12} {'found by s':>10}")
            for name, length, seconds in lift_rows(ring, args.lift_from, args.budget):
                print(f"{name:<24} {length:>12} {seconds:>10.1f}", flush=True)
        return

    if not args.skip_depth:
        print(f"BMC depth reached in {args.budget:g} s (v9 defaults; all four properties + 'true')")
        print(f"{'ring':>4} {'build s':>8} {'depth':>6} {'total s':>8} {'BFS depth':>9} "
              f"{'BFS states':>10}  BMC violations found (depth @ s)")
        for ring in args.ring_sizes:
            row = depth_row(ring, args.budget)
            bfs_depth, bfs_states = (-1, -1) if args.no_bfs else bfs_row(ring, args.budget)
            found = ", ".join(f"{n} {d} @ {s:.1f}" for n, (d, s) in row["found"].items()) or "-"
            print(f"{row['ring']:>4} {row['build']:>8.1f} {row['depth']:>6} "
                  f"{row['seconds']:>8.1f} {bfs_depth:>9} {bfs_states:>10}  {found}", flush=True)
        print()

    rings = args.cex_rings
    print(f"Time to first counterexample, ring sizes {rings} (each property alone, "
          f"BFS at ring {rings[0]})")
    head = f"{'property':<26} {'BFS len':>8} {'BFS s':>7}"
    for r in rings:
        head += f" {f'BMC@{r} len':>12} {f'BMC@{r} s':>9}"
    print(head)
    for row in first_cex_rows(args.budget, rings):
        line = f"{row['property']:<26} {row['bfs']:>8} {row['bfs_s']:>7.2f}"
        for i in range(len(rings)):
            line += f" {row[f'bmc{i}']:>12} {row[f'bmc{i}_s']:>9.2f}"
        print(line, flush=True)

if __name__ == "__main__":
    main()
