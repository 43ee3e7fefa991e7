"""Re-run the liveness grid behind results/FINDINGS.md ("Liveness") and tabulate it.

Each cell checks the liveness properties (and, for comparison, their
state-predicate forms) on one revision, environment preset and fairness
switch, and keeps its ITF and text traces in results/generated/liveness/<cell>/ (git-ignored).

    .venv/bin/python results/liveness.py [--ring-sizes 1] [--time-limit 300] [--jobs 2]

writes results/liveness.md (a table; links to each lasso).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.engines.base import Limits
from checker.outputs.files import write_atomic
from checker.runs.check import CheckRequest, run_check
from checker.runs.environments import ENVIRONMENTS

PROPERTIES = ("no-leak", "no-quiescent-leak", "put-and-wait-terminates", "no-stuck-waiter")
FAIRNESS: dict[str, dict[str, str]] = {
    "default": {},
    "may-hold": {"device_progress": "may-hold"},
    "keeps-posting": {"guest_progress": "keeps-posting"},
    "goes-idle": {"guest_progress": "goes-idle"},
}
OUT = ROOT / "results" / "generated" / "liveness"


def cell_key(rev: str, n: int, env: str, fair: str) -> str:
    return f"{rev}-n{n}-{env}-{fair}"


def run_cell(job: tuple[str, int, str, str, float]) -> tuple[str, dict[str, Any]]:
    rev, n, env, fair, limit = job
    key = cell_key(rev, n, env, fair)
    params = {**ENVIRONMENTS[env].switches, **FAIRNESS[fair], "ring_size": n}
    req = CheckRequest(rev, params, PROPERTIES, limits=Limits(time_limit=limit),
                       out_dir=OUT / key, formats=("itf", "text"), itf_indent=None)
    return key, keep_liveness_traces(OUT / key, run_check(req).doc)


def keep_liveness_traces(cell: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """Delete the state-predicate forms' trace files (results/generated/runs and results/generated/cells keep
    those) and say so in the cell's result.json; returns the updated document."""
    for p in doc["properties"]:
        if p["kind"] == "always" and p["trace"]:
            for path in p["trace"].values():
                (cell / Path(path).name).unlink(missing_ok=True)
            p["trace"] = None
            p["reason"] = "trace not kept in this grid (see results/generated/runs, results/generated/cells)"
    write_atomic(cell / "result.json", json.dumps(doc, indent=2) + "\n")
    return doc


def verdict(doc: dict[str, Any], key: str, name: str) -> str:
    p = next(q for q in doc["properties"] if q["name"] == name)
    if p["status"] == "violated":
        shape = ""
        if p.get("loop") is not None:
            shape = ", stutter" if p["loop"] == p["length"] else f", cycle {p['loop'] + 1}.."
        if not p["trace"]:
            return f"violated ({p['length']}{shape})"
        link = Path(p["trace"]["itf"]).name
        return f"[violated ({p['length']}{shape})](generated/liveness/{key}/{link})"
    if p["status"] == "inconclusive":
        return "inconclusive"
    return "holds"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ring-sizes", default="1")
    ap.add_argument("--time-limit", type=float, default=300)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--revisions", default="v9,v3.1")
    ap.add_argument("--envs", default=",".join(ENVIRONMENTS))
    ap.add_argument("--fairness", default=",".join(FAIRNESS))
    ap.add_argument("--output", default="liveness.md", help="table file under results/")
    ap.add_argument("--table-only", action="store_true",
                    help="rebuild results/liveness.md from the stored cells, run nothing")
    args = ap.parse_args()
    jobs = [(rev, int(n), env, fair, args.time_limit)
            for rev in args.revisions.split(",") for n in args.ring_sizes.split(",")
            for env in args.envs.split(",") for fair in args.fairness.split(",")]
    docs: dict[str, dict[str, Any]] = {}
    if args.table_only:
        for rev, n, env, fair, _ in jobs:
            key = cell_key(rev, n, env, fair)
            docs[key] = json.loads((OUT / key / "result.json").read_text())
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            for key, doc in pool.map(run_cell, jobs):
                docs[key] = doc
                print(f"{key}: {doc['stats']['states']} states, {doc['stats']['seconds']:.0f}s",
                      file=sys.stderr)
    lines = [
        "# Liveness grid: fairness switches x environments",
        "",
        ("Reproduce with `.venv/bin/python results/liveness.py --ring-sizes "
        f"{args.ring_sizes} --time-limit {args.time_limit:g} --jobs {args.jobs} --envs "
        f"{args.envs} --fairness {args.fairness} --output {args.output}`."),
        ("Lasso lengths in steps; *stutter*: the run stops in its last state; *cycle k..*: "
        "steps k to the end repeat. `no-quiescent-leak` / `no-stuck-waiter` are the "
        "state-predicate forms, shown for comparison."),
        "",
        "| revision | N | env | fairness | " + " | ".join(PROPERTIES) + " | states | s | search |",
        "| --- | --- | --- | --- | " + " | ".join("---" for _ in PROPERTIES) + " | --- | --- | --- |",
    ]
    for rev, n, env, fair, _ in jobs:
        key = cell_key(rev, n, env, fair)
        doc = docs[key]
        search = "complete" if doc["complete"] else ", ".join(doc["bounds_hit"]) or "stopped"
        lines.append(f"| {rev} | {n} | {env} | {fair} | "
                     + " | ".join(verdict(doc, key, p) for p in PROPERTIES)
                     + f" | {doc['stats']['states']} | {doc['stats']['seconds']:.0f} | {search} |")
    write_atomic(ROOT / "results" / args.output, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
