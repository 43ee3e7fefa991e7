"""Where the parallel loop's time goes: seconds per phase of ``bfs_par``.

Builds the v3.1 ring-2 data path with a copy of the parallel loop whose five
phases (docs/engines.md, "Several workers") are timed with
``time.perf_counter_ns`` (numba ``objmode``, once per phase and chunk), then
runs one sequential search and one parallel search per worker count, cut at
``--max-states``, and prints for each: wall seconds, states/s, the seconds
spent growing the tables, and the seconds of each phase
(p1 expand, p2 properties in order, p3 insert per partition, p4 numbering,
p5 commit).  The timed copy is a profiling build (its own numba cache
entry); ``vhostmc`` never runs it.  The threading layer is the one
``--workers`` uses (``checker/engines/explicit/compiled/threads.py``) unless
``NUMBA_THREADING_LAYER`` says otherwise.

    .venv/bin/python bench/parallel_phases.py [--max-states N] [--workers 1,2] [--chunk C]
"""

from __future__ import annotations

import argparse
import time
from types import ModuleType

import numpy as np

import checker.engines.explicit.compiled.build as build_module
from checker.engines.explicit.compiled.kernel import CTL, CTL_FIELDS, PARALLEL_SOURCE, par_buffers
from checker.engines.explicit.compiled.table import Table
from checker.engines.explicit.compiled.threads import use_threads
from checker.runs.catalog import load_revision, select_properties
from checker.semantics.states import initial_state

PHASES = ("p1", "p2", "p3", "p4", "p5")
ACC = len(CTL_FIELDS)
"""``ctl[ACC + i]``: nanoseconds of phase ``i + 1``; ``ctl[ACC + 5]``: the last clock."""


def _clock(indent: int, phase: int | None) -> str:
    """Source lines reading the clock at ``indent``; with ``phase``, add the time since
    the last reading to that phase."""
    pad = " " * indent
    text = (f"{pad}with objmode(tt='int64'):\n{pad}    tt = time.perf_counter_ns()\n")
    if phase is not None:
        text += f"{pad}ctl[{ACC + phase}] += tt - ctl[{ACC + 5}]\n"
    return text + f"{pad}ctl[{ACC + 5}] = tt\n"


def timed_source() -> str:
    """The parallel loop with a clock reading at each phase boundary."""
    src = PARALLEL_SOURCE
    marks = [("        # phase 1\n", 8, None),
             ("        # phase 2: properties in order", 8, 0),
             ("        if max_depth >= 0 and depth >= max_depth:\n            # past", 8, 1),
             ("            if overflow.sum() > 0:\n                drop", 12, 2),
             ("            trans += chunk_trans\n            if max_states >= 0", 12, 3)]
    for anchor, indent, phase in marks:
        if src.count(anchor) != 1:
            raise SystemExit(f"the parallel loop changed: {anchor.strip()!r} not found once; "
                             "update bench/parallel_phases.py")
        src = src.replace(anchor, _clock(indent, phase) + anchor)
    end = "                n += new\n                maxdepth = depth + 1\n"
    if src.count(end) != 1:
        raise SystemExit("the parallel loop changed: the commit's end not found once; "
                         "update bench/parallel_phases.py")
    src = src.replace(end, end + _clock(16, 4))
    return "\nimport time\nfrom numba import objmode\n" + src


def run(module: ModuleType, initial: np.ndarray, nsucc: int, workers: int, parallel: bool,
        max_states: int, chunk: int) -> str:
    """One search from the initial state; its line of the table."""
    pbits = (workers - 1).bit_length() if parallel else 0
    words = initial.shape[0]
    table = Table(words, module, pbits)
    room = nsucc * 64
    table.grow(0, room + 1, 1 << 40)
    table.states[0] = initial
    table.reindex(1)
    ctl = np.zeros(ACC + 6, np.int64)
    ctl[CTL["n"]] = 1
    ctl[CTL["level_end"]] = 1
    ctl[CTL["pending"]] = 3
    ctl[CTL["max_states"]] = max_states
    ctl[CTL["max_depth"]] = -1
    ctl[CTL["has_props"]] = 1
    viol = np.full(2, -1, np.int64)
    fired = np.zeros(nsucc, np.int64)
    buffers = par_buffers(chunk, words, nsucc, 1 << pbits)
    grow = 0.0
    start = time.perf_counter()
    while True:
        if parallel:
            status = module.bfs_par(table.states, table.parents, table.actions, table.index,
                                    table.fill, pbits, ctl, viol, fired, 1 << 40, buffers)
        else:
            status = module.bfs(table.states, table.parents, table.actions, table.index,
                                table.fill, ctl, viol, fired, 1 << 40)
        if status in (0, 1):
            break
        if status not in (2, 5):
            raise SystemExit(f"the search stopped with status {status}")
        g = time.perf_counter()
        table.grow(int(ctl[CTL["n"]]), room, 1 << 40, double_index=status == 5)
        grow += time.perf_counter() - g
    wall = time.perf_counter() - start
    states = int(ctl[CTL["n"]])
    phases = " ".join(f"{ctl[ACC + i] / 1e9:>6.2f}" for i in range(5)) if parallel else ""
    return (f"{'parallel' if parallel else 'sequential':>10} {workers if parallel else 1:>7} "
            f"{states:>9} {wall:>6.2f} {states / wall:>10.0f} {grow:>6.2f} {phases}")


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-states", type=int, default=5_000_000)
    ap.add_argument("--workers", default="1,2", help="worker counts of the parallel loop")
    ap.add_argument("--chunk", type=int, default=8192)
    args = ap.parse_args()
    build_module.PARALLEL_SOURCE = timed_source()
    model = load_revision("v3.1")({"ring_size": 2, "max_backend_changes": 0, "release": "no",
                                   "send_failures": 0})
    built = build_module.build(model, select_properties(["no-double-use", "memory-safe"]),
                               None, parallel=True)
    initial = np.asarray(built.layout.pack(initial_state(model)), np.int64)
    nsucc = max(1, len(built.code.instances))
    print(f"v3.1 ring 2 datapath, max {args.max_states} states, chunk {args.chunk}; "
          "seconds per phase")
    print(f"{'loop':>10} {'workers':>7} {'states':>9} {'wall':>6} {'states/s':>10} "
          f"{'grow':>6} " + " ".join(f"{p:>6}" for p in PHASES))
    for workers in [int(w) for w in args.workers.split(",")]:
        use_threads(workers)
        for parallel in (False, True):  # compile (or load) both loops first
            run(built.module, initial, nsucc, workers, parallel, 10_000, args.chunk)
        print(run(built.module, initial, nsucc, 1, False, args.max_states, args.chunk))
        print(run(built.module, initial, nsucc, workers, True, args.max_states,
                  args.chunk), flush=True)


if __name__ == "__main__":
    main()
