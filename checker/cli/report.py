"""``vhostmc report``: the offline HTML page of a stored run."""

from __future__ import annotations

from pathlib import Path

import click

from checker.cli.app import (
    cli,
    comma_names,
)
from checker.outputs.html.page import REPORT_NAME
from checker.runs.stored import write_report


@cli.command(name="report")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              metavar="PATH", help=f"Where to write the page (default: RUN_DIR/{REPORT_NAME}).")
@click.option("--property", "properties", multiple=True, metavar="NAME[,NAME...]",
              callback=comma_names,
              help="Show only this property's counterexample; repeat, or separate names "
                   "with commas, for several "
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


