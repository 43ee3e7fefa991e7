"""What v9's properties ask of a state, as model methods a revision may override.

Properties in ``specs/`` read these instead of the v9 layout directly, so a
revision that lays a structure out differently (``ubuf_info`` indexed by
``upend_idx`` as later kernels do, say) overrides one query and every
property keeps working.  A property reaches them as ``s.model.NAME(s, ...)``.
"""

from __future__ import annotations

from typing import Any

from checker.lang.view import StateView
from models.v9.state import V9State


class V9Queries(V9State):
    """State queries the properties of specs/zerocopy.py use."""

    def skb_object(self, s: StateView, k: Any) -> Any:
        """The vhost_ubuf_ref whose reference skb ``k`` (held by the lower device) holds:
        ``ubuf_info[skb_head[k]].arg``."""
        return s.ubuf_arg[s.skb_head[k]]
