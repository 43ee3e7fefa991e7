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
from collections.abc import Mapping

from checker.lang.model import ModelError
from checker.lang.presentation import Environment
from checker.runs.catalog import DEFAULT_REVISION, load_revision

__all__ = ["ENVIRONMENTS", "Environment", "environment_names", "environments_of",
           "get_environment", "pick_preset"]


def pick_preset(presets: Mapping[str, Environment], name: str, kind: str,
                where: str = "") -> Environment:
    """``presets[name]``; a :class:`ModelError` naming the ``kind``, ``where`` it was
    looked for and the known names if there is none."""
    try:
        return presets[name]
    except KeyError:
        raise ModelError(f"unknown {kind} '{name}'{where} (known: {', '.join(presets)})") from None


def environments_of(revision: str = DEFAULT_REVISION) -> dict[str, Environment]:
    """The named environments of ``revision`` (a name or a file; its model's
    ``environments``), by name, in the order reports list them."""
    return {env.name: env for env in load_revision(revision).environments}


ENVIRONMENTS: dict[str, Environment] = environments_of()
"""Every named environment of the default revision, in the order reports list them."""


def environment_names() -> list[str]:
    """The preset names, ``default`` first."""
    return list(ENVIRONMENTS)


def get_environment(name: str, revision: str | None = None) -> Environment:
    """The preset ``name`` of ``revision`` (a name or a file; by default the default
    revision), which a revision file may declare itself; :class:`ModelError` if
    that revision has none of that name."""
    if revision is None:
        return pick_preset(ENVIRONMENTS, name, "environment")
    return pick_preset(environments_of(revision), name, "environment", f" in revision {revision}")


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
