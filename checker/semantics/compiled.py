"""Action instances compiled to straight-line Python, for the explicit explorer.

The model is written once, against the expression layer;
:mod:`checker.semantics.codebackend` runs each action instance's body symbolically and
this module turns the statements into Python, once per model::

    def step_12(v):
        if not v[20] == 0: return None       # s.require(...), in program order
        t3 = v[31] - 1
        if t3 < 0: _bug(31, t3)              # the variable's type, as StateView checks it
        return (v[0], v[1], ..., t3, ...)    # unchanged arrays passed by identity

``step_<index>(v)`` is equivalent to :func:`checker.semantics.states.fire` on every
*well-typed* state (each value within its variable's declared range, which
every state the explorer builds is): the same successor, ``None`` when
disabled, and the same :class:`~checker.lang.view.CapacityReached`,
:class:`~checker.lang.view.ModelBug` and ``IndexError``, raised at the same point.
The same bodies are also inlined into one ``expand_all(v)`` (guards become
nested ``if`` blocks), which :func:`compiled_expand` calls: one Python call
per state instead of one per action instance.

An instance whose body cannot run symbolically (it branches in Python on a
state value, say) is left to the interpreter, with a warning; the other
engines would reject such a model anyway.
"""

from __future__ import annotations

import linecache
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checker.lang.model import ActionInstance, Model, State
from checker.lang.view import CapacityReached, ModelBug
from checker.semantics.codebackend import StepCode, compile_instance
from checker.semantics.firing import Expansion, fire

Step = Callable[[State], State | None]


@dataclass
class CompiledModel:
    """The generated code of one model."""

    steps: list[tuple[ActionInstance, str, Step]]
    """(instance, actor, step) for every instance not statically disabled, in order."""
    expand_all: Callable[[State], Expansion]
    """Every step inlined: the :class:`~checker.semantics.states.Expansion` of a state."""
    source: str
    fallbacks: list[tuple[str, str]] = field(default_factory=list)
    """(label, reason) of the instances left to the interpreter."""


_MAX_INLINE_INDENT = 4 * 60
"""Guards nest; a body deeper than this is called, not inlined (Python allows 100 levels)."""


def _found(i: int, successor: str) -> str:
    """The statement recording that instance ``i`` leads to ``successor``."""
    return f"_succ.append((_I{i}, {successor})); _act.add(_A{i})"


def _called(function: str, i: int) -> list[str]:
    """Instance ``i``'s part of ``expand_all`` as a call of ``function``."""
    return [f"_r = {function}(v)", "if _r is not None:", "    " + _found(i, "_r")]


def _fused(codes: list[StepCode | ActionInstance]) -> str:
    """The source of ``expand_all(v)``: each step's body inlined, in instance order."""
    lines = [
        "def expand_all(v):",
        "    _out = _Expansion()",
        "    _succ = _out.successors",
        "    _act = _out.enabled_actors",
    ]
    for code in codes:
        if isinstance(code, ActionInstance):  # left to the interpreter
            inst, body, catch = code, _called(f"_F{code.index}", code.index), True
        else:
            inst, catch = code.inst, code.may_hit_capacity
            body = code.em.body(code.result, _found(inst.index, "{}"))
            if max(len(line) - len(line.lstrip()) for line in body) > _MAX_INLINE_INDENT:
                body = _called(f"step_{inst.index}", inst.index)
        lines.append(f"    # {inst.label}")
        if catch:
            lines.append("    try:")
            lines.extend("        " + line for line in body)
            lines.append("    except _Cap as _hit:")
            lines.append(f"        _act.add(_A{inst.index}); _out.capacity_hits.append(_hit.what)")
        else:
            lines.extend("    " + line for line in body)
    lines.append("    return _out")
    return "".join(line + "\n" for line in lines)


def _bug(model: Model) -> Callable[[int, Any], None]:
    def bug(slot: int, value: Any) -> None:
        var = model.vars[slot]
        raise ModelBug(f"{var.name} := {value!r} is outside its type [{var.lo}, {var.hi}]")

    return bug


def _index_error(verb: str, n: int, index: Any) -> None:
    raise IndexError(f"model {verb} an array of {n} elements at {index}")


def _interpreter(model: Model, inst: ActionInstance) -> Step:
    def step(state: State) -> State | None:
        return fire(model, inst, state)

    return step


def compile_model(model: Model) -> CompiledModel:
    """Generate and ``exec`` the step functions and ``expand_all`` of ``model``."""
    consts: dict[Any, str] = {}
    codes: list[StepCode | ActionInstance] = []  # an instance: left to the interpreter
    fallbacks: list[tuple[str, str]] = []
    for inst in model.instances:
        try:
            code = compile_instance(model, inst, consts)
        except Exception as err:  # noqa: BLE001 - code the symbolic run cannot take: interpret it
            fallbacks.append((inst.label, f"{type(err).__name__}: {err}"))
            codes.append(inst)
            continue
        if code is not None:
            codes.append(code)
    namespace: dict[str, Any] = {
        "_bug": _bug(model),
        "_idx": _index_error,
        "_Cap": CapacityReached,
        "_ModelBug": ModelBug,
        "_Expansion": Expansion,
        "_ok": tuple(var.in_range for var in model.vars),
    }
    namespace.update({name: key[1] for key, name in consts.items()})
    for inst in model.instances:
        namespace[f"_I{inst.index}"] = inst
        namespace[f"_A{inst.index}"] = inst.spec.actor
        namespace[f"_F{inst.index}"] = _interpreter(model, inst)
    sources = [c.em.render(f"step_{c.inst.index}", c.result) for c in codes
               if isinstance(c, StepCode)]
    source = "\n".join([*sources, _fused(codes)])
    filename = f"<vhostmc compiled {model.name} {id(model):x}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - code we generated
    steps: list[tuple[ActionInstance, str, Step]] = []
    for c in codes:
        inst = c if isinstance(c, ActionInstance) else c.inst
        step = namespace[f"_F{inst.index}" if c is inst else f"step_{inst.index}"]
        steps.append((inst, inst.spec.actor, step))
    if fallbacks:
        warnings.warn(
            f"{len(fallbacks)} action instance(s) of {model.name} are interpreted, not compiled: "
            + "; ".join(f"{label}: {why}" for label, why in fallbacks),
            stacklevel=3,
        )
    return CompiledModel(steps, namespace["expand_all"], source, fallbacks)


_CACHE_ATTR = "_vhostmc_compiled"


def compiled(model: Model) -> CompiledModel:
    """The compiled code of ``model`` (generated on first use, then cached on the model)."""
    table: CompiledModel | None = model.__dict__.get(_CACHE_ATTR)
    if table is None:
        table = compile_model(model)
        model.__dict__[_CACHE_ATTR] = table
    return table


def compiled_expand(model: Model, state: State) -> Expansion:
    """Every enabled action instance of ``state`` and its successor (as ``states.expand``)."""
    return compiled(model).expand_all(state)


def stepwise_expand(model: Model, state: State) -> Expansion:
    """:func:`compiled_expand` by calling each instance's step function (for tests)."""
    out = Expansion()
    for inst, actor, step in compiled(model).steps:
        try:
            nxt = step(state)
        except CapacityReached as hit:
            out.enabled_actors.add(actor)
            out.capacity_hits.append(hit.what)
            continue
        if nxt is not None:
            out.successors.append((inst, nxt))
            out.enabled_actors.add(actor)
    return out
