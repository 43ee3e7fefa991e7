"""How the v9 model is shown and the environments it is checked in.

The sequence chart's arrows (which change of which variable is a message
from one actor to another), the variables its rows list, the lane titles,
the variables an explored-graph node shows, and the named environments
(presets of the switches for ``vhostmc matrix --envs`` and
``diff-revisions --env``).  ``models.v9.V9`` sets them; revisions inherit them.
"""

from __future__ import annotations

from typing import Any

from checker.lang.presentation import Environment, InteractionRule, Presentation
from models.v9.constants import C_PC_NAMES, C_SLEEP, SOCK_NAMES, VHOST_DMA_DONE_LEN, W_PC_NAMES
from models.v9.state import CONTROL, DEVICE, GUEST, WORKER

INTERACTIONS: tuple[InteractionRule, ...] = (
    InteractionRule("kick", "kick_q", "set", WORKER, (GUEST,),
                    meaning="virtqueue_kick: the kick eventfd queues vq->poll work (handle_tx)"),
    InteractionRule("sendmsg: skb", "skb_cnt", "increase", DEVICE, (WORKER,),
                    meaning="sendmsg hands an skb pointing at guest memory to the lower device"),
    InteractionRule("DMA done", "heads_len", "becomes", WORKER, (DEVICE,),
                    value=VHOST_DMA_DONE_LEN,
                    meaning="vhost_zerocopy_callback: vq->heads[desc].len = VHOST_DMA_DONE_LEN"),
    InteractionRule("used", "used_cnt", "increase", GUEST,
                    meaning="heads added to the used ring: the guest may reclaim them"),
    InteractionRule("wake_up", "c_pc", "leaves", CONTROL, value=C_SLEEP,
                    meaning="wake_up(&ubufs->wait) wakes the control thread asleep in "
                            "vhost_ubuf_put_and_wait"),
    InteractionRule("done_signal", "cb_wake", "decrease", CONTROL, (DEVICE,),
                    meaning="vhost_zerocopy_done_signal: the completion's wake_up(&ubufs->wait)"),
    InteractionRule("write space", "sock_q", "set", WORKER, (DEVICE,),
                    meaning="sock_wfree: socket write space queues net->poll[TX] work"),
    InteractionRule("poll start", "sock_q", "set", WORKER, (CONTROL,),
                    meaning="tx_poll_start (set_backend): the writable socket queues handle_tx"),
)
"""Every interaction the chart draws; rules whose variable a revision lacks are skipped."""

WATCHED: tuple[str, ...] = (
    "avail_cnt", "used_cnt", "upend", "done", "heads_id", "heads_len", "ubuf_arg", "skb_cnt",
    "backend", "vq_ubufs", "obj", "rc", "cb_wake", "dev_freed", "use_err", "mem_err",
)
"""Variables whose changes a chart row lists."""

LANE_TITLES = {GUEST: "guest", WORKER: "worker (handle_tx)", DEVICE: "device (lower device)",
               CONTROL: "control (userspace)"}

KEY_VARIABLES: tuple[str, ...] = (
    "avail_cnt", "used_cnt", "upend", "done", "skb_cnt", "backend", "vq_ubufs", "w_pc", "c_pc",
)
"""Variables an explored-graph node's label shows."""

_SOCK_KINDS = tuple(SOCK_NAMES[v] for v in sorted(SOCK_NAMES))

VALUE_NAMES: dict[str, tuple[str, ...]] = {
    "w_pc": W_PC_NAMES, "c_pc": C_PC_NAMES,
    "vq_mutex": ("free", "worker", "control"),
    "tx_poll": ("disabled", "stopped", "started"),
    "backend": _SOCK_KINDS, "w_sock": _SOCK_KINDS,
    "heads_len": ("clear", "done", "in-flight"),
    "w_len": ("small", "large"), "desc_len": ("small", "large"),
    "obj": ("unallocated", "alive", "freed"),
}
"""The names of the values of the model's enumerated ints (models/v9/constants.py)."""

PRESENTATION = Presentation(INTERACTIONS, WATCHED, LANE_TITLES, KEY_VARIABLES, VALUE_NAMES)

_DATAPATH: dict[str, Any] = {"max_backend_changes": 0, "release": "no", "send_failures": 0}

ENVIRONMENTS: tuple[Environment, ...] = (
    Environment("default", "every default: one backend change, one sendmsg failure, release"),
    Environment("datapath", "the data path alone: no backend change, no release, "
                "no sendmsg failure", dict(_DATAPATH)),
    Environment("sendfail", "data path with sendmsg failures (no backend change, no release)",
                {"max_backend_changes": 0, "release": "no"}),
    Environment("backend", "data path with backend changes (no release, no sendmsg failure)",
                {"send_failures": 0, "release": "no"}),
    Environment("release", "data path with device release (no backend change, "
                "no sendmsg failure)", {"max_backend_changes": 0, "send_failures": 0}),
    Environment("rogue", "data path with a rogue guest forging avail entries",
                {**_DATAPATH, "guest": "rogue"}),
    Environment("bigring", "data path with a ring larger than UIO_MAXIOV (--uio-maxiov 1)",
                {**_DATAPATH, "uio_maxiov": 1}),
)
"""Every named environment, in the order reports list them."""
