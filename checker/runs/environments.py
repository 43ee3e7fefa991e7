"""Named environments: presets of the switches and bounds a run is checked under.

A model declares its presets (``Model.environments``; v9's are in
``models/v9/presentation.py``); ``vhostmc matrix --envs``, ``vhostmc
diff-revisions`` and ``results/reproduce.sh`` read them here.  Each preset is
a set of parameter overrides on top of the defaults (``vhostmc list`` shows
every parameter).  Run as a module to print them for a shell::

    python -m checker.runs.environments --names        # default datapath sendfail ...
    python -m checker.runs.environments datapath       # --max-backend-changes 0 --release no ...
"""

from __future__ import annotations

import sys

from checker.lang.model import ModelError
from checker.lang.presentation import Environment
from checker.runs.catalog import DEFAULT_REVISION, load_revision

__all__ = ["ENVIRONMENTS", "Environment", "environment_names", "environments_of",
           "get_environment"]


def environments_of(revision: str = DEFAULT_REVISION) -> dict[str, Environment]:
    """The named environments of ``revision`` (a name or a file; its model's
    ``environments``), by name, in the order reports list them."""
    return {env.name: env for env in load_revision(revision).environments}


ENVIRONMENTS: dict[str, Environment] = environments_of()
"""Every named environment of the default revision, in the order reports list them."""


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
