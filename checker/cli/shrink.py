"""``vhostmc shrink``: drop the steps a counterexample does not need."""

from __future__ import annotations

from pathlib import Path

import click

from checker.cli.app import (
    UsageProblem,
    _spec_option,
    cli,
)
from checker.runs.shrink import ShrinkError, shrink_file
from checker.traces.trace import render_text


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


