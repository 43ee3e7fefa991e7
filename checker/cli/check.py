"""``vhostmc check``: one run of an engine on a revision."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from checker.cli.app import (
    EXIT_CODES,
    MEMORY_HELP,
    NON_NEGATIVE,
    POSITIVE,
    REVISION_HELP,
    SECONDS,
    RevisionCommand,
    UsageProblem,
    _check_out_dir,
    _limits,
    _param_options,
    _spec_option,
    cli,
    comma_names,
)
from checker.cli.interrupts import Interrupts
from checker.engines.base import RunResult, Stats
from checker.engines.explicit.engine import BACKENDS, DEFAULT_BACKEND
from checker.engines.registry import DEFAULT_ENGINE, engine_names, get_engine
from checker.outputs.dumpgraph import MAX_PICTURE_STATES
from checker.outputs.html.page import REPORT_NAME
from checker.outputs.summary import coverage_warnings, exit_code, summary_text
from checker.runs.catalog import DEFAULT_REVISION
from checker.runs.check import (
    PICTURE_CHOICES,
    CheckRequest,
    run_check,
    trace_formats,
    trace_text,
)
from checker.runs.stored import write_report


@cli.command(epilog=EXIT_CODES, cls=RevisionCommand)
@click.option("--revision", default=DEFAULT_REVISION, show_default=True, metavar="NAME|PATH.py",
              help=REVISION_HELP)
@_spec_option
@click.option("--property", "properties", multiple=True, metavar="NAME[,NAME...]",
              callback=comma_names,
              help="Property to check; repeat, or separate names with commas, for several "
                   "(default: all).")
@click.option("--engine", type=click.Choice(engine_names()), default=DEFAULT_ENGINE,
              show_default=True,
              help="explicit: state enumeration (exhaustive verdicts, shortest traces with bfs); "
                   "bmc: Z3 bounded model checking to --depth (finds shortest violations and "
                   "fair lassos, never proves); kind: Z3 k-induction up to k = --depth (can prove); "
                   "pdr: proofs by invariants from explicit exploration (the classes of a complete one, "
                   "or mined facts), re-checked; BMC counterexamples to --depth; "
                   "simulate: --walks random walks of up to --depth steps (deep violations at "
                   "any ring size, never proves). "
                   "'vhostmc list' describes every engine; see docs/engines.md.")
@click.option("--depth", type=POSITIVE, default=None, metavar="K",
              help="bmc: check every path of up to K steps; kind: try k = 1..K; pdr: BMC depth "
                   "for counterexamples; simulate: steps per walk. (default: 20; simulate: "
                   "1000)")
@click.option("--invariant", type=click.Choice(["auto", "mined"]), default="auto",
              show_default=True,
              help="pdr: auto first checks the classes of a complete exploration as the "
                   "invariant (a decision diagram: exact, not explanatory), then mined facts; "
                   "mined tries only mined facts (Houdini), which give a readable invariant "
                   "when they prove.")
@click.option("--lift-from", type=POSITIVE, default=None, metavar="N",
              help="bmc: first run the explicit engine at ring size N (the parameters that "
                   "follow the ring size at their defaults there, or at this run's value "
                   "when it is smaller) and look for each "
                   "invariant's counterexample along the same actions at this run's "
                   "constants; a trace found is a replayed path of this model, not "
                   "necessarily the shortest (see docs/engines.md, Lifting).")
@click.option("--strengthen", multiple=True, metavar="NAME[,NAME...]",
              callback=comma_names,
              help="kind: a property assumed and proved alongside, to make induction go "
                   "through; repeat, or separate names with commas, for several.")
@click.option("--query-limit", type=SECONDS, default=None, metavar="SECONDS",
              help="inductive: cap each solver query at this many seconds; an action whose "
                   "query reaches it is left open (and named) and the next action is asked "
                   "(default: no cap, one hard action may take the rest of --time-limit).")
@click.option("--walks", type=POSITIVE, default=None, metavar="N",
              help="simulate: how many random walks, each of up to --depth steps "
                   "(default: 100 walks of 1000 steps).")
@click.option("--seed", type=NON_NEGATIVE, default=None, metavar="N",
              help="simulate: the seed of the random walks (the same seed, the same walks; "
                   "default: 0).")
@click.option("--search", type=click.Choice(["bfs", "dfs"]), default="bfs", show_default=True,
              help="bfs gives shortest counterexamples; dfs reaches deep states sooner.")
@click.option("--max-states", type=POSITIVE, default=None, metavar="N",
              help="explicit: stop after N distinct states (the verdict is then "
                   "inconclusive); pdr: explore at most N dead-value classes before proving "
                   "(default: 100 million state values' worth, about a million classes at "
                   "ring size 2).")
@click.option("--max-depth", type=POSITIVE, default=None, metavar="N",
              help="Do not explore beyond N steps (inconclusive if states lie beyond).")
@click.option("--time-limit", type=SECONDS, default=None, metavar="SECONDS",
              help="Stop the whole run after this long, fair-cycle analysis included "
                   "(what did not finish is inconclusive).")
@click.option("--memory-limit", type=POSITIVE, default=None, metavar="MIB", help=MEMORY_HELP)
@click.option("--backend", type=click.Choice(list(BACKENDS)), default=DEFAULT_BACKEND,
              show_default=True,
              help="Explicit engine: compiled explores packed states with numba-compiled steps "
                   "(BFS, invariants, liveness on the graph as arrays; numba compiles each "
                   "model configuration once, minutes, cached in $VHOSTMC_CACHE or "
                   "~/.cache/vhostmc); python is the reference explorer; auto is compiled "
                   "where it applies (no sometimes property, no dfs, no --dump-graph; "
                   "$VHOSTMC_BACKEND=python makes it python), else python.")
@_param_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("vhostmc-out"), show_default=True,
              help="Folder for counterexample traces (ITF, text, DOT, GraphML, JSON graphs, "
                   "pictures) and result.json.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document on stdout (progress and summary go to stderr).")
@click.option("--report", "html_report", is_flag=True,
              help=f"After the run, write {REPORT_NAME} into --out: one self-contained page "
                   "(verdicts, statistics, each counterexample's charts and a step table to "
                   "walk with the keyboard); see 'vhostmc report'.")
@click.option("--pictures", type=click.Choice(list(PICTURE_CHOICES)), default="svg",
              show_default=True,
              help="Pictures of each counterexample (trace graph, neighbourhood, sequence "
                   "chart) and of --dump-graph: svg, png, all (both) or none. PNG takes two "
                   "to three times as long to draw as SVG.")
@click.option("--dump-graph", is_flag=True,
              help="Explicit engine: explore every reachable state (even after every property "
                   "is violated) and write the explored state graph as state-graph.dot, "
                   f".graphml and .json into --out, pictures too when at most "
                   f"{MAX_PICTURE_STATES} states; violating states are marked.")
@click.option("--workers", type=POSITIVE, default=1, show_default=True, metavar="N",
              help="Explicit engine, compiled backend: explore on N threads (at most the "
                   "machine's cores). Counts, verdicts and traces are those of one worker; "
                   "see docs/engines.md for when it is faster.")
@click.option("--no-reduction", "no_reduction", is_flag=True,
              help="Explicit engine: explore every state, without resetting the values the "
                   "model can never read again (by default they are reset when a Z3 proof "
                   "shows this changes no verdict; see docs/model.md, Dead-value reduction).")
@click.option("--symmetry", is_flag=True,
              help="Explicit engine: store one state per class of states equal up to renaming "
                   "the descriptors (off by default; on only when a Z3 proof shows it changes no "
                   "verdict; safety properties; python explorer; see docs/model.md, Descriptor "
                   "symmetry).")
@click.option("--por", is_flag=True,
              help="Explicit engine, compiled backend: partial-order reduction (off by "
                   "default): expand only one actor's independent, invisible steps where that "
                   "is sound (invariants only: off, with a note, when a liveness property is "
                   "selected; one worker; not with --symmetry; traces are model paths, not "
                   "necessarily the shortest; see docs/engines.md, Partial-order reduction).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
def check(revision: str, specs: tuple[str, ...], properties: tuple[str, ...], engine: str,
          depth: int | None, invariant: str, lift_from: int | None,
          strengthen: tuple[str, ...], query_limit: float | None, walks: int | None,
          seed: int | None, search: str,
          max_states: int | None, max_depth: int | None, time_limit: float | None,
          memory_limit: int | None, backend: str, workers: int,
          out_dir: Path, as_json: bool, html_report: bool, pictures: str, dump_graph: bool,
          no_reduction: bool, symmetry: bool, por: bool, quiet: bool, **params: Any) -> int:
    """Check properties of a revision of the patch at a chosen ring size.

    Every model parameter and [env] environment switch has a default that
    keeps the kernel's proportions (ring 256, VHOST_MAX_PEND 128, UIO_MAXIOV
    1024); set any of them to explore other cases. A property HOLDS only
    after a complete search; a search cut by --max-states, --max-depth,
    --time-limit or a model capacity is INCONCLUSIVE. Each violation gets its
    shortest trace (with bfs), printed and written to --out.

    Liveness properties (no-leak, put-and-wait-terminates, and any declared
    with @leads_to / @eventually) are judged under the model's fairness,
    which the summary prints; --device-progress and --guest-progress change
    it. Their counterexamples are lassos: a prefix, then a cycle that
    repeats forever (or a state the run stays in).

    \b
    Examples:
      vhostmc check --ring-size 1
      vhostmc check --ring-size 2 --property no-leak --max-backend-changes 0 --release no
      vhostmc check --ring-size 3 --guest rogue --json > result.json
      vhostmc check --ring-size 1 --report --out run1   (then open run1/report.html)
      vhostmc check --ring-size 1 --property no-stuck-waiter --max-depth 4 --dump-graph
      vhostmc check --engine bmc --lift-from 2 --ring-size 256 --uio-maxiov 1024 --max-pend 128 --time-limit 120
      vhostmc check --engine simulate --ring-size 256 --uio-maxiov 1024 --max-pend 128 --walks 10 --depth 2000
      vhostmc check --revision examples/my_rev.py --spec examples/my_spec.py --ring-size 1
    """
    limits = _limits(max_states, max_depth, time_limit, memory_limit)
    _check_engine_options(engine, depth, strengthen, search, max_states, max_depth,
                          dump_graph)
    if backend != DEFAULT_BACKEND and "backend" not in get_engine(engine).options:
        raise UsageProblem(f"--backend applies to {_engines_with('backend')} only")
    _check_workers(engine, backend, workers)
    if no_reduction and "reduction" not in get_engine(engine).options:
        raise UsageProblem(f"--no-reduction applies to {_engines_with('reduction')} (--engine "
                           f"{engine} explores no state space)")
    if symmetry and "symmetry" not in get_engine(engine).options:
        raise UsageProblem(f"--symmetry applies to {_engines_with('symmetry')} (--engine "
                           f"{engine} explores no state space)")
    if por:
        _check_por(engine, backend, workers, symmetry, search, dump_graph)
    if invariant != "auto" and "invariant" not in get_engine(engine).options:
        raise UsageProblem(f"--invariant applies to {_engines_with('invariant')} only")
    if lift_from is not None and "lift_from" not in get_engine(engine).options:
        raise UsageProblem(f"--lift-from applies to {_engines_with('lift_from')} only")
    if (walks is not None or seed is not None) and "walks" not in get_engine(engine).options:
        raise UsageProblem(f"--walks and --seed apply to {_engines_with('walks')} only")
    if query_limit is not None and "query_limit" not in get_engine(engine).options:
        raise UsageProblem(f"--query-limit applies to {_engines_with('query_limit')} only; "
                           "use --time-limit")
    overrides = {k: v for k, v in params.items() if v is not None}
    if overrides.get("rogue_posts") is not None and overrides.get("guest") != "rogue":
        raise UsageProblem("--rogue-posts only applies with --guest rogue; add --guest rogue")
    _check_out_dir(out_dir)
    progress = None if quiet else _progress_printer(engine)
    interrupts = Interrupts(hard=not getattr(get_engine(engine), "stoppable", False))
    request = CheckRequest(revision=revision, params=overrides, properties=properties,
                           specs=specs, search=search, limits=limits,  # type: ignore[arg-type]
                           out_dir=out_dir, engine=engine,  # type: ignore[arg-type]
                           depth=depth if depth is not None else getattr(
                               get_engine(engine), "default_depth", 20),
                           strengthen=strengthen, walks=walks, seed=seed or 0,
                           formats=trace_formats(pictures), dump_graph=dump_graph,
                           backend=backend, reduction=not no_reduction, workers=workers,
                           symmetry=symmetry, por=por, lift_from=lift_from,
                           invariant=invariant, query_limit=query_limit)  # type: ignore[arg-type]
    with interrupts.installed():
        outcome = run_check(request, progress, stop=interrupts)
        for note in outcome.notes:
            click.echo(f"vhostmc: {note}", err=True)
        if not as_json:
            for warning in coverage_warnings(outcome.doc):
                click.echo(f"vhostmc: {warning}", err=True)
        _print_result(outcome.result, outcome.doc, as_json)
        if html_report:
            click.echo(f"report: {write_report(out_dir)}", err=True)
    return exit_code(outcome.result)


def _check_por(engine: str, backend: str, workers: int, symmetry: bool, search: str,
               dump_graph: bool) -> None:
    """Reject ``--por`` where it cannot run (exit 2): another engine, the Python explorer,
    more than one worker, with ``--symmetry``, a depth-first search or ``--dump-graph``."""
    if "por" not in get_engine(engine).options:
        raise UsageProblem(f"--por applies to {_engines_with('por')} (--engine {engine} "
                           "explores no state space)")
    if backend == "python":
        raise UsageProblem("--por applies to the compiled backend; use --backend compiled "
                           "(or auto), or drop --por")
    if workers > 1:
        raise UsageProblem("--por runs on one worker; drop --workers or --por")
    if symmetry:
        raise UsageProblem("--por and --symmetry cannot be combined (the soundness argument "
                           "covers the dead-value reduction only); drop one")
    if search != "bfs":
        raise UsageProblem("--por needs --search bfs (its cycle proviso relies on BFS levels)")
    if dump_graph:
        raise UsageProblem("--por and --dump-graph cannot be combined (the graph would be the "
                           "reduced one); drop one")


def _check_workers(engine: str, backend: str, workers: int) -> None:
    """Reject ``--workers`` above the cores this process may run on, with an engine that
    does not honour it, or with the Python explorer (exit 2)."""
    if workers == 1:
        return
    if "workers" not in get_engine(engine).options:
        raise UsageProblem(f"--workers applies to {_engines_with('workers')} only")
    if backend == "python":
        raise UsageProblem("--workers applies to the compiled backend; use --backend compiled "
                           "(or auto), or drop --workers")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)
    if workers > cores:
        raise UsageProblem(f"--workers {workers} is more than the {cores} cores this machine "
                           f"lets vhostmc use; give 1 to {cores}")


def _engines_with(option: str) -> str:
    """``--engine a or b``: the engines that honour ``option``."""
    names = [n for n in engine_names() if option in get_engine(n).options]
    return "--engine " + " or ".join(names)


def _check_engine_options(engine: str, depth: int | None, strengthen: tuple[str, ...],
                          search: str, max_states: int | None, max_depth: int | None,
                          dump_graph: bool) -> None:
    """Reject options the chosen engine does not honour (its ``options``)."""
    accepts = get_engine(engine).options
    if depth is not None and "depth" not in accepts:
        raise UsageProblem(f"--depth applies to {_engines_with('depth')}; for the {engine} "
                           "engine use --max-depth")
    if strengthen and "strengthen" not in accepts:
        raise UsageProblem(f"--strengthen applies to {_engines_with('strengthen')} only")
    if dump_graph and "dump_graph" not in accepts:
        raise UsageProblem(f"--dump-graph needs {_engines_with('dump_graph')} (--engine {engine} "
                           "explores no state graph)")
    if max_states is not None and "max_states" not in accepts:
        raise UsageProblem(f"--max-states applies to {_engines_with('max_states')}; with "
                           f"--engine {engine} use --depth")
    unused = [flag for flag, given, option in (
        ("--search", search != "bfs", "search"),
        ("--max-depth", max_depth is not None, "max_depth")) if given and option not in accepts]
    if unused:
        names = " or ".join(n for n in engine_names() if "search" in get_engine(n).options)
        raise UsageProblem(f"--search and --max-depth apply to the {names} "
                           f"engine; with --engine {engine} use --depth")


def _progress_printer(engine: str = DEFAULT_ENGINE) -> Callable[[Stats], None]:
    unit = get_engine(engine).progress_unit

    def show(stats: Stats) -> None:
        if stats.phase:
            click.echo(f"progress: {stats.phase} ({stats.seconds:.0f}s)", err=True)
            return
        if unit == "depth":
            click.echo(f"progress: {engine} depth {stats.max_depth} done, "
                       f"{stats.transitions} solver queries, {stats.seconds:.1f}s", err=True)
            return
        rate = stats.states / stats.seconds if stats.seconds else 0.0
        click.echo(
            f"progress: {stats.states} distinct states, {stats.transitions} transitions, "
            f"depth {stats.max_depth}, {rate:,.0f} states/s, queue {stats.queue}, "
            f"{stats.seconds:.0f}s",
            err=True,
        )
    return show


def _print_result(result: RunResult, doc: dict[str, Any], as_json: bool) -> None:
    summary = summary_text(doc)
    if as_json:
        click.echo(summary, err=True)
        click.echo(json.dumps(doc, indent=2, allow_nan=False))
        return
    kinds = {p["name"]: p["kind"] for p in doc["properties"]}
    for p in result.properties:
        if p.trace is not None:
            click.echo(trace_text(p.trace, example=kinds.get(p.name) == "sometimes"))
            click.echo()
    click.echo(summary)


