"""How a state is flattened into slots and packed into 63-bit words.

Every scalar variable and every array element is one *slot*; a slot of a
variable ``[lo, hi]`` stores ``value - lo`` in ``bit_length(hi - lo)`` bits
(a bool in one bit, a constant in none).  Fields never straddle words and
use bits 0..62 only, so words are non-negative ``int64`` (hashing and
comparison need no unsigned arithmetic).  Fields are packed first-fit,
widest first, into as few words as that gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from checker.lang.model import Model, State

WORD_BITS = 63


@dataclass(frozen=True)
class Field:
    """One slot: which variable (and element), its range and where its bits live."""

    var: int
    element: int | None
    lo: int
    width: int
    word: int
    shift: int
    is_bool: bool

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.shift


@dataclass(frozen=True)
class Layout:
    """The slots of a model's states (in variable order) and the words they pack into."""

    fields: tuple[Field, ...]
    words: int
    offsets: tuple[int, ...]
    """Slot of each variable's first element (scalars: its only slot)."""

    @property
    def slots(self) -> int:
        return len(self.fields)

    def slot(self, var: int, element: int | None = None) -> int:
        return self.offsets[var] + (element or 0)

    def pack(self, state: State) -> list[int]:
        """The words of a concrete (well-typed) state."""
        out = [0] * self.words
        for f, value in zip(self.fields, self.flatten(state)):
            out[f.word] |= (int(value) - f.lo) << f.shift
        return out

    @staticmethod
    def flatten(state: State) -> list[Any]:
        values: list[Any] = []
        for value in state:
            if isinstance(value, tuple):
                values.extend(value)
            else:
                values.append(value)
        return values

    def unpack(self, model: Model, words: Any) -> State:
        """The concrete state (bools as bools, arrays as tuples) packed in ``words``."""
        flat = []
        for f in self.fields:
            raw = (int(words[f.word]) >> f.shift) & ((1 << f.width) - 1)
            flat.append(bool(raw) if f.is_bool else raw + f.lo)
        out: list[Any] = []
        for i, var in enumerate(model.vars):
            start = self.offsets[i]
            if var.size is None:
                out.append(flat[start])
            else:
                out.append(tuple(flat[start:start + var.size]))
        return tuple(out)


def layout_of(model: Model) -> Layout:
    """The packing of ``model``'s states (see the module docstring)."""
    raw: list[tuple[int, int | None, int, int, bool]] = []
    offsets = []
    for i, var in enumerate(model.vars):
        offsets.append(len(raw))
        width = max(0, (var.hi - var.lo).bit_length())
        elements: list[int | None] = [None] if var.size is None else list(range(var.size))
        raw.extend((i, j, var.lo, width, var.is_bool) for j in elements)
    free: list[int] = []  # free bits left in each word
    place: dict[int, tuple[int, int]] = {}
    order = sorted(range(len(raw)), key=lambda k: -raw[k][3])
    for k in order:
        width = raw[k][3]
        if width == 0:
            place[k] = (0, 0)
            continue
        for w, room in enumerate(free):
            if room >= width:
                break
        else:
            free.append(WORD_BITS)
            w = len(free) - 1
        place[k] = (w, WORD_BITS - free[w])
        free[w] -= width
    fields = tuple(
        Field(var, element, lo, width, place[k][0], place[k][1], is_bool)
        for k, (var, element, lo, width, is_bool) in enumerate(raw)
    )
    return Layout(fields, max(1, len(free)), tuple(offsets))
