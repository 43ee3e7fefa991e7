"""The explicit-state engine as an :class:`~checker.engines.base.Engine`."""

from __future__ import annotations

from typing import Literal

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit.search import ExplicitChecker


class ExplicitEngine:
    """Breadth- or depth-first exploration of every reachable state."""

    name = "explicit"
    description = "explicit-state search (BFS gives shortest counterexamples); complete => holds"
    options = frozenset({"search", "max_states", "max_depth", "dump_graph", "memory_limit"})
    progress_unit: Literal["states", "depth"] = "states"
    stoppable = True
    """It polls ``request.stop`` (an interrupt ends the search cleanly)."""
    decides = frozenset({"always", "leads-to", "eventually", "sometimes"})
    """The property kinds it can decide."""

    def run(self, request: EngineRequest) -> RunResult:
        """Explore ``request.model`` within ``request.limits``."""
        search: Literal["bfs", "dfs"] = "dfs" if request.search == "dfs" else "bfs"
        return ExplicitChecker(request.model, list(request.properties), search=search,
                               limits=request.limits, progress=request.progress,
                               record_graph=request.record_graph, stop=request.stop).run()


ENGINE = ExplicitEngine()
