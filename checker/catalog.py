"""Where revisions and properties are found by name."""

from __future__ import annotations

import importlib

from checker.model import Model, ModelError
from checker.spec import Property, properties_in

REVISIONS: dict[str, str] = {
    "v9": "models.v9:V9",
}
"""Revision name -> ``module:Class`` of its model."""

PROPERTY_MODULES: tuple[str, ...] = ("specs.zerocopy",)


def revision_names() -> list[str]:
    return list(REVISIONS)


def load_revision(name: str) -> type[Model]:
    """The model class of revision ``name``; :class:`ModelError` if unknown."""
    try:
        target = REVISIONS[name]
    except KeyError:
        known = ", ".join(REVISIONS)
        raise ModelError(f"unknown revision '{name}' (known: {known}; see 'vhostmc list')") from None
    module, cls = target.split(":")
    model_cls: type[Model] = getattr(importlib.import_module(module), cls)
    return model_cls


def all_properties() -> list[Property]:
    """Every property of every spec module, in declaration order."""
    out: list[Property] = []
    for module in PROPERTY_MODULES:
        out.extend(properties_in(importlib.import_module(module)))
    return out


def select_properties(names: tuple[str, ...] | list[str]) -> list[Property]:
    """The named properties (all when ``names`` is empty); :class:`ModelError` if unknown."""
    props = all_properties()
    if not names:
        return props
    by_name = {p.name: p for p in props}
    chosen: list[Property] = []
    for name in names:
        if name not in by_name:
            known = ", ".join(by_name)
            raise ModelError(f"unknown property '{name}' (known: {known}; see 'vhostmc list')")
        if by_name[name] not in chosen:
            chosen.append(by_name[name])
    return chosen
