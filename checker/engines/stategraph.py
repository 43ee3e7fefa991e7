"""The explored state graph, kept compact for liveness analysis and graph dumps.

States are numbered in the order the explorer discovered them (0 is the
initial state).  The edges of each expanded state are one compact row:
``(instance index, successor number)`` pairs packed in an ``array``.  A
state that was discovered but not expanded (the search stopped first) has
no row (``None``); such a state has no known successors, so analyses must
not treat it as a dead end.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator

from checker.lang.model import State


class StateGraph:
    """Discovered states, their numbering, and the edges of the expanded ones."""

    def __init__(self) -> None:
        self.states: list[State] = []
        self.index: dict[State, int] = {}
        self.parent: array[int] = array("i")
        """BFS/DFS tree: the state each state was first reached from (-1 for the initial one)."""
        self.parent_inst: array[int] = array("i")
        self.depth: array[int] = array("i")
        self.rows: list[array[int] | None] = []
        self.expanded = 0
        """How many states have their edges recorded."""
        self.edge_count = 0

    def __len__(self) -> int:
        return len(self.states)

    def add_state(self, state: State, parent: int, inst: int) -> int:
        """Number a newly discovered state; ``parent`` is -1 for the initial state."""
        i = len(self.states)
        self.states.append(state)
        self.index[state] = i
        self.parent.append(parent)
        self.parent_inst.append(inst)
        self.depth.append(0 if parent < 0 else self.depth[parent] + 1)
        self.rows.append(None)
        return i

    def add_row(self, i: int, edges: list[tuple[int, int]]) -> None:
        """Record the edges ``(instance index, successor number)`` of state ``i``."""
        row = array("i")
        for inst, j in edges:
            row.append(inst)
            row.append(j)
        if self.rows[i] is None:
            self.expanded += 1
        self.rows[i] = row
        self.edge_count += len(edges)

    def is_expanded(self, i: int) -> bool:
        return self.rows[i] is not None

    def edges(self, i: int) -> Iterator[tuple[int, int]]:
        """``(instance index, successor number)`` of state ``i`` (none if not expanded)."""
        row = self.rows[i]
        if row is not None:
            for k in range(0, len(row), 2):
                yield row[k], row[k + 1]

    def path_to(self, i: int) -> list[tuple[int, int]]:
        """The tree path from the initial state to ``i``: ``(instance index, state number)``."""
        path: list[tuple[int, int]] = []
        while self.parent[i] >= 0:
            path.append((self.parent_inst[i], i))
            i = self.parent[i]
        path.reverse()
        return path
