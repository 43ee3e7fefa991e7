"""Re-execute a stored trace on the model and say whether every step holds.

Before any step runs, the document is checked against the model: every
state has exactly the model's variables (an extra or missing one is named),
each value has the variable's type, range and array length (a length that
does not fit names the parameter that sets it),.  A step must be the action its ``mbt::actionTaken`` label
names, with the ``mbt::nondetPicks`` and ``#meta`` (actor, action, function)
of that action.  A property the trace names must be known (``--spec`` for a
user property).  Unusable input raises :class:`ItfError` or
:class:`ModelError` (one line, exit 2); a step that does not replay is a
failed :class:`ReplayResult` (exit 1).
"""

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
from checker.semantics.states import changed, enabled_actors, fire, holds, initial_state
from checker.traces.itf import (
    ACTION_TAKEN,
    NONDET_PICKS,
    ItfError,
    decode_value,
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
    reached_at_end: bool | None = None
    """For an example of a ``sometimes`` property: whether the last state satisfies it."""


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
        data = path.read_bytes()
    except OSError as err:
        raise ItfError(f"cannot read {path}: {err.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ItfError(f"{path} is not UTF-8 text (byte {err.start}); give an ITF JSON trace "
                       "written by vhostmc") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise ItfError(f"{path} is not JSON: {err.msg} at line {err.lineno}") from None
    except RecursionError:
        raise ItfError(f"{path} is nested too deeply to be an ITF trace") from None
    if not isinstance(doc, dict):
        raise ItfError(f"{path} is JSON but not an ITF trace (a {type(doc).__name__}, not an "
                       "object with 'states')")
    return doc


META_KEYS = frozenset({"#meta", ACTION_TAKEN, NONDET_PICKS})
"""Keys of an ITF state that are not model variables."""


def check_shapes(model: Model, doc: dict) -> None:
    """Raise :class:`ItfError` unless every state has exactly the model's variables, each
    of the right type, range and length (see the module docstring)."""
    names = {v.name for v in model.vars}
    listed = doc.get("vars")
    if isinstance(listed, list):
        extra = [str(n) for n in listed if n not in names and n not in META_KEYS]
        if extra:
            raise ItfError(f"the trace's 'vars' lists {', '.join(extra)}, which revision "
                           f"{model.name} does not have")
    for i, st in enumerate(doc["states"]):
        if not isinstance(st, dict):
            raise ItfError(f"state {i} is not an object")
        extra = [str(k) for k in st if k not in names and k not in META_KEYS]
        if extra:
            raise ItfError(f"state {i} has variable {', '.join(extra)}, which revision "
                           f"{model.name} does not have")
        for var in model.vars:
            if var.name not in st:
                raise ItfError(f"state {i} lacks variable '{var.name}'")
            value = decode_value(st[var.name])
            if var.size is None:
                if not var.in_range(value):
                    raise ItfError(f"state {i}: {var.name} = {value!r} is not a value of "
                                   f"{var.name} ({_type_text(var)})")
                continue
            if not isinstance(value, tuple):
                raise ItfError(f"state {i}: {var.name} must be an array, not {value!r}")
            if len(value) != var.size:
                raise ItfError(f"state {i}: {var.name} has {len(value)} entries but revision "
                               f"{model.name} with {_size_source(model, var.size, var.name)} has "
                               f"{var.size}; the trace's #meta.params do not match its states")
            bad = next((x for x in value if not var.in_range(x)), None)
            if bad is not None or any(not var.in_range(x) for x in value):
                raise ItfError(f"state {i}: {var.name} holds {bad!r}, not a value of "
                               f"{var.name} ({_type_text(var)})")


def _type_text(var: object) -> str:
    lo, hi, is_bool = (getattr(var, "lo", 0), getattr(var, "hi", 1),
                       getattr(var, "is_bool", False))
    return "true or false" if is_bool else f"an integer {lo}..{hi}"


def _size_source(model: Model, size: int, name: str) -> str:
    """The parameter(s) whose value is ``size`` and that set the length of array
    ``name`` (one more makes it longer), in words."""
    values = model.p.as_dict()
    names = []
    for k, v in values.items():
        if not isinstance(v, int) or isinstance(v, bool) or v != size:
            continue
        try:
            grown = type(model)({**values, k: v + 1})
            sets_length = grown.vars[grown.var_index[name]].size != size
        except (ModelError, KeyError, TypeError, ValueError):  # a value it refuses: keep it
            sets_length = True
        if sets_length:
            names.append(f"{k}={v}")
    return " or ".join(names) if names else "its parameters"


def check_step_labels(model: Model, doc: dict, revision: str) -> list[str]:
    """Problems with each step's label: an action the model lacks, or ``nondetPicks`` or
    ``#meta`` (actor, action, function) that disagree with the labelled action."""
    for i, st in enumerate(doc["states"][1:], start=1):
        label = st.get(ACTION_TAKEN)
        if not isinstance(label, str):
            raise ItfError(f"state {i} lacks '{ACTION_TAKEN}'")
        try:
            inst = model.instance(label)
        except KeyError:
            return [f"step {i}: no action '{label}' in revision {revision}"]
        picks = st.get(NONDET_PICKS)
        if picks is not None:
            if not isinstance(picks, dict):
                raise ItfError(f"state {i}: '{NONDET_PICKS}' must be an object")
            given = {str(k): decode_value(v) for k, v in picks.items()}
            if given != dict(inst.args):
                return [(f"step {i}: {label} but '{NONDET_PICKS}' says {given}; the label "
                         "and the picks disagree (an edited trace?)")]
        meta = st.get("#meta")
        if isinstance(meta, dict):
            spec = inst.spec
            for key, want in (("actor", spec.actor), ("action", spec.name),
                              ("function", spec.function)):
                if key in meta and meta[key] != want:
                    return [(f"step {i}: {label} is {key} {want!r} in revision {revision}, "
                             f"but the trace's #meta says {meta[key]!r} (an edited trace?)")]
    return []


def replay(
    doc: dict, revision: str | None = None, spec_files: Sequence[str] = ()
) -> ReplayResult:
    """Replay an ITF document written by vhostmc.

    Checks that state 0 is the model's initial state, that each step's action
    is enabled in the state before it and yields exactly the recorded state,
    and, when the trace names a property, that the last state violates it.
    ``revision`` (a name or a revision file) replaces the revision the trace
    names; ``spec_files`` supply user properties.
    Raises :class:`ItfError` or :class:`ModelError` for unusable input.
    """
    recorded_revision, params, prop_name = read_header(doc)
    revision = revision or recorded_revision
    model = load_revision(revision)(params)
    check_shapes(model, doc)
    prop = None
    if prop_name is not None:
        try:
            (prop,) = select_properties([str(prop_name)], spec_files)
        except ModelError:
            raise ModelError(f"the trace's property '{prop_name}' is unknown here; for a user "
                             "property add --spec PATH.py that declares it") from None
    problems = check_step_labels(model, doc, revision)
    states = read_states(model, doc)
    result = ReplayResult(model, len(states) - 1, True, property=prop_name)
    if problems:
        result.ok = False
        result.messages.extend(problems)
        return result
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
        except CapacityReached as hit:
            result.ok = False
            result.messages.append(f"step {i}: {label} exceeds model capacity {hit.what}")
            return result
        if nxt is None:
            result.ok = False
            result.messages.append(f"step {i}: {label} is not enabled in state {i - 1}")
            return result
        nxt = canon(nxt)
        if nxt != recorded:
            result.ok = False
            diffs = ", ".join(f"{n}: model {a} vs trace {b}" for n, a, b in
                              changed(model, nxt, recorded))
            result.messages.append(f"step {i}: {label} reaches a different state ({diffs})")
            return result
        result.messages.append(f"step {i}: {label} ok")
    if prop is not None:
        if prop.is_liveness or "loop" in doc:
            check_lasso_doc(result, model, prop, doc, states)
            return result
        last = states[-1][2]
        satisfied = holds(prop, model, last, enabled_actors(model, last))
        if prop.is_reachability:
            result.reached_at_end = satisfied
            if not satisfied:
                result.ok = False
                result.messages.append(f"the last state does not reach {prop_name}")
            return result
        result.violated_at_end = not satisfied
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
