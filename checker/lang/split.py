"""Split one step of a base model into atomic sub-steps, reusing the base's body.

A later kernel version often does in several steps what the base model does
atomically (a refcount decrement, then a ``wake_up``, with a window between
them).  :func:`split_step` expresses that without copying the base body::

    dev_complete, dev_complete_put = split_step(
        V9.dev_complete, defer="kref_put",
        saved={"ubufs": lambda m: m.n_objects, "when": bool},
        parts=[part("dev_complete_put", "vhost_zerocopy_callback",
                    "kref_put(&ubufs->kref, vhost_zerocopy_done_signal) (the decrement)",
                    put_rest, fairness="weak")],
        contexts=lambda p: p.device_capacity)

* The first sub-step keeps the base step's name and runs the **base body
  unchanged**, except that its call of the helper ``defer`` (a model method,
  such as ``kref_put``) is not made: its arguments are saved in the step's
  context and the call returns ``placeholder`` (default ``False``).
* Each :func:`part` is a further atomic step (a new step of the revision,
  with its own quoted code and fairness).  Its body ``(model, s, ctx)`` makes
  the deferred call with ``ctx.call()``, reads and writes saved values as
  ``ctx.NAME`` / ``ctx.save(NAME, value)``, and may end the sequence early
  with ``ctx.finish_if(cond)``.
* A *context* is one execution of the sequence in progress (a CPU running
  the callback): ``contexts`` of them may be in progress at once; each holds
  a program counter (``<first>_pc[c]``) and the saved values
  (``<first>_<NAME>[c]``), all state variables.  The first sub-step takes the
  lowest free context; the parts are instances ``(c=0), (c=1), ...``.

Hooks: a model may define ``split_enter(s, step, c)`` (run at the start of the
first sub-step) and ``split_leave(s, step, c, when)`` (run when the sequence
ends): :mod:`checker.lang.rcu` read-side sections use them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from checker.lang.model import UNDECLARED, FairnessDecl, ModelError, Var, bool_array, int_array

if TYPE_CHECKING:
    from checker.lang.model import Model, Params
    from checker.lang.view import StateView

Saved = Mapping[str, Any]
"""``{name: bool}`` or ``{name: hi}`` (``hi`` an int or a function of the model): the
values a context keeps between sub-steps (ints in ``[0, hi]``)."""


@dataclass(frozen=True)
class Part:
    """A sub-step after the first: its step name, kernel function, quoted code and body."""

    name: str
    function: str
    code: str
    body: Callable[[Any, StateView, Context], None]
    fairness: FairnessDecl = UNDECLARED


def part(name: str, function: str, code: str, body: Callable[[Any, StateView, Context], None],
         fairness: FairnessDecl = UNDECLARED) -> Part:
    """A sub-step of :func:`split_step` (``fairness`` as for :func:`checker.lang.model.action`)."""
    return Part(name, function, code, body, fairness)


class Context:
    """One context's saved values and program counter, seen from a sub-step's body."""

    def __init__(self, model: Any, s: StateView, split: _Split, c: int) -> None:
        self._model, self._s, self._split, self.c = model, s, split, c
        self.finished: Any = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._split.saved:
            raise AttributeError(f"split step {self._split.first}: no saved value '{name}' "
                                 f"(saved: {', '.join(self._split.saved)})")
        return getattr(self._s, self._split.var(name))[self.c]

    def save(self, name: str, value: Any) -> None:
        """Keep ``value`` as ``name`` for the later sub-steps."""
        if name not in self._split.saved:
            raise ModelError(f"split step {self._split.first}: '{name}' is not in saved=")
        getattr(self._s, self._split.var(name))[self.c] = value

    def call(self) -> Any:
        """Make the deferred call with the saved arguments; its result."""
        if self._split.defer is None:
            raise ModelError(f"split step {self._split.first} defers no call")
        args = {n: getattr(self, n) for n in self._split.arg_names(self._model)}
        return getattr(self._model, self._split.defer)(self._s, **args)

    def finish_if(self, cond: Any) -> None:
        """End the sequence after this sub-step when ``cond`` holds."""
        self.finished = self._s.any(self.finished, cond)


class _Split:
    """The sub-steps of one split: builds their functions and state variables."""

    def __init__(self, base: Callable[..., None], defer: str | None, saved: Saved,
                 parts: Sequence[Part], contexts: Callable[[Params], int] | int,
                 placeholder: Any) -> None:
        mark = getattr(base, "__vhostmc_action__", None)
        if mark is None:
            raise ModelError(f"split_step: {getattr(base, '__qualname__', base)!r} is not a "
                             "step (pass the base's method, e.g. V9.dev_complete)")
        self.base, self.defer, self.saved, self.parts = base, defer, dict(saved), list(parts)
        self.actor, self.function, self.code, self.over = mark
        self.first = base.__name__
        self.contexts = contexts
        self.placeholder = placeholder
        if not parts:
            raise ModelError(f"split_step {self.first}: give at least one part")

    def arg_names(self, model: Any) -> list[str]:
        """The deferred helper's parameters after ``self`` and ``s``; each must be saved."""
        helper = getattr(type(model), self.defer)  # type: ignore[arg-type]
        names = list(inspect.signature(helper).parameters)[2:]
        missing = [n for n in names if n not in self.saved]
        if missing:
            raise ModelError(f"split step {self.first}: {self.defer}'s argument(s) "
                             f"{', '.join(missing)} must be in saved=")
        return names

    def n_contexts(self, p: Params) -> int:
        return int(self.contexts(p) if callable(self.contexts) else self.contexts)

    def var(self, name: str) -> str:
        return f"{self.first}_{name}"

    def variables(self, model: Model, p: Params) -> list[Var]:
        n = self.n_contexts(p)
        out = [int_array(self.var("pc"), n, 0, len(self.parts),
                         f"{self.first}: sub-step next to run per context (0: free)")]
        for name, kind in self.saved.items():
            if kind is bool:
                out.append(bool_array(self.var(name), n, f"{self.first}: saved {name}"))
            else:
                hi = kind(model) if callable(kind) else int(kind)
                out.append(int_array(self.var(name), n, 0, hi, f"{self.first}: saved {name}"))
        return out

    def _defer_stub(self, model: Any, s: StateView, c: int, calls: list[int]) -> Callable[..., Any]:
        helper = getattr(model, self.defer)  # type: ignore[arg-type]
        sig = inspect.signature(helper)

        def stub(s2: StateView, *args: Any, **kwargs: Any) -> Any:
            if calls:
                raise ModelError(f"split step {self.first}: the base body calls {self.defer} "
                                 "more than once; split at a helper it calls once")
            calls.append(1)
            bound = sig.bind(s2, *args, **kwargs)
            bound.apply_defaults()
            for n in self.arg_names(model):
                getattr(s, self.var(n))[c] = bound.arguments[n]
            return self.placeholder

        return stub

    def make_first(self) -> Callable[..., None]:
        split = self

        def first(model: Any, s: StateView, c: int, **args: int) -> None:
            pc = getattr(s, split.var("pc"))
            s.require(s.all(pc[c] == 0, *(pc[j] != 0 for j in range(c))))
            enter = getattr(model, "split_enter", None)
            if enter is not None:
                enter(s, split.first, c)
            calls: list[int] = []
            if split.defer is not None:
                setattr(model, split.defer, split._defer_stub(model, s, c, calls))
            try:
                split.base(model, s, **args)
            finally:
                if split.defer is not None:
                    delattr(model, split.defer)
            pc[c] = 1

        over = self.over

        def domains(p: Params) -> Mapping[str, Iterable[int]]:
            inner = dict(over(p)) if over is not None else {}
            return {**inner, "c": range(split.n_contexts(p))}

        first.__name__ = first.__qualname__ = self.first
        first.__doc__ = self.base.__doc__
        first.__vhostmc_action__ = (self.actor, self.function,  # type: ignore[attr-defined]
                                    self.code + "  /* first of several atomic steps */",
                                    domains)
        first.__vhostmc_adds__ = False  # type: ignore[attr-defined]
        first.__vhostmc_vars__ = self.variables  # type: ignore[attr-defined]
        first.__vhostmc_split_of__ = self.base  # type: ignore[attr-defined]
        return first

    def make_part(self, k: int) -> Callable[..., None]:
        split, piece = self, self.parts[k]
        last = k == len(self.parts) - 1

        def step(model: Any, s: StateView, c: int) -> None:
            pc = getattr(s, split.var("pc"))
            s.require(pc[c] == k + 1)
            ctx = Context(model, s, split, c)
            piece.body(model, s, ctx)
            done = True if last else ctx.finished
            pc[c] = s.ite(done, 0, k + 2)
            for name, kind in split.saved.items():
                arr = getattr(s, split.var(name))
                arr.set_if(done, c, False if kind is bool else 0)
            leave = getattr(model, "split_leave", None)
            if leave is not None:
                leave(s, split.first, c, done)

        step.__name__ = step.__qualname__ = piece.name
        step.__doc__ = f"Sub-step {k + 2} of {self.first}: {piece.code}"
        step.__vhostmc_action__ = (self.actor, piece.function,  # type: ignore[attr-defined]
                                   piece.code,
                                   lambda p: {"c": range(split.n_contexts(p))})
        step.__vhostmc_adds__ = True  # type: ignore[attr-defined]
        if piece.fairness is not UNDECLARED:
            step.__vhostmc_fairness__ = piece.fairness  # type: ignore[attr-defined]
        step.__vhostmc_body__ = piece.body  # type: ignore[attr-defined]
        return step


def split_step(
    base: Callable[..., None], *, parts: Sequence[Part], defer: str | None = None,
    saved: Saved | None = None, contexts: Callable[[Params], int] | int = 1,
    placeholder: Any = False,
) -> tuple[Callable[..., None], ...]:
    """The step ``base`` as ``1 + len(parts)`` atomic steps (see the module docstring).

    Returns the functions to bind in the revision's class body, first the one
    that replaces ``base`` (same name), then one per part::

        dev_complete, dev_complete_put = split_step(V9.dev_complete, ...)
    """
    split = _Split(base, defer, saved or {}, parts, contexts, placeholder)
    return (split.make_first(), *(split.make_part(k) for k in range(len(parts))))
