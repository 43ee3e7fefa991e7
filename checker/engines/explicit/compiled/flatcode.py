"""Numba source for a model's action instances and invariants, on packed flat states.

This is the flat-array emission mode of :mod:`checker.semantics.codegen`: the
same symbolic run of each action body (:func:`checker.semantics.codebackend.compile_instance`)
and of each invariant (:func:`checker.semantics.compiledprops.trace_predicate`),
with three pieces swapped:

* the input state is the int64 array ``u`` of slots (:mod:`.layout`): scalar
  variable ``i`` is ``u[k]``, element ``j`` of an array is ``u[k + j]``;
* arrays are element lists, never tuples: reading at a state-dependent
  index is a chain of ``ite``, writing one is an ``ite`` per element it may hit
  (:class:`FlatBackend`), so the code has only int64/bool scalars;
* the successor is written as packed words ``nw`` (unchanged fields copied
  from the input words ``w``, changed ones or-ed in).

Numba code raises nothing: ``step_<i>(u, w, nw)`` returns 1 (successor in
``nw``), 0 (disabled), ``2 + c`` (``s.capacity`` number ``c`` reached) or
-1 (the concrete model raises here: an ill-typed write, an index out of
range, a division by zero; the caller re-fires the instance in Python to get
the exception and its message).  ``prop_<i>(u, e)`` returns 1/0 for
holds/violated, or -1 where the interpreted predicate would raise; ``e`` is
the bit mask of enabled actors.  Anything this mode cannot express (a value
of mixed kind, a predicate the tracer cannot follow) raises :class:`Refused`
naming the instance or property: the caller uses the Python explorer instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from checker.engines.explicit.compiled.layout import Layout
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.semantics.codebackend import CodeBackend, StepCode, _as_array, _span, compile_instance
from checker.semantics.codegen import (
    Emitter,
    Sym,
    SymArray,
    bounds_of,
    code_of,
    join_kind,
    kind_of,
    same,
    var_value,
)
from checker.semantics.compiledprops import NotCompilable, trace_predicate

LIMIT = 2**62
"""Intervals beyond this could overflow int64 where Python ints would not: refused."""


class Refused(Exception):
    """Some part of the model or a property has no flat numba form; the reason says which."""


class FlatBackend(CodeBackend):
    """:class:`CodeBackend` whose arrays stay element lists (no tuples, no slices)."""

    def __init__(self, em: Emitter) -> None:
        super().__init__(em)
        plain = em.value

        def bounded(rhs: str, kind: Any, lo: float, hi: float, pure: bool = True) -> Any:
            if not (-LIMIT <= lo and hi <= LIMIT):
                raise Refused(f"value {rhs} has no int64 bound ([{lo}, {hi}])")
            return plain(rhs, kind, lo, hi, pure)

        em.value = bounded  # type: ignore[method-assign]

    def ite(self, cond: Any, then: Any, other: Any) -> Any:
        """``then if cond else other`` as branch-free arithmetic (numba compiles a branch
        per conditional expression; this keeps each step one basic block)."""
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
        if cond.kind != "bool" or kind_of(then) == "any" or kind_of(other) == "any":
            return super().ite(cond, then, other)
        (tlo, thi), (olo, ohi) = bounds_of(then), bounds_of(other)
        kind = join_kind(kind_of(then), kind_of(other))
        t, o, c = code_of(then), code_of(other), cond.code
        if o in ("0", "False"):
            rhs = f"{t} * {c}"
        elif t in ("0", "False"):
            rhs = f"{o} * (1 - {c})"
        else:
            rhs = f"{o} + ({t} - {o}) * {c}"
        return self.em.value(rhs, kind, min(tlo, olo), max(thi, ohi))

    def _junction(self, word: str, conds: tuple[Any, ...]) -> Any:
        """``and_``/``or_`` as ``&``/``|`` over 0/1 values (no short-circuit branches)."""
        if any(isinstance(c, Sym) and c.kind != "bool" for c in conds):
            return super()._junction(word, conds)
        absorbing = word == "or"
        ops: list[Sym] = []
        for c in conds:
            if not isinstance(c, Sym):
                if bool(c) is absorbing:
                    return absorbing
            elif all(c.code != o.code for o in ops):
                ops.append(c)
        if not ops:
            return not absorbing
        if len(ops) == 1:
            return ops[0]
        op = " | " if absorbing else " & "
        result = self.em.value("(" + op.join(o.code for o in ops) + ")", "bool", 0, 1)
        if word == "and":
            parts = tuple(p for o in ops for p in self.em.conj.get(o.code, (o,)))
            self.em.conj[result.code] = parts
        return result

    def not_(self, cond: Any) -> Any:
        if not isinstance(cond, Sym) or cond.kind != "bool" or cond.code in self.em.negated:
            return super().not_(cond)
        result = self.em.value(f"1 - {cond.code}", "bool", 0, 1)
        self.em.negated[result.code] = cond
        return result

    def select(self, array: Sequence[Any], index: Any) -> Any:
        arr = _as_array(array)
        i = self.em.check_index("indexed", len(arr), index)
        if not isinstance(i, Sym):
            return arr.items[i]
        span = range(len(arr))[_span(i, len(arr))]
        value = arr.items[span[-1]]
        for j in reversed(span[:-1]):
            value = self.ite(self.em.compare("==", i, j), arr.items[j], value)
        return value

    def store_if(self, array: Any, cond: Any, index: Any, value: Any) -> Any:
        arr = _as_array(array)
        if not isinstance(cond, Sym) and not cond:
            return arr
        if arr.var is not None:
            self.em.check_write(arr.var, arr.slot, value, cond)
        i = self.em.check_index("wrote", len(arr), index, cond)
        if i is None:
            return arr
        items = list(arr.items)
        if not isinstance(i, Sym):
            items[i] = self.ite(cond, value, items[i])
        else:
            for j in range(len(items))[_span(i, len(arr))]:
                hit = self.and_(cond, self.em.compare("==", i, j))
                items[j] = self.ite(hit, value, items[j])
        return SymArray(arr.var, arr.slot, tuple(items), None)


class FlatPredicateBackend(FlatBackend):
    """:class:`FlatBackend` for predicates: arrays are read-only."""

    def store(self, array: Any, index: Any, value: Any) -> Any:
        raise NotCompilable("the property writes an array element")

    def store_if(self, array: Any, cond: Any, index: Any, value: Any) -> Any:
        raise NotCompilable("the property writes an array element")


def flat_state(layout: Layout) -> Callable[[Model, Emitter], list[Any]]:
    """The input state as symbolic slots ``u[k]`` (arrays as element lists)."""

    def state(model: Model, em: Emitter) -> list[Any]:
        vals: list[Any] = []
        for i, var in enumerate(model.vars):
            k = layout.offsets[i]
            if var.size is None:
                vals.append(var_value(em, var, f"u[{k}]"))
            else:
                items = tuple(var_value(em, var, f"u[{k + j}]") for j in range(var.size))
                vals.append(SymArray(var, i, items, None))
        return vals

    return state


_OUT = "@OUT@"


def flat_output(layout: Layout, source: str = "w") -> Callable[[Model, list[Any]], str]:
    """The successor as assignments of the packed words ``nw`` (after a marker);
    unchanged fields are copied from the words ``source`` (``w``: the input state's)."""

    def output(model: Model, vals: list[Any]) -> str:
        keep = {w: (1 << 63) - 1 for w in range(layout.words)}
        parts: dict[int, list[str]] = {w: [] for w in range(layout.words)}
        for i, var in enumerate(model.vars):
            items = [vals[i]] if var.size is None else list(vals[i].items)
            for j, x in enumerate(items):
                k = layout.offsets[i] + j
                f = layout.fields[k]
                if (isinstance(x, Sym) and x.code == f"u[{k}]") or f.width == 0:
                    continue
                keep[f.word] &= ~f.mask
                if not isinstance(x, Sym):
                    bits = (int(x) - f.lo) << f.shift
                    if bits:
                        parts[f.word].append(str(bits))
                    continue
                expr = x.code if x.kind == "int" else f"int({x.code})"
                if f.lo:
                    expr = f"({expr} - {f.lo})"
                parts[f.word].append(f"({expr} << {f.shift})" if f.shift else expr)
        stmts = []
        for w in range(layout.words):
            if keep[w] == (1 << 63) - 1:
                stmts.append(f"nw[{w}] = {source}[{w}]")
            else:
                stmts.append(f"nw[{w}] = " + " | ".join([f"({source}[{w}] & {keep[w]})",
                                                         *parts[w]]))
        return _OUT + "; ".join(stmts)

    return output


_EXIT = re.compile(
    r"^(?P<lead>\s*(?:if .*: )?)(?P<exit>return None|raise _Cap\((?P<cap>\w+)\)|_bug\(.*\)"
    r"|_idx\(.*\)|raise _ModelBug\(\w+\))$"
)
_CAP = re.compile(r"raise _Cap\((\w+)\)")
_DIVISION = re.compile(r"^(?P<ind>\s*)t\d+ = \S+ (?://|%) (?P<div>\S+)$")


def _numba_lines(lines: list[str], caps: dict[str, int], what: str) -> list[str]:
    """Emitted statements with every exit turned into a status ``return``."""
    out: list[str] = []
    for line in lines:
        if "_ok[" in line:
            raise Refused(f"{what}: a value of mixed kind is written ({line.strip()})")
        division = _DIVISION.match(line)
        if division and not division["div"].lstrip("-").isdigit():
            out.append(f"{division['ind']}if {division['div']} == 0: return -1")
        m = _EXIT.match(line)
        if m is None:
            out.append(line)
        elif m["exit"] == "return None":
            out.append(m["lead"] + "return 0")
        elif m["cap"] is not None:
            out.append(m["lead"] + f"return {2 + caps[m['cap']]}")
        else:
            out.append(m["lead"] + "return -1")
    return out


@dataclass
class FlatCode:
    """The generated numba source of a model and what its numbers mean."""

    steps_source: str
    """``step_<i>``, ``unpack``, ``pack`` and ``expand``: depends on the model only."""
    props_source: str
    """``prop_<p>`` and ``check``: depends on the properties too."""
    instances: list[int]
    """Model instance index of each compiled step (statically disabled ones are left out)."""
    capacities: list[str]
    """The ``s.capacity`` messages, by the number the step status carries."""
    actor_bits: dict[str, int]


def _step_source(code: StepCode, name: str, caps: dict[str, int]) -> list[str]:
    body = code.em.body(code.result)
    if code.result is not None:
        last = body[-1]
        assert last.lstrip().startswith("return " + _OUT), last
        body[-1] = last.replace("return " + _OUT, "", 1) + "; return 1"
    lines = _numba_lines(body, caps, code.inst.label)
    return [f"def {name}(u, w, nw):", *("    " + line for line in lines), "    return 0"]


def _prop_source(em: Emitter, result: str, name: str, title: str) -> list[str]:
    body = em.body(result)
    last = body[-1]
    assert last.lstrip().startswith("return "), last
    body[-1] = last.replace("return ", "return 1 if ", 1) + " else 0"
    lines = _numba_lines(body, {}, title)
    return [f"def {name}(u, e):", *("    " + line for line in lines)]


def _enabled_bits(bits: dict[str, int]) -> Callable[[Emitter], Callable[[tuple[str, ...]], Any]]:
    def enabled_code(em: Emitter) -> Callable[[tuple[str, ...]], Any]:
        def enabled(actors: tuple[str, ...]) -> Any:
            mask = 0
            for a in actors:
                mask |= bits.get(a, 0)
            if not mask:
                return False
            return em.value(f"(e & {mask}) != 0", "bool", 0, 1)

        return enabled

    return enabled_code


def _unpack_lines(layout: Layout) -> list[str]:
    lines = ["def unpack(w, u):"]
    for k, f in enumerate(layout.fields):
        if f.width == 0:
            lines.append(f"    u[{k}] = {f.lo}")
            continue
        raw = f"(w[{f.word}] >> {f.shift}) & {(1 << f.width) - 1}"
        lines.append(f"    u[{k}] = ({raw}) + {f.lo}" if f.lo else f"    u[{k}] = {raw}")
    return lines


def _pack_lines(layout: Layout) -> list[str]:
    lines = ["def pack(u, nw):"]
    for w in range(layout.words):
        parts = [
            f"((u[{k}] - {f.lo}) << {f.shift})"
            for k, f in enumerate(layout.fields) if f.word == w and f.width
        ]
        lines.append(f"    nw[{w}] = " + (" | ".join(parts) if parts else "0"))
    return lines


def _expand_lines(steps: list[tuple[int, str]], instances: Sequence[Any],
                  bits: dict[str, int]) -> list[str]:
    """``expand(u, w, succ, sact, info)``: every step, successors into ``succ``/``sact``.

    Returns the number of successors; ``info[1]`` = enabled-actor mask,
    ``info[2]`` = capacity mask; -1 with ``info[0]`` = instance on an error.
    """
    lines = ["def expand(u, w, succ, sact, info):", "    n = 0", "    en = 0", "    cap = 0"]
    for index, name in steps:
        bit = bits[instances[index].spec.actor]
        lines += [
            f"    st = {name}(u, w, succ[n])",
            "    if st == 1:",
            f"        sact[n] = {index}",
            "        n += 1",
            f"        en |= {bit}",
            "    elif st >= 2:",
            f"        en |= {bit}",
            "        cap |= 1 << (st - 2)",
            "    elif st < 0:",
            f"        info[0] = {index}",
            "        return -1",
        ]
    lines += ["    info[1] = en", "    info[2] = cap", "    return n"]
    return lines


def _check_lines(count: int) -> list[str]:
    """``check(u, e, pending, viol, state)``: each pending invariant on ``u``.

    A violated one gets ``viol[p] = state`` and leaves ``pending``; returns the
    new pending mask, or ``-1 - p`` if property ``p`` needs the interpreter.
    """
    lines = ["def check(u, e, pending, viol, state):"]
    for p in range(count):
        lines += [
            f"    if pending & {1 << p}:",
            f"        r = prop_{p}(u, e)",
            "        if r == 0:",
            f"            viol[{p}] = state",
            f"            pending &= ~{1 << p}",
            "        elif r < 0:",
            f"            return {-1 - p}",
        ]
    lines.append("    return pending")
    return lines


def _props_source(model: Model, layout: Layout, props: Sequence[Property],
                  bits: dict[str, int], consts: dict[Any, str]) -> list[str]:
    lines: list[str] = []
    for p, prop in enumerate(props):
        try:
            em, result = trace_predicate(
                model, prop, {}, False, consts, state=flat_state(layout),
                backend=FlatPredicateBackend, enabled=_enabled_bits(bits))
        except Refused:
            raise
        except Exception as err:  # noqa: BLE001 - the interpreter would be needed: refuse
            raise Refused(f"property {prop.name}: {type(err).__name__}: {err}") from None
        lines += [*_prop_source(em, result, f"prop_{p}", prop.name), ""]
    return lines


def generate(model: Model, layout: Layout, props: Sequence[Property]) -> FlatCode:
    """The numba source of ``model``'s steps and of ``props`` (invariants); :class:`Refused`
    when some instance or property has no flat form."""
    if len(model.instances) > 65535:
        raise Refused(f"{len(model.instances)} action instances (actions are stored as uint16)")
    if len(props) > 62:
        raise Refused(f"{len(props)} invariants (at most 62 per compiled run)")
    bits = {actor: 1 << i for i, actor in enumerate(model.actors)}
    consts: dict[Any, str] = {}
    steps: list[tuple[int, str]] = []
    codes: list[StepCode] = []
    for inst in model.instances:
        try:
            code = compile_instance(model, inst, consts, state=flat_state(layout),
                                    backend=FlatBackend, output=flat_output(layout))
        except Refused as err:
            raise Refused(f"action {inst.label}: {err}") from None
        except Exception as err:  # noqa: BLE001 - the interpreter would be needed: refuse
            raise Refused(f"action {inst.label}: {type(err).__name__}: {err}") from None
        if code is not None:
            codes.append(code)
            steps.append((inst.index, f"step_{inst.index}"))
    caps: dict[str, int] = {}
    capacities: list[str] = []
    names = {name: obj for (_, obj), name in consts.items()}
    for code in codes:
        for stmt in code.em.effects:
            for name in _CAP.findall(stmt):
                if name not in caps:
                    caps[name] = len(capacities)
                    capacities.append(str(names[name]))
    if len(capacities) > 60:
        raise Refused(f"{len(capacities)} capacity messages (at most 60)")
    lines: list[str] = []
    for code, (_, name) in zip(codes, steps):
        lines += [*_step_source(code, name, caps), ""]
    lines += [*_unpack_lines(layout), "", *_pack_lines(layout), ""]
    lines += [*_expand_lines(steps, model.instances, bits), ""]
    prop_lines = _props_source(model, layout, props, bits, {})
    prop_lines += [*_check_lines(len(props)), ""]
    return FlatCode("".join(line + "\n" for line in lines),
                    "".join(line + "\n" for line in prop_lines),
                    [i for i, _ in steps], capacities, bits)

