"""The engines ``vhostmc`` knows, by name, loaded only when used.

To add an engine: write one module whose ``ENGINE`` object implements
:class:`checker.engines.base.Engine`, and add one line to :data:`BUILTIN` (or
call :func:`register` at run time).  ``vhostmc check --engine``, ``vhostmc
list``, ``result.json``, the HTML report and the matrix read the name,
description, options and progress unit from that object.
"""

from __future__ import annotations

import importlib

from checker.engines.base import Engine

BUILTIN: dict[str, str] = {
    "explicit": "checker.engines.explicit.engine",
    "bmc": "checker.engines.symbolic.bmc",
    "kind": "checker.engines.symbolic.kinduction",
    "pdr": "checker.engines.symbolic.pdr",
    "inductive": "checker.engines.symbolic.inductive",
    "simulate": "checker.engines.simulation",
}
"""Engine name -> module defining ``ENGINE``; the first is the default."""

_registered: dict[str, Engine] = {}

DEFAULT_ENGINE = next(iter(BUILTIN))


def register(engine: Engine) -> None:
    """Make ``engine`` selectable by its name (replacing any engine of that name)."""
    _registered[engine.name] = engine


def engine_names() -> list[str]:
    """Every engine name, built-in ones first, in registration order."""
    return [*BUILTIN, *(n for n in _registered if n not in BUILTIN)]


def get_engine(name: str) -> Engine:
    """The engine called ``name``; ``KeyError`` for an unknown name."""
    if name in _registered:
        return _registered[name]
    module = importlib.import_module(BUILTIN[name])
    engine: Engine = module.ENGINE
    _registered[name] = engine
    return engine
