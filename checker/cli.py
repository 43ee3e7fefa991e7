"""The ``vhostmc`` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from checker import __version__
from checker.catalog import all_properties, load_revision, revision_names
from checker.dumpgraph import MAX_PICTURE_STATES
from checker.environments import ENVIRONMENTS, get_environment
from checker.explicit import Limits, RunResult, Stats
from checker.fairness import describe_all
from checker.htmlreport import REPORT_NAME, ReportError, write_report
from checker.itf import ItfError
from checker.matrix import (
    Cell,
    MatrixPlan,
    markdown_table,
    parse_list,
    parse_ring_sizes,
    run_matrix,
)
from checker.model import ModelError
from checker.replay import load_trace_file, replay_stored
from checker.report import EXIT_USAGE, exit_code, summary_text
from checker.revision_diff import compare_verdicts, diff_revisions, render_diff, render_verdicts
from checker.runner import PICTURE_CHOICES, CheckRequest, run_check, trace_formats
from checker.shrink import ShrinkError, shrink_file
from checker.trace import render_text
from checker.view import ModelBug
from models.v9.state import PARAMETERS

EXIT_CODES = """\b
Exit codes:
  0  every checked property holds (the search was complete)
  1  at least one property is violated (a trace was written)
  2  bad usage or bad input (one line on stderr says what to change)
  3  nothing violated, but the search was cut by a bound or limit
     (inconclusive; never reported as 0)
"""


class UsageProblem(Exception):
    """Bad input detected by vhostmc itself (exit 2)."""


def _param_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One option per model parameter and environment switch."""
    for spec in reversed(PARAMETERS):
        default = spec.default_text()
        tag = "[env] " if spec.environment else ""
        help_text = f"{tag}{spec.help} (default: {default})"
        if spec.choices is not None:
            opt = click.option(spec.option, spec.name, type=click.Choice(spec.choices),
                               default=None, help=help_text)
        else:
            opt = click.option(spec.option, spec.name, type=int, default=None, help=help_text,
                               metavar="N")
        fn = opt(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="vhostmc")
def cli() -> None:
    """vhostmc: model checker for the vhost-net zero-copy TX path ([PATCHv9], 2011).

    \b
    Start with:
      vhostmc list                      revisions, properties, parameters
      vhostmc check --ring-size 2       check every property of the patch as posted
      vhostmc replay TRACE.itf.json     re-execute a counterexample on the model
      vhostmc shrink TRACE.itf.json     drop the steps a counterexample does not need
      vhostmc report vhostmc-out        one offline HTML page of a stored run
    """


REVISION_HELP = ("Revision of the patch: a name (see 'vhostmc list') or the path of a .py file "
                 "defining a Model subclass (docs/extending.md).")
SPEC_HELP = ("A .py file of properties declared with @invariant, @leads_to or @eventually "
             "(checker.spec); repeat for several. --property then selects among built-in and "
             "user properties.")


def _spec_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--spec", "specs", multiple=True, metavar="PATH.py", help=SPEC_HELP)(fn)


def _limits(max_states: int | None, max_depth: int | None, time_limit: float | None) -> Limits:
    """The search limits, checked (exit 2 for a non-positive value)."""
    for name, value in (("--max-states", max_states), ("--max-depth", max_depth)):
        if value is not None and value < 1:
            raise UsageProblem(f"{name} must be at least 1, not {value}")
    if time_limit is not None and time_limit <= 0:
        raise UsageProblem(f"--time-limit must be positive, not {time_limit:g}")
    return Limits(max_states, max_depth, time_limit)


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageProblem(f"--out {out_dir} exists and is not a folder; choose another path")


@cli.command(epilog=EXIT_CODES)
@click.option("--revision", default="v9", show_default=True, metavar="NAME|PATH.py",
              help=REVISION_HELP)
@_spec_option
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Property to check; repeat for several (default: all).")
@click.option("--engine", type=click.Choice(["explicit", "bmc", "kind"]), default="explicit",
              show_default=True,
              help="explicit: state enumeration (exhaustive verdicts, shortest traces with bfs); "
                   "bmc: Z3 bounded model checking to --depth (finds shortest violations and "
                   "fair lassos, never proves); kind: Z3 k-induction up to k = --depth (can prove). See "
                   "docs/engines.md.")
@click.option("--depth", type=int, default=None, metavar="K",
              help="bmc: check every path of up to K steps; kind: try k = 1..K. (default: 20)")
@click.option("--strengthen", multiple=True, metavar="NAME",
              help="kind: a property assumed and proved alongside, to make induction go "
                   "through; repeatable.")
