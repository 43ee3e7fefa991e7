"""``vhostmc diff-revisions``: what two revisions change, in code and verdicts."""

from __future__ import annotations

from pathlib import Path

import click

from checker.cli.app import (
    SECONDS,
    _check_out_dir,
    _limits,
    _spec_option,
    cli,
    comma_names,
)
from checker.runs.catalog import load_revision
from checker.runs.environments import ENVIRONMENTS
from checker.runs.revision_diff import (
    compare_verdicts,
    diff_revisions,
    render_diff,
    render_verdicts,
    revision_params,
)


@cli.command(name="diff-revisions")
@click.argument("old")
@click.argument("new")
@click.option("--ring-size", type=click.IntRange(min=1), default=1, show_default=True,
              help="Ring size at which both revisions are checked.")
@click.option("--env", default="default", show_default=True,
              type=click.Choice(list(ENVIRONMENTS)), help="Environment of both checks.")
@_spec_option
@click.option("--property", "properties", multiple=True, metavar="NAME[,NAME...]",
              callback=comma_names,
              help="Property to compare; repeat, or separate names with commas, for several "
                   "(default: all).")
@click.option("--time-limit", type=SECONDS, default=120.0, show_default=True, metavar="SECONDS",
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
    old_model, new_model = (load_revision(rev)(revision_params(rev, ring_size, env))
                            for rev in (old, new))
    diff = diff_revisions(old_model, new_model)
    click.echo(render_diff(diff))
    if not steps_only:
        rows, docs = compare_verdicts(old, new, ring_size, env, properties, specs, limits,
                                      out_dir)
        click.echo()
        click.echo(render_verdicts(rows, ring_size, env, docs))
    return 0


