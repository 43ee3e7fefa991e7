"""Mutation testing of the v9 model: does a built-in property kill each seeded mutant?

Each file ``tests/mutants/m*.py`` is a revision of v9 with one plausible
kernel mistake.  This script checks every mutant, and v9 itself, with every
built-in property, at ring size 1 in every named environment
(``checker/runs/environments.py``), then at ring size 2 (under a time limit
per run) for the mutants ring 1 did not kill, and writes a table.

A mutant is *killed* in a cell (environment, ring size) by a property when
the mutant violates it in L steps and v9 has no violation of it of at most
L steps there (environments are tried cheapest first, and a mutant's check
stops at the first that kills it unless ``--all-envs``):

- ``new``: v9 holds (complete search), or v9's search explored every path of
  up to L steps without a violation;
- ``shorter``: v9 violates it too, but only in more than L steps: its
  shortest (BFS) counterexample is longer, or, for a liveness property whose
  lassos are not always shortest, v9 explored to depth L has no violating
  lasso.

For each mutant the report names the kill with the fewest steps (``new``
before ``shorter``).  Usage::

    .venv/bin/python bench/mutants.py                    # all mutants, writes results/mutants.md
    .venv/bin/python bench/mutants.py m01 m13 --no-write # some, print only
    .venv/bin/python bench/mutants.py --ring2-time 60 --ring2-envs datapath,bigring

It prints states/s and wall time per run, and the peak memory at the end.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from checker.engines.base import Limits
from checker.runs.catalog import builtin_properties, load_revision
from checker.runs.check import CheckRequest, run_check
from checker.runs.environments import ENVIRONMENTS

MUTANT_DIR = ROOT / "tests" / "mutants"
REPORT = ROOT / "results" / "mutants.md"
RAW = ROOT / "results" / "mutants.json"
"""The measured results (small), so ``--render`` can rewrite the report without re-running."""
COMMAND = ".venv/bin/python bench/mutants.py"
RING1_ENVS = ("datapath", "bigring", "release", "default", "sendfail", "rogue", "backend")
"""Cheapest first: a mutant's check stops at the first environment that kills it."""
RING2_ENVS = ("datapath", "bigring", "sendfail")


@dataclass(frozen=True)
class Verdict:
    """One property's outcome in one run."""

    status: str
    steps: int | None = None


@dataclass
class Run:
    """One explicit-engine run of a revision in an environment at a ring size."""

    verdicts: dict[str, Verdict]
    states: int
    seconds: float
    complete: bool
    bounds: list[str]
    """What cut the search (empty for a complete one)."""


@dataclass
class Kill:
    """A property violated on the mutant with no v9 violation of at most as many steps."""

    prop: str
    env: str
    ring: int
    steps: int
    kind: str  # "new" or "shorter"
    v9: str

    def sort_key(self) -> tuple[int, int, int]:
        return (self.ring, 0 if self.kind == "new" else 1, self.steps)


@dataclass
class MutantResult:
    """Everything learnt about one mutant."""

    file: str
    name: str
    description: str
    kills: list[Kill] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    """Cells where the mutant's verdict differs from v9's without a kill."""
    rings: list[int] = field(default_factory=list)

    @property
    def best(self) -> Kill | None:
        return min(self.kills, key=Kill.sort_key) if self.kills else None


def mutant_files(selected: list[str]) -> list[Path]:
    """``tests/mutants/m*.py``, or those whose name starts with one of ``selected``."""
    files = sorted(MUTANT_DIR.glob("m[0-9]*.py"))
    if selected:
        files = [f for f in files if any(f.stem.startswith(s) for s in selected)]
    return files


def liveness_names() -> set[str]:
    """The built-in properties judged on fair cycles."""
    return {p.name for p in builtin_properties() if p.is_liveness}


def check(revision: str, env: str, ring: int, limits: Limits, out: Path) -> Run:
    """Run every built-in property on ``revision``; traces go to ``out`` (discarded)."""
    params: dict[str, Any] = {"ring_size": ring, **ENVIRONMENTS[env].switches}
    start = time.perf_counter()
    outcome = run_check(CheckRequest(revision=revision, params=params, limits=limits,
                                     out_dir=out, formats=("itf",), itf_indent=None))
    seconds = time.perf_counter() - start
    result = outcome.result
    verdicts = {p.name: Verdict(p.status, len(p.trace) if p.trace is not None else None)
                for p in result.properties}
    complete = bool(result.complete)
    stats = result.stats
    rate = stats.states / seconds if seconds > 0 else 0.0
    print(f"  {revision.split('/')[-1]:<36} {env:<9} n={ring}  {stats.states:>8} states "
          f"{seconds:6.1f} s  {rate:9.0f} states/s", flush=True)
    return Run(verdicts, stats.states, seconds, complete, list(result.bounds_hit))


def describe(v: Verdict) -> str:
    return f"violated ({v.steps})" if v.status == "violated" else v.status


