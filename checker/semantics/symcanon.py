"""rep(s): one representative per class of states equal up to renaming ids.

With a symmetry declaration (:mod:`checker.lang.symmetry`) the explorer
stores, for each state ``s``, the least (as Python tuples compare) of
``canon(pi(s))`` over every permutation ``pi`` of the ids (``canon`` the
dead-value canon, or the identity without the dead-value reduction).  The
renamings run once on the code-emitting backend, as :mod:`.canon` does,
and become straight-line functions over the state tuple::

    def perm_1(v):
        ...
    def rep(v):
        best = c = canon(v)
        x = canon(perm_1(c))
        if x < best:
            best = x
        ...
        return best

Because the Z3 proof shows ``canon(g(s)) == canon(g(canon(s)))`` for the
generators, ``canon(pi(canon(s)))`` equals ``canon(pi(s))`` for every ``pi``,
so ``rep`` is the same for all states equivalent under renaming and dead
values (docs/model.md, "Descriptor symmetry").  ``n!`` renamings per state:
the reduction is meant for small rings (:data:`MAX_IDS`).
"""

from __future__ import annotations

import linecache
from collections.abc import Callable
from typing import Any

from checker.lang.model import Model, State
from checker.lang.symmetry import SymmetricIds, permutations, permute
from checker.semantics.canon import canon_source
from checker.semantics.codebackend import CodeBackend, CompileView, _output, symbolic_state
from checker.semantics.codegen import Emitter

MAX_IDS = 6
"""The most ids :func:`representative` enumerates the permutations of (720)."""

Rep = Callable[[State], State]


def permutation_source(model: Model, decl: SymmetricIds, perm: tuple[int, ...],
                       name: str) -> str:
    """The Python source of ``def <name>(v)``: the state with its ids renamed by ``perm``."""
    consts: dict[Any, str] = {}
    em = Emitter(consts)
    view = CompileView(model, symbolic_state(model, em), CodeBackend(em))
    permute(model, decl, view, perm)
    source = em.render(name, _output(model, list(view._vals)))
    if consts or "_bug(" in source or "_idx(" in source:
        raise ValueError(f"the symmetry declaration of {model.name} compiles to code that can "
                         "fail; its live conditions must only compare and index in range")
    return source


def representative_source(model: Model, decl: SymmetricIds, with_canon: bool) -> str:
    """The source of ``def rep(v)`` (and the functions it calls) for ``model``."""
    if decl.count > MAX_IDS:
        raise ValueError(f"{decl.count} {decl.what} ids have {decl.count}! renamings; the "
                         f"symmetry reduction enumerates them for at most {MAX_IDS}")
    parts = [canon_source(model) if with_canon else "def canon(v):\n    return v\n"]
    body = ["def rep(v):", "    best = c = canon(v)"]
    for k, perm in enumerate(permutations(decl.count), start=1):
        parts.append(permutation_source(model, decl, perm, f"perm_{k}"))
        body += [f"    x = canon(perm_{k}(c))", "    if x < best:", "        best = x"]
    body.append("    return best")
    return "\n\n".join(parts) + "\n\n" + "\n".join(body) + "\n"


def representative(model: Model, decl: SymmetricIds, with_canon: bool) -> Rep:
    """rep for ``model``, generated on first use and cached on the model."""
    attr = f"_vhostmc_rep_{int(with_canon)}"
    fn: Rep | None = model.__dict__.get(attr)
    if fn is None:
        source = representative_source(model, decl, with_canon)
        filename = f"<vhostmc rep {model.name} {id(model):x} {int(with_canon)}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict[str, Any] = {}
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - code we generated
        fn = namespace["rep"]
        model.__dict__[attr] = fn
    return fn
