"""Numba source of the dead-value canonicalisation on packed words.

The flat-array counterpart of :func:`checker.semantics.canon.canon_source`:
the model's dead-value declarations (:func:`checker.semantics.deadvalues.reset_dead`)
run once on the flat state of :mod:`.flatcode` (slot ``k`` is ``u[k]``,
arrays are element lists, :class:`.flatcode.FlatBackend`), exactly as an
action instance is compiled there, and become one straight-line function::

    def canon(u, nw):
        u[30] = (nw[0] >> 12) & 3      # only the slots the declarations read
        ...
        t0 = 0 - u[31]
        ...
        nw[1] = (nw[1] & 8070450532247928831) | (t75 << 40) | ...

that rewrites the packed words ``nw`` of a state in place into those of its
canonical state (``u`` is scratch).  Every read happens before the first
write (the declarations read the state as it was on entry), and words no
dead value lives in are left alone.  The caller (:func:`.build.build`)
decorates it with ``@njit``; the search applies it to every successor and
to the initial state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from checker.engines.explicit.compiled.flatcode import (
    _OUT,
    FlatBackend,
    Refused,
    flat_output,
    flat_state,
)
from checker.engines.explicit.compiled.layout import Layout
from checker.lang.model import Model
from checker.semantics.codebackend import CompileView
from checker.semantics.codegen import Emitter, Stop
from checker.semantics.deadvalues import checked_declarations, reset_dead

_SLOT = re.compile(r"\bu\[(\d+)\]")


def _read_lines(layout: Layout, body: list[str]) -> list[str]:
    """``u[k] = <field k of nw>`` for each slot ``body`` reads (its computations and
    its final writes), in slot order."""
    read = sorted({int(k) for line in body for k in _SLOT.findall(line)})
    lines = []
    for k in read:
        f = layout.fields[k]
        if f.width == 0:
            lines.append(f"u[{k}] = {f.lo}")
            continue
        raw = f"(nw[{f.word}] >> {f.shift}) & {(1 << f.width) - 1}"
        lines.append(f"u[{k}] = ({raw}) + {f.lo}" if f.lo else f"u[{k}] = {raw}")
    return lines


def flat_function(model: Model, layout: Layout, name: str, transform: Callable[[Any], None],
                  what: str) -> str:
    """The source of ``def <name>(u, nw)`` (undecorated): ``transform`` run once on the
    flat view of a state packed by ``layout``, rewriting the packed words ``nw`` in place
    (only the slots it reads are unpacked; words it leaves alone are not written).

    Raises :class:`.flatcode.Refused`, naming ``what`` is compiled, when ``transform``
    has no flat form or compiles to code that could fail (a check, a raise): it must
    only compare, compute in int64 and index in range.
    """
    em = Emitter({})
    view = CompileView(model, flat_state(layout)(model, em), FlatBackend(em))
    try:
        transform(view)
        result = flat_output(layout, source="nw")(model, list(view._vals))
    except Refused as err:
        raise Refused(f"{what}: {err}") from None
    except Stop:
        raise Refused(f"{what}: the code always fails") from None
    except Exception as err:  # noqa: BLE001 - no flat form: the caller explores otherwise
        raise Refused(f"{what}: {type(err).__name__}: {err}") from None
    if em.effects or em.consts:
        first = em.effects[0] if em.effects else "a constant object"
        raise Refused(f"{what}: compiled to code that can fail ({first})")
    body = em.body(result)
    last = body.pop()
    assert last.startswith("return " + _OUT), last
    writes = [stmt for stmt in last[len("return " + _OUT):].split("; ")
              if not re.fullmatch(r"nw\[(\d+)\] = nw\[\1\]", stmt)]
    lines = [*_read_lines(layout, [*body, *writes]), *body, *writes]
    if "_ok[" in "".join(lines):
        raise Refused(f"{what}: a value of mixed kind is written")
    return f"def {name}(u, nw):\n" + "".join(f"    {line}\n" for line in lines or ["pass"])


def flat_canon_source(model: Model, layout: Layout) -> str | None:
    """The source of ``def canon(u, nw)`` (undecorated) for ``model`` packed by ``layout``;
    ``None`` when the model declares no dead values.

    Raises :class:`.flatcode.Refused` when the declarations have no flat form or
    compile to code that could fail (:func:`flat_function`), as
    :func:`checker.semantics.canon.canon_source` requires of them too.
    """
    if not checked_declarations(model):
        return None
    return flat_function(model, layout, "canon", lambda view: reset_dead(model, view),
                         "dead-value declarations")
