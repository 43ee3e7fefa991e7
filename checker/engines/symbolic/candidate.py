"""A candidate invariant, as the miner proposes it and Houdini keeps or drops it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import z3

from checker.engines.symbolic.columns import Column

PAIR_DOMAIN = 16
"""Columns with more distinct values than this take part in no excluded-pair candidate."""


@dataclass(frozen=True)
class Candidate:
    """One candidate fact: readable ``text`` and its Z3 ``term`` over the template's
    current-state constants."""

    text: str
    term: z3.BoolRef


def unless(g: Column, failing: np.ndarray, text: str, term: z3.BoolRef) -> Candidate:
    """The fact ``text`` guarded by the values ``g`` has where it fails
    (``failing``): ``g in {9, 10} or <text>``."""
    where = sorted({int(v) for v in failing})
    return Candidate(f"{g.name} in {{{', '.join(map(str, where))}}} or {text}",
                     z3.Or(*(g.equals(v) for v in where), term))