@click.option("--search", type=click.Choice(["bfs", "dfs"]), default="bfs", show_default=True,
              help="bfs gives shortest counterexamples; dfs reaches deep states sooner.")
@click.option("--max-states", type=int, default=None, metavar="N",
              help="Stop after N distinct states (the verdict is then inconclusive).")
@click.option("--max-depth", type=int, default=None, metavar="N",
              help="Do not explore beyond N steps (inconclusive if states lie beyond).")
@click.option("--time-limit", type=float, default=None, metavar="SECONDS",
              help="Stop after this long (inconclusive if not finished).")
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
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
def check(revision: str, specs: tuple[str, ...], properties: tuple[str, ...], engine: str,
          depth: int | None, strengthen: tuple[str, ...], search: str, max_states: int | None, max_depth: int | None, time_limit: float | None,
          out_dir: Path, as_json: bool, html_report: bool, pictures: str, dump_graph: bool,
          quiet: bool, **params: Any) -> int:
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
      vhostmc check --revision examples/my_rev.py --spec examples/my_spec.py --ring-size 1
    """
    limits = _limits(max_states, max_depth, time_limit)
    _check_engine_options(engine, depth, strengthen, search, max_states, max_depth)
    if dump_graph and engine != "explicit":
        raise UsageProblem(f"--dump-graph needs --engine explicit (--engine {engine} explores "
                           "no state graph)")
    overrides = {k: v for k, v in params.items() if v is not None}
    if overrides.get("rogue_posts") is not None and overrides.get("guest") != "rogue":
        raise UsageProblem("--rogue-posts only applies with --guest rogue; add --guest rogue")
    _check_out_dir(out_dir)
    progress = None if quiet else _progress_printer(engine)
    request = CheckRequest(revision=revision, params=overrides, properties=properties,
                           specs=specs, search=search, limits=limits,  # type: ignore[arg-type]
                           out_dir=out_dir, engine=engine,  # type: ignore[arg-type]
                           depth=depth if depth is not None else 20, strengthen=strengthen,
                           formats=trace_formats(pictures), dump_graph=dump_graph)
    outcome = run_check(request, progress)
    for note in outcome.notes:
        click.echo(f"vhostmc: {note}", err=True)
    _print_result(outcome.result, outcome.doc, as_json)
    if html_report:
        click.echo(f"report: {write_report(out_dir)}", err=True)
    return exit_code(outcome.result)


def _check_engine_options(engine: str, depth: int | None, strengthen: tuple[str, ...],
                          search: str, max_states: int | None, max_depth: int | None) -> None:
    """Reject options that do not apply to the chosen engine."""
    if engine == "explicit":
        if depth is not None:
            raise UsageProblem("--depth applies to --engine bmc or kind; for the explicit "
                               "engine use --max-depth")
        if strengthen:
            raise UsageProblem("--strengthen applies to --engine kind only")
        return
    if depth is not None and depth < 1:
        raise UsageProblem(f"--depth must be at least 1, not {depth}")
    if search != "bfs" or max_states is not None or max_depth is not None:
        raise UsageProblem(f"--search, --max-states and --max-depth apply to the explicit "
                           f"engine; with --engine {engine} use --depth")
    if strengthen and engine != "kind":
        raise UsageProblem("--strengthen applies to --engine kind only")


def _progress_printer(engine: str = "explicit") -> Callable[[Stats], None]:
    def show(stats: Stats) -> None:
        if engine != "explicit":
            click.echo(f"progress: {engine} depth {stats.max_depth} done, "
                       f"{stats.transitions} solver queries, {stats.seconds:.1f}s", err=True)
            return
        if stats.phase:
            click.echo(f"progress: {stats.phase} ({stats.seconds:.0f}s)", err=True)
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
        click.echo(json.dumps(doc, indent=2))
        return
    for p in result.properties:
        if p.trace is not None:
            click.echo(render_text(p.trace))
            click.echo()
    click.echo(summary)


@cli.command(name="list")
@click.option("--ring-size", type=int, default=2, show_default=True,
              help="Ring size used to show derived defaults.")
@_spec_option
def list_cmd(ring_size: int, specs: tuple[str, ...]) -> None:
    """List revisions, properties, environments, parameters and switches."""
    click.echo("Revisions:")
    for name in revision_names():
        cls = load_revision(name)
        click.echo(f"  {name:<10} {cls.description}")
    click.echo("\nProperties (kind: always = invariant; leads-to, eventually = liveness):")
    for prop in all_properties(specs):
        click.echo(f"  {prop.name:<25} {prop.kind:<10} {prop.statement}")
    click.echo("\nEnvironments (vhostmc matrix --envs):")
    for env in ENVIRONMENTS.values():
        switches = " ".join(env.args()) or "(all defaults)"
        click.echo(f"  {env.name:<10} {switches}")
    model = load_revision("v9")({"ring_size": ring_size})
    values = model.p.as_dict()
    for title, is_env in (("Parameters", False), ("Environment switches", True)):
        click.echo(f"\n{title} (values at --ring-size {ring_size}):")
        for spec in PARAMETERS:
            if spec.environment == is_env:
                click.echo(f"  {spec.option:<24} {values[spec.name]!s:<10} {spec.help}")
    click.echo("\nFairness liveness is judged under (v9, default switches; docs/model.md):")
    for text in describe_all(model.fairness()):
        click.echo(f"  - {text}")


@cli.command(name="replay")
@click.argument("trace_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--revision", default=None, metavar="NAME|PATH.py",
              help="Replay on this revision instead of the one the trace names "
                   "(needed for a trace of a revision file).")
@_spec_option
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict line.")
def replay_cmd(trace_file: Path, revision: str | None, specs: tuple[str, ...],
               quiet: bool) -> int:
    """Re-execute a stored ITF trace on the model, step by step.

    Exit 0 when every step is enabled and reaches exactly the recorded state
    (and the last state violates the trace's property; for a lasso of a
    liveness property: the last state equals the loop state, the goal never
    holds after the premise, and the cycle is fair under the model's
    fairness), 1 when a step does not replay, 2 when the file cannot be used.
    """
    result = replay_stored(load_trace_file(trace_file), revision=revision, spec_files=specs)
    if not quiet:
        for line in result.messages:
            click.echo(line)
    if result.ok:
        tail = (f"; last state violates {result.property}"
                if result.violated_at_end else "")
        if result.loop is not None and result.violated_at_end:
            tail = f"; a fair lasso (loop to state {result.loop}) violating {result.property}"
        click.echo(f"replay: OK: {result.steps} steps replay on revision {result.model.name}{tail}")
        return 0
    click.echo(f"replay: FAILED: {result.messages[-1]}")
    return 1


@cli.command(name="shrink")
@click.argument("trace_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--revision", default=None, metavar="NAME|PATH.py",
              help="Shrink on this revision instead of the one the trace names "
                   "(needed for a trace of a revision file).")
@_spec_option
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH.itf.json",
              help="Where to write the shrunk ITF trace (the text goes beside it, as .txt). "
                   "[default: TRACE's stem + .shrunk.itf.json, next to TRACE]")
def shrink_cmd(trace_file: Path, revision: str | None, specs: tuple[str, ...],
               out_path: Path | None) -> int:
    """Remove the steps a safety counterexample does not need.

    Re-executes the trace's steps from the initial state without chunks of
    them (delta debugging, then every contiguous block, then single steps)
    and keeps a removal when every remaining step is still enabled and the
    last state still violates the trace's property. The result is
    1-minimal: removing any one of its steps loses the violation (it is not
    always the shortest counterexample; 'check --search bfs' finds that).
    The shrunk trace is replayed before it is written, as ITF and as text
    ending with the explanation; it is written even when no step could be
    removed.

    Exit 0 when the shrunk trace was written, 2 when the file cannot be
    used (not a vhostmc ITF trace, a step that does not replay, a last
    state that does not violate the property, or a lasso: a liveness
    counterexample, which is violated by its cycle, not by a last state);
    then nothing is written.

    \b
    Examples:
      vhostmc check --ring-size 1 --search dfs --property no-double-use
      vhostmc shrink vhostmc-out/v9-n1-no-double-use.itf.json
    """
    try:
        report = shrink_file(trace_file, revision, specs, out_path)
    except ShrinkError as err:
        raise UsageProblem(str(err)) from None
    result = report.result
    click.echo(render_text(result.trace))
    click.echo()
    outcome = ("already 1-minimal: no step can be removed" if result.already_minimal else
               "1-minimal: removing any one step loses the violation")
    click.echo(f"shrink: {result.trace.property} on revision {result.model.name}: "
               f"{result.original_length} -> {len(result.trace)} steps ({outcome}; "
               f"{result.runs} candidate runs)")
    click.echo(f"written: {report.itf_path} and {report.text_path}; replay: OK, the last "
               f"state violates {result.trace.property}")
    return 0


@cli.command(name="report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help=f"Where to write the page (default: RUN_DIR/{REPORT_NAME}).")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Show only this property's counterexample; repeat for several "
                   "(default: every counterexample of the run).")
def report_cmd(run_dir: Path, output: Path | None, properties: tuple[str, ...]) -> int:
    """Build the offline HTML report of a stored run (the --out folder of 'vhostmc check').

    Reads RUN_DIR/result.json and the ITF trace of each counterexample it
    names, rebuilds the traces on the model, and writes one self-contained
    HTML file (no network, no other files): the run's parameters and
    environment switches, the verdicts, the search statistics and, per
    counterexample, its sequence chart, its neighbourhood graph, a step
    table to walk with ArrowRight/ArrowLeft (or j/k) and Home/End, and the
    explanation of the violation. The same run always gives the same file.

    Exit 0 when the page was written, 2 (nothing written) when RUN_DIR is
    not a run folder or one of its files cannot be used.

    \b
    Example:
      vhostmc check --ring-size 1 --out run1 -q; vhostmc report run1 -o review.html
    """
    click.echo(f"report: {write_report(run_dir, output, properties)}")
    return 0


MATRIX_EXIT_CODES = """\b
Exit codes (the rules of 'vhostmc check', over every cell):
  0  every property holds in every cell (every search was complete)
  1  some property is violated in some cell (its trace was written)
  2  bad usage or bad input, or a cell failed (one line on stderr says
     what to change; the matrix files are still written when cells ran)
  3  nothing violated, but some cell's search was cut by a bound or limit
     (inconclusive; never reported as 0)
