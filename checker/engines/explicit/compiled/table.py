"""The visited table's numpy arrays, their growth and the memory limit.

``states`` (packed words, BFS order), ``parents`` (int32), ``actions``
(uint16) and ``index`` (int64 open-addressing table of hash and number, power of
two, at most 70% full, cut into ``2**pbits`` partitions, see :mod:`.kernel`; ``fill``
counts the taken cells of each) are grown in Python between calls of the
numba loop: the dense arrays by a quarter (near the memory limit, by as much as
fits, at least a sixteenth), the index by doubling (its cells moved over in numba
from the old index, which holds each state's hash, one thread per partition when
there are several; the copies of the dense arrays are made on every thread then
too).  A growth whose peak (old and new
arrays side by side while copying) would pass the memory limit is not made: the
search stops instead, so a run never runs the machine out of memory.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np

INITIAL_STATES = 1 << 10
LOAD_NUM, LOAD_DEN = 7, 10
GROWTH = 4
"""The dense arrays grow by ``1/GROWTH`` of their size: a quarter keeps a table at most
``30 * 1.25 + 8 / 0.35`` (61) bytes a state for three words even right after the index
doubled (by half: 68), at about one more copy of the states over a run."""
MIN_GROWTH = 16
"""Near the memory limit the state arrays grow by less than a quarter, but by at least
1/MIN_GROWTH of their size (smaller steps would copy the whole table over and over)."""


class Table:
    """The arrays of one search."""

    def __init__(self, words: int, module: ModuleType, pbits: int = 0) -> None:
        self.words = words
        self.module = module
        self.pbits = pbits
        """The index has ``2**pbits`` partitions (0 for the sequential loop)."""
        self.fill = np.zeros(1 << pbits, np.int64)
        self.states = np.zeros((0, words), np.int64)
        self.parents = np.zeros(0, np.int32)
        self.actions = np.zeros(0, np.uint16)
        self.index = np.full(0, -1, np.int64)

    @property
    def nbytes(self) -> int:
        """Bytes held by the four arrays."""
        return int(self.states.nbytes + self.parents.nbytes + self.actions.nbytes
                   + self.index.nbytes)

    def _state_bytes(self, capacity: int) -> int:
        return capacity * (8 * self.words + 4 + 2)

    def plan(self, n: int, room: int, double_index: bool = False) -> tuple[int, int]:
        """The capacities (states, index cells) that hold ``n + room`` states (and an
        index twice as large as now if ``double_index``)."""
        cap = self.states.shape[0]
        need = n + room
        if need > cap:
            cap = max(need, cap + cap // GROWTH, INITIAL_STATES)
        cells = max(self.index.shape[0] * (2 if double_index else 1), 2 * INITIAL_STATES)
        while need * LOAD_DEN > cells * LOAD_NUM:
            cells *= 2
        return cap, cells

    def grow(self, n: int, room: int, limit: int, double_index: bool = False) -> bool:
        """Make room for ``room`` more states after the first ``n`` (and double the index
        if ``double_index``: a partition of it is too full); ``False`` (and nothing
        changed) if the peak while copying would pass ``limit`` bytes."""
        cap, cells = self.plan(n, room, double_index)
        old_cap, old_cells = self.states.shape[0], self.index.shape[0]
        index_extra = cells * self.index.itemsize if cells != old_cells else 0
        if cap != old_cap and self.nbytes + index_extra + self._state_bytes(cap) > limit:
            # a quarter more does not fit: the largest growth that does, if it is worth a copy
            fits = (limit - self.nbytes - index_extra) // self._state_bytes(1)
            if fits < max(n + room, old_cap + old_cap // MIN_GROWTH):
                return False
            cap = fits
        if self.nbytes + index_extra + (self._state_bytes(cap) if cap != old_cap else 0) > limit:
            return False
        if cap != old_cap:
            self.states = self._copied(self.states, (cap, self.words), n)
            self.parents = self._copied(self.parents, (cap,), n)
            self.actions = self._copied(self.actions, (cap,), n)
        if cells != old_cells:
            old = self.index
            if self.pbits:
                self.index = np.empty(cells, np.int64)
                self.module.fill_par(self.index, -1)
            else:
                self.index = np.full(cells, -1, np.int64)
            self._reinsert(old)
        return True

    def _copied(self, old: np.ndarray, shape: tuple[int, ...], n: int) -> np.ndarray:
        """A new array of ``shape`` starting with ``old[:n]``; copied on every thread when
        the index is partitioned (the parallel loop), where a copy made by Python alone
        kept the other core idle for a fifth of a run."""
        new = np.empty(shape, old.dtype)
        if self.pbits:
            self.module.copy_par(new, old, n)
        else:
            new[:n] = old[:n]
        return new

    def reindex(self, n: int) -> None:
        """Fill the empty index with states ``0..n-1``, hashing each (and ``fill`` with
        the counts); a growing index is filled from the old one instead (:meth:`grow`)."""
        self._reinsert(self.module.cells_of(self.states, n))

    def _reinsert(self, cells: np.ndarray) -> None:
        """Put the taken ``cells`` into the empty index (one thread per partition when
        there are several) and count them in ``fill``."""
        if self.pbits:
            self.module.reinsert_par(cells, self.index, self.fill, self.pbits)
        else:
            self.module.reinsert(cells, self.index, self.fill, self.pbits)
