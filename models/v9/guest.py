"""The guest's virtio-net driver: posts, kicks and reclaims TX descriptors.

The guest is untrusted.  With ``--guest rogue`` it may also write a head it
does not own, or one ``>= vq->num``, into the avail ring.
"""

from __future__ import annotations

from checker.lang.model import action
from checker.lang.view import StateView
from models.v9.kernel import KernelHelpers
from models.v9.state import GUEST

GUEST_DRIVER = "virtio-net guest driver (start_xmit / virtqueue_add_buf)"


class GuestActions(KernelHelpers):
    """What the guest can do to the TX ring."""

    def _post(self, s: StateView, h: int, large: int) -> None:
        n = self.p.ring_size
        s.require(s.all(s.neg(s.g_kick), s.avail_cnt < n))
        s.avail[(s.last_avail + s.avail_cnt) % n] = h
        s.avail_cnt = s.avail_cnt + 1
        s.desc_len.set_if(h < n, h, large)  # h = n (rogue) stands for no descriptor
        s.g_kick = True

    @action(GUEST, GUEST_DRIVER,
            "add descriptor `h` (length small = copied, large = zero-copy) to the avail ring "
            "and publish avail->idx",
            over=lambda p: {"h": range(p.ring_size), "large": (0, 1)})
    def guest_post(self, s: StateView, h: int, large: int) -> None:
        s.require(s.g_owned[h])
        s.g_owned[h] = False
        self._post(s, h, large)

    @action(GUEST, GUEST_DRIVER,
            "(rogue guest) write head `h` into the avail ring although it does not own it; "
            "h = vq->num stands for any value >= vq->num",
            over=lambda p: {"h": range(p.ring_size + 1) if p.guest == "rogue" else (),
                            "large": (0, 1)})
    def guest_post_rogue(self, s: StateView, h: int, large: int) -> None:
        s.require(s.rogue_left > 0)
        if h < self.p.ring_size:
            s.require(s.neg(s.g_owned[h]))
        elif large:
            s.require(False)
        s.rogue_left = s.rogue_left - 1
        self._post(s, h, large)

    @action(GUEST, "virtqueue_kick",
            "!(vring.used->flags & VRING_USED_F_NO_NOTIFY): notify the host (kick eventfd)")
    def guest_kick(self, s: StateView) -> None:
        s.require(s.all(s.g_kick, s.neg(s.no_notify)))
        s.g_kick = False
        s.kick_q = s.any(s.kick_q, s.kick_poll)

    @action(GUEST, "virtqueue_kick",
            "vring.used->flags & VRING_USED_F_NO_NOTIFY: the host asked not to be kicked")
    def guest_no_kick(self, s: StateView) -> None:
        s.require(s.all(s.g_kick, s.no_notify))
        s.g_kick = False

    @action(GUEST, "free_old_xmit_skbs (virtqueue_get_buf)",
            "take the oldest entry of the used ring: the descriptor is the guest's again")
    def guest_reclaim(self, s: StateView) -> None:
        s.require(s.used_cnt > 0)
        head = s.used[0]
        s.delete_at("used", 0)
        s.used_cnt = s.used_cnt - 1
        s.g_owned[head] = True