"""


def _parsed(parse: Callable[[str], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback that runs ``parse`` and turns ValueError into a usage error."""

    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as err:
            raise click.BadParameter(str(err), ctx=ctx, param=param) from None

    return callback


@cli.command(epilog=MATRIX_EXIT_CODES)
@click.option("--revisions", default="v9,v3.1", show_default=True, metavar="R1,R2,...",
              callback=_parsed(lambda t: parse_list(t, "revision")),
              help="Revisions (names or revision .py files), comma-separated.")
@click.option("--ring-sizes", default="1-3", show_default=True, metavar="1-3|1,2,4",
              callback=_parsed(parse_ring_sizes),
              help="Ring sizes: a range (1-3), a list (1,2,4) or both (1-2,4).")
@click.option("--envs", default="default", show_default=True, metavar="E1,E2,...",
              callback=_parsed(lambda t: parse_list(t, "environment")),
              help="Named environments (see 'vhostmc list'): " + ", ".join(ENVIRONMENTS) + ".")
@_spec_option
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Property to check; repeat for several (default: all).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True,
              help="Cells run at once, each in its own process.")
@click.option("--time-limit", type=float, default=None, metavar="SECONDS",
              help="Per cell: stop after this long (the cell is then inconclusive).")
@click.option("--max-states", type=int, default=None, metavar="N",
              help="Per cell: stop after N distinct states.")
