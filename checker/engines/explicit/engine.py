"""The explicit-state engine as an :class:`~checker.engines.base.Engine`."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from checker.engines.base import EngineRequest, RunResult
from checker.engines.explicit.search import ExplicitChecker
from checker.engines.reduction import Reduction, decide
from checker.engines.symmetry import Symmetry
from checker.lang.model import Model, State

BACKENDS = ("auto", "compiled", "python")
"""``python``: the reference explorer; ``compiled``: packed states and numba
(:mod:`checker.engines.explicit.compiled`), BFS, invariants and liveness (fair SCCs on
the state graph as arrays); ``auto``: the python explorer on a space of at most
:data:`SMALL_SPACE` states, else compiled where it applies, else python (without a word
on stderr)."""

DEFAULT_BACKEND = "auto"
"""What ``vhostmc check --backend`` defaults to: measured in results/performance.md,
the compiled backend explores a ring-2 run many times faster, cache load included."""

SMALL_SPACE = 5_000
"""``auto`` first explores this many states with the python explorer and keeps its result
when the search ended within them: loading the compiled code costs about 0.9 s, which the
python explorer (25-100 k states/s) needs more than 20 k states to lose.  A larger space
loses this trial (about 0.2 s) and is explored again from the start, compiled."""

BACKEND_ENV = "VHOSTMC_BACKEND"
"""``auto`` means this variable's value when set (``python`` or ``compiled``); the test
suite sets it to ``python`` so that it does not compile every configuration it runs."""


def resolved_backend(asked: str) -> str:
    """``python`` or ``compiled`` for ``asked`` (``auto`` follows :data:`BACKEND_ENV`)."""
    if asked != "auto":
        return asked
    chosen = os.environ.get(BACKEND_ENV, "compiled")
    return chosen if chosen in ("python", "compiled") else "compiled"


def compiled_refusal(request: EngineRequest) -> str | None:
    """Why the compiled backend cannot take ``request`` (before generating any code)."""
    reach = [p.name for p in request.properties if p.is_reachability]
    if reach:
        return f"sometimes properties ({', '.join(reach)}) need example traces"
    if request.search != "bfs":
        return "it searches breadth-first only"
    if request.record_graph:
        return "it keeps no state graph (--dump-graph)"
    return None


def por_refusal(request: EngineRequest) -> str | None:
    """Why ``--por`` cannot apply to ``request`` (``None``: it can): it reduces the
    compiled explorer's search for invariants; liveness needs every interleaving's cycles.
    (The CLI refuses ``--por`` with ``--backend python``, ``--workers`` and ``--symmetry``.)"""
    live = [p.name for p in request.properties if p.is_liveness]
    if live:
        return f"it preserves invariants only, and liveness properties are selected " \
               f"({', '.join(live)})"
    if request.symmetry or request.workers > 1 or request.backend == "python":
        return "it runs on the compiled backend, one worker, without --symmetry"
    why = compiled_refusal(request)
    return None if why is None else f"the compiled backend refused: {why}"


def _python_explorer(request: EngineRequest, canon: Callable[[State], State] | None) -> RunResult:
    """The Python explorer's run on ``request``, storing ``canon`` of every state (``None``:
    the states as they are)."""
    search: Literal["bfs", "dfs"] = "dfs" if request.search == "dfs" else "bfs"
    return ExplicitChecker(request.model, list(request.properties), search=search,
                           limits=request.limits, progress=request.progress,
                           record_graph=request.record_graph, stop=request.stop,
                           canon=canon).run()


EXPLICIT_MAX_RING = 64
"""The largest ring the explicit engine explores (states grow exponentially with it)."""


class ExplicitEngine:
    """Breadth- or depth-first exploration of every reachable state."""

    name = "explicit"
    description = "explicit-state search (BFS gives shortest counterexamples); complete => holds"
    options = frozenset({"search", "max_states", "max_depth", "dump_graph", "memory_limit",
                         "backend", "reduction", "workers", "symmetry", "por"})
    progress_unit: Literal["states", "depth"] = "states"
    stoppable = True
    """It polls ``request.stop`` (an interrupt ends the search cleanly)."""
    decides = frozenset({"always", "leads-to", "eventually", "sometimes"})
    """The property kinds it can decide."""

    def refuse(self, model: Model) -> str | None:
        """Why this engine cannot check ``model`` at its parameters (``None``: it can).
        It enumerates every state, so a ring of more than 64 descriptors is refused."""
        ring = model.p.as_dict().get("ring_size")
        if isinstance(ring, int) and ring > EXPLICIT_MAX_RING:
            return (f"--ring-size {ring} is too large for explicit exploration (it enumerates "
                    f"every state; use 1 to {EXPLICIT_MAX_RING}), or use a symbolic engine: "
                    "--engine bmc, kind, pdr or inductive accept ring sizes up to the kernel's "
                    "32768")
        return None

    def run(self, request: EngineRequest) -> RunResult:
        """Explore ``request.model`` within ``request.limits``, with ``request.backend``,
        storing canonical states when ``request.reduction`` and the dead-value proof passed.

        Both backends apply the reduction: the compiled one runs the model's
        dead-value declarations compiled to numba
        (:mod:`~checker.engines.explicit.compiled.flatcanon`).  A compiled run the
        backend refuses (see :func:`compiled_refusal` and
        :class:`~checker.engines.explicit.compiled.flatcode.Refused`; also when the
        declarations have no compiled form) runs the Python explorer, with the same
        reduction; ``stats.backend`` says so and why.
        """
        note = ""
        limits = request.limits
        deadline = (None if limits.time_limit is None
                    else (limits.counted_from or time.monotonic()) + limits.time_limit)
        reduction = decide(request.model, request.properties, request.reduction,
                           stop=request.stop, deadline=deadline)
        backend = resolved_backend(request.backend)
        por_off: dict[str, Any] | None = None
        if request.por:
            why = por_refusal(request)
            if why is None:
                from checker.engines.explicit.compiled.run import run_compiled

                result, refused = run_compiled(request, reduce=reduction.canon is not None,
                                               por=True)
                if result is not None:
                    return self._with_reduction(result, reduction)
                why = f"the compiled backend refused: {refused}"
            por_off = {"on": False, "why": why,
                       "warning": f"partial-order reduction off: {why}; exploring without it"}
            request = replace(request, por=False)
        symmetry = None
        if request.symmetry and request.record_graph:
            graph_why = "--dump-graph writes the model's own state graph, not one of representatives"
            symmetry = Symmetry(None, {"on": False, "why": graph_why},
                                f"symmetry reduction off: {graph_why}; exploring without it")
        elif request.symmetry:
            from checker.engines.symmetry import decide as decide_symmetry

            symmetry = decide_symmetry(request.model, request.properties, True, reduction.canon,
                                       stop=request.stop, deadline=deadline)
            if symmetry.rep is not None:
                return self._symmetric(request, reduction, symmetry)
        if backend == "compiled":
            why = compiled_refusal(request)
            if why is None and request.backend == "auto":
                small = self._small_space(request, reduction)
                if small is not None:
                    return self._with_reduction(small, reduction, symmetry, por_off)
            if why is None:
                from checker.engines.explicit.compiled.run import run_compiled

                result, why = run_compiled(request, reduce=reduction.canon is not None)
                if result is not None:
                    return self._with_reduction(result, reduction, symmetry, por_off)
            note = f" (compiled backend refused: {why})"
            if request.backend == "compiled":
                print(f"vhostmc: using the python explorer: the compiled backend refused: {why}",
                      file=sys.stderr)
        result = _python_explorer(request, reduction.canon)
        result.stats.backend = "python" + note
        return self._with_reduction(result, reduction, symmetry, por_off)

    @staticmethod
    def _small_space(request: EngineRequest, reduction: Reduction) -> RunResult | None:
        """The python explorer's result on ``request`` when its search ended within
        :data:`SMALL_SPACE` states (or within the user's own smaller state limit);
        ``None`` when the space is larger."""
        limits = request.limits
        ours = limits.max_states is None or limits.max_states > SMALL_SPACE
        trial = replace(limits, max_states=SMALL_SPACE) if ours else limits
        result = _python_explorer(replace(request, limits=trial, progress=None),
                                  reduction.canon)
        if ours and f"{SMALL_SPACE} states" in result.bounds_hit and result.stopped is None:
            return None
        result.stats.backend = f"python (auto: a space of at most {SMALL_SPACE} states)"
        return result

    def _symmetric(self, request: EngineRequest, reduction: Reduction,
                   symmetry: Symmetry) -> RunResult:
        """The python explorer storing one representative per class of renamings; each
        trace re-fired as a path of the model (:func:`~checker.engines.symmetry.concrete_trace`)."""
        from checker.engines.symmetry import concrete_trace

        assert symmetry.rep is not None
        result: RunResult | None = None
        note = ""
        if resolved_backend(request.backend) == "compiled":
            why = compiled_refusal(request)
            if why is None:
                from checker.engines.explicit.compiled.run import run_compiled

                result, why = run_compiled(request, reduce=reduction.canon is not None,
                                           symmetry=symmetry.decl)
            if result is None:
                note = f" (compiled backend refused: {why})"
                if request.backend == "compiled":
                    print(f"vhostmc: using the python explorer: the compiled backend refused: "
                          f"{why}", file=sys.stderr)
        if result is None:
            result = _python_explorer(request, symmetry.rep)
            result.stats.backend = "python" + note
        by_name = {p.name: p for p in request.properties}
        for pr in result.properties:
            if pr.trace is not None:
                pr.trace = concrete_trace(request.model, pr.trace, symmetry.rep, reduction.canon,
                                          by_name[pr.name], example=pr.status == "holds")
        return self._with_reduction(result, reduction, symmetry)

    @staticmethod
    def _with_reduction(result: RunResult, reduction: Reduction,
                        symmetry: Symmetry | None = None,
                        por_off: dict[str, Any] | None = None) -> RunResult:
        """``result`` with ``result.reduction`` (and ``result.symmetry``, when asked for)
        saying whether and why it was reduced; ``por_off``: why ``--por`` did not apply."""
        if por_off is not None:
            result.por = por_off
        result.reduction = dict(reduction.info)
        if reduction.warning:
            result.reduction["warning"] = reduction.warning
        if symmetry is not None:
            result.symmetry = dict(symmetry.info)
            if symmetry.warning:
                result.symmetry["warning"] = symmetry.warning
        return result


ENGINE = ExplicitEngine()
