"""The ``vhostmc`` command group and the options and checks its commands share."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from checker import __version__
from checker.engines.base import Limits
from checker.lang.model import Param
from checker.outputs.files import OutputError, check_output_dir
from checker.runs.catalog import DEFAULT_REVISION, load_revision

EXIT_CODES = """\b
Exit codes:
  0  every checked property holds (the search was complete)
  1  at least one property is violated (a trace was written)
  2  bad usage or bad input (one line on stderr says what to change)
  3  nothing violated, but the search was cut by a bound or limit
     (inconclusive; never reported as 0)
  4  internal error (a bug in vhostmc): one line on stderr, the
     traceback in vhostmc-crash.log (in --out, else a temp file)
  130, 143  stopped by SIGINT (Ctrl-C) / SIGTERM: the search ended
     early; result.json and every trace found so far are written,
     unfinished properties are inconclusive ('interrupted'); a second
     signal aborts at once
"""

CRASH_LOG = "vhostmc-crash.log"
"""Where an internal error's traceback goes, in the output folder of the command."""

crash_dir: Path | None = None
"""The output folder of the running command once checked (for the crash log)."""


def _option_name(param: click.Parameter | None) -> str:
    return param.opts[0] if param is not None and param.opts else "the value"


class PositiveSeconds(click.ParamType):
    """A finite number of seconds greater than 0 (rejects nan, inf, 0, negatives)."""

    name = "seconds"
    LARGEST = 10.0 ** 9

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> float:
        option = _option_name(param)
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            raise click.UsageError(f"{option}: '{value}' is not a number of seconds",
                                   ctx) from None
        if not math.isfinite(seconds) or seconds <= 0:
            raise click.UsageError(f"{option} must be positive, not {value} (a finite number "
                                   "of seconds)", ctx)
        if seconds > self.LARGEST:
            raise click.UsageError(f"{option} must be at most {self.LARGEST:g} seconds, "
                                   f"not {value}", ctx)
        return seconds


class AtLeast(click.ParamType):
    """An integer no smaller than ``minimum``."""

    name = "integer"

    def __init__(self, minimum: int) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        option = _option_name(param)
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip())
            except ValueError:
                raise click.UsageError(f"{option}: '{value}' is not a valid integer",
                                       ctx) from None
        if number < self.minimum:
            raise click.UsageError(f"{option} must be at least {self.minimum}, not {number}",
                                   ctx)
        return number


SECONDS = PositiveSeconds()
POSITIVE = AtLeast(1)

"""An integer at least 1 (--max-states, --max-depth, --depth, --jobs)."""

NON_NEGATIVE = AtLeast(0)
"""An integer at least 0 (--seed)."""

MEMORY_HELP = ("Stop the search when the process's peak resident memory reaches this many MiB "
               "(explicit engine), or when Z3's own allocations do (bmc, kind, pdr; default "
               "there: 60% of the machine's memory); what did not finish is inconclusive.")


class UsageProblem(Exception):
    """Bad input detected by vhostmc itself (exit 2)."""


def _param_option(spec: Param) -> click.Option:
    """The option that sets model parameter ``spec`` (``None`` when not given)."""
    help_text = f"{'[env] ' if spec.environment else ''}{spec.help} (default: {spec.default_text()})"
    if spec.choices is not None:
        return click.Option([spec.option, spec.name], type=click.Choice(spec.choices),
                            default=None, help=help_text)
    kind: Any = int if spec.kind is int else str
    return click.Option([spec.option, spec.name], type=kind, default=None, help=help_text,
                        metavar="N" if kind is int else "VALUE")


def _param_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One option per parameter and environment switch of the default revision
    (a ``--revision`` FILE's own parameters are added by :class:`RevisionCommand`)."""
    for spec in reversed(load_revision(DEFAULT_REVISION).parameters):
        opt = _param_option(spec)
        fn = click.option(*opt.opts, opt.name, type=opt.type, default=None, help=opt.help,
                          metavar=opt.metavar)(fn)
    return fn


def _revision_in(args: list[str]) -> str | None:
    """The value of ``--revision`` in a command line, if given."""
    for k, arg in enumerate(args):
        if arg == "--revision" and k + 1 < len(args):
            return args[k + 1]
        if arg.startswith("--revision="):
            return arg.split("=", 1)[1]
    return None


class RevisionCommand(click.Command):
    """A command whose parameter options include those of the ``--revision`` it is given.

    The revision is loaded before the options are parsed, so a revision file
    that declares a parameter of its own (``parameters = (*V9.parameters,
    Param(...))``) can be set from the command line; ``--help`` lists them.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self.params = [p for p in self.params if not getattr(p, "vhostmc_revision", False)]
        revision = _revision_in(args)
        if revision is not None:
            known = {p.name for p in self.params}
            for spec in load_revision(revision).parameters:
                if spec.name not in known:
                    opt = _param_option(spec)
                    opt.vhostmc_revision = True  # type: ignore[attr-defined]
                    self.params.append(opt)
        return super().parse_args(ctx, args)


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
             "(checker.lang.spec); repeat for several. --property then selects among built-in and "
             "user properties.")


def comma_names(ctx: click.Context, param: click.Parameter,
                values: tuple[str, ...]) -> tuple[str, ...]:
    """Click callback of a repeatable name option (``--property``, ``--strengthen``):
    the names given, each value split at its commas; :class:`UsageProblem` on an
    empty name."""
    option = param.opts[0] if param.opts else str(param.name)
    names = tuple(name.strip() for value in values for name in value.split(","))
    if "" in names:
        given = " ".join(f"{option} {value}" for value in values)
        raise UsageProblem(f"{option}: an empty name in '{given}'; separate names with "
                           "single commas (--property a,b)")
    return names


def _spec_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--spec", "specs", multiple=True, metavar="PATH.py", help=SPEC_HELP)(fn)


def _limits(max_states: int | None, max_depth: int | None, time_limit: float | None,
            memory_limit: int | None = None) -> Limits:
    """The search limits, checked (exit 2 for a non-positive value)."""
    for name, value in (("--max-states", max_states), ("--max-depth", max_depth)):
        if value is not None and value < 1:
            raise UsageProblem(f"{name} must be at least 1, not {value}")
    if time_limit is not None and not (math.isfinite(time_limit) and time_limit > 0):
        raise UsageProblem(f"--time-limit must be positive, not {time_limit:g}")
    return Limits(max_states, max_depth, time_limit, memory_limit)


def _check_out_dir(out_dir: Path) -> None:
    """Refuse an output folder that cannot be used, before any work (exit 2); remember it
    for the crash log."""
    global crash_dir
    try:
        check_output_dir(out_dir)
    except OutputError as err:
        raise UsageProblem(str(err)) from None
    crash_dir = out_dir


