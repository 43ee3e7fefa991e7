"""Property predicates compiled to Python, for the explorer's per-state checks.

A property is written once, as a predicate over a
:class:`~checker.lang.view.StateView` (:mod:`checker.lang.spec`).  As
:mod:`checker.semantics.compiled` does for action bodies, this module runs each
predicate once on a view whose values are :class:`~checker.semantics.codegen.Sym`
atoms over the state tuple ``v``, with ``s.enabled(actor, ...)`` written as
a test on ``e``, the set of enabled actors, and turns what it computes into
one straight-line Python function per property (and per liveness
obligation instance, with its ``over`` arguments bound)::

    def prop_1(v, e):                    # v3.1 put-and-wait-terminates: (premise, goal)
        t0 = v[42] == 2                  # c_pc == C_PUT
        ...
        t5 = t0 or t1 or t2 or t3 or t4
        t6 = not t5
        return (t5, t6)

(``s.enabled("worker")`` becomes ``_k0 in e``, ``_k0`` the actor's name.)

``prop_<i>(v, e)`` is equivalent to evaluating the predicate on
:func:`checker.semantics.states.property_view` on every well-typed state: for an
invariant the bool :func:`checker.semantics.states.holds_in` returns, for a liveness
obligation the ``(premise, goal)`` pair of
:meth:`checker.engines.explicit.liveness.Obligation.evaluate`.  Where the code may raise (an
index the intervals do not prove in range, a division), it catches the
exception and evaluates the predicate interpreted instead, so the caller
sees exactly the interpreted outcome: the same value or the same exception
(a user property's one-line error with its ``file:line``, through
:func:`checker.runs.userfiles.guarded`).

A predicate the symbolic run cannot follow -- one that branches in Python
on a state value (:class:`~checker.semantics.codegen.SymbolicBranch`), writes to the
state, calls ``s.require``, returns something that is not certainly a bool
(a pair of bools for liveness), or raises anything while being traced -- is
evaluated interpreted, silently and for that property only (the reason is
kept in :attr:`PredicateCode.fallbacks`).  ``$VHOSTMC_INTERPRET`` and
:func:`checker.semantics.states.use_compiled` make every property interpreted, as
they do the actions.
"""

from __future__ import annotations

import itertools
import linecache
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from checker.lang.model import Model, State
from checker.lang.spec import Property
from checker.semantics.codebackend import CodeBackend, CompileView, symbolic_state
from checker.semantics.codegen import Emitter, Sym, code_of
from checker.semantics.compiled import _index_error
from checker.semantics.states import compiles, holds_in, property_view

Check = Callable[[State, AbstractSet[str]], Any]
"""A predicate as a function of a state and the set of its enabled actors."""

_SERIAL = itertools.count()


class NotCompilable(Exception):
    """The predicate does something its compiled form cannot reproduce."""


class PredicateBackend(CodeBackend):
    """The code-writing backend, for predicates: arrays are read-only."""

    def store(self, array: Any, index: Any, value: Any) -> Any:
        raise NotCompilable("the property writes an array element")

    def store_if(self, array: Any, cond: Any, index: Any, value: Any) -> Any:
        raise NotCompilable("the property writes an array element")


