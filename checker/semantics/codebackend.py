"""The code-emitting backend and the view that symbolically runs one action instance.

:func:`compile_instance` runs an :class:`~checker.lang.model.ActionInstance` body
once on a :class:`CompileView` whose values are :class:`~checker.semantics.codegen.Sym`
atoms over the input state tuple ``v`` (scalar variable ``i`` is ``v[i]``,
element ``j`` of array variable ``i`` is ``v[i][j]``).  The
:class:`CodeBackend` turns each operation of the expression layer into one
SSA assignment; the view turns ``s.require`` into ``if not c: return None``
and ``s.capacity`` into ``if not c: raise CapacityReached(what)``, both at
their place in program order, and checks every write against the
variable's type as the concrete :class:`~checker.lang.view.StateView` does.
:mod:`checker.semantics.compiled` assembles the results into Python functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from checker.lang.model import ActionInstance, Model
from checker.lang.view import StateView
from checker.semantics.codegen import (
    Emitter,
    Stop,
    Sym,
    SymArray,
    bounds_of,
    code_of,
    join_kind,
    kind_of,
    same,
    var_value,
)


class CodeBackend:
    """The expression layer's backend that writes code instead of computing values."""

    symbolic = True

    def __init__(self, em: Emitter) -> None:
        self.em = em

    def ite(self, cond: Any, then: Any, other: Any) -> Any:
        if not isinstance(cond, Sym):
            return then if cond else other
        if same(then, other):
            return then
        if cond.code in self.em.negated:
            cond, then, other = self.em.negated[cond.code], other, then
        if cond.kind == "bool" and then is True and other is False:
            return cond
        if cond.kind == "bool" and then is False and other is True:
            return self.not_(cond)
        (tlo, thi), (olo, ohi) = bounds_of(then), bounds_of(other)
        kind = join_kind(kind_of(then), kind_of(other))
        rhs = f"{code_of(then)} if {cond.code} else {code_of(other)}"
        return self.em.value(rhs, kind, min(tlo, olo), max(thi, ohi))

    def _junction(self, word: str, conds: tuple[Any, ...]) -> Any:
        """``and_`` (word "and") or ``or_``: Python's all()/any() over ``conds``."""
        absorbing = word == "or"  # the truth value that settles the result
        ops: list[Sym] = []
        for c in conds:
            if not isinstance(c, Sym):
                if bool(c) is absorbing:
                    return absorbing
            elif all(c.code != o.code for o in ops):
                ops.append(c)
        if not ops:
            return not absorbing
        if len(ops) == 1 and ops[0].kind == "bool":
            return ops[0]
        rhs = f" {word} ".join(o.code for o in ops)
        if any(o.kind != "bool" for o in ops):
            rhs = f"bool({rhs})"
        result = self.em.value(rhs, "bool", 0, 1)
        if word == "and":
            parts = tuple(p for o in ops for p in self.em.conj.get(o.code, (o,)))
            self.em.conj[result.code] = parts
        return result

    def and_(self, *conds: Any) -> Any:
        return self._junction("and", conds)

    def or_(self, *conds: Any) -> Any:
        return self._junction("or", conds)

    def not_(self, cond: Any) -> Any:
        if not isinstance(cond, Sym):
            return not cond
        if cond.code in self.em.negated:
            return self.em.negated[cond.code]
        result = self.em.value(f"not {cond.code}", "bool", 0, 1)
        if cond.kind == "bool":
            self.em.negated[result.code] = cond
        return result

    def select(self, array: Sequence[Any], index: Any) -> Any:
        arr = _as_array(array)
        i = self.em.check_index("indexed", len(arr), index)
        if not isinstance(i, Sym):
            return arr.items[i]
        items = arr.items[_span(i, len(arr))]
        if all(same(x, items[0]) for x in items):
            return items[0]
        kind = kind_of(items[0])
        for x in items:
            kind = join_kind(kind, kind_of(x))
        lo = min(bounds_of(x)[0] for x in items)
        hi = max(bounds_of(x)[1] for x in items)
        return self.em.value(f"{arr.tuple_code(self.em)}[{i.code}]", kind, lo, hi)

    def store(self, array: Any, index: Any, value: Any) -> Any:
        """A :class:`SymArray`: ``array`` with element ``index`` set to ``value``."""
        return self.store_if(array, True, index, value)

    def store_if(self, array: Any, cond: Any, index: Any, value: Any) -> Any:
        """A :class:`SymArray`: ``store`` when ``cond`` holds, else ``array``.

        The value's type is checked, then the index, as ``ArrayRef.set_if``
        and ``ConcreteBackend.store`` do, both only when ``cond`` holds.
        """
        arr = _as_array(array)
        if not isinstance(cond, Sym) and not cond:
            return arr
        if arr.var is not None:
            self.em.check_write(arr.var, arr.slot, value, cond)
        i = self.em.check_index("wrote", len(arr), index, cond)
        if i is None:
            return arr
        if not isinstance(i, Sym):
            items = list(arr.items)
            items[i] = self.ite(cond, value, items[i])
            return SymArray(arr.var, arr.slot, tuple(items), None)
        src = arr.tuple_code(self.em)
        rhs = f"{src}[:{i.code}] + ({code_of(value)},) + {src}[{i.code} + 1:]"
        if isinstance(cond, Sym):
            rhs = f"{rhs} if {cond.code} else {src}"
        out = self.em.temp(rhs)
        items = list(arr.items)
        for j in range(len(items))[_span(i, len(arr))]:
            old = items[j]
            if not same(old, value):
                kind = join_kind(kind_of(old), kind_of(value))
                (olo, ohi), (vlo, vhi) = bounds_of(old), bounds_of(value)
                items[j] = Sym(self.em, f"{out}[{j}]", kind, min(olo, vlo), max(ohi, vhi))
        return SymArray(arr.var, arr.slot, tuple(items), out)


