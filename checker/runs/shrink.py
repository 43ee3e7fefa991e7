"""Shrink a safety counterexample: drop every step the violation does not need.

A trace found by DFS (or by hand) often wanders before it reaches the bad
state.  :func:`shrink_trace` removes steps in two passes.  First delta
debugging (:func:`ddmin`, by complements): remove chunks of the step list,
halving the chunk size when no chunk can go, down to single steps.  Then
:func:`remove_blocks`: contiguous blocks of every length at every offset
(a loop iteration the worker made for nothing rarely sits on ddmin's chunk
boundaries), largest first, until a round removes nothing.  The result is
*1-minimal*: removing any single remaining step loses the violation.  It is
not necessarily the shortest counterexample (``vhostmc check --search bfs``
finds that): two blocks that can only go together stay.  A candidate (the remaining action instances, by label) is kept
only if, re-executed from the model's initial state with
:func:`checker.semantics.states.fire`, every step is enabled (and within the model's
capacities) and the last state still violates the property, judged as the
explorer and ``vhostmc replay`` judge it.  The states are recomputed, never
copied from the input.  The search is deterministic: the same trace and
model give the same result.

Only safety counterexamples can be shrunk this way.  A lasso (ITF ``loop``
set: a liveness counterexample) is violated by its endless cycle, not by its
last state, so "the last state still violates" is no test for it; it is
refused, as is a liveness property.

:func:`shrink_file` is ``vhostmc shrink``: it reads an ITF file, checks that
it replays and ends in a violation, shrinks it, replays the shrunk trace
from its serialized text and only then writes it (ITF and text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from checker.lang.model import ActionInstance, Model, ModelError, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached, StateView
from checker.outputs.files import write_atomic
from checker.runs.catalog import select_properties
from checker.runs.replay import ReplayResult, load_trace_file, replay_stored
from checker.runs.userfiles import guarded
from checker.semantics.states import (
    enabled_actors,
    fire,
    holds,
    initial_state,
    property_view,
)
from checker.traces.itf import read_header, read_states, to_itf
from checker.traces.trace import Trace, build_trace, render_text


class ShrinkError(ValueError):
    """The trace cannot be shrunk; the message is one line saying why."""


@dataclass
class ShrinkResult:
    """A shrunk trace and how it was found."""

    model: Model
    original_length: int
    trace: Trace
    runs: int
    """Candidate step lists re-executed (each from the first removed step on)."""

    @property
    def already_minimal(self) -> bool:
        """Whether no step could be removed (the input was already 1-minimal)."""
        return len(self.trace) == self.original_length


def lasso_refusal(loop: Any) -> str:
    """Why a lasso trace is not shrunk, in one line."""
    return (f"the trace is a lasso (it loops back to state {loop}): a liveness counterexample, "
            "violated by its endless cycle rather than by its last state; shrink handles safety "
            "counterexamples, whose steps it removes while the last state still violates the "
            "property")


def step_labels(model: Model, source: dict[str, Any] | Trace) -> list[str]:
    """The action label of each step of an ITF document or a :class:`Trace`.

    Raises :class:`ShrinkError` for a lasso and :class:`checker.traces.itf.ItfError`
    for an unreadable document.
    """
    if isinstance(source, Trace):
        if source.loop is not None:
            raise ShrinkError(lasso_refusal(source.loop))
        return [step.label for step in source.steps]
    if source.get("loop") is not None:
        raise ShrinkError(lasso_refusal(source["loop"]))
    return [label for label, _, _ in read_states(model, source)[1:]]


def instances_of(model: Model, labels: Sequence[str]) -> list[ActionInstance]:
    """The action instance of each label; :class:`ShrinkError` names an unknown one."""
    out = []
    for i, label in enumerate(labels, start=1):
        try:
            out.append(model.instance(label))
        except KeyError:
            raise ShrinkError(f"step {i}: no action '{label}' in revision {model.name}") from None
    return out


@dataclass
class _Candidates:
    """The current step list, its states, and removal attempts on it.

    ``states[k]`` is the state after the first ``k`` steps of ``steps``; a
    removal of ``steps[a:b]`` starts from ``states[a]``, so only the suffix
    is re-executed, and stops at the first step that is not enabled.
    """

    model: Model
    prop: Property
    steps: list[ActionInstance]
    states: list[State]
    runs: int = 0
    view: StateView | None = None

    def execute(self, start: State, steps: Sequence[ActionInstance]) -> list[State] | None:
        """The states after each of ``steps`` from ``start``; ``None`` if one is not enabled."""
        if self.view is None:
            self.view = StateView(self.model, start)
        out: list[State] = []
        state = start
        for inst in steps:
            try:
                nxt = fire(self.model, inst, state, self.view)
            except CapacityReached:
                return None
            if nxt is None:
                return None
            out.append(nxt)
            state = nxt
        return out

    def violates(self, state: State) -> bool:
        """Whether ``state`` violates the property (with its enabled actors, as the explorer)."""
        return not holds(self.prop, self.model, state, enabled_actors(self.model, state))

    def try_remove(self, a: int, b: int) -> bool:
        """Remove ``steps[a:b]`` if the rest still reaches a violation; whether it did."""
        self.runs += 1
        suffix = self.execute(self.states[a], self.steps[b:])
        if suffix is None or not self.violates(suffix[-1] if suffix else self.states[a]):
            return False
        self.steps = self.steps[:a] + self.steps[b:]
        self.states = self.states[: a + 1] + suffix
        return True


def chunk_bounds(length: int, chunks: int) -> Iterator[tuple[int, int]]:
    """``[a, b)`` of ``chunks`` contiguous, nearly equal parts of ``range(length)``."""
    for i in range(chunks):
        yield i * length // chunks, (i + 1) * length // chunks


def ddmin(length: Callable[[], int], try_remove: Callable[[int, int], bool]) -> None:
    """Delta debugging by complements: remove chunks until no single element can go.

    ``try_remove(a, b)`` removes elements ``[a, b)`` of the current list when
    the rest still fails the test (and says whether it did); ``length()`` is
    the current length.  Starts with halves; after a removal goes on with
    one chunk fewer (at least two), otherwise doubles the number of chunks;
    ends after a round of single elements where none could be removed.
    """
    chunks = 2
    while length() > 0:
        chunks = min(chunks, length())
        if any(try_remove(a, b) for a, b in chunk_bounds(length(), chunks)):
            chunks = max(chunks - 1, 2)
            continue
        if chunks >= length():
            return
        chunks = min(2 * chunks, length())


def remove_blocks(length: Callable[[], int], try_remove: Callable[[int, int], bool]) -> None:
    """Remove contiguous blocks of every size, largest first, at every offset.

    Rounds repeat until one removes nothing; that round ended with every
    single element, so the result is 1-minimal.  Unlike :func:`ddmin`, whose
    chunks sit at fixed boundaries, this finds a removable block wherever it
    starts (in a trace, typically one whole iteration of a loop).
    """
    removed = True
    while removed:
        removed = False
        for size in range(length(), 0, -1):
            a = 0
            while a + size <= length():
                if try_remove(a, a + size):
                    removed = True
                else:
                    a += 1


def shrink_trace(model: Model, source: dict[str, Any] | Trace, prop: Property) -> ShrinkResult:
    """A 1-minimal trace of ``model`` violating ``prop``, from the steps of ``source``.

    ``source`` is an ITF document or a :class:`Trace`; only its step labels
    are used.  Raises :class:`ShrinkError` for a lasso, a liveness property,
    an unknown action, a step that is not enabled, or a last state that does
    not violate ``prop``.
    """
    labels = step_labels(model, source)
    if prop.is_liveness:
        raise ShrinkError(f"{prop.name} is a liveness property; shrink handles safety "
                          "counterexamples, whose last state violates a state predicate")
    steps = instances_of(model, labels)
    init = initial_state(model)
    cands = _Candidates(model, prop, steps, [init])
    for number, inst in enumerate(steps, start=1):
        after = cands.execute(cands.states[-1], [inst])
        if after is None:
            raise ShrinkError(f"step {number}: {inst.label} is not enabled (or exceeds a model "
                              f"capacity) when the trace is re-executed on revision "
                              f"{model.name}")
        cands.states += after
    if not cands.violates(cands.states[-1]):
        raise ShrinkError(f"the last state does not violate {prop.name}, so there is no "
                          "violation to keep (a tampered trace, or one written by another "
                          "version of the model?)")
    ddmin(lambda: len(cands.steps), cands.try_remove)
    remove_blocks(lambda: len(cands.steps), cands.try_remove)
    last = cands.states[-1]
    view = property_view(model, last, enabled_actors(model, last))
    trace = build_trace(model, prop.name, init, list(zip(cands.steps, cands.states[1:])),
                        prop.describe_violation(view))
    return ShrinkResult(model, len(steps), trace, cands.runs)


# -- vhostmc shrink ------------------------------------------------------------------


@dataclass
class ShrinkReport:
    """What ``vhostmc shrink`` did: the result, the files written, the check of them."""

    result: ShrinkResult
    itf_path: Path
    text_path: Path
    check: ReplayResult


def trace_base(path: Path) -> str:
    """The name of ``path`` without ``.itf.json`` (or ``.json``)."""
    for suffix in (".itf.json", ".json"):
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            return path.name[: -len(suffix)]
    return path.name


def output_paths(trace_file: Path, out: Path | None) -> tuple[Path, Path]:
    """``(itf, text)``: ``--out`` or ``<stem>.shrunk.itf.json`` next to the input, and
    the text file beside it (``.itf.json`` replaced by ``.txt``)."""
    itf = out if out is not None else trace_file.with_name(f"{trace_base(trace_file)}.shrunk"
                                                           ".itf.json")
    if itf.is_dir():
        raise ShrinkError(f"--out {itf} is a folder; give the path of the ITF file to write")
    if itf.resolve() == trace_file.resolve():
        raise ShrinkError(f"--out {itf} is the input trace; choose another path")
    return itf, itf.with_name(f"{trace_base(itf)}.txt")


def shrink_file(
    trace_file: Path, revision: str | None = None, spec_files: Sequence[str] = (),
    out: Path | None = None,
) -> ShrinkReport:
    """Shrink the ITF trace in ``trace_file`` and write the result; see the module docstring.

    Nothing is written unless the shrunk trace replays and still ends in the
    violation.  Raises :class:`ShrinkError`, :class:`checker.traces.itf.ItfError`
    or :class:`ModelError` (each one line) for unusable input.
    """
    doc = load_trace_file(trace_file)
    _, _, prop_name = read_header(doc)
    if doc.get("loop") is not None:
        raise ShrinkError(f"{trace_file}: {lasso_refusal(doc['loop'])}")
    if prop_name is None:
        raise ShrinkError(f"{trace_file} names no property (#meta.property); shrink needs the "
                          "property the trace violates")
    itf_path, text_path = output_paths(trace_file, out)
    original = replay_stored(doc, revision, spec_files)
    try:
        (prop,) = select_properties([prop_name], spec_files)
    except ModelError:
        raise ShrinkError(f"the trace's property '{prop_name}' is unknown here; for a user "
                          "property add --spec PATH.py") from None
    if original.violated_at_end is False:
        raise ShrinkError(f"{trace_file}: the last state does not violate {prop_name}, so there "
                          "is no violation to keep (a tampered trace, or one written by another "
                          "version of the model?)")
    if not original.ok:
        raise ShrinkError(f"{trace_file} does not replay on revision {original.model.name}: "
                          f"{original.messages[-1]} (see 'vhostmc replay')")
    model = original.model
    result = shrink_trace(model, doc, guarded(prop, model))
    itf_text = json.dumps(to_itf(model, result.trace), indent=1) + "\n"
    check = replay_stored(json.loads(itf_text), revision, spec_files)
    if not check.ok or not check.violated_at_end:
        raise ShrinkError(f"internal error: the shrunk trace does not replay ({check.messages[-1]}"
                          "); nothing written, please report")
    write_atomic(itf_path, itf_text)
    write_atomic(text_path, render_text(result.trace) + "\n")
    return ShrinkReport(result, itf_path, text_path, check)
