"""Files a run writes: traces (ITF, DOT, GraphML, text) and the result document.

:func:`to_dot`, :func:`to_graphml` and :func:`dot_quote` live in :mod:`checker.outputs.graphs`
and are re-exported here.

Every file is written atomically: to a temporary file in the same folder,
then renamed over the target, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from checker.outputs.graphs import dot_quote, to_dot, to_graphml
from checker.traces.trace import Trace

__all__ = ["dot_quote", "to_dot", "to_graphml", "trace_stem", "write_atomic"]


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write ``text`` (UTF-8) or bytes to ``path`` so that the file is either old or complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def trace_stem(trace: Trace) -> str:
    """The file name stem of a trace: ``<revision>-n<ring>-<property>``."""
    ring = trace.params.get("ring_size", "x")
    return f"{trace.revision}-n{ring}-{trace.property}"
