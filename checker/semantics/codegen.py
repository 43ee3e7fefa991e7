"""Symbolic values that write Python source: the building blocks of :mod:`checker.semantics.compiled`.

A :class:`Sym` stands for a value of the state being expanded.  It knows the
Python expression (an *atom*: a temp name, ``v[3]``, ``v[3][1]``, ``t7[0]``)
that evaluates to it, its kind (``int``, ``bool`` or ``any``) and an interval
that bounds it when the input state is well-typed (every value within its
variable's declared range).  Every operation on a ``Sym`` appends one SSA
assignment ``tN = <op over atoms>`` to an :class:`Emitter`, so the emitted
code stays linear in the size of the model code even where the model nests
``ite`` inside unrolled loops.  The intervals also settle comparisons and
drop range checks at compile time; a check that may fail stays in the code.
Identical pure expressions share one temp.

The :class:`Emitter` keeps two kinds of statements: pure assignments (no
exception can come from them) and effects (guards, range checks, raises), in
program order.  :meth:`Emitter.body` writes the effects in order and each
pure assignment just before its first use, so an action whose first guard
fails computes nothing else, and values nobody reads are never computed.
Moving a pure assignment is safe because model code is eager: the concrete
backend evaluates every operand too (``s.all`` does not short-circuit), so
only guards, ``set_if`` conditions and the model's own Python control flow
decide what runs, and those are kept in place.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any, Literal, NoReturn

from checker.lang.model import Var

Kind = Literal["int", "bool", "any"]
Bound = float
"""An interval end: an int, or ``-inf``/``inf`` when unbounded."""

INF = math.inf
_TEMP = re.compile(r"\bt\d+\b")


class Stop(Exception):
    """The action body reached a statement that always leaves the step function."""


class SymbolicBranch(TypeError):
    """Model code took a Python branch (``if``, ``and``, ``not``) on a state value."""


class Sym:
    """A state-dependent value of the action being compiled, written as a Python atom."""

    __slots__ = ("code", "em", "hi", "kind", "lo")

    def __init__(self, em: Emitter, code: str, kind: Kind, lo: Bound, hi: Bound) -> None:
        self.em = em
        self.code = code
        self.kind = kind
        self.lo = lo
        self.hi = hi

    def __repr__(self) -> str:
        return f"Sym({self.code}: {self.kind} [{self.lo}, {self.hi}])"

    def __bool__(self) -> bool:
        raise SymbolicBranch(
            f"model code branched on the state value {self.code}: use s.ite, s.all, s.any, "
            "s.neg or set_if instead of if/and/or/not"
        )

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: Any) -> Any:
        return self.em.arith("+", self, other)

    def __radd__(self, other: Any) -> Any:
        return self.em.arith("+", other, self)

    def __sub__(self, other: Any) -> Any:
        return self.em.arith("-", self, other)

    def __rsub__(self, other: Any) -> Any:
        return self.em.arith("-", other, self)

    def __mul__(self, other: Any) -> Any:
        return self.em.arith("*", self, other)

    def __rmul__(self, other: Any) -> Any:
        return self.em.arith("*", other, self)

    def __mod__(self, other: Any) -> Any:
        return self.em.arith("%", self, other)

    def __rmod__(self, other: Any) -> Any:
        return self.em.arith("%", other, self)

    def __floordiv__(self, other: Any) -> Any:
        return self.em.arith("//", self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return self.em.arith("//", other, self)

    def __neg__(self) -> Any:
        return self.em.negate(self)

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return self.em.compare("==", self, other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return self.em.compare("!=", self, other)

    def __lt__(self, other: Any) -> Any:
        return self.em.compare("<", self, other)

    def __le__(self, other: Any) -> Any:
        return self.em.compare("<=", self, other)

    def __gt__(self, other: Any) -> Any:
        return self.em.compare(">", self, other)

    def __ge__(self, other: Any) -> Any:
        return self.em.compare(">=", self, other)


class SymArray:
    """An array variable's value: its elements, and an atom holding the tuple if known.

    ``source`` is ``v[i]`` for an array the action has not written, the temp
    of a tuple built by an earlier operation, or ``None`` until needed.
    """

    __slots__ = ("items", "slot", "source", "var")

    def __init__(self, var: Var | None, slot: int, items: tuple[Any, ...], source: str | None):
        self.var = var
        self.slot = slot
        self.items = items
        self.source = source

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)

    def tuple_code(self, em: Emitter) -> str:
        """An atom evaluating to the whole tuple (built once, on first need)."""
        if self.source is None:
            self.source = em.temp("(" + "".join(code_of(x) + ", " for x in self.items) + ")")
        return self.source


# -- facts about values (Sym or plain Python int/bool) ---------------------------
def code_of(x: Any) -> str:
    """The Python source of a value."""
    if isinstance(x, Sym):
        return x.code
    if isinstance(x, bool | int):
        return repr(x)
    raise TypeError(f"cannot compile a model value of type {type(x).__name__}: {x!r}")


def kind_of(x: Any) -> Kind:
    if isinstance(x, Sym):
        return x.kind
    return "bool" if isinstance(x, bool) else "int"


def bounds_of(x: Any) -> tuple[Bound, Bound]:
    if isinstance(x, Sym):
        return x.lo, x.hi
    code_of(x)
    return int(x), int(x)


def join_kind(a: Kind, b: Kind) -> Kind:
    return a if a == b else "any"


def same(a: Any, b: Any) -> bool:
    """Whether two values are certainly the same Python value (and type)."""
    if isinstance(a, Sym) or isinstance(b, Sym):
        return isinstance(a, Sym) and isinstance(b, Sym) and a.code == b.code
    return type(a) is type(b) and a == b


def var_value(em: Emitter, var: Var, code: str) -> Sym:
    """The value of a scalar (or array element) of ``var`` read from the input state."""
    if var.is_bool:
        return Sym(em, code, "bool", 0, 1)
    return Sym(em, code, "int", var.lo, var.hi)


def _interval(op: str, a: tuple[Bound, Bound], b: tuple[Bound, Bound]) -> tuple[Bound, Bound]:
    (alo, ahi), (blo, bhi) = a, b
    if op == "%" and blo == bhi and blo != 0:
        m = int(blo)
        return (0, m - 1) if m > 0 else (m + 1, 0)
    if INF in (abs(alo), abs(ahi), abs(blo), abs(bhi)):
        return -INF, INF
    if op == "+":
        return alo + blo, ahi + bhi
    if op == "-":
        return alo - bhi, ahi - blo
    if op == "*":
        corners = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
        return min(corners), max(corners)
    if op == "//" and blo == bhi and blo > 0:
        return alo // blo, ahi // blo
    return -INF, INF


def _decide(op: str, a: tuple[Bound, Bound], b: tuple[Bound, Bound]) -> bool | None:
    """The comparison's outcome if the intervals settle it, else ``None``."""
    (alo, ahi), (blo, bhi) = a, b
    if op in (">", ">="):
        (alo, ahi), (blo, bhi) = (blo, bhi), (alo, ahi)
        op = "<" if op == ">" else "<="
    if op in ("==", "!="):
        if ahi < blo or bhi < alo:
            equal: bool | None = False
        elif alo == ahi == blo == bhi:
            equal = True
        else:
            return None
        return equal if op == "==" else not equal
    if op == "<":
        return True if ahi < blo else False if alo >= bhi else None
    return True if ahi <= blo else False if alo > bhi else None


