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

from checker.engines.explicit.compiled.flatcanon import flat_canon_source, flat_function
from checker.engines.explicit.compiled.layout import Layout
from checker.lang.model import Model
from checker.lang.symmetry import SymmetricIds, permutations, permute

LESS = '''def _less(a, b):
    for i in range(a.shape[0]):
        if a[i] != b[i]:
            return a[i] < b[i]
    return False
'''


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
        parts.append(flat_function(model, layout, f"perm_{k}",
                                   functools.partial(permute, model, decl, perm=perm),
                                   "symmetry declaration"))
        body += ["    x[:] = c", f"    perm_{k}(u2, x)"]
        if dead is not None:
            body.append("    dead_canon(u2, x)")
        body += ["    if _less(x, nw):", "        nw[:] = x"]
    return "\n\n".join(parts) + "\n\n" + "\n".join(body) + "\n"
