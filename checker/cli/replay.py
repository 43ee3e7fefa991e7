"""``vhostmc replay``: re-execute a stored trace on the model."""

from __future__ import annotations

from pathlib import Path

import click

from checker.cli.app import (
    _spec_option,
    cli,
)
from checker.runs.replay import load_trace_file, replay_stored


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
    fairness), 1 when a step does not replay (or its label, picks or #meta
    disagree with the action), 2 when the file cannot be used: not UTF-8, not
    JSON, not an ITF trace, variables the model lacks or values that do not
    fit its parameters, or a property it does not know (add --spec).
    """
    result = replay_stored(load_trace_file(trace_file), revision=revision, spec_files=specs)
    if not quiet:
        for line in result.messages:
            click.echo(line)
    if result.ok:
        tail = (f"; last state violates {result.property}"
                if result.violated_at_end else "")
        if result.reached_at_end:
            tail = f"; last state reaches {result.property} (an example of a sometimes property)"
        if result.loop is not None and result.violated_at_end:
            tail = f"; a fair lasso (loop to state {result.loop}) violating {result.property}"
        click.echo(f"replay: OK: {result.steps} steps replay on revision {result.model.name}{tail}")
        return 0
    click.echo(f"replay: FAILED: {result.messages[-1]}")
    return 1


