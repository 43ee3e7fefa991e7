"""One check with any engine: the code path ``vhostmc check`` and every matrix cell share.

:func:`run_check` loads the revision (by name or path) and the properties
(built-in and ``--spec`` files), builds the model, evaluates every property
once on the initial state (:func:`checker.runs.userfiles.preflight`), runs
the engine the request names (:mod:`checker.engines.registry`), writes each
counterexample and ``result.json`` to the output folder, and returns the
result document.  ``result.json`` is strict JSON (no NaN or infinity).  A
``stop`` callable (an interrupt) ends the search early; what was found is
still written.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from checker.engines.base import (
    EngineRequest,
    InvariantChoice,
    Limits,
    RunResult,
    Stats,
    StopCheck,
)
from checker.engines.explicit.engine import DEFAULT_BACKEND
from checker.engines.registry import DEFAULT_ENGINE, get_engine
from checker.lang.model import Model, ModelError, check_fairness_names
from checker.lang.spec import Property
from checker.lang.view import ModelBug
from checker.outputs.files import trace_stem, write_atomic
from checker.outputs.graphs import neighbourhood_graph, to_dot, to_graphml, to_json, trace_graph
from checker.outputs.summary import result_document
from checker.runs.catalog import REVISIONS, load_revision, select_properties
from checker.runs.userfiles import (
    guarded,
    preflight,
    property_location,
    sampled_instances,
    user_file_of,
    user_frame,
)
from checker.semantics.states import (
    INTERPRET_ENV,
    enabled_actors,
    initial_state,
    property_view,
)
from checker.traces.itf import to_itf
from checker.traces.trace import Trace, render_text

GRAPH_FORMATS: tuple[str, ...] = ("graph.json", "neighbourhood.dot", "neighbourhood.json")
"""The trace graph as node-link JSON, and the trace in its neighbourhood (checker.outputs.graphs)."""
NEIGHBOURHOOD_FORMATS: tuple[str, ...] = ("neighbourhood.dot", "neighbourhood.json")
"""The formats that expand the model around every trace state (minutes at ring size
32768): left out, like the pictures, once the time limit has passed."""
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
    backend: str = DEFAULT_BACKEND
    """Explicit engine: ``auto``, ``python`` or ``compiled``
    (:func:`checker.engines.explicit.engine.resolved_backend`)."""
    reduction: bool = True
    """Explicit engine: explore canonical states (dead values reset) when the Z3 proof that
    this changes no verdict passes; ``False`` is ``--no-reduction``."""
    workers: int = 1
    """Explicit engine, compiled backend: threads exploring in parallel (``--workers``)."""
    symmetry: bool = False
    """Explicit engine: store one state per class of descriptor renamings when the Z3 proof
    that this changes no verdict passes (``--symmetry``)."""
    por: bool = False
    """Explicit engine, compiled backend: partial-order reduction for invariants
    (``--por``; off for a run with liveness properties, and says so)."""
    invariant: InvariantChoice = "auto"
    """pdr: ``--invariant`` (:data:`checker.engines.base.InvariantChoice`)."""
    lift_from: int | None = None
    """bmc: ``--lift-from`` (:mod:`checker.engines.symbolic.lift`)."""
    query_limit: float | None = None
    """inductive: ``--query-limit``, seconds one solver query may take."""
    walks: int | None = None
    """simulate: ``--walks``, how many random walks (``None``: the engine's default)."""
    seed: int = 0
    """simulate: ``--seed``, the seed the random walks follow from."""


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
    refuse = getattr(get_engine(req.engine), "refuse", None)
    refusal = refuse(model) if refuse is not None else None
    if refusal:
        raise ModelError(refusal)
    props = select_properties(req.properties, req.specs)
    with user_errors(model):
        check_fairness_names(model, model.fairness())
        preflight(model, props)
        check_actor_names(model, props)
    return model, props


def check_actor_names(model: Model, props: Sequence[Property]) -> None:
    """Raise :class:`ModelError` when a property asks ``s.enabled(actor)`` of an actor the
    model does not have (evaluated once on the initial state, on the instances
    :func:`sampled_instances` picks), with the closest name."""
    init = initial_state(model)
    view = property_view(model, init, enabled_actors(model, init, compiled=False))
    inner = view._enabled
    current: list[Property] = []

    def checked(actors: tuple[str, ...]) -> Any:
        for actor in actors:
            if actor not in model.actors:
                close = difflib.get_close_matches(actor, list(model.actors), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                prop = current[0]
                raise ModelError(f"{property_location(prop)}: property '{prop.name}' asks "
                                 f"enabled('{actor}'), but revision {model.name} has no actor "
                                 f"'{actor}' (actors: {', '.join(model.actors)}){hint}")
        return inner(actors)  # type: ignore[misc]

    object.__setattr__(view, "_enabled", checked)
    for prop in props:
        current[:] = [prop]
        for args in sampled_instances(prop, model):
            prop.predicate(view, **args)


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


def trace_text(trace: Trace, example: bool = False) -> str:
    """The trace as text; an ``example`` (of a ``sometimes`` property) is titled as one."""
    text = render_text(trace)
    if example:
        text = text.replace("Counterexample for ", "Example reaching ", 1)
    return text


def itf_document(model: Model, trace: Trace, example: bool = False) -> dict[str, Any]:
    """The ITF document of ``trace``; an ``example`` says so in ``#meta``."""
    doc = to_itf(model, trace)
    if example:
        doc["#meta"]["description"] = (f"example reaching {trace.property} on revision "
                                       f"{trace.revision}")
        doc["#meta"]["example"] = True
    return doc


def write_trace_files(
    model: Model, trace: Trace, out_dir: Path, formats: Sequence[str] = DEFAULT_TRACE_FORMATS,
    itf_indent: int | None = 1, example: bool = False,
) -> dict[str, str]:
    """Write ``trace`` in each of ``formats`` (see :data:`TRACE_FORMATS`); returns
    ``{format: path}``.  Each graph is built once, and matplotlib is only loaded
    for a picture format.  ``example``: the trace reaches a ``sometimes`` property
    (it is not a counterexample)."""
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
        "itf": lambda: json.dumps(itf_document(model, trace, example), indent=itf_indent,
                                  separators=None if itf_indent else (",", ":")) + "\n",
        "dot": lambda: to_dot(graph()),
        "graphml": lambda: to_graphml(graph()),
        "text": lambda: trace_text(trace, example) + "\n",
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


def run_check(req: CheckRequest, progress: Callable[[Stats], None] | None = None,
              stop: StopCheck | None = None) -> CheckOutcome:
    """Run one check and write its files; see the module docstring.  ``stop`` is polled
    by the engine (an interrupt)."""
    started = time.monotonic()
    model, props = prepare(req)
    for prop in select_properties(req.strengthen, req.specs) if req.strengthen else []:
        if prop.is_reachability:
            raise ModelError(f"--strengthen {prop.name}: a sometimes property is no invariant; "
                             "strengthen with an invariant (@invariant)")
    # the time limit counts from here: preparing the model is part of the run
    engine_req = dataclasses.replace(req, limits=dataclasses.replace(req.limits,
                                                                     counted_from=started))
    with user_errors(model):
        result = run_engine(engine_req, model, props, progress, stop)
    notes: list[str] = []
    formats = req.formats
    late = PICTURE_FORMATS + NEIGHBOURHOOD_FORMATS
    if (req.limits.time_limit is not None and any(f in late for f in formats)
            and time.monotonic() - started >= req.limits.time_limit):
        formats = tuple(f for f in formats if f not in late)
        notes.append("pictures and neighbourhood graphs not written: the time limit had "
                     "passed (the traces are written; 'vhostmc report' draws them later)")
    kinds: dict[str, str] = {p.name: p.kind for p in props}
    traces = {p.name: write_trace_files(model, p.trace, req.out_dir, formats, req.itf_indent,
                                        example=kinds.get(p.name) == "sometimes")
              for p in result.properties if p.trace is not None}
    limits = req.limits
    settings: dict[str, Any] = {"search": req.search, "max_states": limits.max_states,
                                "max_depth": limits.max_depth, "time_limit": limits.time_limit,
                                "memory_limit_mib": limits.memory_limit}
    if "backend" in get_engine(req.engine).options:
        settings["backend"] = req.backend
    if "workers" in get_engine(req.engine).options:
        settings["workers"] = req.workers
    if "query_limit" in get_engine(req.engine).options:
        settings["query_limit"] = req.query_limit
    if "depth" in get_engine(req.engine).options:
        settings = {"depth": req.depth, "time_limit": limits.time_limit,
                    "memory_limit_mib": limits.memory_limit}
        if "max_states" in get_engine(req.engine).options:
            settings["max_states"] = limits.max_states
        if req.lift_from is not None:
            settings["lift_from"] = req.lift_from
        if req.strengthen:
            settings["strengthen"] = list(req.strengthen)
        if "walks" in get_engine(req.engine).options:
            settings["walks"], settings["seed"] = req.walks, req.seed
    if req.revision not in REVISIONS:
        settings["revision_file"] = req.revision
    if req.specs:
        settings["spec_files"] = list(req.specs)
    doc = result_document(model, result, traces, settings, kinds)
    for entry, prop_result in zip(doc["properties"], result.properties):
        evidence = getattr(prop_result, "evidence", None) or {}
        if evidence:  # an engine's proof or counterexample to induction, as text files
            entry["evidence"] = {}
            for suffix, text in evidence.items():
                path = req.out_dir / f"{prop_result.name}.{suffix}"
                write_atomic(path, text)
                entry["evidence"][suffix] = str(path)
    if "depth" in get_engine(req.engine).options:
        doc["depth"] = req.depth
    notes += [f"warning: {w}" for w in model.broken_relations()]
    if result.reduction is not None:
        doc["reduction"] = {k: v for k, v in result.reduction.items() if k != "warning"}
        if result.reduction.get("warning"):
            notes.append(str(result.reduction["warning"]))
    if result.symmetry is not None:
        doc["symmetry"] = {k: v for k, v in result.symmetry.items() if k != "warning"}
        if result.symmetry.get("warning"):
            notes.append(str(result.symmetry["warning"]))
    if result.por is not None:
        doc["por"] = {k: v for k, v in result.por.items() if k != "warning"}
        if result.por.get("warning"):
            notes.append(str(result.por["warning"]))
    if req.dump_graph and result.graph is not None:
        doc["state_graph"], note = dump_state_graph(req, model, props, result)
        notes += [note] if note else []
    write_atomic(req.out_dir / "result.json", json.dumps(doc, indent=2, allow_nan=False) + "\n")
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
    progress: Callable[[Stats], None] | None, stop: StopCheck | None = None,
) -> RunResult:
    """Run the engine ``req.engine`` names on ``model``; every engine returns a RunResult.

    An engine that does not decide ``sometimes`` properties itself (its ``decides``)
    checks the invariant "never P" instead (:func:`never`), and the verdict is turned
    back (:func:`reachability_verdicts`)."""
    engine = get_engine(req.engine)
    native = "sometimes" in getattr(engine, "decides", frozenset())
    reach = {p.name: p for p in props if p.is_reachability and not native}
    checked = [guarded(never(p) if p.name in reach else p, model) for p in props]
    extra = ([guarded(p, model) for p in select_properties(req.strengthen, req.specs)]
             if req.strengthen else [])
    result = engine.run(EngineRequest(model, checked, req.limits, search=req.search,
                                      depth=req.depth, strengthen=extra,
                                      record_graph=req.dump_graph, backend=req.backend,
                                      reduction=req.reduction, workers=req.workers,
                                      symmetry=req.symmetry, por=req.por,
                                      invariant=req.invariant, lift_from=req.lift_from,
                                      query_limit=req.query_limit, walks=req.walks,
                                      seed=req.seed, progress=progress, stop=stop))
    reachability_verdicts(model, result, reach)
    return result


def never(prop: Property) -> Property:
    """The invariant "no reachable state satisfies ``prop``" for a ``sometimes`` property:
    a counterexample to it is an example of ``prop``; a proof of it shows ``prop``
    unreachable."""
    predicate = prop.predicate

    def negated(s: Any) -> Any:
        return s.neg(predicate(s))

    return dataclasses.replace(prop, predicate=negated, kind="always", explain=None)


def reachability_verdicts(model: Model, result: RunResult, reach: dict[str, Property]) -> None:
    """Turn the verdicts of the "never P" invariants back into verdicts of the ``sometimes``
    properties ``reach`` names: violated (a trace) is holds (an example), holds (a complete
    search or a proof) is violated (unreachable), inconclusive stays."""
    for entry in result.properties:
        prop = reach.get(entry.name)
        if prop is None:
            continue
        if entry.status == "violated" and entry.trace is not None:
            entry.status = "holds"
            last = entry.trace.states[-1]
            view = property_view(model, last, enabled_actors(model, last))
            entry.trace.explanation = prop.describe_example(view)
        elif entry.status == "holds":
            entry.status = "violated"
            entry.reason = f"unreachable: no reachable state satisfies it ({result.engine})"
