"""State views: how model code reads and writes a state on any backend.

``s.x`` reads variable ``x``; ``s.x = v`` writes it; ``s.a[i]`` and
``s.a[i] = v`` read and write array elements (``i`` may be symbolic).
Writes are sequential, as in C: a later read in the same action sees them.
``s.require(c)`` is the guard of the action; ``s.capacity(c, what)`` marks
a model bound (a bounded counter or pool) that, when it would be exceeded,
makes the search inconclusive instead of silently cutting behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from checker.lang.expr import CONCRETE, Backend, Value


class Model(Protocol):
    """What a view needs of a model (:class:`checker.lang.model.Model` has it): its name,
    parameters and variables (each with the ``size`` of an array, ``None`` for a scalar)."""

    @property
    def name(self) -> str: ...
    @property
    def p(self) -> Any: ...
    @property
    def vars(self) -> Sequence[Any]: ...
    @property
    def var_index(self) -> Mapping[str, int]: ...


class Disabled(Exception):
    """Raised by ``require`` on the concrete backend: the action is not enabled."""


class CapacityReached(Exception):
    """Raised by ``capacity`` on the concrete backend: a model bound was hit."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


class ModelBug(Exception):
    """The model wrote a value outside a variable's declared type."""


_DISABLED = Disabled()


class ArrayRef:
    """An array variable seen through a view: indexable, assignable, iterable."""

    __slots__ = ("_slot", "_view")

    def __init__(self, view: StateView, slot: int) -> None:
        self._view = view
        self._slot = slot

    def __getitem__(self, index: Value) -> Value:
        view = self._view
        return view._b.select(view._vals[self._slot], index)

    def __setitem__(self, index: Value, value: Value) -> None:
        view = self._view
        if not view._b.symbolic:
            view._check(self._slot, value)
        view._vals[self._slot] = view._b.store(view._vals[self._slot], index, value)

    def set_if(self, cond: Value, index: Value, value: Value) -> None:
        """``self[index] = value`` only when ``cond`` holds (symbolic-safe ``if``)."""
        view = self._view
        if not view._b.symbolic:
            if not cond:
                return
            view._check(self._slot, value)
        view._vals[self._slot] = view._b.store_if(view._vals[self._slot], cond, index, value)

    def __len__(self) -> int:
        return len(self._view._vals[self._slot])

    def __iter__(self) -> Any:
        return iter(self._view._vals[self._slot])