class PredicateView(CompileView):
    """The view a predicate is traced on: reads only, no guards."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        raise NotCompilable(f"the property writes the state variable {name}")

    def require(self, cond: Any) -> None:
        raise NotCompilable("the property calls s.require")

    def capacity(self, cond: Any, what: str) -> None:
        raise NotCompilable("the property calls s.capacity")


def _enabled_code(em: Emitter) -> Callable[[tuple[str, ...]], Any]:
    """``s.enabled(*actors)`` as a test on the enabled-actor set ``e``."""

    def enabled(actors: tuple[str, ...]) -> Any:
        names = list(dict.fromkeys(actors))
        if not names:
            return False
        return em.value(" or ".join(f"{em.const(a)} in e" for a in names), "bool", 0, 1)

    return enabled


def _certainly_bool(x: Any) -> bool:
    """Whether ``x`` is a Python bool in every well-typed state."""
    return isinstance(x, bool) or (isinstance(x, Sym) and x.kind == "bool")


def trace_predicate(
    model: Model, prop: Property, args: Mapping[str, int], pair: bool, consts: dict[Any, str],
    state: Callable[[Model, Emitter], list[Any]] = symbolic_state,
    backend: Callable[[Emitter], CodeBackend] = PredicateBackend,
    enabled: Callable[[Emitter], Callable[[tuple[str, ...]], Any]] = _enabled_code,
) -> tuple[Emitter, str]:
    """Run ``prop``'s predicate on a :class:`PredicateView`; its statements and result.

    ``pair``: the result is ``(premise, goal)`` (a liveness obligation), else
    one bool.  Raises whatever the predicate raises, or :class:`NotCompilable`.
    ``state``, ``backend`` and ``enabled`` choose the emission mode (by
    default the state tuple ``v`` and the actor set ``e``; the compiled
    explorer passes its flat-array versions).
    """
    em = Emitter(consts)
    view = PredicateView(model, state(model, em), backend(em), enabled(em))
    value = prop.predicate(view, **args)
    if pair:
        if not (isinstance(value, tuple) and len(value) == 2):
            raise NotCompilable(f"returns {type(value).__name__}, not a (premise, goal) pair")
        parts: tuple[Any, ...] = value
    else:
        parts = (value,)
    for part in parts:
        if not _certainly_bool(part):
            raise NotCompilable(f"returns {part!r}, not certainly a bool")
    codes = [code_of(part) for part in parts]
    return em, f"({codes[0]}, {codes[1]})" if pair else codes[0]


def _render(name: str, em: Emitter, result: str, fallback: str) -> list[str]:
    """``def name(v, e)``; code that may raise hands the state to ``fallback``."""
    body = em.body(result)
    if not em.may_raise:
        return [f"def {name}(v, e):", *("    " + line for line in body)]
    return [f"def {name}(v, e):", "    try:", *("        " + line for line in body),
            "    except Exception:", f"        return {fallback}(v, e)"]


def interpreted_check(model: Model, prop: Property, args: Mapping[str, int], pair: bool) -> Check:
    """The predicate evaluated on a :func:`~checker.semantics.states.property_view`: ``holds_in``
    for an invariant, ``(bool(premise), bool(goal))`` for a liveness obligation."""
    if not pair:
        def holds(state: State, enabled: AbstractSet[str]) -> bool:
            return holds_in(prop, property_view(model, state, enabled))

        return holds
    kwargs = dict(args)
    predicate = prop.predicate

    def premise_goal(state: State, enabled: AbstractSet[str]) -> tuple[bool, bool]:
        premise, goal = predicate(property_view(model, state, enabled), **kwargs)
        return bool(premise), bool(goal)

    return premise_goal


@dataclass
class PredicateCode:
    """The evaluators of a list of predicates, in the list's order."""

    checks: list[Check]
    source: str = ""
    fallbacks: list[tuple[str, str]] = field(default_factory=list)
    """(title, reason) of the predicates evaluated interpreted although compiling was asked."""


def _title(prop: Property, args: Mapping[str, int]) -> str:
    inner = ", ".join(f"{k}={v}" for k, v in args.items())
    return f"{prop.name}({inner})" if inner else prop.name


def compile_predicates(
    model: Model, items: Sequence[tuple[Property, Mapping[str, int]]], pair: bool,
    compiled: bool | None = None,
) -> PredicateCode:
    """One evaluator per ``(property, args)`` of ``items`` (see the module docstring).

    ``pair``: every item is a liveness obligation (``(premise, goal)``), else
    an invariant (a bool).  ``compiled`` as for :func:`checker.semantics.states.expand`:
    ``None`` follows the model's choice and ``$VHOSTMC_INTERPRET``.
    """
    interpreted = [interpreted_check(model, prop, args, pair) for prop, args in items]
    if not compiles(model, compiled):
        return PredicateCode(interpreted)
    consts: dict[Any, str] = {}
    namespace: dict[str, Any] = {"_idx": _index_error}
    lines: list[str] = []
    fallbacks: list[tuple[str, str]] = []
    compiled_at: list[int] = []
    for i, (prop, args) in enumerate(items):
        try:
            em, result = trace_predicate(model, prop, args, pair, consts)
        except Exception as err:  # noqa: BLE001 - what the tracer cannot follow is interpreted
            fallbacks.append((_title(prop, args), f"{type(err).__name__}: {err}"))
            continue
        namespace[f"_P{i}"] = interpreted[i]
        lines += [*_render(f"prop_{i}", em, result, f"_P{i}"), ""]
        compiled_at.append(i)
    namespace.update({name: key[1] for key, name in consts.items()})
    source = "".join(line + "\n" for line in lines)
    checks = list(interpreted)
    if compiled_at:
        filename = f"<vhostmc properties {model.name} #{next(_SERIAL)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - code we generated
        for i in compiled_at:
            checks[i] = namespace[f"prop_{i}"]
    return PredicateCode(checks, source, fallbacks)


def invariant_checks(
    model: Model, props: Sequence[Property], compiled: bool | None = None
) -> PredicateCode:
    """``check(state, enabled_actors)`` for each of ``props``, as ``holds_in`` on
    ``property_view(model, state, enabled_actors)``."""
    return compile_predicates(model, [(p, {}) for p in props], False, compiled)


def obligation_checks(
    model: Model, items: Sequence[tuple[Property, Mapping[str, int]]],
    compiled: bool | None = None,
) -> PredicateCode:
    """``check(state, enabled_actors) -> (premise, goal)`` for each liveness obligation
    ``(property, args)``, as :meth:`checker.engines.explicit.liveness.Obligation.evaluate`."""
    return compile_predicates(model, items, True, compiled)
