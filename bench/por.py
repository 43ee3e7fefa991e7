"""The compiled explorer with and without partial-order reduction (``--por``).

For v3.1 datapath and v9 default and rogue at rings 1 and 2 (3 with ``--ring3``),
each run in its own process (so the peak resident memory is that run's), the
four invariants, dead-value reduction on (as ``vhostmc check`` runs): states,
transitions, wall seconds, states/s and peak MiB, without and with ``--por``,
and the reduced/full state ratio.  Every pair must agree on every verdict;
the script exits 1 if one does not.  The first run of a configuration compiles
it (minutes on a cold cache): run the script twice and read the second table.

    .venv/bin/python bench/por.py [--ring3] [--max-states N] [--property NAME ...]
        [--no-reduction] [--config REV:ENV ...] [--rings 1,2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

CONFIGS = [("v3.1", "datapath"), ("v9", "default"), ("v9", "rogue")]
INVARIANTS = ["no-double-use", "memory-safe", "no-stuck-waiter", "no-quiescent-leak"]


def one(revision: str, env: str, ring: int, por: bool, props: list[str],
        max_states: int | None, reduction: bool) -> dict[str, object]:
    """One run in this process: its figures and verdicts."""
    from checker.engines.base import EngineRequest, Limits
    from checker.engines.explicit.engine import ENGINE
    from checker.runs.catalog import load_revision, select_properties
    from checker.runs.environments import environments_of

    model = load_revision(revision)({"ring_size": ring, **environments_of(revision)[env].switches})
    wall = time.perf_counter()
    res = ENGINE.run(EngineRequest(model, select_properties(props), Limits(max_states=max_states),
                                   backend="compiled", por=por, reduction=reduction))
    wall = time.perf_counter() - wall
    return {"states": res.stats.states, "transitions": res.stats.transitions,
            "wall": wall, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "verdicts": [[p.name, p.status] for p in res.properties],
            "backend": res.stats.backend,
            "safe": None if res.por is None else {a: e.get("safe_at", e.get("safe"))
                                                  for a, e in res.por.get("actors", {}).items()}}


def main() -> int:
    """Print the table; 1 if a pair of runs disagrees on a verdict."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring3", action="store_true", help="also ring 3 (long)")
    ap.add_argument("--max-states", type=int, default=None)
    ap.add_argument("--property", action="append", dest="props", default=None)
    ap.add_argument("--no-reduction", action="store_true", help="dead-value reduction off")
    ap.add_argument("--config", action="append", default=None, metavar="REV:ENV")
    ap.add_argument("--rings", default=None, help="comma-separated ring sizes")
    ap.add_argument("--one", nargs=4, metavar=("REV", "ENV", "RING", "POR"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    props = args.props or INVARIANTS
    if args.one:
        rev, env, ring, por = args.one
        print(json.dumps(one(rev, env, int(ring), por == "1", props, args.max_states,
                             not args.no_reduction)))
        return 0
    rings = [1, 2, 3] if args.ring3 else [1, 2]
    if args.rings:
        rings = [int(r) for r in args.rings.split(",")]
    configs = [tuple(c.split(":", 1)) for c in args.config] if args.config else CONFIGS
    print(f"properties: {', '.join(props)}; dead-value reduction "
          f"{'off' if args.no_reduction else 'on'}; compiled, one worker")
    print(f"{'config':<18} {'ring':>4} {'por':>3} {'states':>10} {'transitions':>11} "
          f"{'wall s':>7} {'states/s':>9} {'peak MiB':>8} {'ratio':>6}")
    bad = 0
    for rev, env in configs:
        for ring in rings:
            rows = []
            for por in (0, 1):
                cmd = [sys.executable, __file__, "--one", rev, env, str(ring), str(por)]
                cmd += [f"--property={p}" for p in props]
                if args.max_states:
                    cmd += ["--max-states", str(args.max_states)]
                if args.no_reduction:
                    cmd.append("--no-reduction")
                out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
                rows.append(json.loads(out.strip().splitlines()[-1]))
            for por, row in enumerate(rows):
                ratio = f"{row['states'] / rows[0]['states']:.3f}" if por else ""
                rate = row["states"] / row["wall"] if row["wall"] else 0.0
                print(f"{rev + ' ' + env:<18} {ring:>4} {'on' if por else 'off':>3} "
                      f"{row['states']:>10} {row['transitions']:>11} {row['wall']:>7.2f} "
                      f"{rate:>9.0f} {row['peak']:>8.0f} {ratio:>6}", flush=True)
            if rows[0]["verdicts"] != rows[1]["verdicts"]:
                print(f"  verdicts differ: {rows[0]['verdicts']} / {rows[1]['verdicts']}",
                      file=sys.stderr)
                bad = 1
            if rows[1]["safe"] is not None:
                print(f"  ample sets possible at: {rows[1]['safe']}")
    return bad


if __name__ == "__main__":
    sys.exit(main())
