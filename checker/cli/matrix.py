"""``vhostmc matrix``: a verdict grid over revisions, ring sizes, environments and,
optionally, fairness presets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from checker.cli.app import (
    MEMORY_HELP,
    POSITIVE,
    SECONDS,
    UsageProblem,
    _check_out_dir,
    _limits,
    _spec_option,
    cli,
    comma_names,
)
from checker.cli.interrupts import Interrupts
from checker.runs.environments import ENVIRONMENTS, get_environment
from checker.runs.fairness import FAIRNESS_PRESETS, get_fairness
from checker.runs.matrix import (
    Cell,
    MatrixPlan,
    parse_list,
    parse_ring_sizes,
    run_matrix,
)
from checker.runs.matrixtable import markdown_table

MATRIX_EXIT_CODES = """\b
Exit codes (the rules of 'vhostmc check', over every cell):
  0  every property holds in every cell (every search was complete)
  1  some property is violated in some cell (its trace was written)
  2  bad usage or bad input, or a cell failed (one line on stderr says
     what to change; the matrix files are still written when cells ran)
  3  nothing violated, but some cell's search was cut by a bound or limit
     (inconclusive; never reported as 0)
  4  internal error (a bug in vhostmc; the traceback is in
     OUT/vhostmc-crash.log)
  130, 143  stopped by SIGINT / SIGTERM: running cells end early, the
     others are not started, the matrix is written with what was found;
     worker processes stop with their parent
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
@click.option("--fairness", default=None, metavar="F1,F2,...",
              callback=_parsed(lambda t: parse_list(t, "fairness preset")),
              help="Also run each cell under these fairness presets (see 'vhostmc list'): "
                   + ", ".join(FAIRNESS_PRESETS) + ". The table gets a fairness column and "
                   "shows each lasso's shape. Default: no fairness axis (default switches).")
@_spec_option
@click.option("--property", "properties", multiple=True, metavar="NAME[,NAME...]",
              callback=comma_names,
              help="Property to check; repeat, or separate names with commas, for several "
                   "(default: all).")
@click.option("--jobs", "-j", type=POSITIVE, default=1, show_default=True,
              help="Cells run at once, each in its own process.")
@click.option("--time-limit", type=SECONDS, default=None, metavar="SECONDS",
              help="Per cell: stop after this long (the cell is then inconclusive).")
@click.option("--memory-limit", type=POSITIVE, default=None, metavar="MIB",
              help="Per cell: " + MEMORY_HELP)
@click.option("--max-states", type=POSITIVE, default=None, metavar="N",
              help="Per cell: stop after N distinct states.")
@click.option("--max-depth", type=POSITIVE, default=None, metavar="N",
              help="Per cell: do not explore beyond N steps.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("vhostmc-matrix"), show_default=True,
              help="Folder for matrix.md, matrix.csv, matrix.png and cells/<rev>-n<N>-<env>/ "
                   "(cells/<rev>-n<N>-<env>-<fairness>/ with --fairness).")
@click.option("--quiet", "-q", is_flag=True, help="No line per finished cell on stderr.")
def matrix(revisions: list[str], ring_sizes: list[int], envs: list[str],
           fairness: list[str] | None, specs: tuple[str, ...], properties: tuple[str, ...], jobs: int,
           time_limit: float | None, memory_limit: int | None, max_states: int | None,
           max_depth: int | None,
           out_dir: Path, quiet: bool) -> int:
    """Check every revision x ring size x environment and tabulate the verdicts.

    Each cell is one explicit-engine run, as 'vhostmc check' does it, with
    its traces and result.json under OUT/cells/<revision>-n<N>-<env>/. The
    matrix (one row per property and environment, one column per revision
    and ring size) is written as OUT/matrix.md (cells link to their ITF
    traces), OUT/matrix.csv and OUT/matrix.png. With --fairness, every cell
    runs once per fairness preset (OUT/cells/<revision>-n<N>-<env>-<preset>/)
    and each row names its preset. Every cell is prepared first, so bad
    input fails before any search.

    \b
    Examples:
      vhostmc matrix --revisions v9,v3.1 --ring-sizes 1-3 --out results
      vhostmc matrix --ring-sizes 1,2 --envs default,datapath --jobs 2 --time-limit 600
      vhostmc matrix --revisions v9,examples/my_rev.py --spec examples/my_spec.py --ring-sizes 1
      vhostmc matrix --ring-sizes 1 --envs datapath --fairness default,may-hold --property no-leak
    """
    limits = _limits(max_states, max_depth, time_limit, memory_limit)
    _check_out_dir(out_dir)
    for revision in revisions:
        for env in envs:
            get_environment(env, revision)
    for preset in fairness or ():
        get_fairness(preset)
    plan = MatrixPlan(revisions=revisions, ring_sizes=ring_sizes, envs=envs,
                      fairness=fairness or (),
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

    with Interrupts().installed() as interrupts:
        result = run_matrix(plan, jobs=jobs, on_cell=done, command=command, stop=interrupts)
    errors = result.errors()
    if errors and result.stopped is None:
        cell, message = errors[0]
        more = f" (and {len(errors) - 1} more cells; see {out_dir / 'matrix.md'})" \
            if len(errors) > 1 else ""
        raise UsageProblem(f"cell {cell.key}: {message}{more}")
    statuses = result.statuses()
    code = result.exit_code()
    click.echo(markdown_table(result))
    verdict = {0: "every property holds in every cell", 1: "violations found",
               2: "some cells failed (see matrix.md)",
               3: "inconclusive: nothing violated, but some search was bounded"}.get(
        code, f"interrupted ({result.stopped}): the cells that finished are written")
    click.echo(f"matrix: {len(result.cells)} cells, {statuses.count('violated')} violated, "
               f"{statuses.count('inconclusive')} inconclusive, {statuses.count('holds')} hold; "
               f"written to {out_dir / 'matrix.md'}")
    click.echo(f"result: {verdict} (exit {code})")
    return code


