"""Named fairness presets: the liveness grid's settings of the fairness switches.

A liveness verdict depends on the fairness it is judged under (docs/model.md,
"Fairness and liveness").  Each preset sets at most one fairness switch of the
model (``vhostmc list`` shows them all) on top of the environment's switches;
``vhostmc matrix --fairness`` runs every cell once per preset named.
"""

from __future__ import annotations

from checker.lang.presentation import Environment
from checker.runs.environments import pick_preset

__all__ = ["FAIRNESS_PRESETS", "fairness_names", "get_fairness"]

FAIRNESS_PRESETS: dict[str, Environment] = {preset.name: preset for preset in (
    Environment("default", "the defaults: the device completes every skb, the guest posts "
                "or goes quiet at will"),
    Environment("may-hold", "the lower device may hold one skb forever",
                {"device_progress": "may-hold"}),
    Environment("keeps-posting", "the guest posts and reclaims whenever it can",
                {"guest_progress": "keeps-posting"}),
    Environment("goes-idle", "the guest eventually stops posting",
                {"guest_progress": "goes-idle"}),
)}
"""Every fairness preset, by name, in the order reports list them."""


def fairness_names() -> list[str]:
    """The preset names, ``default`` first."""
    return list(FAIRNESS_PRESETS)


def get_fairness(name: str) -> Environment:
    """The fairness preset ``name``; :class:`ModelError` if unknown."""
    return pick_preset(FAIRNESS_PRESETS, name, "fairness preset")
