"""Where revisions and properties are found: by name, or in a user's file.

Named revisions live in ``models/`` and named properties in ``specs/``; a
``--revision`` value that looks like a path (``*.py`` or containing ``/``)
and every ``--spec`` file are loaded with :mod:`checker.runs.userfiles`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence

from checker.lang.model import Model, ModelError
from checker.lang.spec import Property, properties_in
from models.catalog import DEFAULT_REVISION, REVISIONS

__all__ = ["DEFAULT_REVISION", "REVISIONS", "all_properties", "builtin_properties",
           "load_revision", "revision_names", "select_properties"]

PROPERTY_MODULES: tuple[str, ...] = ("specs.zerocopy",)


def revision_names() -> list[str]:
    """The named revisions, base first."""
    return list(REVISIONS)


def load_revision(name: str) -> type[Model]:
    """The model class of revision ``name`` or of the revision file at that path.

    Raises :class:`ModelError` for an unknown name or a bad file.
    """
    from checker.runs.userfiles import load_revision_file, looks_like_path

    target = REVISIONS.get(name)
    if target is None:
        if looks_like_path(name):
            return load_revision_file(name)
        known = ", ".join(REVISIONS)
        raise ModelError(
            f"unknown revision '{name}' (known: {known}, or a path to a revision .py file; "
            "see 'vhostmc list')"
        )
    module, cls = target.split(":")
    model_cls: type[Model] = getattr(importlib.import_module(module), cls)
    return model_cls


def builtin_properties() -> list[Property]:
    """Every property of every spec module in ``specs/``, in declaration order."""
    out: list[Property] = []
    for module in PROPERTY_MODULES:
        out.extend(properties_in(importlib.import_module(module)))
    return out


def all_properties(spec_files: Iterable[str] = ()) -> list[Property]:
    """The built-in properties, then those of each ``--spec`` file.

    Raises :class:`ModelError` when a user property reuses a name.
    """
    from checker.runs.userfiles import load_spec_file, property_location

    props = builtin_properties()
    seen = {p.name: "built in" for p in props}
    for path in dict.fromkeys(spec_files):
        for prop in load_spec_file(path):
            if prop.name in seen:
                raise ModelError(
                    f"{property_location(prop)}: property '{prop.name}' is already defined "
                    f"({seen[prop.name]}); choose another name"
                )
            seen[prop.name] = f"in {property_location(prop)}"
            props.append(prop)
    return props


def select_properties(
    names: Sequence[str], spec_files: Iterable[str] = ()
) -> list[Property]:
    """The named properties among the built-in and user ones (all when ``names``
    is empty); :class:`ModelError` if a name is unknown."""
    props = all_properties(spec_files)
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
