"""The ``vhostmc`` command line: the group (:mod:`checker.cli.app`) and one module per command."""

from __future__ import annotations

import sys
import tempfile
import traceback
from pathlib import Path

import click

from checker.cli import app, check, diff_revisions, listing, matrix, replay, report, shrink  # noqa: F401  (registers the commands)
from checker.cli.app import CRASH_LOG, UsageProblem, cli
from checker.cli.interrupts import Aborted, aborted_by
from checker.engines.base import EngineInternalError
from checker.lang.model import ModelError
from checker.lang.view import ModelBug
from checker.outputs.files import OutputError, write_atomic
from checker.outputs.html.page import ReportError
from checker.outputs.summary import EXIT_INTERNAL, EXIT_USAGE, SIGNAL_EXIT
from checker.traces.itf import ItfError

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every input error into one line and exit 2,
    a signal that aborts into 130/143, and any other exception (a bug) into one line,
    a crash log and exit 4."""
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
    except (ModelError, UsageProblem, ItfError, ReportError, OutputError) as err:
        click.echo(f"vhostmc: error: {err}", err=True)
        sys.exit(EXIT_USAGE)
    except ModelBug as err:
        click.echo(f"vhostmc: error: the model is inconsistent: {err} (fix the revision)", err=True)
        sys.exit(EXIT_USAGE)
    except EngineInternalError as err:
        _exit_if_signalled()
        log = write_crash_log(traceback.format_exc())
        click.echo(f"vhostmc: internal error: {err} (a bug in vhostmc, not a verdict; the "
                   f"traceback is in {log}, please report it)", err=True)
        sys.exit(EXIT_INTERNAL)
    except Aborted as err:
        _exit_aborted(err.name)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _exit_aborted("SIGINT")
    except OSError as err:
        where = f": {err.filename}" if err.filename else ""
        click.echo(f"vhostmc: error: {err.strerror or err}{where}", err=True)
        sys.exit(EXIT_USAGE)
    except Exception as err:  # noqa: BLE001 - a bug: one line, the traceback in a crash log
        _exit_if_signalled()
        log = write_crash_log(traceback.format_exc())
        first = (str(err).strip().splitlines() or [""])[0]
        click.echo(f"vhostmc: internal error: {type(err).__name__}: {first} (a bug in "
                   f"vhostmc; the traceback is in {log}, please report it)", err=True)
        sys.exit(EXIT_INTERNAL)
    sys.exit(code if isinstance(code, int) else 0)


def _exit_if_signalled() -> None:
    """Exit as a signal's abort does when the error being handled followed one
    (:func:`~checker.cli.interrupts.aborted_by`: ctypes turns the handler's
    :class:`Aborted` into an ``ArgumentError`` when it lands in a Z3 call's arguments)."""
    signalled = aborted_by()
    if signalled is not None:
        _exit_aborted(signalled)


def _exit_aborted(name: str) -> None:
    """Say that signal ``name`` aborted the run, and exit with its code."""
    click.echo(f"vhostmc: aborted by {name}; nothing more was written", err=True)
    # A signal can land inside a Z3 term's constructor; the half-built object's finalizer
    # then fails as the process exits ("Exception ignored in ... __del__", a traceback
    # after the line above). That is the abort's debris, not a bug to show.
    sys.unraisablehook = _ignore_unraisable
    sys.exit(SIGNAL_EXIT.get(name, 130))


def _ignore_unraisable(unraisable: object) -> None:
    """An unraisable exception after an abort: dropped."""


def write_crash_log(text: str) -> str:
    """Write ``text`` to ``vhostmc-crash.log`` in the command's output folder, else to a
    temporary file; the path written (or a note that nothing could be)."""
    if app.crash_dir is not None:
        try:
            path = Path(app.crash_dir) / CRASH_LOG
            write_atomic(path, text)
            return str(path)
        except OSError:
            pass
    try:
        with tempfile.NamedTemporaryFile("w", prefix="vhostmc-crash-", suffix=".log",
                                         delete=False) as fh:
            fh.write(text)
            return fh.name
    except OSError:
        return "nowhere (no writable folder)"
