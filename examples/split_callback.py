"""vhost_zerocopy_callback as two atomic steps: mark the DMA done, then drop the reference.

In PATCHv9's model one step of the lower device frees an skb and runs the
whole callback (``vq->heads[ubuf->desc].len = VHOST_DMA_DONE_LEN;`` then the
``kref_put`` decrement).  On a real CPU another thread can run between the two
statements.  This revision splits the step at its ``kref_put`` call, reusing
v9's body: the first step is v9's ``dev_complete`` with the decrement held
back, the second makes it.  The walk-through is docs/extending.md.
"""

from __future__ import annotations

from typing import Any

from checker.lang.model import Param
from checker.lang.split import Context, part, split_step
from checker.lang.view import StateView
from models.v9 import V9


def put_rest(model: Any, s: StateView, ctx: Context) -> None:
    """The decrement, then what v9's body does with its result (a wake_up is owed)."""
    hit_zero = ctx.call()
    s.cb_wake.set_if(hit_zero, ctx.ubufs, s.cb_wake[ctx.ubufs] + 1)


def _every_skb(values: dict[str, Any]) -> int:
    """--device-capacity"""
    return int(values["device_capacity"])


class SplitCallback(V9):
    """v9 whose zero-copy callback is two atomic steps."""

    name = "split-callback"
    description = "v9 with vhost_zerocopy_callback split at its kref_put (docs/extending.md)"
    parameters = (*V9.parameters,
                  Param("callback_cpus", "CPUs that may be inside vhost_zerocopy_callback at "
                        "once (fewer than --device-capacity leaves interleavings out)",
                        _every_skb, minimum=1))

    dev_complete, dev_complete_put = split_step(
        V9.dev_complete, defer="kref_put",
        saved={"ubufs": lambda m: m.n_objects, "when": bool},
        parts=[part("dev_complete_put", "vhost_zerocopy_callback",
                    "kref_put(&ubufs->kref, vhost_zerocopy_done_signal);  (the decrement)",
                    put_rest, fairness="weak")],
        contexts=lambda p: p.callback_cpus)
