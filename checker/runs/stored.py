"""A stored run folder read back (``result.json`` and its ITF traces), and its report.

``vhostmc report RUN_DIR`` and ``vhostmc check --report`` go through here: the
folder is checked, the revision and properties it names are loaded, and the
page is rendered by :mod:`checker.outputs.html.page`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from checker.outputs.files import write_atomic
from checker.outputs.html.page import (
    _RESULT_FIELDS,
    REPORT_NAME,
    Counterexample,
    ReportError,
    StoredRun,
    build_report,
)
from checker.runs.catalog import all_properties, load_revision
from checker.runs.replay import load_trace_file
from checker.traces.itf import trace_from_itf


def read_result(run_dir: Path) -> dict[str, Any]:
    """``run_dir/result.json``, checked; :class:`ReportError` says what is wrong."""
    hint = "give the --out folder of a 'vhostmc check' run"
    if not run_dir.exists():
        raise ReportError(f"{run_dir} does not exist; {hint}")
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir} is not a folder; {hint}")
    path = run_dir / "result.json"
    if not path.is_file():
        raise ReportError(f"{run_dir} has no result.json; {hint}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ReportError(f"cannot read {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ReportError(f"{path} is not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise ReportError(f"{path} is not JSON: {err.msg} at line {err.lineno}") from None
    if not isinstance(doc, dict) or doc.get("tool") != "vhostmc":
        raise ReportError(f"{path} is not a vhostmc result document")
    if "error" in doc:
        raise ReportError(f"{path} records a failed run: {doc['error']}")
    for key, kind in _RESULT_FIELDS.items():
        if not isinstance(doc.get(key), kind):
            raise ReportError(f"{path} lacks '{key}' (a {kind.__name__})")
    for i, prop in enumerate(doc["properties"]):
        if not isinstance(prop, dict) or not isinstance(prop.get("name"), str) \
                or not isinstance(prop.get("status"), str):
            raise ReportError(f"{path}: properties[{i}] lacks 'name' or 'status'")
    return doc


def trace_file(run_dir: Path, recorded: str) -> Path:
    """Where the ITF file ``result.json`` records is now: in the run folder if a file of
    that name is there (the folder may have moved), else the recorded path."""
    local = run_dir / Path(recorded).name
    return local if local.is_file() else Path(recorded)


def load_run(run_dir: Path, only: Sequence[str] = ()) -> StoredRun:
    """Read a run folder back: result, model, property statements and counterexamples
    (only those of the properties ``only`` names, when it names any).

    Raises :class:`ReportError`, :class:`~checker.traces.itf.ItfError` or
    :class:`~checker.lang.model.ModelError` (each one line) for unusable input.
    """
    doc = read_result(run_dir)
    settings = doc["settings"]
    model = load_revision(str(settings.get("revision_file") or doc["revision"]))(doc["params"])
    properties = {p.name: p for p in all_properties(settings.get("spec_files") or ())}
    known = [p["name"] for p in doc["properties"]]
    for name in only:
        if name not in known:
            raise ReportError(f"--property {name}: the run has no such property "
                              f"(it has: {', '.join(known)})")
    counterexamples = []
    for prop in doc["properties"]:
        if only and prop["name"] not in only:
            continue
        files = prop.get("trace")
        if not isinstance(files, dict) or not isinstance(files.get("itf"), str):
            continue
        path = trace_file(run_dir, files["itf"])
        trace = trace_from_itf(model, load_trace_file(path))
        counterexamples.append(Counterexample(prop["name"], path, trace))
    return StoredRun(run_dir, doc, model, properties, counterexamples)


def write_report(run_dir: Path, output: Path | None = None, only: Sequence[str] = ()) -> Path:
    """Build the report of ``run_dir`` and write it (atomically) to ``output``, by default
    ``run_dir/report.html``; nothing is written when the build fails."""
    target = output if output is not None else run_dir / REPORT_NAME
    if target.is_dir():
        raise ReportError(f"{target} is a folder; give the path of the HTML file to write")
    text = build_report(load_run(run_dir, only))
    write_atomic(target, text)
    return target
