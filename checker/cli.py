"""The ``vhostmc`` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from checker import __version__
from checker.catalog import all_properties, load_revision, revision_names, select_properties
from checker.explicit import ExplicitChecker, Limits, RunResult, Stats
from checker.itf import ItfError
from checker.model import ModelError
from checker.outputs import write_atomic, write_trace
from checker.replay import load_trace_file, replay
from checker.report import EXIT_USAGE, exit_code, result_document, summary_text
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
    """


@cli.command(epilog=EXIT_CODES)
@click.option("--revision", default="v9", show_default=True,
              help="Revision of the patch to check (see 'vhostmc list').")
@click.option("--property", "properties", multiple=True, metavar="NAME",
              help="Property to check; repeat for several (default: all).")
@click.option("--engine", type=click.Choice(["explicit"]), default="explicit", show_default=True,
              help="Checking engine: explicit-state search.")
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
              help="Folder for counterexample traces (ITF, DOT, GraphML, text) and result.json.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document on stdout (progress and summary go to stderr).")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
def check(revision: str, properties: tuple[str, ...], engine: str, search: str,
          max_states: int | None, max_depth: int | None, time_limit: float | None,
          out_dir: Path, as_json: bool, quiet: bool, **params: Any) -> int:
    """Check properties of a revision of the patch at a chosen ring size.

    Every model parameter and [env] environment switch has a default that
    keeps the kernel's proportions (ring 256, VHOST_MAX_PEND 128, UIO_MAXIOV
    1024); set any of them to explore other cases. A property HOLDS only
    after a complete search; a search cut by --max-states, --max-depth,
    --time-limit or a model capacity is INCONCLUSIVE. Each violation gets its
    shortest trace (with bfs), printed and written to --out.

    \b
    Examples:
      vhostmc check --ring-size 1
      vhostmc check --ring-size 2 --property no-leak --max-backend-changes 0 --release no
      vhostmc check --ring-size 3 --guest rogue --json > result.json
    """
    for name, value in (("--max-states", max_states), ("--max-depth", max_depth)):
        if value is not None and value < 1:
            raise UsageProblem(f"{name} must be at least 1, not {value}")
    if time_limit is not None and time_limit <= 0:
        raise UsageProblem(f"--time-limit must be positive, not {time_limit:g}")
    overrides = {k: v for k, v in params.items() if v is not None}
    if overrides.get("rogue_posts") is not None and overrides.get("guest") != "rogue":
        raise UsageProblem("--rogue-posts only applies with --guest rogue; add --guest rogue")
    model = load_revision(revision)(overrides)
    props = select_properties(properties)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageProblem(f"--out {out_dir} exists and is not a folder; choose another path")

    progress = None if quiet else _progress_printer()
    checker = ExplicitChecker(model, props, search=search,  # type: ignore[arg-type]
                              limits=Limits(max_states, max_depth, time_limit), progress=progress)
    result = checker.run()
    traces = {p.name: write_trace(model, p.trace, out_dir)
              for p in result.properties if p.trace is not None}
    settings = {"search": search, "max_states": max_states, "max_depth": max_depth,
                "time_limit": time_limit}
    doc = result_document(model, result, traces, settings)
    write_atomic(out_dir / "result.json", json.dumps(doc, indent=2) + "\n")
    _print_result(result, doc, as_json)
    return exit_code(result)


def _progress_printer() -> Callable[[Stats], None]:
    def show(stats: Stats) -> None:
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
def list_cmd(ring_size: int) -> None:
    """List revisions, properties, parameters and environment switches."""
    click.echo("Revisions:")
    for name in revision_names():
        cls = load_revision(name)
        click.echo(f"  {name:<10} {cls.description}")
    click.echo("\nProperties:")
    for prop in all_properties():
        click.echo(f"  {prop.name:<25} {prop.statement}")
    model = load_revision("v9")({"ring_size": ring_size})
    values = model.p.as_dict()
    for title, env in (("Parameters", False), ("Environment switches", True)):
        click.echo(f"\n{title} (values at --ring-size {ring_size}):")
        for spec in PARAMETERS:
            if spec.environment == env:
                click.echo(f"  {spec.option:<24} {values[spec.name]!s:<10} {spec.help}")


@cli.command(name="replay")
@click.argument("trace_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="Print only the verdict line.")
def replay_cmd(trace_file: Path, quiet: bool) -> int:
    """Re-execute a stored ITF trace on the model, step by step.

    Exit 0 when every step is enabled and reaches exactly the recorded state
    (and the last state violates the trace's property), 1 when a step does
    not replay, 2 when the file cannot be used.
    """
    result = replay(load_trace_file(trace_file))
    if not quiet:
        for line in result.messages:
            click.echo(line)
    if result.ok:
        tail = (f"; last state violates {result.property}"
                if result.violated_at_end else "")
        click.echo(f"replay: OK: {result.steps} steps replay on revision {result.model.name}{tail}")
        return 0
    click.echo(f"replay: FAILED: {result.messages[-1]}")
    return 1


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
    except (ModelError, UsageProblem, ItfError) as err:
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

