"""A hypothetical revision of PATCHv9: ``vhost_ubuf_alloc`` does ``kref_init`` only.

PATCHv9's ``vhost_ubuf_alloc`` does ``kref_init(&ubufs->kref);
kref_get(&ubufs->kref);``, so a new ``vhost_ubuf_ref`` starts with refcount
2.  This revision drops the ``kref_get``: the refcount starts at 1.  Every
other statement is v9's.  The walk-through is docs/extending.md.
"""

from __future__ import annotations

from models.v9 import V9


class KrefInitOnly(V9):
    """v9 whose vhost_ubuf_alloc does kref_init only (refcount 1)."""

    name = "my-rev"
    description = "v9 with kref_init only in vhost_ubuf_alloc (docs/extending.md)"

    def initial_refcount(self) -> int:
        """vhost_ubuf_alloc: ``kref_init(&ubufs->kref);`` only (refcount 1)."""
        return 1