class Emitter:
    """Collects the statements of one step function, in program order."""

    def __init__(self, consts: dict[Any, str]) -> None:
        self.consts = consts
        self.pure: dict[str, str] = {}  # temp -> right-hand side (no exception possible)
        self.effects: list[str] = []  # guards, checks, raising assignments, in order
        self.may_raise = False
        self.conj: dict[str, tuple[Sym, ...]] = {}  # and_ temp -> its conjuncts
        self.negated: dict[str, Sym] = {}  # not_ temp -> its (bool) operand
        self._count = 0
        self._cse: dict[str, str] = {}  # right-hand side -> pure temp
        self._seen: set[str] = set()

    # -- statements ---------------------------------------------------------------
    def temp(self, rhs: str, pure: bool = True) -> str:
        """A temp holding ``rhs``; an identical earlier pure one is shared."""
        if pure and rhs in self._cse:
            return self._cse[rhs]
        name = f"t{self._count}"
        self._count += 1
        if pure:
            self.pure[name] = rhs
            self._cse[rhs] = name
        else:
            self.effects.append(f"{name} = {rhs}")
            self.may_raise = True
        return name

    def value(self, rhs: str, kind: Kind, lo: Bound, hi: Bound, pure: bool = True) -> Any:
        """A :class:`Sym` for ``rhs``, or the constant when its interval is one point."""
        if lo == hi and kind != "any":
            return bool(lo) if kind == "bool" else int(lo)
        return Sym(self, self.temp(rhs, pure), kind, lo, hi)

    def effect(self, stmt: str, raises: bool = True) -> None:
        """A guard or check, kept in program order (an identical repeat is dropped)."""
        if stmt not in self._seen:
            self._seen.add(stmt)
            self.effects.append(stmt)
            self.may_raise = self.may_raise or raises

    def leave(self, stmt: str, raises: bool = True) -> NoReturn:
        """A statement that always leaves the function; ends the symbolic run."""
        self.effects.append(stmt)
        self.may_raise = self.may_raise or raises
        raise Stop

    def fail(self, stmt: str, cond: Any) -> None:
        """Run the raising ``stmt`` when ``cond`` holds."""
        if isinstance(cond, Sym):
            self.effect(f"if {cond.code}: {stmt}")
        elif cond:
            self.leave(stmt)

    def const(self, obj: Any) -> str:
        """The namespace name of a constant object (e.g. a message string)."""
        key = (type(obj), obj)
        if key not in self.consts:
            self.consts[key] = f"_k{len(self.consts)}"
        return self.consts[key]

    def guard(self, cond: Any, exit_stmt: str, raises: bool) -> None:
        """``if not cond: exit_stmt``, one guard per conjunct of ``cond``."""
        if not isinstance(cond, Sym):
            if not cond:
                self.leave(exit_stmt, raises)
            return
        for part in self.conj.get(cond.code, (cond,)):
            self.effect(f"if not {part.code}: {exit_stmt}", raises)

    def check_write(self, var: Var, slot: int, value: Any, cond: Any = True) -> None:
        """Raise ModelBug, as ``StateView._check`` does, if ``value`` is outside ``var``'s type."""
        if not isinstance(cond, Sym) and not cond:
            return
        bug = f"_bug({slot}, {code_of(value)})"
        if not isinstance(value, Sym):
            if not var.in_range(value):
                self.fail(bug, cond)
            return
        when = f"{cond.code} and " if isinstance(cond, Sym) else ""
        if value.kind == "any":
            self.effect(f"if {when}not _ok[{slot}]({value.code}): {bug}")
        elif value.kind != ("bool" if var.is_bool else "int"):
            self.fail(bug, cond)
        elif not var.is_bool:
            tests = [f"{value.code} < {var.lo}"] if value.lo < var.lo else []
            tests += [f"{value.code} > {var.hi}"] if value.hi > var.hi else []
            if tests:
                test = " or ".join(tests)
                self.effect(f"if {when}({test}): {bug}" if when else f"if {test}: {bug}")

    def check_index(self, verb: str, n: int, index: Any, cond: Any = True) -> Any:
        """Raise IndexError, as ``ConcreteBackend`` does, unless ``0 <= index < n``.

        Returns the index (an int when known), or ``None`` when the access can
        only happen under ``cond`` and would always fail.
        """
        raise_ = f"_idx({verb!r}, {n}, {code_of(index)})"
        if isinstance(index, Sym) and index.lo == index.hi:
            index = int(index.lo)
        if isinstance(index, Sym) and (index.hi < 0 or index.lo >= n):
            self.fail(raise_, cond)  # out of range whatever its value
            return None
        if not isinstance(index, Sym):
            if 0 <= index < n:
                return int(index)
            self.fail(raise_, cond)
            return None
        if index.lo < 0 or index.hi >= n:
            when = f"{cond.code} and " if isinstance(cond, Sym) else ""
            self.effect(f"if {when}not 0 <= {index.code} < {n}: {raise_}")
        return index

    # -- operators ------------------------------------------------------------------
    def arith(self, op: str, a: Any, b: Any) -> Any:
        """``a op b`` for ``+ - * % //`` (at least one operand is a Sym)."""
        if kind_of(a) == "int" and kind_of(b) == "int":
            if not isinstance(b, Sym):
                if (op in ("+", "-") and b == 0) or (op in ("*", "//") and b == 1):
                    return a
                if op == "%" and b > 0 and 0 <= bounds_of(a)[0] and bounds_of(a)[1] < b:
                    return a
            if not isinstance(a, Sym) and ((op == "+" and a == 0) or (op == "*" and a == 1)):
                return b
        lo, hi = _interval(op, bounds_of(a), bounds_of(b))
        blo, bhi = bounds_of(b)
        pure = op not in ("%", "//") or not blo <= 0 <= bhi
        return self.value(f"{code_of(a)} {op} {code_of(b)}", "int", lo, hi, pure)

    def negate(self, a: Sym) -> Any:
        return self.value(f"-{a.code}", "int", -a.hi, -a.lo)

    def compare(self, op: str, a: Any, b: Any) -> Any:
        """``a op b`` for the six comparisons, settled at compile time where intervals allow."""
        decided = _decide(op, bounds_of(a), bounds_of(b))
        if decided is not None:
            return decided
        if same(a, b):
            return op in ("==", "<=", ">=")
        return self.value(f"{code_of(a)} {op} {code_of(b)}", "bool", 0, 1)

    # -- the function ---------------------------------------------------------------
    def body(self, result: str | None, success: str = "return {}") -> list[str]:
        """The statements: effects in order, each pure temp just before its first use.

        ``success`` is the statement for the successor (``{}`` is its tuple).
        When it is not a ``return``, each ``if not c: return None`` guard
        becomes ``if c:`` around the rest, so the body can be inlined.
        """
        nest = not success.startswith("return")
        lines: list[str] = []
        depth = 0
        done: set[str] = set()

        def define(text: str) -> None:
            need: set[str] = set()
            todo = [t for t in _TEMP.findall(text) if t in self.pure]
            while todo:
                t = todo.pop()
                if t not in need and t not in done:
                    need.add(t)
                    todo.extend(u for u in _TEMP.findall(self.pure[t]) if u in self.pure)
            for t in sorted(need, key=lambda t: int(t[1:])):
                lines.append("    " * depth + f"{t} = {self.pure[t]}")
            done.update(need)

        for stmt in self.effects:
            define(stmt)
            if nest and stmt.startswith("if not ") and stmt.endswith(_DISABLED):
                lines.append("    " * depth + f"if {stmt[len('if not ') : -len(_DISABLED)]}:")
                depth += 1
            elif nest and stmt == "return None":
                lines.append("    " * depth + "pass")
            else:
                lines.append("    " * depth + stmt)
        if result is not None:
            define(result)
            lines.append("    " * depth + success.format(result))
        if not lines or lines[-1].endswith(":"):
            lines.append("    " * depth + ("pass" if nest else "return None"))
        return lines

    def render(self, name: str, result: str | None) -> str:
        """``def name(v): ...`` returning the successor, or ``None`` when disabled."""
        return "".join(f"{line}\n" for line in [f"def {name}(v):", *(
            "    " + line for line in self.body(result))])


_DISABLED = ": return None"
