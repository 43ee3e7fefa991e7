"""Mutant m13: the pre-patch vhost_add_used_and_signal is kept for zero-copy buffers.

Patch (handle_tx, after sendmsg)::

    -	vhost_add_used_and_signal(&net->dev, vq, head, 0);
    +	if (!zcopy)
    +		vhost_add_used_and_signal(&net->dev, vq, head, 0);

Mutant (the ``-`` line kept, the ``if (!zcopy)`` not added)::

    vhost_add_used_and_signal(&net->dev, vq, head, 0);
"""

from __future__ import annotations

from checker.lang.view import StateView
from models.v9 import V9


class AddUsedAlways(V9):
    """v9 whose handle_tx returns every sent head at once, zero-copy or not."""

    name = "m13-add-used-always"
    description = "handle_tx: if (!zcopy) missing before vhost_add_used_and_signal"

    def _sent_ok(self, s: StateView) -> None:
        """(mutant) sendmsg returned: ``vhost_add_used_and_signal(&net->dev, vq, head, 0);``
        whether or not zcopy; ``total_len += len;``"""
        s.require(self.sendmsg_returns(s))
        self.add_used_and_signal(s, s.w_head, True)
        s.w_sent = s.w_sent + 1