def compare(base: Run, mut: Run, env: str, ring: int, live: set[str],
            confirm: Any) -> tuple[list[Kill], list[str]]:
    """Kills and other verdict changes of one mutant run against v9's run."""
    kills: list[Kill] = []
    changed: list[str] = []
    for prop, mv in mut.verdicts.items():
        bv = base.verdicts[prop]
        if mv.status == "violated" and mv.steps is not None:
            if bv.status == "holds":
                kills.append(Kill(prop, env, ring, mv.steps, "new", "holds"))
                continue
            shorter = bv.status == "violated" and bv.steps is not None and mv.steps < bv.steps
            if shorter and prop not in live:  # a BFS counterexample is a shortest one
                kills.append(Kill(prop, env, ring, mv.steps, "shorter", describe(bv)))
                continue
            # v9 cut by a bound, or a liveness lasso (not always a shortest one): explore v9
            # to depth L; no violation there means none of at most L steps exists.
            if (shorter or bv.status == "inconclusive") and confirm(env, ring, mv.steps, prop):
                kind = "shorter" if shorter else "new"
                kills.append(Kill(prop, env, ring, mv.steps, kind,
                                  f"{describe(bv)}; none in {mv.steps} steps"))
                continue
        if (mv.status, mv.steps) != (bv.status, bv.steps):
            changed.append(f"{prop} @ {env} n={ring}: v9 {describe(bv)}, mutant {describe(mv)}")
    return kills, changed


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mutants", nargs="*", help="file name prefixes (default: every mutant)")
    ap.add_argument("--envs", default=",".join(RING1_ENVS),
                    help="environments at ring size 1, in order (default: all, cheapest first)")
    ap.add_argument("--all-envs", action="store_true",
                    help="check every environment, not only up to the first that kills")
    ap.add_argument("--ring1-time", type=float, default=60.0, help="time limit per ring-1 run")
    ap.add_argument("--ring2-envs", default=",".join(RING2_ENVS),
                    help="environments at ring size 2, for mutants ring 1 did not kill")
    ap.add_argument("--ring2-time", type=float, default=45.0, help="time limit per ring-2 run")
    ap.add_argument("--no-write", action="store_true", help="print only; do not write the report")
    ap.add_argument("--resume", action="store_true",
                    help="skip mutants checked by an interrupted run (saved in the temp folder)")
    ap.add_argument("--render", action="store_true",
                    help="only rewrite results/mutants.md from results/mutants.json")
    args = ap.parse_args(argv)
    if args.render:
        return rerender()
    envs1 = [e for e in args.envs.split(",") if e]
    envs2 = [e for e in args.ring2_envs.split(",") if e]
    files = mutant_files(args.mutants)
    if not files:
        print("bench/mutants.py: no mutant matches; files are tests/mutants/m*.py", file=sys.stderr)
        return 2
    live = liveness_names()
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="vhostmc-mutants-"))
    baseline: dict[tuple[str, int], Run] = {}
    confirmed: dict[tuple[str, int, int], Run] = {}

    def base(env: str, ring: int) -> Run:
        key = (env, ring)
        if key not in baseline:
            limit = args.ring1_time if ring == 1 else args.ring2_time
            baseline[key] = check("v9", env, ring, Limits(time_limit=limit), tmp / "v9")
        return baseline[key]

    def confirm(env: str, ring: int, steps: int, prop: str) -> bool:
        """Whether v9 has no violation of ``prop`` in at most ``steps`` steps: a BFS
        bounded at that depth, cut by nothing else, does not violate it."""
        key = (env, ring, steps)
        if key not in confirmed:
            confirmed[key] = check("v9", env, ring,
                                   Limits(max_depth=steps, time_limit=args.ring2_time), tmp / "v9")
        run = confirmed[key]
        only_depth = all(b.startswith("depth ") for b in run.bounds)
        return run.verdicts[prop].status != "violated" and only_depth

    results: list[MutantResult] = []
    partial = tmp.parent / "vhostmc-mutants-partial.json"
    done: dict[str, MutantResult] = {}
    if args.resume and partial.exists():
        done = {r.file: r for r in load_results(json.loads(partial.read_text())["mutants"])}
        print(f"resuming: {len(done)} mutants already checked ({partial})")
    for path in files:
        if path.name in done:
            results.append(done[path.name])
            continue
        rel = str(path.relative_to(ROOT))
        cls = load_revision(rel)
        res = MutantResult(path.name, cls.name, getattr(cls, "description", ""))
        print(f"{path.name}:", flush=True)
        for ring, envs, limit in ((1, envs1, args.ring1_time), (2, envs2, args.ring2_time)):
            if ring == 2 and res.kills:
                break
            res.rings.append(ring)
            for env in envs:
                if res.kills and not args.all_envs:
                    break
                mut = check(rel, env, ring, Limits(time_limit=limit), tmp / path.stem)
                kills, changed = compare(base(env, ring), mut, env, ring, live, confirm)
                res.kills += kills
                res.changed += changed
        best = res.best
        print(f"  => {'killed by ' + best.prop + ' @ ' + best.env + f' n={best.ring} ({best.steps} steps, {best.kind})' if best else 'SURVIVES'}",
              flush=True)
        results.append(res)
        partial.write_text(json.dumps({"mutants": [asdict(r) for r in results]}))
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    killed = sum(1 for r in results if r.kills)
    print(f"\n{killed}/{len(results)} mutants killed; wall time {wall:.0f} s; "
          f"peak memory {peak:.0f} MB")
    if not args.no_write and not args.mutants:
        from checker.outputs.files import write_atomic

        meta = {"envs1": envs1, "envs2": envs2, "ring1_time": args.ring1_time,
                "ring2_time": args.ring2_time, "wall": wall}
        raw = {"meta": meta, "mutants": [asdict(r) for r in results]}
        write_atomic(RAW, json.dumps(raw, indent=1) + "\n")
        write_atomic(REPORT, render(results, meta))
        print(f"written to {REPORT.relative_to(ROOT)} and {RAW.relative_to(ROOT)}")
    return 0


