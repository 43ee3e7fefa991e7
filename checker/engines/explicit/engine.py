"""The explicit-state engine as an :class:`~checker.engines.base.Engine`."""

from __future__ import annotations

import sys
from typing import Literal

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit.search import ExplicitChecker

BACKENDS = ("python", "compiled")
"""``python``: the reference explorer; ``compiled``: packed states and numba
(:mod:`checker.engines.explicit.compiled`), BFS and invariants only."""

DEFAULT_BACKEND = "python"
"""What ``vhostmc check --backend`` defaults to (see results/performance.md)."""


def compiled_refusal(request: EngineRequest) -> str | None:
    """Why the compiled backend cannot take ``request`` (before generating any code)."""
    live = [p.name for p in request.properties if p.is_liveness]
    if live:
        return f"liveness properties ({', '.join(live)}) need the fair-SCC analysis"
    if request.search != "bfs":
        return "it searches breadth-first only"
    if request.record_graph:
        return "it keeps no state graph (--dump-graph)"
    return None


class ExplicitEngine:
    """Breadth- or depth-first exploration of every reachable state."""

    name = "explicit"
    description = "explicit-state search (BFS gives shortest counterexamples); complete => holds"
    options = frozenset({"search", "max_states", "max_depth", "dump_graph", "backend"})
    progress_unit: Literal["states", "depth"] = "states"

    def run(self, request: EngineRequest) -> RunResult:
        """Explore ``request.model`` within ``request.limits``, with ``request.backend``.

        A compiled run the backend refuses (see :func:`compiled_refusal` and
        :class:`~checker.engines.explicit.compiled.flatcode.Refused`) runs the
        Python explorer; ``stats.backend`` says so and why.
        """
        note = ""
        if request.backend == "compiled":
            why = compiled_refusal(request)
            if why is None:
                from checker.engines.explicit.compiled.run import run_compiled

                result, why = run_compiled(request)
                if result is not None:
                    return result
            note = f" (compiled backend refused: {why})"
            print(f"vhostmc: using the python explorer: the compiled backend refused: {why}",
                  file=sys.stderr)
        search: Literal["bfs", "dfs"] = "dfs" if request.search == "dfs" else "bfs"
        result = ExplicitChecker(request.model, list(request.properties), search=search,
                                 limits=request.limits, progress=request.progress,
                                 record_graph=request.record_graph).run()
        result.stats.backend = "python" + note
        return result


ENGINE = ExplicitEngine()
