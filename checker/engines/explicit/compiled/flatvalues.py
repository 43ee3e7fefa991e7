"""Which values each slot may hold in a reachable state, from the generated code.

A least fixpoint over sets of values (:func:`reachable_values`): start from
the initial state's values; run every compiled step (and the dead-value canon,
applied to every successor) on the sets, evaluating its straight-line code
(:mod:`.flatcode`) with Python's ``ast`` on sets of ints -- each operation on
every combination of its operands' values, so correlations are forgotten and
the result only grows -- and add the values its final assignment may write;
repeat until nothing changes.  A set past :data:`CAP` values, or an
expression the evaluator does not know, becomes ``None``: any value of the
slot's type.  A step whose leading ``return 0`` exits always fire under the
current sets never acts; one that may act is *live*.

Sound by induction over reachable states: every slot of the initial state
is in its set, and a step (then the canon) run from a state whose slots are
in the sets computes, operation by operation, values inside the sets the
evaluator computes, so the successor's slots are in the sets after the
round.  Used by :mod:`.flatpor` to leave steps that can never act out of its
dependence checks (e.g. the control thread when no backend change and no
release are allowed).
"""

from __future__ import annotations

import ast
import functools
import itertools
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from checker.engines.explicit.compiled.flataccess import balanced
from checker.engines.explicit.compiled.layout import Layout

Values = frozenset[int] | None
"""A set of possible values, or ``None``: unknown (any value)."""

CAP = 256
"""Sets larger than this become unknown."""
PRODUCT_CAP = 4096
"""Operations with more operand combinations than this give unknown."""

