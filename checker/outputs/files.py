"""Files a run writes: traces (ITF, DOT, GraphML, text) and the result document.

:func:`to_dot`, :func:`to_graphml` and :func:`dot_quote` live in :mod:`checker.outputs.graphs`
and are re-exported here.

Every file is written atomically: to a temporary file in the same folder,
then renamed over the target, so a reader never sees half a file.  The file
gets the mode the umask allows (``0o666 & ~umask``), as ``open`` would give
it; a failure is an :class:`OutputError` naming the target, never the
temporary file.  :func:`check_output_dir` tells, before a run, whether its
output folder can be used.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from checker.outputs.graphs import dot_quote, to_dot, to_graphml
from checker.traces.trace import Trace

__all__ = ["OutputError", "check_output_dir", "dot_quote", "to_dot", "to_graphml",
           "trace_stem", "write_atomic"]

MIN_FREE_BYTES = 1 << 20
"""Free space an output folder needs before a run starts (1 MiB: a result and a few traces)."""


class OutputError(OSError):
    """An output file or folder cannot be written; the message names the user's path."""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _why(err: OSError) -> str:
    return err.strerror or str(err)


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (UTF-8) or bytes to ``path`` so that the file is either old or complete.

    Raises :class:`OutputError` naming ``path`` (or its folder) when it cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create folder {path.parent}: {_why(err)}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as err:
        raise OutputError(f"cannot write {path}: {_why(err)}") from None
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {_why(err)}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_output_dir(folder: Path, option: str = "--out") -> None:
    """Raise :class:`OutputError` (one line naming ``folder`` and ``option``) unless
    ``folder`` is a folder, or can be created, where a file can be written and at
    least :data:`MIN_FREE_BYTES` are free.  Creates nothing."""
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} {folder} exists and is not a folder; choose another path")
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"{option} {folder}: {existing} is not a folder; choose another path")
    if existing == folder:
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as err:
            raise OutputError(f"{option} {folder} is not writable ({_why(err)}); choose "
                              "another folder or change its permissions") from None
    else:
        try:
            os.rmdir(tempfile.mkdtemp(prefix=".vhostmc-check.", dir=existing))
        except OSError as err:
            raise OutputError(f"{option} {folder} cannot be created: {existing} is not "
                              f"writable ({_why(err)}); choose another folder") from None
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return
    if free < MIN_FREE_BYTES:
        raise OutputError(f"{option} {folder}: only {free} bytes free on its file system; "
                          "free some space or choose another folder")


def trace_stem(trace: Trace) -> str:
    """The file name stem of a trace: ``<revision>-n<ring>-<property>``."""
    ring = trace.params.get("ring_size", "x")
    return f"{trace.revision}-n{ring}-{trace.property}"
