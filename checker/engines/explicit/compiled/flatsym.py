"""Numba source of the symmetry representative on packed words.

The flat-array counterpart of :func:`checker.semantics.symcanon.representative_source`:
each renaming of the ids (:func:`checker.lang.symmetry.permute`) runs once on
the flat state of :mod:`.flatcode`, as :mod:`.flatcanon` runs the dead-value
declarations, and becomes one straight-line ``perm_k(u, nw)`` rewriting the
packed words in place.  The hook the search calls on every successor is::

    def canon(u2, nw):
        dead_canon(u2, nw)              # the dead-value canon, when on
        c = nw.copy()
        x = np.empty_like(nw)
        x[:] = c
        perm_1(u2, x)
        dead_canon(u2, x)
        if _less(x, nw):
            nw[:] = x
        ...

so the stored state is the least (comparing packed words in order) of
``canon(pi(s))`` over every renaming ``pi``: one state per class, as the
Python explorer stores (a different member of the class, maybe, as the two
orders differ; traces are re-fired as model paths either way).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from checker.engines.explicit.compiled.flatcanon import _read_lines, flat_canon_source
from checker.engines.explicit.compiled.flatcode import (
    _OUT,
    FlatBackend,
    Refused,
    flat_output,
    flat_state,
)
from checker.engines.explicit.compiled.layout import Layout
from checker.lang.model import Model
from checker.lang.symmetry import SymmetricIds, permutations, permute
from checker.semantics.codebackend import CompileView
from checker.semantics.codegen import Emitter, Stop

LESS = '''def _less(a, b):
    for i in range(a.shape[0]):
        if a[i] != b[i]:
            return a[i] < b[i]
    return False
'''


def _flat_function(model: Model, layout: Layout, name: str,
                   transform: Callable[[Any], None]) -> str:
    """``def <name>(u, nw)``: ``transform`` run on the flat view, writing ``nw`` in place."""
    em = Emitter({})
    view = CompileView(model, flat_state(layout)(model, em), FlatBackend(em))
    try:
        transform(view)
        result = flat_output(layout, source="nw")(model, list(view._vals))
    except Refused as err:
        raise Refused(f"symmetry declaration: {err}") from None
    except Stop:
        raise Refused("symmetry declaration: it always fails") from None
    except Exception as err:  # noqa: BLE001 - no flat form: the caller explores otherwise
        raise Refused(f"symmetry declaration: {type(err).__name__}: {err}") from None
    if em.effects or em.consts:
        raise Refused("symmetry declaration compiles to code that can fail")
    body = em.body(result)
    last = body.pop()
    assert last.startswith("return " + _OUT), last
    writes = [stmt for stmt in last[len("return " + _OUT):].split("; ")
              if not re.fullmatch(r"nw\[(\d+)\] = nw\[\1\]", stmt)]
    lines = [*_read_lines(layout, body + writes), *body, *writes]
    if "_ok[" in "".join(lines):
        raise Refused("symmetry declaration: a value of mixed kind is written")
    return f"def {name}(u, nw):\n" + "".join(f"    {line}\n" for line in lines or ["pass"])


def flat_symmetry_source(model: Model, layout: Layout, decl: SymmetricIds,
                         with_canon: bool) -> str:
    """The source of ``def canon(u2, nw)`` and the functions it calls (undecorated):
    the representative of a state's class (module docstring).  Raises
    :class:`.flatcode.Refused` when a renaming or the dead-value canon has no flat form."""
    parts = [LESS]
    dead = flat_canon_source(model, layout) if with_canon else None
    if dead is not None:
        parts.append(dead.replace("def canon(", "def dead_canon(", 1))
    body = ["def canon(u2, nw):"]
    if dead is not None:
        body.append("    dead_canon(u2, nw)")
    body += ["    c = nw.copy()", "    x = np.empty_like(nw)"]
    for k, perm in enumerate(permutations(decl.count), start=1):
        parts.append(_flat_function(model, layout, f"perm_{k}",
                                    functools.partial(permute, model, decl, perm=perm)))
        body += ["    x[:] = c", f"    perm_{k}(u2, x)"]
        if dead is not None:
            body.append("    dead_canon(u2, x)")
        body += ["    if _less(x, nw):", "        nw[:] = x"]
    return "\n\n".join(parts) + "\n\n" + "\n".join(body) + "\n"
