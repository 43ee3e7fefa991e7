"""The explicit-state engine as an :class:`~checker.engines.base.Engine`."""

from __future__ import annotations

from typing import Literal

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.reduction import decide


class ExplicitEngine:
    """Breadth- or depth-first exploration of every reachable state."""

    name = "explicit"
    description = "explicit-state search (BFS gives shortest counterexamples); complete => holds"
    options = frozenset({"search", "max_states", "max_depth", "dump_graph", "reduction"})
    progress_unit: Literal["states", "depth"] = "states"

    def run(self, request: EngineRequest) -> RunResult:
        """Explore ``request.model`` within ``request.limits``, storing canonical states
        when ``request.reduction`` and the dead-value proof passed."""
        search: Literal["bfs", "dfs"] = "dfs" if request.search == "dfs" else "bfs"
        reduction = decide(request.model, request.properties, request.reduction)
        result = ExplicitChecker(request.model, list(request.properties), search=search,
                                 limits=request.limits, progress=request.progress,
                                 record_graph=request.record_graph,
                                 canon=reduction.canon).run()
        result.reduction = dict(reduction.info)
        if reduction.warning:
            result.reduction["warning"] = reduction.warning
        return result


ENGINE = ExplicitEngine()
