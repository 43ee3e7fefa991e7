"""The explicit-state engine as an :class:`~checker.engines.base.Engine`."""

from __future__ import annotations

from typing import Literal

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit.search import ExplicitChecker
from checker.lang.model import Model

EXPLICIT_MAX_RING = 64
"""The largest ring the explicit engine explores (states grow exponentially with it)."""


class ExplicitEngine:
    """Breadth- or depth-first exploration of every reachable state."""

    name = "explicit"
    description = "explicit-state search (BFS gives shortest counterexamples); complete => holds"
    options = frozenset({"search", "max_states", "max_depth", "dump_graph"})
    progress_unit: Literal["states", "depth"] = "states"

    def refuse(self, model: Model) -> str | None:
        """Why this engine cannot check ``model`` at its parameters (``None``: it can).
        It enumerates every state, so a ring of more than 64 descriptors is refused."""
        ring = model.p.as_dict().get("ring_size")
        if isinstance(ring, int) and ring > EXPLICIT_MAX_RING:
            return (f"--ring-size {ring} is too large for explicit exploration (it enumerates "
                    f"every state; use 1 to {EXPLICIT_MAX_RING}), or use a symbolic engine: "
                    "--engine bmc, kind or pdr accept ring sizes up to the kernel's 32768")
        return None

    def run(self, request: EngineRequest) -> RunResult:
        """Explore ``request.model`` within ``request.limits``."""
        search: Literal["bfs", "dfs"] = "dfs" if request.search == "dfs" else "bfs"
        return ExplicitChecker(request.model, list(request.properties), search=search,
                               limits=request.limits, progress=request.progress,
                               record_graph=request.record_graph).run()


ENGINE = ExplicitEngine()