class StateView:
    """A mutable window on one state, for model actions, init and properties."""

    __slots__ = ("_b", "_enabled", "_m", "_vals", "caps", "guards", "p")

    def __init__(
        self,
        model: Model,
        values: Iterable[Value],
        backend: Backend = CONCRETE,
        enabled: Callable[[tuple[str, ...]], Value] | None = None,
    ) -> None:
        set_ = object.__setattr__
        set_(self, "_m", model)
        set_(self, "_vals", list(values))
        set_(self, "_b", backend)
        set_(self, "p", model.p)
        set_(self, "guards", [])
        set_(self, "caps", [])
        set_(self, "_enabled", enabled)

    # -- variables ----------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        try:
            slot = self._m.var_index[name]
        except KeyError:
            raise AttributeError(f"model {self._m.name} has no state variable '{name}'") from None
        if self._m.vars[slot].size is not None:
            return ArrayRef(self, slot)
        return self._vals[slot]

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            slot = self._m.var_index[name]
        except KeyError:
            raise AttributeError(f"model {self._m.name} has no state variable '{name}'") from None
        var = self._m.vars[slot]
        if var.size is not None:
            value = tuple(value)
            if len(value) != var.size:
                raise ModelBug(f"{name}: array of {var.size} elements assigned {len(value)}")
            if not self._b.symbolic:
                for v in value:
                    self._check(slot, v)
        elif not self._b.symbolic:
            self._check(slot, value)
        self._vals[slot] = value

    def _check(self, slot: int, value: Value) -> None:
        var = self._m.vars[slot]
        if not var.in_range(value):
            raise ModelBug(f"{var.name} := {value!r} is outside its type [{var.lo}, {var.hi}]")

    def reset(self, values: Iterable[Value]) -> None:
        """Point the view at another state (reuses the object on the explorer's hot path)."""
        object.__setattr__(self, "_vals", list(values))

    def values(self) -> tuple[Any, ...]:
        """The state as a tuple (arrays as tuples)."""
        return tuple(self._vals)

    # -- guards and bounds ------------------------------------------------
    def require(self, cond: Value) -> None:
        """The action is enabled only if ``cond`` holds (checked in program order)."""
        if self._b.symbolic:
            self.guards.append(cond)
        elif not cond:
            raise _DISABLED.with_traceback(None)

    def capacity(self, cond: Value, what: str) -> None:
        """A model bound: ``cond`` must hold or the model's capacity ``what`` is exceeded."""
        if self._b.symbolic:
            self.caps.append((what, cond))
            self.guards.append(cond)
        elif not cond:
            raise CapacityReached(what)

    def enabled(self, *actors: str) -> Value:
        """Whether some action of one of ``actors`` is enabled in this state."""
        if self._enabled is None:
            raise ModelBug("enabled() is only available to properties")
        return self._enabled(actors)

    @property
    def model(self) -> Model:
        """The model whose state this is: properties call its query methods
        (``s.model.skb_object(s, k)``) instead of depending on its layout."""
        return self._m

    # -- operators Python cannot overload ---------------------------------
    @property
    def symbolic(self) -> bool:
        return self._b.symbolic

    def ite(self, cond: Value, then: Value, other: Value) -> Value:
        return self._b.ite(cond, then, other)

    def all(self, *conds: Value) -> Value:
        return self._b.and_(*conds)

    def any(self, *conds: Value) -> Value:
        return self._b.or_(*conds)

    def neg(self, cond: Value) -> Value:
        return self._b.not_(cond)

    def implies(self, cond: Value, then: Value) -> Value:
        return self._b.or_(self._b.not_(cond), then)

    def every(self, count: int, body: Callable[[Value], Value]) -> Value:
        """``body(i)`` holds for every position ``0 <= i < count``: the conjunction over
        the positions, or the backend's own ``every`` if it has one (one ``ForAll`` whose
        bound index is symbolic: :class:`checker.engines.symbolic.encoding.
        QuantifyingBackend`).  So ``body`` must treat its index as a value
        (``s.heads_id[i]``, ``i < s.used_cnt``), never as a Python int (``range(i)``,
        ``if i:``), which is refused on a symbolic index."""
        own = getattr(self._b, "every", None)
        if own is not None:
            return own(count, body)
        return self._b.and_(*(body(i) for i in range(count)))

    def delete_at(self, name: str, k: Value, fill: Value = 0) -> None:
        """Remove element ``k`` of array variable ``name``: every later element moves
        down one position (their order kept) and the last position becomes ``fill``.
        Element-wise ``s.ite(j >= k, a[j + 1], a[j])``.  The concrete backend does the
        same with one tuple slice; a backend with its own ``delete_at`` that takes this
        array uses it (one ``Lambda`` term on the Z3 array layout:
        :meth:`checker.engines.symbolic.encoding.Z3Backend.delete_at`)."""
        old = getattr(self, name)
        if not isinstance(old, ArrayRef):
            raise ModelBug(f"delete_at: {name} is not an array variable")
        if not self._b.symbolic:  # the explorer's hot path: one slice, not an ite per element
            vals = self._vals[old._slot]
            if k < len(vals):
                self._check(old._slot, fill)
                k = max(k, 0)
                self._vals[old._slot] = vals[:k] + vals[k + 1 :] + (fill,)
            return
        own = getattr(self._b, "delete_at", None)
        moved = None if own is None else own(self._vals[old._slot], k, fill)
        if moved is not None:
            self._vals[old._slot] = moved
            return
        size = len(old)
        setattr(self, name, [self.ite(j >= k, old[j + 1] if j + 1 < size else fill, old[j])
                             for j in range(size)])

    def count(self, conds: Iterable[Value]) -> Value:
        """How many of ``conds`` hold (the backend's own ``count`` if it has one)."""
        own = getattr(self._b, "count", None)
        if own is not None:
            return own(conds)
        total: Value = 0
        for c in conds:
            total = total + self._b.ite(c, 1, 0)
        return total
