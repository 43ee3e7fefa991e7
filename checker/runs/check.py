"""One explicit-engine check: the code path ``vhostmc check`` and every matrix cell share.

:func:`run_check` loads the revision (by name or path) and the properties
(built-in and ``--spec`` files), builds the model, evaluates every property
once on the initial state (:func:`checker.runs.userfiles.preflight`), runs the
explicit search, writes each counterexample and ``result.json`` to the
output folder, and returns the result document.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from checker.engines.base import EngineRequest, Limits, RunResult, Stats
from checker.engines.registry import DEFAULT_ENGINE, get_engine
from checker.lang.model import Model, ModelError
from checker.lang.spec import Property
from checker.lang.view import ModelBug
from checker.outputs.files import trace_stem, write_atomic
from checker.outputs.graphs import neighbourhood_graph, to_dot, to_graphml, to_json, trace_graph
from checker.outputs.summary import result_document
from checker.runs.catalog import REVISIONS, load_revision, select_properties
from checker.runs.userfiles import guarded, preflight, user_file_of, user_frame
from checker.semantics.states import INTERPRET_ENV
from checker.traces.itf import to_itf
from checker.traces.trace import Trace, render_text

GRAPH_FORMATS: tuple[str, ...] = ("graph.json", "neighbourhood.dot", "neighbourhood.json")
"""The trace graph as node-link JSON, and the trace in its neighbourhood (checker.outputs.graphs)."""
PICTURE_FORMATS: tuple[str, ...] = ("graph.svg", "graph.png", "neighbourhood.svg", "chart.svg",
                                    "chart.png")
"""Pictures drawn with matplotlib (checker.outputs.pictures, checker.outputs.chart): the costly formats."""
TRACE_FORMATS: tuple[str, ...] = ("itf", "dot", "graphml", "text", *GRAPH_FORMATS,
                                  *PICTURE_FORMATS)
"""Every format a counterexample can be written in; a matrix cell keeps ``itf`` and ``text``.
A format's file is ``<stem>`` plus its suffix: ``.itf.json``, ``.dot``, ``.graphml``,
``.txt``, and ``.<format>`` for the others (``<stem>.chart.svg``)."""

PICTURE_CHOICES: dict[str, tuple[str, ...]] = {"svg": ("svg",), "png": ("png",),
                                               "all": ("svg", "png"), "none": ()}
"""``vhostmc check --pictures``: which picture formats to draw."""


def trace_formats(pictures: str = "svg") -> tuple[str, ...]:
    """:data:`TRACE_FORMATS` with only the pictures ``pictures`` asks for (a
    :data:`PICTURE_CHOICES` key).  The default, SVG only, costs about a fifth of
    a second per picture; PNG costs two to three times that (see README)."""
    keep = PICTURE_CHOICES[pictures]
    return tuple(f for f in TRACE_FORMATS
                 if f not in PICTURE_FORMATS or f.rsplit(".", 1)[1] in keep)


DEFAULT_TRACE_FORMATS = trace_formats("svg")
"""What ``vhostmc check`` writes for a counterexample unless told otherwise."""

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
    formats: tuple[str, ...] = DEFAULT_TRACE_FORMATS
    itf_indent: int | None = 1
    """JSON indentation of ITF files; ``None`` writes each on one line (matrix cells)."""
    engine: str = DEFAULT_ENGINE
    """A name in :mod:`checker.engines.registry`."""
    depth: int = 20
    """BMC depth / largest k for k-induction (ignored by the explicit engine)."""
    strengthen: tuple[str, ...] = ()
    """Names of properties assumed (and proved) as strengthening invariants by ``kind``."""
    dump_graph: bool = False
    """Explicit engine: write the explored state graph as ``state-graph.*`` (checker.outputs.dumpgraph)."""


@dataclass
class CheckOutcome:
    """The model checked, the engine's result and the result document."""

    model: Model
    result: RunResult
    doc: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    """Things the user should know that are not results (a picture skipped), for stderr."""


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
    model: Model, trace: Trace, out_dir: Path, formats: Sequence[str] = DEFAULT_TRACE_FORMATS,
    itf_indent: int | None = 1,
) -> dict[str, str]:
    """Write ``trace`` in each of ``formats`` (see :data:`TRACE_FORMATS`); returns
    ``{format: path}``.  Each graph is built once, and matplotlib is only loaded
    for a picture format."""
    stem = trace_stem(trace)
    graph = cache(lambda: trace_graph(model, trace))
    neighbourhood = cache(lambda: neighbourhood_graph(model, trace))

    def picture(kind: str, fmt: Literal["svg", "png"]) -> bytes:
        from checker.outputs.chart import (  # matplotlib: only when asked
            render_chart,
            sequence_chart,
        )
        from checker.outputs.pictures import neighbourhood_picture, trace_picture

        if kind == "chart":
            return render_chart(sequence_chart(model, trace), fmt)
        if kind == "neighbourhood":
            return neighbourhood_picture(neighbourhood(), fmt)
        return trace_picture(graph(), fmt)

    render: dict[str, Callable[[], str | bytes]] = {
        "itf": lambda: json.dumps(to_itf(model, trace), indent=itf_indent,
                                  separators=None if itf_indent else (",", ":")) + "\n",
        "dot": lambda: to_dot(graph()),
        "graphml": lambda: to_graphml(graph()),
        "text": lambda: render_text(trace) + "\n",
        "graph.json": lambda: to_json(graph()),
        "neighbourhood.dot": lambda: to_dot(neighbourhood()),
        "neighbourhood.json": lambda: to_json(neighbourhood()),
        "graph.svg": lambda: picture("graph", "svg"),
        "graph.png": lambda: picture("graph", "png"),
        "neighbourhood.svg": lambda: picture("neighbourhood", "svg"),
        "chart.svg": lambda: picture("chart", "svg"),
        "chart.png": lambda: picture("chart", "png"),
    }
    files: dict[str, str] = {}
    for kind in formats:
        path = out_dir / f"{stem}{_SUFFIX.get(kind, '.' + kind)}"
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
    if "depth" in get_engine(req.engine).options:
        settings = {"depth": req.depth, "time_limit": limits.time_limit}
        if req.strengthen:
            settings["strengthen"] = list(req.strengthen)
    if req.revision not in REVISIONS:
        settings["revision_file"] = req.revision
    if req.specs:
        settings["spec_files"] = list(req.specs)
    doc = result_document(model, result, traces, settings, {p.name: p.kind for p in props})
    if "depth" in get_engine(req.engine).options:
        doc["depth"] = req.depth
    notes: list[str] = [f"warning: {w}" for w in getattr(model, "broken_relations", list)()]
    if req.dump_graph and result.graph is not None:
        doc["state_graph"], note = dump_state_graph(req, model, props, result)
        notes += [note] if note else []
    write_atomic(req.out_dir / "result.json", json.dumps(doc, indent=2) + "\n")
    return CheckOutcome(model, result, doc, notes)


