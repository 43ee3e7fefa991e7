"""Engine glue: run the compiled explorer, or say why it cannot run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from checker.engines.base import EngineRequest, RunResult

if TYPE_CHECKING:
    from checker.lang.symmetry import SymmetricIds


def run_compiled(request: EngineRequest, reduce: bool = False,
                 symmetry: SymmetricIds | None = None,
                 por: bool = False) -> tuple[RunResult | None, str]:
    """The compiled explorer's result, or ``(None, reason)`` when it refuses the model,
    a property, or numba is missing or cannot compile the generated code.

    ``reduce``: store canonical states (the dead-value reduction, whose proof the
    caller has checked): the model's declarations are compiled to numba
    (:func:`.flatcanon.flat_canon_source`); when they have no flat form, the run
    is refused with the reason.  ``symmetry``: store one state per class of renamings
    (its proof checked by the caller), :func:`.flatsym.flat_symmetry_source`.
    ``por``: partial-order reduction (:mod:`.flatpor`; the caller has checked that the
    run has invariants only, one worker and no symmetry).
    """
    try:
        from numba.core.errors import NumbaError
    except ImportError:
        return None, "numba is not installed (pip install numba)"
    from checker.engines.explicit.compiled.flatcanon import flat_canon_source
    from checker.engines.explicit.compiled.flatcode import Refused
    from checker.engines.explicit.compiled.layout import layout_of
    from checker.engines.explicit.compiled.search import CompiledChecker

    try:
        canon = flat_canon_source(request.model, layout_of(request.model)) if reduce else None
    except Refused as err:
        return None, f"the dead-value reduction has no compiled form: {err}"
    if symmetry is not None:
        from checker.engines.explicit.compiled.flatsym import flat_symmetry_source

        try:
            canon = flat_symmetry_source(request.model, layout_of(request.model), symmetry,
                                         reduce)
        except Refused as err:
            return None, f"the symmetry reduction has no compiled form: {err}"
    checker = CompiledChecker(request.model, list(request.properties), request.limits,
                              request.progress, stop=request.stop, canon=canon,
                              workers=request.workers, por=por)
    try:
        return checker.run(), ""
    except Refused as err:
        return None, str(err)
    except NumbaError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, f"numba cannot compile the generated code: {first}"
