"""The project's source files a module can run: its imports, followed to the end.

:func:`import_closure` reads each file with :mod:`ast` (nothing is imported)
and follows every ``import`` and ``from ... import`` of the project's own
packages, at module level or inside a function, until no new file turns up.
The proof caches key on the text of these files (:mod:`checker.engines.reduction`),
so an edit to code a proof cannot run (the CLI, the explicit explorers, pdr)
leaves its cached outcome valid.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

_PACKAGES = ("checker", "models", "specs")


def _module_file(root: Path, dotted: str) -> Path | None:
    """The file of module ``dotted`` under ``root`` (a package's ``__init__.py``)."""
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported(tree: ast.AST) -> Iterable[str]:
    """Every dotted module name ``tree`` imports (for ``from m import n``, both
    ``m`` and ``m.n``: ``n`` may be a submodule)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def import_closure(root: Path, modules: Iterable[str]) -> list[Path]:
    """The files of ``modules`` (dotted names under ``root``), their packages'
    ``__init__.py`` files, and every project file they import, sorted."""
    seen: set[Path] = set()
    todo = list(modules)
    while todo:
        dotted = todo.pop()
        if dotted.split(".")[0] not in _PACKAGES:
            continue
        parts = dotted.split(".")
        for depth in range(1, len(parts) + 1):
            path = _module_file(root, ".".join(parts[:depth]))
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(_imported(ast.parse(path.read_bytes(), filename=str(path))))
    return sorted(seen)
