"""Numba source for liveness obligations and for the state graph's rows.

Each liveness obligation (a property and its ``over`` arguments,
:class:`checker.engines.explicit.liveness.Obligation`) is traced once on the
flat slots, exactly as :mod:`.flatcode` traces invariants (the same
:func:`checker.semantics.compiledprops.trace_predicate`, pair mode):
``obl_<o>(u, e)`` returns ``premise | goal << 1`` or -1 where the interpreted
predicate would raise.  ``live_flags(u, e, fl)`` writes every obligation's two
bits into the int64 row ``fl`` (obligation ``o`` at bits ``2*(o % 32)`` of word
``o // 32``).

:data:`GRAPH_SOURCE` (appended to the search module, after the kernel) is
``graph_rows``: it re-expands stored states ``lo..hi-1`` with the same
``expand`` and ``canon`` as the BFS, looks every successor up in the visited
table, and writes the rows of the state graph as CSR arrays plus each
state's obligation bits (see :mod:`.livegraph`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from checker.engines.explicit.compiled.flatcode import (
    FlatPredicateBackend,
    Refused,
    _enabled_bits,
    _numba_lines,
    flat_state,
)
from checker.engines.explicit.compiled.layout import Layout
from checker.lang.model import Model
from checker.lang.spec import Property
from checker.semantics.compiledprops import trace_predicate

MAX_OBLIGATIONS = 32 * 64
"""Obligation bits per state are at most 64 words (2 bits each)."""


def obligation_words(count: int) -> int:
    """int64 words per state holding ``count`` obligations' premise and goal bits."""
    return max(1, (count + 31) // 32)


def _obligation_lines(em: Any, result: str, name: str, title: str) -> list[str]:
    body = em.body(result)
    last = body[-1]
    if not last.lstrip().startswith("return ("):
        raise Refused(f"obligation {title}: no (premise, goal) pair ({last.strip()})")
    body[-1] = last.replace("return ", "_pg = ", 1)
    lines = _numba_lines(body, {}, title)
    return [f"def {name}(u, e):", *("    " + line for line in lines),
            "    return (1 if _pg[0] else 0) | (2 if _pg[1] else 0)"]


def live_source(model: Model, layout: Layout,
                items: Sequence[tuple[Property, dict[str, int]]]) -> str:
    """``obl_<o>`` for each ``(property, args)`` of ``items`` and ``live_flags``;
    :class:`Refused` naming the obligation when one has no flat form."""
    if len(items) > MAX_OBLIGATIONS:
        raise Refused(f"{len(items)} liveness obligations (at most {MAX_OBLIGATIONS})")
    bits = {actor: 1 << i for i, actor in enumerate(model.actors)}
    lines: list[str] = []
    for o, (prop, args) in enumerate(items):
        title = prop.name + (f"({', '.join(f'{k}={v}' for k, v in args.items())})"
                             if args else "")
        try:
            em, result = trace_predicate(model, prop, args, True, {},
                                         state=flat_state(layout),
                                         backend=FlatPredicateBackend,
                                         enabled=_enabled_bits(bits))
        except Refused:
            raise
        except Exception as err:  # noqa: BLE001 - the interpreter would be needed: refuse
            raise Refused(f"liveness property {title}: {type(err).__name__}: {err}") from None
        lines += [*_obligation_lines(em, result, f"obl_{o}", title), ""]
    lines.append("def live_flags(u, e, fl):")
    lines.append("    for k in range(fl.shape[0]):")
    lines.append("        fl[k] = 0")
    for o in range(len(items)):
        lines += [f"    r = obl_{o}(u, e)",
                  f"    if r < 0: return {-1 - o}",
                  f"    fl[{o // 32}] |= r << {2 * (o % 32)}"]
    lines.append("    return 0")
    return "".join(line + "\n" for line in lines)


GRAPH_SOURCE = '''

@njit(cache=True)
def graph_rows(states, index, pbits, lo, hi, offsets, succ_ids, succ_acts, oflags, expanded, err):
    """Rows of states ``lo..hi-1``: returns the first state not done (``hi`` when all
    are; less when ``succ_ids`` is full), or -1 (step error) / -2 (obligation error)
    with ``err[0]`` the state and ``err[1]`` the instance or obligation.  A state
    with a successor missing from the table (a depth or state limit) gets an
    empty row and ``expanded = 0``."""
    u = np.empty(NS, np.int64)
    u2 = np.empty(NS, np.int64)
    succ = np.empty((NSUCC, NW), np.int64)
    sact = np.empty(NSUCC, np.int64)
    info = np.zeros(4, np.int64)
    cap = succ_ids.shape[0]
    e = offsets[lo]
    for i in range(lo, hi):
        if e + NSUCC > cap:
            return i
        w = states[i]
        unpack(w, u)
        k = expand(u, w, succ, sact, info)
        if k < 0:
            err[0] = i
            err[1] = info[0]
            return -1
        r = live_flags(u, info[1], oflags[i])
        if r < 0:
            err[0] = i
            err[1] = -1 - r
            return -2
        e0 = e
        complete = True
        for j in range(k):
            x = succ[j]
            if CANON:
                canon(u2, x)
            t = index[find_slot(states, index, x, pbits)]
            if t < 0:
                complete = False
                break
            succ_ids[e] = number_in(t)
            succ_acts[e] = sact[j]
            e += 1
        if complete:
            expanded[i] = 1
        else:
            e = e0
            expanded[i] = 0
        offsets[i + 1] = e
    return hi
'''