def _span(index: Sym, n: int) -> slice:
    """The positions of an ``n``-element array that ``index`` may designate."""
    return slice(int(max(0, index.lo)), int(min(n - 1, index.hi)) + 1)


def _as_array(array: Any) -> SymArray:
    if isinstance(array, SymArray):
        return array
    return SymArray(None, -1, tuple(array), None)


class CompileView(StateView):
    """A state view that turns guards, bounds and writes into emitted statements."""

    __slots__ = ()

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            slot = self._m.var_index[name]
        except KeyError:
            raise AttributeError(f"model {self._m.name} has no state variable '{name}'") from None
        var, em = self._m.vars[slot], self._em
        if var.size is None:
            em.check_write(var, slot, value)
            self._vals[slot] = value
            return
        items = tuple(value)
        if len(items) != var.size:
            message = f"{name}: array of {var.size} elements assigned {len(items)}"
            em.leave(f"raise _ModelBug({em.const(message)})")
        for item in items:
            em.check_write(var, slot, item)
        self._vals[slot] = SymArray(var, slot, items, None)

    @property
    def _em(self) -> Emitter:
        backend: CodeBackend = self._b  # type: ignore[assignment]
        return backend.em

    def require(self, cond: Any) -> None:
        """``if not cond: return None`` at this point of the step function."""
        self._em.guard(cond, "return None", raises=False)

    def capacity(self, cond: Any, what: str) -> None:
        """``if not cond: raise CapacityReached(what)`` at this point."""
        self._em.guard(cond, f"raise _Cap({self._em.const(what)})", raises=True)


def _output(model: Model, vals: list[Any]) -> str:
    """The source of the successor tuple; unchanged arrays are ``v[i]`` itself."""
    out = []
    for slot, (var, value) in enumerate(zip(model.vars, vals)):
        if var.size is None:
            out.append(code_of(value))
        elif all(isinstance(x, Sym) and x.code == f"v[{slot}][{j}]"
                 for j, x in enumerate(value.items)):
            out.append(f"v[{slot}]")
        elif value.source is not None:
            out.append(value.source)
        else:
            out.append("(" + "".join(code_of(x) + ", " for x in value.items) + ")")
    return "(" + "".join(c + ", " for c in out) + ")"


def symbolic_state(model: Model, em: Emitter) -> list[Any]:
    """The input state ``v`` as symbolic values: scalar ``i`` is ``v[i]``, element
    ``j`` of array ``i`` is ``v[i][j]`` (a :class:`SymArray` whose tuple is ``v[i]``)."""
    vals: list[Any] = []
    for slot, var in enumerate(model.vars):
        if var.size is None:
            vals.append(var_value(em, var, f"v[{slot}]"))
        else:
            items = tuple(var_value(em, var, f"v[{slot}][{j}]") for j in range(var.size))
            vals.append(SymArray(var, slot, items, f"v[{slot}]"))
    return vals


@dataclass
class StepCode:
    """One instance's compiled statements; ``result`` is the successor tuple's source."""

    inst: ActionInstance
    em: Emitter
    result: str | None

    @property
    def may_hit_capacity(self) -> bool:
        return any("_Cap(" in stmt for stmt in self.em.effects)


def compile_instance(
    model: Model, inst: ActionInstance, consts: dict[Any, str],
    state: Callable[[Model, Emitter], list[Any]] = symbolic_state,
    backend: Callable[[Emitter], CodeBackend] = CodeBackend,
    output: Callable[[Model, list[Any]], str] = _output,
) -> StepCode | None:
    """Symbolically run ``inst``'s body; ``None`` if it can never be enabled.

    ``consts`` maps constant objects (messages) to the names the code uses
    for them; it is shared by the instances of one model.  ``state``,
    ``backend`` and ``output`` choose the emission mode: by default the input
    is the state tuple ``v`` and the result the successor tuple's source; the
    compiled explorer (:mod:`checker.engines.explicit.compiled`) passes its
    flat-array versions of the three.
    """
    em = Emitter(consts)
    view = CompileView(model, state(model, em), backend(em))
    try:
        inst.spec.body(view, **inst.kwargs())
        result: str | None = output(model, list(view._vals))
    except Stop:
        if not em.may_raise and em.effects[-1] == "return None":
            return None
        result = None
    return StepCode(inst, em, result)
