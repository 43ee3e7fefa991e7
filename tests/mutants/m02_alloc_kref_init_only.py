"""Mutant m02: vhost_ubuf_alloc drops its kref_get (as examples/my_rev.py and Linux 3.1).

Patch (vhost_ubuf_alloc)::

    kref_init(&ubufs->kref);
    kref_get(&ubufs->kref);

Mutant::

    kref_init(&ubufs->kref);
"""

from __future__ import annotations

from models.v9 import V9


class AllocKrefInitOnly(V9):
    """v9 whose vhost_ubuf_alloc starts the refcount at 1."""

    name = "m02-alloc-kref-init-only"
    description = "vhost_ubuf_alloc: kref_get after kref_init dropped"

    def initial_refcount(self) -> int:
        """(mutant) ``kref_init(&ubufs->kref);`` only (refcount 1)."""
        return 1
