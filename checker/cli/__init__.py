"""The ``vhostmc`` command line: the group (:mod:`checker.cli.app`) and one module per command."""

from __future__ import annotations

import sys

import click

from checker.cli import check, diff_revisions, listing, matrix, replay, report, shrink  # noqa: F401  (registers the commands)
from checker.cli.app import UsageProblem, cli
from checker.engines.base import EngineInternalError
from checker.lang.model import ModelError
from checker.lang.view import ModelBug
from checker.outputs.html.page import ReportError
from checker.outputs.summary import EXIT_USAGE
from checker.traces.itf import ItfError

__all__ = ["cli", "main"]


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
    except EngineInternalError as err:
        click.echo(f"vhostmc: internal error: {err} (a bug in vhostmc, not a verdict; "
                   "please report it)", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort:
        click.echo("vhostmc: aborted", err=True)
        sys.exit(130)
    except OSError as err:
        click.echo(f"vhostmc: error: {err.strerror or err}: {err.filename or ''}", err=True)
        sys.exit(EXIT_USAGE)
    sys.exit(code if isinstance(code, int) else 0)

