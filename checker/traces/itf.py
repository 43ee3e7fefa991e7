"""Traces in the ITF format (Apalache / Quint's Informal Trace Format, ADR-015).

Integers are ``{"#bigint": "N"}``, arrays are JSON lists, bools are JSON
bools.  Every state carries ``mbt::actionTaken`` (the action label that led
to it, ``init`` for the first) and ``mbt::nondetPicks`` (its arguments), as
Quint writes them; the step's actor, kernel function, patch code and changed
variables go in the state's ``#meta``.  The trace's ``#meta`` records the
revision, the parameters and the property, which is all ``vhostmc replay``
needs to rebuild the model.
"""

from __future__ import annotations

from typing import Any

from checker import __version__
from checker.lang.model import Model, State
from checker.semantics.states import from_dict
from checker.traces.trace import Trace, build_trace

ACTION_TAKEN = "mbt::actionTaken"
NONDET_PICKS = "mbt::nondetPicks"
FORMAT_DESCRIPTION = "https://apalache-mc.org/docs/adr/015adr-trace.html"


class ItfError(ValueError):
    """The file is not an ITF trace vhostmc can read."""


def encode_value(value: Any) -> Any:
    """A model value as ITF JSON."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return {"#bigint": str(value)}
    if isinstance(value, (tuple, list)):
        return [encode_value(v) for v in value]
    raise TypeError(f"cannot encode {value!r} in ITF")


def decode_value(value: Any) -> Any:
    """ITF JSON back to a model value (lists become tuples)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, dict) and set(value) == {"#bigint"}:
        try:
            return int(value["#bigint"])
        except (TypeError, ValueError):
            raise ItfError(f"bad #bigint {value['#bigint']!r}") from None
    if isinstance(value, list):
        return tuple(decode_value(v) for v in value)
    raise ItfError(f"unsupported ITF value {value!r}")


def to_itf(model: Model, trace: Trace) -> dict[str, Any]:
    """The ITF document of ``trace``."""
    names = [v.name for v in model.vars]
    states: list[dict[str, Any]] = []

    def state_doc(index: int, state: State, label: str, picks: dict[str, int]) -> dict[str, Any]:
        doc: dict[str, Any] = {"#meta": {"index": index}}
        doc.update({name: encode_value(v) for name, v in zip(names, state)})
        doc[ACTION_TAKEN] = label
        doc[NONDET_PICKS] = {k: encode_value(v) for k, v in picks.items()}
        return doc

    states.append(state_doc(0, trace.initial, "init", {}))
    for step in trace.steps:
        doc = state_doc(step.index, step.state, step.label, step.args)
        doc["#meta"].update(
            actor=step.actor,
            action=step.action,
            function=step.function,
            code=step.code,
            changes=[[n, encode_value(a), encode_value(b)] for n, a, b in step.changes],
        )
        states.append(doc)
    out: dict[str, Any] = {
        "#meta": {
            "format": "ITF",
            "format-description": FORMAT_DESCRIPTION,
            "source": f"vhostmc {__version__}",
            "description": f"counterexample to {trace.property} on revision {trace.revision}",
            "revision": trace.revision,
            "params": trace.params,
            "property": trace.property,
            "explanation": trace.explanation,
        },
        "vars": names + [ACTION_TAKEN, NONDET_PICKS],
        "states": states,
    }
    if trace.property_args:
        out["#meta"]["property_args"] = dict(trace.property_args)
    if trace.reduced:
        out["#meta"]["reduced"] = True
    if not trace.shortest:
        out["#meta"]["shortest"] = False
        if trace.origin:
            out["#meta"]["origin"] = trace.origin
    if trace.loop is not None:
        out["loop"] = trace.loop
    return out


def read_property_args(doc: dict[str, Any]) -> dict[str, int]:
    """The liveness property instance's arguments (``#meta.property_args``, default none)."""
    args = doc.get("#meta", {}).get("property_args") or {}
    if not isinstance(args, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in args.values()):
        raise ItfError("#meta.property_args must map argument names to integers")
    return {str(k): int(v) for k, v in args.items()}


def read_header(doc: Any) -> tuple[str, dict[str, Any], str | None]:
    """``(revision, params, property)`` from an ITF document written by vhostmc."""
    if not isinstance(doc, dict) or not isinstance(doc.get("states"), list):
        raise ItfError("not an ITF trace: no 'states' list")
    meta = doc.get("#meta")
    if not isinstance(meta, dict) or "revision" not in meta or "params" not in meta:
        raise ItfError("the trace's #meta lacks 'revision' and 'params' (not written by vhostmc?)")
    if not isinstance(meta["params"], dict):
        raise ItfError("#meta.params must be an object")
    if not doc["states"]:
        raise ItfError("the trace has no states")
    return str(meta["revision"]), dict(meta["params"]), meta.get("property")


def read_states(model: Model, doc: dict[str, Any]) -> list[tuple[str, dict[str, int], State]]:
    """``(action label, picks, state)`` for each ITF state, decoded for ``model``."""
    out = []
    for i, st in enumerate(doc["states"]):
        if not isinstance(st, dict):
            raise ItfError(f"state {i} is not an object")
        try:
            values = {v.name: decode_value(st[v.name]) for v in model.vars}
        except KeyError as missing:
            raise ItfError(f"state {i} lacks variable {missing}") from None
        label = st.get(ACTION_TAKEN, "init" if i == 0 else None)
        if not isinstance(label, str):
            raise ItfError(f"state {i} lacks '{ACTION_TAKEN}'")
        picks = {k: decode_value(v) for k, v in (st.get(NONDET_PICKS) or {}).items()}
        out.append((label, picks, from_dict(model, values)))
    return out


def trace_from_itf(model: Model, doc: dict[str, Any]) -> Trace:
    """The :class:`Trace` an ITF document written by vhostmc records, rebuilt on ``model``.

    Each step is matched to the action instance whose label the state's
    ``mbt::actionTaken`` records, and its actor, function, code and changes
    are recomputed from ``model``; the property (and its arguments), the
    explanation and ``loop`` (the state a lasso returns to) come from the
    document.  Raises :class:`ItfError` for a document vhostmc cannot read
    or a label ``model`` has no action for.  The steps are not re-executed:
    that is what :func:`checker.runs.replay.replay` checks.
    """
    _, _, prop_name = read_header(doc)
    states = read_states(model, doc)
    path = []
    for i, (label, _, state) in enumerate(states[1:], start=1):
        try:
            path.append((model.instance(label), state))
        except KeyError:
            raise ItfError(f"state {i}: no action '{label}' in revision {model.name}") from None
    explanation = doc["#meta"].get("explanation") or ""
    trace = build_trace(model, str(prop_name or ""), states[0][2], path, str(explanation))
    loop = doc.get("loop")
    if loop is not None:
        if isinstance(loop, bool) or not isinstance(loop, int) or not 0 <= loop < len(states):
            raise ItfError(f"'loop' must be a state index 0..{len(states) - 1}, not {loop!r}")
        trace.loop = loop
    trace.property_args = read_property_args(doc)
    trace.reduced = read_reduced(doc)
    return trace


def read_reduced(doc: dict[str, Any]) -> bool:
    """Whether the trace's states are canonical (``#meta.reduced``, default false)."""
    reduced = doc.get("#meta", {}).get("reduced", False)
    if not isinstance(reduced, bool):
        raise ItfError("#meta.reduced must be true or false")
    return reduced
