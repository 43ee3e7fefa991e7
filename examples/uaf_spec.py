"""A property of my own: no freed vhost_ubuf_ref is ever touched.

``memory-safe`` reports the first memory error of any kind; this one looks at
use-after-free of a ``vhost_ubuf_ref`` alone (``mem_err`` records the first
error, so a run whose first error is another one does not count here).
"""

from __future__ import annotations

from typing import Any

from checker.lang.spec import invariant
from checker.lang.view import StateView
from models.v9.constants import MEM_UAF_UBUFS


@invariant("no-ubufs-use-after-free", "no freed vhost_ubuf_ref is read or written")
def no_ubufs_uaf(s: StateView) -> Any:
    return s.mem_err != MEM_UAF_UBUFS