def load_results(saved: list[dict[str, Any]]) -> list[MutantResult]:
    """Mutant results from their JSON form."""
    return [MutantResult(**{**m, "kills": [Kill(**k) for k in m["kills"]]}) for m in saved]


def rerender() -> int:
    """Rewrite the report from the saved results (after editing the survivor reasons)."""
    from checker.outputs.files import write_atomic

    raw = json.loads(RAW.read_text())
    results = load_results(raw["mutants"])
    write_atomic(REPORT, render(results, raw["meta"]))
    print(f"written to {REPORT.relative_to(ROOT)}")
    return 0


def render(results: list[MutantResult], meta: dict[str, Any]) -> str:
    """The Markdown report."""
    envs1, envs2, wall = meta["envs1"], meta["envs2"], meta["wall"]
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_mutants import EXPLAINED_SURVIVORS  # the one table of reasons
    except ImportError:  # pragma: no cover - the test file is part of the repository
        EXPLAINED_SURVIVORS = {}
    killed = [r for r in results if r.kills]
    lines = [
        "# Mutation testing of the v9 model",
        "",
        (f"Regenerate (about {wall / 60:.0f} minutes on a shared, busy 2-core machine; "
        f"time limits {meta['ring1_time']:.0f} s per run at ring size 1, "
        f"{meta['ring2_time']:.0f} s at ring size 2):"),
        "",
        "```sh",
        f"{COMMAND}",
        "```",
        "",
        ("Each mutant in `tests/mutants/` is v9 with one plausible kernel mistake (its "
        "docstring quotes the patch statement and the mutated one). Every mutant is checked "
        "with every built-in property at ring size 1 in the environments "
        f"{', '.join(envs1)}; a mutant ring 1 does not kill is checked at ring size 2 in "
        f"{', '.join(envs2)} ({meta['ring2_time']:.0f} s per run). A mutant is **killed** by a "
        "property when it violates it in L steps and v9 has no violation of it in at most "
        "L steps in the same environment and ring size: *new* (v9 holds, or v9 explored "
        "every path of L steps cleanly) or *shorter* (v9 also violates it, but only in more "
        "steps: its BFS counterexample is longer, or, for a liveness property, v9 explored "
        "to depth L has no violating lasso; the mutant adds a violating run v9 does not "
        "have). The "
        "environments are tried in that order and a mutant's check stops at the first "
        "environment that kills it; the table names that environment's kill with the fewest "
        "steps."),
        "",
        (f"**Kill rate: {len(killed)}/{len(results)} "
        f"({100 * len(killed) / max(1, len(results)):.0f}%).**"),
        "",
        "| mutant | mistake | killed by | environment | ring | steps | kind | v9 there |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        b = r.best
        if b is None:
            lines.append(f"| `{r.file}` | {r.description} | **survives** | | "
                         f"{','.join(map(str, r.rings))} | | | |")
        else:
            lines.append(f"| `{r.file}` | {r.description} | {b.prop} | {b.env} | {b.ring} | "
                         f"{b.steps} | {b.kind} | {b.v9} |")
    survivors = [r for r in results if not r.kills]
    lines += ["", "## Survivors", ""]
    if not survivors:
        lines.append("None.")
    for r in survivors:
        reason = EXPLAINED_SURVIVORS.get(r.file.removesuffix(".py"), "(no reason recorded)")
        lines.append(f"- `{r.file}` ({r.description}): {reason}")
        for c in r.changed[:6]:
            lines.append(f"  - verdict differs from v9 (no kill): {c}")
    lines += ["", "## Every kill", "",
              "| mutant | property | environment | ring | steps | kind | v9 there |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in killed:
        for k in sorted(r.kills, key=Kill.sort_key):
            lines.append(f"| `{r.file}` | {k.prop} | {k.env} | {k.ring} | {k.steps} | {k.kind} | "
                         f"{k.v9} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
