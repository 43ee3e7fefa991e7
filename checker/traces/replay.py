"""Re-execute a stored trace on the model and say whether every step holds."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from checker.engines.explicit.liveness import check_lasso
from checker.lang.model import Model, ModelError, State
from checker.lang.spec import Property
from checker.lang.view import CapacityReached
from checker.runs.catalog import load_revision, select_properties
from checker.semantics.canon import canonicalizer
from checker.semantics.states import changed, expand, fire, holds, initial_state
from checker.traces.itf import (
    ItfError,
    read_header,
    read_property_args,
    read_reduced,
    read_states,
)


@dataclass
class ReplayResult:
    """What replaying a trace found."""

    model: Model
    steps: int
    ok: bool
    messages: list[str] = field(default_factory=list)
    property: str | None = None
    violated_at_end: bool | None = None
    loop: int | None = None
    """For a lasso: the state the run returns to after the last one."""


def check_lasso_doc(
    result: ReplayResult, model: Model, prop: Property, doc: dict,
    states: list[tuple[str, dict[str, int], State]],
) -> None:
    """Check a lasso against a liveness property under the model's fairness."""
    loop = doc.get("loop")
    if not prop.is_liveness:
        result.ok = False
        result.messages.append(f"the trace is a lasso but {prop.name} is an invariant")
        return
    if isinstance(loop, bool) or not isinstance(loop, int):
        result.ok = False
        result.messages.append(f"{prop.name} is a liveness property: the trace needs a 'loop'")
        return
    args = read_property_args(doc)
    expected = set(prop.instances(model.p)[0])
    if set(args) != expected:
        result.ok = False
        result.messages.append(
            f"{prop.name} takes arguments ({', '.join(sorted(expected)) or 'none'}) but the "
            f"trace's #meta.property_args gives ({', '.join(sorted(args)) or 'none'})")
        return
    result.loop = loop
    insts = [model.instance(label).index for label, _, _ in states[1:]]
    problems = check_lasso(model, prop, args, model.fairness(), [s for _, _, s in states],
                           insts, loop)
    result.violated_at_end = not problems
    if problems:
        result.ok = False
        result.messages.extend(problems)
    else:
        where = ("stays in the last state" if loop == len(states) - 1
                 else f"repeats steps {loop + 1}..{len(states) - 1}")
        result.messages.append(f"lasso ok: the run {where} forever, fair under the model's "
                               f"{len(model.fairness())} fairness assumptions")


def load_trace_file(path: Path) -> dict:
    """The JSON document of an ITF file; :class:`ItfError` if unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ItfError(f"cannot read {path}: {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise ItfError(f"{path} is not JSON: {err.msg} at line {err.lineno}") from None


def replay(
    doc: dict, revision: str | None = None, spec_files: Sequence[str] = ()
) -> ReplayResult:
    """Replay an ITF document written by vhostmc.

    Checks that state 0 is the model's initial state, that each step's action
    is enabled in the state before it and yields exactly the recorded state,
    and, when the trace names a property, that the last state violates it.
    A trace of a reduced run (``#meta.reduced``) records canonical states:
    state 0 must be canon of the initial state and each state canon of the
    step from the one before (docs/model.md, "Dead-value reduction").
    ``revision`` (a name or a revision file) replaces the revision the trace
    names; ``spec_files`` supply user properties.
    Raises :class:`ItfError` or :class:`ModelError` for unusable input.
    """
    recorded_revision, params, prop_name = read_header(doc)
    revision = revision or recorded_revision
    model = load_revision(revision)(params)
    states = read_states(model, doc)
    result = ReplayResult(model, len(states) - 1, True, property=prop_name)
    canon = canonicalizer(model) if read_reduced(doc) else (lambda state: state)
    first = canon(initial_state(model))
    if read_reduced(doc):
        result.messages.append("the trace records canonical states (dead values reset): each "
                               "step is compared after resetting them")
    if states[0][2] != first:
        result.ok = False
        diffs = ", ".join(f"{n}: {a} vs {b}" for n, a, b in changed(model, first, states[0][2]))
        result.messages.append(f"state 0 is not the initial state ({diffs})")
        return result
    for i in range(1, len(states)):
        label, _, recorded = states[i]
        before = states[i - 1][2]
        try:
            inst = model.instance(label)
        except KeyError:
            result.ok = False
            result.messages.append(f"step {i}: no action '{label}' in revision {revision}")
            return result
        try:
            nxt = fire(model, inst, before)
            nxt = nxt if nxt is None else canon(nxt)
        except CapacityReached as hit:
            result.ok = False
            result.messages.append(f"step {i}: {label} exceeds model capacity {hit.what}")
            return result
        if nxt is None:
            result.ok = False
            result.messages.append(f"step {i}: {label} is not enabled in state {i - 1}")
            return result
        if nxt != recorded:
            result.ok = False
            diffs = ", ".join(f"{n}: model {a} vs trace {b}" for n, a, b in
                              changed(model, nxt, recorded))
            result.messages.append(f"step {i}: {label} reaches a different state ({diffs})")
            return result
        result.messages.append(f"step {i}: {label} ok")
    if prop_name is not None:
        try:
            (prop,) = select_properties([prop_name], spec_files)
        except ModelError:
            result.messages.append(f"property '{prop_name}' is unknown here; not checked")
            return result
        if prop.is_liveness or "loop" in doc:
            check_lasso_doc(result, model, prop, doc, states)
            return result
        last = states[-1][2]
        result.violated_at_end = not holds(prop, model, last, expand(model, last).enabled_actors)
        if not result.violated_at_end:
            result.ok = False
            result.messages.append(f"the last state does not violate {prop_name}")
    return result


def replay_stored(
    doc: dict, revision: str | None = None, spec_files: Sequence[str] = ()
) -> ReplayResult:
    """:func:`replay`, with a hint when the trace names a revision file's model."""
    try:
        return replay(doc, revision=revision, spec_files=spec_files)
    except ModelError as err:
        if revision is None and str(err).startswith("unknown revision"):
            raise ModelError(f"the trace's {err}; for a trace of a revision file, add "
                             "--revision PATH.py (and --spec PATH.py for a user property)"
                             ) from None
        raise