@click.option("--max-depth", type=int, default=None, metavar="N",
              help="Per cell: do not explore beyond N steps.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("vhostmc-matrix"), show_default=True,
              help="Folder for matrix.md, matrix.csv, matrix.png and cells/<rev>-n<N>-<env>/.")
@click.option("--quiet", "-q", is_flag=True, help="No line per finished cell on stderr.")
def matrix(revisions: list[str], ring_sizes: list[int], envs: list[str],
           specs: tuple[str, ...], properties: tuple[str, ...], jobs: int,
           time_limit: float | None, max_states: int | None, max_depth: int | None,
           out_dir: Path, quiet: bool) -> int:
    """Check every revision x ring size x environment and tabulate the verdicts.

    Each cell is one explicit-engine run, as 'vhostmc check' does it, with
    its traces and result.json under OUT/cells/<revision>-n<N>-<env>/. The
    matrix (one row per property and environment, one column per revision
    and ring size) is written as OUT/matrix.md (cells link to their ITF
    traces), OUT/matrix.csv and OUT/matrix.png. Every cell is prepared
    first, so bad input fails before any search.

    \b
    Examples:
      vhostmc matrix --revisions v9,v3.1 --ring-sizes 1-3 --out results
      vhostmc matrix --ring-sizes 1,2 --envs default,datapath --jobs 2 --time-limit 600
      vhostmc matrix --revisions v9,examples/my_rev.py --spec examples/my_spec.py --ring-sizes 1
    """
    limits = _limits(max_states, max_depth, time_limit)
    _check_out_dir(out_dir)
    for env in envs:
        get_environment(env)
    plan = MatrixPlan(revisions=revisions, ring_sizes=ring_sizes, envs=envs,
                      properties=properties, specs=specs, limits=limits, out_dir=out_dir)
    command = plan.command(jobs)

    def done(cell: Cell, doc: dict[str, Any]) -> None:
        if quiet:
            return
        if "error" in doc:
            click.echo(f"cell {cell.key}: error: {doc['error']}", err=True)
            return
        counts = ", ".join(f"{sum(p['status'] == s for p in doc['properties'])} {s}"
                           for s in ("violated", "holds", "inconclusive"))
        click.echo(f"cell {cell.key}: {counts} ({doc['stats']['states']} states, "
                   f"{doc['stats']['seconds']:.1f}s)", err=True)

    result = run_matrix(plan, jobs=jobs, on_cell=done, command=command)
    errors = result.errors()
    if errors:
        cell, message = errors[0]
        more = f" (and {len(errors) - 1} more cells; see {out_dir / 'matrix.md'})" \
            if len(errors) > 1 else ""
        raise UsageProblem(f"cell {cell.key}: {message}{more}")
    statuses = result.statuses()
    code = result.exit_code()
    click.echo(markdown_table(result))
    verdict = {0: "every property holds in every cell", 1: "violations found",
               3: "inconclusive: nothing violated, but some search was bounded"}[code]
    click.echo(f"matrix: {len(result.cells)} cells, {statuses.count('violated')} violated, "
               f"{statuses.count('inconclusive')} inconclusive, {statuses.count('holds')} hold; "
               f"written to {out_dir / 'matrix.md'}")
    click.echo(f"result: {verdict} (exit {code})")
    return code


