"""Refuse model and property code the Z3 engines cannot represent faithfully.

The symbolic engines run the model's actions and the properties' predicates,
unchanged, on Z3 terms (:mod:`checker.engines.symbolic.encoding`).  Python's
operators build terms, but a few constructs silently turn a term into a
Python value: ``if``/``while``/``and``/``or``/``not``/``x if c else y``,
``in``, ``min``/``max``/``sorted``, ``all``/``any`` (the builtins) all ask
for a term's *truth value*; ``range(x)``, ``seq[x]``, ``int(x)`` its *int
value*; ``d[x]``, ``{x}`` its *hash*.  Z3 answers some of these structurally
(``bool(x == 2)`` is ``False`` unless both sides are the same term), so the
formula built would be wrong with no error.

:func:`user_code` runs a piece of user code with those conversions refused:
each raises :class:`SymbolicMisuse` (a :class:`checker.lang.model.ModelError`,
so the CLI prints one line and exits 2) naming ``file:line`` of the user's
code and what to write instead.  Z3's own library code and vhostmc's keep
the ordinary behaviour.  A ``TypeError`` or Z3 exception raised in the
user's code on a term (``x // 2``, ``abs(x)`` on a bit-vector) is refused
the same way.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any

import z3

import checker
from checker.engines.symbolic.limits import memory_reached
from checker.lang.model import ModelError

_Z3_DIR = os.path.dirname(os.path.abspath(z3.__file__))
_CHECKER_DIR = os.path.dirname(os.path.abspath(checker.__file__))

ALTERNATIVES = (
    "write s.ite(c, a, b) for a value, s.all(...)/s.any(...)/s.neg(c)/s.implies(c, d) for "
    "conditions, s.require(c) for a guard, s.a.set_if(c, i, v) for a conditional write"
)


class SymbolicMisuse(ModelError):
    """User code used a symbolic value in a way Z3 terms cannot stand for."""


@functools.lru_cache(maxsize=1024)
def _is_library(filename: str) -> bool:
    """Whether ``filename`` belongs to Z3 or to vhostmc itself (not user code)."""
    return os.path.abspath(filename).startswith((_Z3_DIR + os.sep, _CHECKER_DIR + os.sep))


def _user_frame(frame: FrameType | None) -> FrameType | None:
    """The innermost frame from ``frame`` outwards that is not library code."""
    while frame is not None and _is_library(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def _where(frame: FrameType, lineno: int | None = None) -> str:
    """``file:line`` of ``frame`` (at ``lineno`` when given)."""
    return f"{frame.f_code.co_filename}:{lineno or frame.f_lineno}"


def _line(frame: FrameType, lineno: int | None = None) -> str:
    """The source line of ``frame`` (stripped), or ``""``."""
    return linecache.getline(frame.f_code.co_filename, lineno or frame.f_lineno).strip()


_HOW = {
    "truth": ("uses a symbolic value as a Python truth value (if/while/and/or/not/"
              "'x if c else y'/in/min/max/all/any)"),
    "int": "uses a symbolic value as a Python int (range(x), seq[x], int(x))",
    "hash": "uses a symbolic value as a dict key or set member (d[x], {x})",
    "division": "divides a symbolic value (/ or //), which the Z3 engines do not model",
}


def _refuse(kind: str, frame: FrameType) -> SymbolicMisuse:
    line = _line(frame)
    shown = f" `{line}`" if line else ""
    return SymbolicMisuse(
        f"{_where(frame)}:{shown} {_HOW[kind]}: the Z3 engines cannot represent it; "
        f"{ALTERNATIVES} (--engine explicit accepts it as is)"
    )


def _patched(kind: str, original: Callable[..., Any]) -> Callable[..., Any]:
    """A dunder that refuses ``kind`` when called from user code, else ``original``."""

    def method(self: Any, *args: Any) -> Any:
        caller = sys._getframe(1)
        if _is_library(caller.f_code.co_filename):
            return original(self, *args)
        raise _refuse(kind, caller)

    return method


def _no_method(kind: str) -> Callable[..., Any]:
    """A dunder Z3 lacks, refusing ``kind`` from user code (``TypeError`` elsewhere)."""

    def method(self: Any, *args: Any) -> Any:
        caller = sys._getframe(1)
        if _is_library(caller.f_code.co_filename):
            raise TypeError(f"{type(self).__name__} has no concrete {kind} value")
        raise _refuse(kind, caller)

    return method


def _patches() -> list[tuple[type, str, Callable[..., Any]]]:
    """``(class, dunder, replacement)`` for every conversion refused."""
    out: list[tuple[type, str, Callable[..., Any]]] = [
        (z3.AstRef, "__bool__", _patched("truth", z3.AstRef.__bool__)),
        (z3.ExprRef, "__hash__", _patched("hash", z3.ExprRef.__hash__)),
    ]
    for cls in (z3.ArithRef, z3.BitVecRef, z3.BoolRef):
        out.append((cls, "__index__", _no_method("int")))
        out.append((cls, "__int__", _no_method("int")))
    for cls in (z3.ArithRef, z3.BitVecRef):
        for name in ("__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__"):
            original = cls.__dict__.get(name)
            out.append((cls, name, _patched("division", original) if original
                        else _no_method("division")))
    return out


_depth = 0
_saved: list[tuple[type, str, Any]] = []


@contextmanager
def user_code() -> Iterator[None]:
    """Run user code (a model action, a property predicate) on Z3 terms with every
    conversion that would lose the term refused (:class:`SymbolicMisuse`)."""
    global _depth
    if _depth == 0:
        for cls, name, replacement in _patches():
            _saved.append((cls, name, cls.__dict__.get(name, _MISSING)))
            setattr(cls, name, replacement)
    _depth += 1
    try:
        yield
    except (TypeError, z3.Z3Exception) as err:
        misuse = _from_exception(err, err.__traceback__)
        if misuse is None:
            raise
        raise misuse from None
    finally:
        _depth -= 1
        if _depth == 0:
            for cls, name, original in reversed(_saved):
                if original is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, original)
            _saved.clear()


_MISSING = object()


def _from_exception(err: BaseException, tb: TracebackType | None) -> SymbolicMisuse | None:
    """A :class:`SymbolicMisuse` for an error raised by user code on a Z3 term, else ``None``."""
    user = [(f, n) for f, n in traceback.walk_tb(tb) if not _is_library(f.f_code.co_filename)]
    if not user:
        return None
    text = str(err)
    if memory_reached() is not None:
        return None  # Z3 was interrupted at the memory limit: not a misuse
    if isinstance(err, TypeError) and not any(
        name in text for name in ("Ref", "z3", "Z3", "BitVec", "Arith", "Bool")
    ):
        return None
    frame, lineno = user[-1]
    line = _line(frame, lineno)
    shown = f" `{line}`" if line else ""
    return SymbolicMisuse(
        f"{_where(frame, lineno)}:{shown} an operation on a symbolic value the Z3 engines cannot "
        f"represent ({type(err).__name__}: {text.splitlines()[0] if text else ''}); "
        f"{ALTERNATIVES} (--engine explicit accepts it as is)"
    )
