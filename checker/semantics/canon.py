"""canon(s): every dead value of a state reset to its canonical value.

The model's dead-value declarations (:mod:`checker.lang.dead`) run once on
the code-emitting backend (:mod:`checker.semantics.codebackend`), as an
action body would, and become one straight-line Python function over the
state tuple::

    def canon(v):
        t0 = v[30] - v[29] + 8
        ...
        return (v[0], (0 if t7 else v[1][0], ...), ...)

It only reads ``v`` (each dead condition is computed from the input state),
compares small integers and builds the result tuple; unchanged arrays are
passed by identity.  :func:`canon_source` gives the source (another engine
may compile it for its own state layout); :func:`canonicalizer` the
function.  :func:`interpreted_canon` is the same on a concrete view, for
checking the generated code.
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from typing import Any

from checker.lang.model import Model, State
from checker.lang.view import StateView
from checker.semantics.codebackend import CodeBackend, CompileView, _output, symbolic_state
from checker.semantics.codegen import Emitter
from checker.semantics.deadvalues import checked_declarations, reset_dead

Canon = Callable[[State], State]

_CACHE_ATTR = "_vhostmc_canon"


def interpreted_canon(model: Model, state: State) -> State:
    """canon(``state``) by running the declarations on a concrete view."""
    view = StateView(model, state)
    reset_dead(model, view)
    return view.values()


def canon_source(model: Model) -> str:
    """The Python source of ``def canon(v)`` for ``model`` (``return v`` without
    declarations).  Raises :class:`checker.lang.model.ModelError` for a bad declaration."""
    if not checked_declarations(model):
        return "def canon(v):\n    return v\n"
    consts: dict[Any, str] = {}
    em = Emitter(consts)
    view = CompileView(model, symbolic_state(model, em), CodeBackend(em))
    reset_dead(model, view)
    source = em.render("canon", _output(model, list(view._vals)))
    if consts or "_bug(" in source or "_idx(" in source:
        raise ValueError(f"the dead-value declarations of {model.name} compile to code that "
                         "can fail; they must only compare and index in range")
    return source


def canonicalizer(model: Model) -> Canon:
    """canon for ``model``, generated on first use and cached on the model."""
    fn: Canon | None = model.__dict__.get(_CACHE_ATTR)
    if fn is None:
        source = canon_source(model)
        filename = f"<vhostmc canon {model.name} {id(model):x}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict[str, Any] = {}
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - code we generated
        fn = namespace["canon"]
        model.__dict__[_CACHE_ATTR] = fn
    return fn
