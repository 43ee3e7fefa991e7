"""One explicit-engine check: the code path ``vhostmc check`` and every matrix cell share.

:func:`run_check` loads the revision (by name or path) and the properties
(built-in and ``--spec`` files), builds the model, evaluates every property
once on the initial state (:func:`checker.userfiles.preflight`), runs the
explicit search, writes each counterexample and ``result.json`` to the
output folder, and returns the result document.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from checker.catalog import REVISIONS, load_revision, select_properties
from checker.explicit import ExplicitChecker, Limits, RunResult, Stats
from checker.itf import to_itf
from checker.model import Model, ModelError
from checker.outputs import to_dot, to_graphml, trace_stem, write_atomic
from checker.report import result_document
from checker.spec import Property
from checker.states import INTERPRET_ENV
from checker.trace import Trace, render_text, to_graph
from checker.userfiles import guarded, preflight, user_file_of, user_frame
from checker.view import ModelBug

TRACE_FORMATS: tuple[str, ...] = ("itf", "dot", "graphml", "text")
"""Every format a counterexample is written in; a matrix cell keeps ``itf`` and ``text``."""

_SUFFIX = {"itf": ".itf.json", "dot": ".dot", "graphml": ".graphml", "text": ".txt"}


@dataclass(frozen=True)
class CheckRequest:
    """Everything one check needs; plain data, so it can cross to a worker process."""

    revision: str
    params: dict[str, Any] = field(default_factory=dict)
    properties: tuple[str, ...] = ()
    specs: tuple[str, ...] = ()
    search: Literal["bfs", "dfs"] = "bfs"
    limits: Limits = field(default_factory=Limits)
    out_dir: Path = Path("vhostmc-out")
    formats: tuple[str, ...] = TRACE_FORMATS
    itf_indent: int | None = 1
    """JSON indentation of ITF files; ``None`` writes each on one line (matrix cells)."""
    engine: Literal["explicit", "bmc", "kind"] = "explicit"
    depth: int = 20
    """BMC depth / largest k for k-induction (ignored by the explicit engine)."""
    strengthen: tuple[str, ...] = ()
    """Names of properties assumed (and proved) as strengthening invariants by ``kind``."""


@dataclass
class CheckOutcome:
    """The model checked, the engine's result and the result document."""

    model: Model
    result: RunResult
    doc: dict[str, Any]


def prepare(req: CheckRequest) -> tuple[Model, list[Property]]:
    """The model and the selected properties, checked on the initial state.

    Raises :class:`ModelError` (one line, ``file:line`` for user files) for
    a bad revision, parameter, property name or property.
    """
    model = load_revision(req.revision)(req.params)
    props = select_properties(req.properties, req.specs)
    with user_errors(model):
        preflight(model, props)
    return model, props


@contextmanager
def user_errors(model: Model) -> Iterator[None]:
    """Turn an exception raised in a user file's code into a one-line ModelError."""
    try:
        yield
    except (ModelError, ModelBug):
        raise
    except Exception as err:
        text = str(err).strip().splitlines()
        detail = f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
        where = user_frame(err)
        if where is not None:
            raise ModelError(f"{where}: revision {model.name} raised {detail}") from None
        source = user_file_of(type(model))
        if source is None:
            raise
        # the step ran as compiled code, which has no line of the user's file
        raise ModelError(
            f"{source}: revision {model.name} raised {detail} in one of its steps; run again "
            f"with {INTERPRET_ENV}=1 to get the line"
        ) from None


def write_trace_files(
    model: Model, trace: Trace, out_dir: Path, formats: Sequence[str] = TRACE_FORMATS,
    itf_indent: int | None = 1,
) -> dict[str, str]:
    """Write ``trace`` in each of ``formats``; returns ``{format: path}``."""
    stem = trace_stem(trace)
    graph = to_graph(model, trace) if {"dot", "graphml"} & set(formats) else None
    render: dict[str, Callable[[], str]] = {
        "itf": lambda: json.dumps(to_itf(model, trace), indent=itf_indent,
                                  separators=None if itf_indent else (",", ":")) + "\n",
        "dot": lambda: to_dot(graph),
        "graphml": lambda: to_graphml(graph),
        "text": lambda: render_text(trace) + "\n",
    }
    files: dict[str, str] = {}
    for kind in formats:
        path = out_dir / f"{stem}{_SUFFIX[kind]}"
        write_atomic(path, render[kind]())
        files[kind] = str(path)
    return files


def run_check(req: CheckRequest, progress: Callable[[Stats], None] | None = None) -> CheckOutcome:
    """Run one check and write its files; see the module docstring."""
    model, props = prepare(req)
    with user_errors(model):
        result = run_engine(req, model, props, progress)
    traces = {p.name: write_trace_files(model, p.trace, req.out_dir, req.formats, req.itf_indent)
              for p in result.properties if p.trace is not None}
    limits = req.limits
    settings: dict[str, Any] = {"search": req.search, "max_states": limits.max_states,
                                "max_depth": limits.max_depth, "time_limit": limits.time_limit}
    if req.engine != "explicit":
        settings = {"depth": req.depth, "time_limit": limits.time_limit}
        if req.strengthen:
            settings["strengthen"] = list(req.strengthen)
    if req.revision not in REVISIONS:
        settings["revision_file"] = req.revision
    if req.specs:
        settings["spec_files"] = list(req.specs)
    doc = result_document(model, result, traces, settings)
    if req.engine != "explicit":
        doc["depth"] = req.depth
    write_atomic(req.out_dir / "result.json", json.dumps(doc, indent=2) + "\n")
    return CheckOutcome(model, result, doc)


def run_engine(
    req: CheckRequest, model: Model, props: list[Property],
    progress: Callable[[Stats], None] | None,
) -> RunResult:
    """Run the engine ``req.engine`` asks for on ``model``; every engine returns a RunResult."""
    checked = [guarded(p, model) for p in props]
    if req.engine == "bmc":
        from checker.bmc import run_bmc

        return run_bmc(model, checked, req.depth, progress=progress,
                       time_limit=req.limits.time_limit)
    if req.engine == "kind":
        from checker.kinduction import run_kind

        extra = [guarded(p, model) for p in select_properties(req.strengthen, req.specs)
                 ] if req.strengthen else []
        return run_kind(model, checked, req.depth, strengthening=extra, progress=progress,
                        time_limit=req.limits.time_limit)
    return ExplicitChecker(model, checked, search=req.search, limits=req.limits,
                           progress=progress).run()
