"""Named environments: presets of the switches and bounds a run is checked under.

This is the one place the presets are defined: ``vhostmc matrix --envs``,
``vhostmc diff-revisions`` and ``results/reproduce.sh`` all read them.  Each
preset is a set of parameter overrides on top of the defaults (``vhostmc
list`` shows every parameter).  Run as a module to print them for a shell::

    python -m checker.runs.environments --names        # default datapath sendfail ...
    python -m checker.runs.environments datapath       # --max-backend-changes 0 --release no ...
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from checker.lang.model import ModelError


@dataclass(frozen=True)
class Environment:
    """A named preset: ``switches`` maps parameter names to values."""

    name: str
    description: str
    switches: dict[str, Any] = field(default_factory=dict)

    def args(self) -> list[str]:
        """The preset as ``vhostmc check`` options."""
        out: list[str] = []
        for key, value in self.switches.items():
            out += ["--" + key.replace("_", "-"), str(value)]
        return out


_DATAPATH: dict[str, Any] = {"max_backend_changes": 0, "release": "no", "send_failures": 0}

ENVIRONMENTS: dict[str, Environment] = {
    env.name: env
    for env in (
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
}
"""Every named environment, in the order reports list them."""


def environment_names() -> list[str]:
    """The preset names, ``default`` first."""
    return list(ENVIRONMENTS)


def get_environment(name: str) -> Environment:
    """The preset ``name``; :class:`ModelError` if unknown."""
    try:
        return ENVIRONMENTS[name]
    except KeyError:
        known = ", ".join(ENVIRONMENTS)
        raise ModelError(f"unknown environment '{name}' (known: {known})") from None


def main(argv: list[str]) -> int:
    """``--names`` prints the names; ``NAME`` prints that preset's options."""
    if argv == ["--names"]:
        print(" ".join(ENVIRONMENTS))
        return 0
    if len(argv) == 1 and argv[0] in ENVIRONMENTS:
        print(" ".join(ENVIRONMENTS[argv[0]].args()))
        return 0
    print(f"usage: python -m checker.runs.environments --names | {{{','.join(ENVIRONMENTS)}}}",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
