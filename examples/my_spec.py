"""A property of my own: no vhost_ubuf_ref refcount ever goes below zero.

The model also records an underflow in ``mem_err`` (memory-safe), but that
property reports the first memory error of any kind; this one looks at the
refcounts themselves.  The walk-through is docs/extending.md.
"""

from __future__ import annotations

from typing import Any

from checker.lang.spec import invariant
from checker.lang.view import StateView


def _explain(s: StateView) -> str:
    below = [f"#{o} has refcount {s.rc[o]}" for o in range(len(s.rc)) if s.rc[o] < 0]
    return "refcount-never-negative: vhost_ubuf_ref " + ", ".join(below)


@invariant("refcount-never-negative", "no vhost_ubuf_ref refcount (rc[o]) is ever below zero",
           _explain)
def refcount_never_negative(s: StateView) -> Any:
    return s.all(*(s.rc[o] >= 0 for o in range(len(s.rc))))