def dump_state_graph(req: CheckRequest, model: Model, props: list[Property],
                     result: RunResult) -> tuple[dict[str, Any], str | None]:
    """Write the explored graph (``--dump-graph``); its entry in result.json and a note."""
    from checker.outputs.dumpgraph import write_state_graph

    assert result.graph is not None
    pictures = [f.rsplit(".", 1)[1] for f in req.formats if f.startswith("graph.")
                and f in PICTURE_FORMATS]
    safety = [guarded(p, model) for p in props if not p.is_liveness]
    with user_errors(model):
        dump = write_state_graph(model, result.graph, safety, req.out_dir, pictures)
    return {"states": dump.states, "violating_states": dump.violating,
            "files": dump.files}, dump.note


def run_engine(
    req: CheckRequest, model: Model, props: list[Property],
    progress: Callable[[Stats], None] | None,
) -> RunResult:
    """Run the engine ``req.engine`` names on ``model``; every engine returns a RunResult."""
    engine = get_engine(req.engine)
    checked = [guarded(p, model) for p in props]
    extra = ([guarded(p, model) for p in select_properties(req.strengthen, req.specs)]
             if req.strengthen else [])
    return engine.run(EngineRequest(model, checked, req.limits, search=req.search,
                                    depth=req.depth, strengthen=extra,
                                    record_graph=req.dump_graph, progress=progress))