_BINARY: dict[type, Callable[[int, int], int]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_, ast.BitXor: operator.xor, ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
}
_COMPARE: dict[type, Callable[[int, int], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}


def _capped(values: set[int]) -> Values:
    return frozenset(values) if len(values) <= CAP else None


def _combine(parts: Sequence[Values], fn: Callable[..., int]) -> Values:
    """``fn`` on every combination of ``parts`` (skipping those it cannot compute, e.g. a
    division by zero, where the generated code exits before the value is used)."""
    known = [p for p in parts if p is not None]
    if len(known) < len(parts):
        return None
    count = 1
    for p in known:
        count *= len(p)
    if count > PRODUCT_CAP:
        return None
    out: set[int] = set()
    for combo in itertools.product(*known):
        try:
            out.add(int(fn(*combo)))
        except (ZeroDivisionError, ValueError):
            continue
    return _capped(out)


class Evaluator:
    """Evaluates generated expressions on sets: ``slots`` (by slot), ``temps`` (by name)."""

    def __init__(self, slots: Sequence[Values]) -> None:
        self.slots = list(slots)
        self.temps: dict[str, Values] = {}

    def value(self, expr: str) -> Values:
        """The possible values of ``expr``."""
        node = _parsed(expr.strip())
        return None if node is None else self._eval(node)

    def _eval(self, node: ast.expr) -> Values:
        if isinstance(node, ast.Constant) and isinstance(node.value, (bool, int)):
            return frozenset({int(node.value)})
        if isinstance(node, ast.Name):
            return self.temps.get(node.id)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) \
                and node.value.id == "u" and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, int):
            return self.slots[node.slice.value]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _combine([self._eval(node.left), self._eval(node.right)],
                            _BINARY[type(node.op)])
        if isinstance(node, ast.UnaryOp):
            inner = self._eval(node.operand)
            if isinstance(node.op, ast.USub):
                return _combine([inner], operator.neg)
            if isinstance(node.op, ast.Not):
                return _combine([inner], lambda v: int(not v))
            return None
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.BoolOp):
            parts = [self._eval(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return _combine(parts, lambda *vs: int(all(vs)))
            return _combine(parts, lambda *vs: int(any(vs)))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("int", "bool") and len(node.args) == 1:
            inner = self._eval(node.args[0])
            return inner if node.func.id == "int" else _combine([inner], lambda v: int(bool(v)))
        return None

    def _compare(self, node: ast.Compare) -> Values:
        if not all(type(op) in _COMPARE for op in node.ops):
            return None
        parts = [self._eval(node.left), *(self._eval(c) for c in node.comparators)]
        ops = [_COMPARE[type(op)] for op in node.ops]

        def chain(*vs: int) -> int:
            return int(all(op(vs[i], vs[i + 1]) for i, op in enumerate(ops)))

        return _combine(parts, chain)


@functools.lru_cache(maxsize=1 << 16)
def _parsed(expr: str) -> ast.expr | None:
    try:
        return ast.parse(expr, mode="eval").body
    except SyntaxError:
        return None


_EXIT = re.compile(r"^if (.*): return (-?\d+)$")
_DEF = re.compile(r"^(t\d+) = (.*)$")


def field_values(layout: Layout, ev: Evaluator, stmt: str, source: str) -> dict[int, Values]:
    """The possible new values of each field the packed-word assignment ``stmt`` writes
    (``nw[w] = (<source>[w] & KEEP) | part | ...``)."""
    target = re.match(r"^nw\[(\d+)\] = ", stmt)
    if target is None or re.fullmatch(rf"nw\[(\d+)\] = {source}\[\1\]", stmt):
        return {}  # not an assignment of the words, or the word copied unchanged
    m = re.match(rf"^nw\[(\d+)\] = \({source}\[\d+\] & (\d+)\)((?: \| .*)?)$", stmt)
    if m is None:  # a shape this reader does not know: any value in every field of the word
        return {k: None for k, f in enumerate(layout.fields)
                if f.word == int(target[1]) and f.width}
    word, keep = int(m[1]), int(m[2])
    cleared = ~keep & ((1 << 63) - 1)
    fields = {f.shift: k for k, f in enumerate(layout.fields)
              if f.word == word and f.width and f.mask & cleared}
    literal = 0
    out: dict[int, Values] = {}
    parts = [p.strip() for p in m[3].split(" | ") if p.strip()]
    if not all(balanced(p) for p in parts):
        return {k: None for k in fields.values()}  # an operand with "|" inside: unknown
    for part in parts:
        if re.fullmatch(r"-?\d+", part):
            literal |= int(part)
            continue
        shifted = re.fullmatch(r"\((.*) << (\d+)\)", part)
        inner, shift = (shifted[1], int(shifted[2])) if shifted else (part, 0)
        k = fields.get(shift)
        if k is None:
            return {j: None for j in fields.values()}  # a part of unexpected shape
        out[k] = _combine([ev.value(inner)], lambda v, lo=layout.fields[k].lo: v + lo)
    for shift, k in fields.items():
        if k not in out:
            f = layout.fields[k]
            out[k] = frozenset({((literal >> shift) & ((1 << f.width) - 1)) + f.lo})
    return out


def run_step(layout: Layout, body: Sequence[str], slots: Sequence[Values],
             source: str = "w") -> tuple[bool, dict[int, Values]]:
    """Whether the step (or canon) ``body`` may act from states with ``slots``, and the
    values its final assignment may write (empty when it never gives a successor)."""
    ev = Evaluator(slots)
    acts = False
    writes: dict[int, Values] = {}
    for line in body:
        d = _DEF.match(line)
        if d:
            ev.temps[d[1]] = ev.value(d[2])
            continue
        exit_ = _EXIT.match(line)
        if exit_:
            cond = ev.value(exit_[1])
            always = cond is not None and cond == frozenset({1})
            possible = cond is None or 1 in cond
            if exit_[2] == "0" and always:
                return acts, {}
            if exit_[2] != "0" and possible:
                acts = True
            if exit_[2] != "0" and always:
                return True, {}
            continue
        bare = re.fullmatch(r"return (-?\d+)", line)
        if bare:  # an unconditional exit: nothing after it runs
            return (acts or bare[1] != "0"), writes
        if line.startswith("nw["):
            acts = True
            for stmt in line.removesuffix("; return 1").split("; "):
                writes.update(field_values(layout, ev, stmt, source))
    return acts, writes


def _widen(old: Values, new: Values, lo: int, hi: int) -> Values:
    if old is None or new is None:
        return None
    merged = set(old) | set(new)
    return None if len(merged) > CAP or not merged <= set(range(lo, hi + 1)) else frozenset(
        merged) if len(merged) > len(old) else old


def reachable_values(layout: Layout, initial: Sequence[int],
                     steps: Mapping[int, Sequence[str]], canon: Sequence[str] | None,
                     ranges: Sequence[tuple[int, int]],
                     restrict: Callable[[int, list[Values]], list[Values] | None]
                     ) -> tuple[list[Values], set[int]]:
    """The least fixpoint of the module: per slot its possible values, and the steps
    (by instance index) that may act.  ``restrict(i, slots)``: the sets narrowed to what
    step ``i``'s guard allows (``None``: it can never act there)."""
    slots: list[Values] = [frozenset({v}) for v in initial]
    live: set[int] = set()
    changed = True
    while changed:
        changed = False
        updates: list[dict[int, Values]] = []
        for i, body in steps.items():
            narrowed = restrict(i, slots)
            if narrowed is None:
                continue
            acts, writes = run_step(layout, body, narrowed)
            if acts and i not in live:
                live.add(i)
                changed = True
            updates.append(writes)
        if canon is not None:
            updates.append(run_step(layout, canon, slots, source="nw")[1])
        for writes in updates:
            for k, values in writes.items():
                new = _widen(slots[k], values, *ranges[k])
                if new != slots[k]:
                    slots[k] = new
                    changed = True
    return slots, live


def describe(values: Values) -> Any:
    """A JSON-friendly form of a set (sorted list, or ``"any"``)."""
    return "any" if values is None else sorted(values)
