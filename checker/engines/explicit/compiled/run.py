"""Engine glue: run the compiled explorer, or say why it cannot run."""

from __future__ import annotations

from checker.engines.base import EngineRequest, RunResult


def run_compiled(request: EngineRequest) -> tuple[RunResult | None, str]:
    """The compiled explorer's result, or ``(None, reason)`` when it refuses the model,
    a property, or numba is missing or cannot compile the generated code."""
    try:
        from numba.core.errors import NumbaError
    except ImportError:
        return None, "numba is not installed (pip install numba)"
    from checker.engines.explicit.compiled.flatcode import Refused
    from checker.engines.explicit.compiled.search import CompiledChecker

    checker = CompiledChecker(request.model, list(request.properties), request.limits,
                              request.progress, stop=request.stop)
    try:
        return checker.run(), ""
    except Refused as err:
        return None, str(err)
    except NumbaError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"numba cannot compile the generated code: {first}"
