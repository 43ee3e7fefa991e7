"""The compiled explorer's side of liveness: checkpoints, analyses, verdicts.

It mirrors :class:`checker.engines.explicit.liveness.LiveSearch`: the graph is
analysed when the BFS has expanded 4096 states, then each time that number
has doubled, and once more at the end, each time on the rows of the states
expanded so far.  The driver (:class:`.search.CompiledChecker`) stops the numba
loop exactly at each checkpoint (its budget), so each analysis sees the graph
the Python explorer's analysis sees, and finds the same lasso.  An analysis
stopped by ``cut`` (time limit, interrupt) leaves its properties undecided
(``cut_short``); a graph that would pass the memory limit leaves them
undecided too (``full``).  With ``workers > 1`` the parallel loop overshoots a
budget by up to one chunk, so a checkpoint may fall later than the Python one:
verdicts stay sound, a lasso found early may differ (not on the command line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType

from checker.engines.explicit.compiled.livegraph import GraphFull, LiveGraph
from checker.engines.explicit.compiled.table import Table
from checker.engines.explicit.liveness import (
    AnalysisCut,
    FairnessMasks,
    Lasso,
    Obligation,
    obligations,
)
from checker.lang.fairness import Fair
from checker.lang.model import Model
from checker.lang.spec import Property


class CompiledLiveness:
    """Liveness obligations of one compiled run and the lassos found so far."""

    FIRST_CHECKPOINT = 4096

    def __init__(self, model: Model, props: Sequence[Property], fairness: Sequence[Fair],
                 cut: Callable[[], bool]) -> None:
        self.model = model
        self.obligations: list[Obligation] = obligations(model, props)
        self.masks = FairnessMasks(model, fairness)
        self.cut = cut
        self.found: dict[str, Lasso] = {}
        self.pending: list[str] = list(dict.fromkeys(o.prop.name for o in self.obligations))
        self.next_check = self.FIRST_CHECKPOINT
        self.cut_short = False
        """An analysis was stopped by ``cut``: the pending properties are undecided."""
        self.full = False
        """The graph would have passed the memory limit: the pending ones are undecided."""
        self.graph: LiveGraph | None = None
        self.nsucc = 1

    @property
    def items(self) -> list[tuple[Property, dict[str, int]]]:
        """``(property, args)`` of each obligation, in order (what ``build`` compiles)."""
        return [(o.prop, dict(o.args)) for o in self.obligations]

    def attach(self, module: ModuleType, nsucc: int, room: Callable[[int], bool]) -> None:
        """Use ``module``'s ``graph_rows``; ``room(extra)`` says whether ``extra`` bytes fit."""
        self.graph = LiveGraph(module, self.obligations, self.masks, room, self.cut)
        self.nsucc = nsucc

    @property
    def nbytes(self) -> int:
        return 0 if self.graph is None else self.graph.nbytes

    def budget(self, head: int) -> int | None:
        """How many states the BFS may expand before the next checkpoint (``None``: any)."""
        return self.next_check - head if self.pending else None

    def due(self, head: int) -> bool:
        return bool(self.pending) and head >= self.next_check

    def checkpoint(self, table: Table, head: int, n: int) -> None:
        """Analyse the rows of the ``head`` expanded states; the next one at ``2 * head``."""
        self.next_check = 2 * head
        self.analyse(table, head, n)

    def finish(self, table: Table, head: int, n: int) -> None:
        """The final analysis (none when ``cut`` already says stop: ``cut_short``)."""
        if not self.pending or self.full:
            return
        if self.cut():
            self.cut_short = True
            return
        self.analyse(table, head, n)

    def analyse(self, table: Table, m: int, n: int) -> None:
        """Look for a lasso of each pending obligation on the rows of states ``< m``."""
        assert self.graph is not None
        try:
            self.graph.extend(table.states, table.index, table.pbits, m, self.nsucc)
            for o, obl in enumerate(self.obligations):
                if obl.prop.name in self.found:
                    continue
                lasso = self.graph.find(o, m, n, table.parents, table.actions)
                if lasso is not None:
                    self.found[obl.prop.name] = lasso
        except AnalysisCut:
            self.cut_short = True
        except GraphFull:
            self.full = True
        self.pending = [name for name in self.pending if name not in self.found]
        if self.full or self.cut_short:
            self.next_check = 1 << 62
