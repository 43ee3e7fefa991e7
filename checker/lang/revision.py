"""Revision files that stack: ``extends("other_revision.py")``.

A revision file may build on another revision *file* instead of a named
revision::

    from checker.lang.revision import extends

    RcuFix = extends("rcu_fix.py")          # resolved relative to this file

    class RcuRelease(RcuFix):
        ...

``extends`` loads the file once (the same class object however many files
extend it, and the same one ``--revision examples/rcu_fix.py`` loads), so
``vhostmc diff-revisions`` compares the merged result without reporting the
base's steps as different.  The loading itself (errors as ``file:line``,
cycles refused) is :mod:`checker.runs.userfiles`'s, registered here with
:func:`set_loader`; without it a plain import is used.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checker.lang.model import Model

_loader: Callable[[str], type[Model]] | None = None


def set_loader(loader: Callable[[str], type[Model]]) -> None:
    """Register the function that loads a revision file and returns its model class."""
    global _loader
    _loader = loader


def resolve(path: str, relative_to: str) -> str:
    """``path`` as seen from the folder of the file ``relative_to`` (absolute paths kept)."""
    if Path(path).is_absolute():
        return path
    return str(Path(relative_to).parent / path)


def extends(path: str) -> type[Model]:
    """The model class of the revision file ``path``, relative to the calling file."""
    caller = inspect.stack()[1].filename
    target = resolve(path, caller)
    if _loader is not None:
        return _loader(target)
    from checker.lang.model import Model, ModelError

    spec = importlib.util.spec_from_file_location(Path(target).stem, target)
    if spec is None or spec.loader is None or not Path(target).is_file():
        raise ModelError(f"{caller}: extends('{path}'): no revision file {target}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found = vars(module).get("MODEL") or next(
        v for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, Model) and v.__module__ == module.__name__)
    return found  # type: ignore[no-any-return]