@cli.command(name="diff-revisions")
@click.argument("old")
@click.argument("new")
@click.option("--ring-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Ring size at which both revisions are checked.")
@click.option("--env", default="default", show_default=True,
              type=click.Choice(list(ENVIRONMENTS)), help="Environment of both checks.")
@_spec_option
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Property to compare; repeat for several (default: all).")
@click.option("--time-limit", type=float, default=120.0, show_default=True, metavar="SECONDS",
              help="Per revision: stop the check after this long (inconclusive).")
@click.option("--steps-only", is_flag=True, help="Only compare the code; run no check.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("vhostmc-out/diff"), show_default=True,
              help="Folder for both checks' traces (OUT/<revision>/).")
def diff_revisions_cmd(old: str, new: str, ring_size: int, env: str, specs: tuple[str, ...],
                       properties: tuple[str, ...], time_limit: float, steps_only: bool,
                       out_dir: Path) -> int:
    """Show what differs between revisions OLD and NEW (names or .py files).

    Lists the steps whose model differs (with the patch code each quotes),
    steps only one revision has, helper methods that differ (with their
    docstrings, which quote the code) and state variables that differ; then
    checks both at --ring-size in --env and shows each property's verdict and
    trace length side by side, marking those that change.

    Exit 0 when the comparison was made, 2 for bad input.

    \b
    Example:
      vhostmc diff-revisions v9 v3.1 --ring-size 1
    """
    limits = _limits(None, None, time_limit)
    _check_out_dir(out_dir)
    params = {"ring_size": ring_size, **get_environment(env).switches}
    diff = diff_revisions(load_revision(old)(params), load_revision(new)(params))
    click.echo(render_diff(diff))
    if not steps_only:
        rows, docs = compare_verdicts(old, new, ring_size, env, properties, specs, limits,
                                      out_dir)
        click.echo()
        click.echo(render_verdicts(rows, ring_size, env, docs))
    return 0


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every input error into one line and exit 2."""
    try:
        code = cli.main(args=argv, prog_name="vhostmc", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as err:
        click.echo(err.ctx.get_help() if err.ctx is not None else "see 'vhostmc --help'")
        sys.exit(0)
    except click.UsageError as err:
        hint = ""
        if err.ctx is not None:
            hint = f" (see '{err.ctx.command_path} --help')"
        click.echo(f"vhostmc: error: {err.format_message()}{hint}", err=True)
        sys.exit(EXIT_USAGE)
    except (ModelError, UsageProblem, ItfError, ReportError) as err:
        click.echo(f"vhostmc: error: {err}", err=True)
        sys.exit(EXIT_USAGE)
    except ModelBug as err:
        click.echo(f"vhostmc: error: the model is inconsistent: {err} (fix the revision)", err=True)
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("vhostmc: aborted", err=True)
        sys.exit(130)
    except OSError as err:
        click.echo(f"vhostmc: error: {err.strerror or err}: {err.filename or ''}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)

