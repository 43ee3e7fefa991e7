"""The project's source files a module can run: its imports, followed to the end.

:func:`import_closure` reads each file's import statements (nothing is imported)
and follows every ``import`` and ``from ... import`` of the project's own
packages, at module level or inside a function, until no new file turns up.
The proof caches key on the text of these files (:mod:`checker.engines.reduction`),
so an edit to code a proof cannot run (the CLI, the explicit explorers, pdr)
leaves its cached outcome valid.
"""

from __future__ import annotations

import re
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


_FROM = re.compile(r"^[ \t]*from[ \t]+([\w.]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.MULTILINE)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w., \t]+)", re.MULTILINE)


def _imported(source: str) -> Iterable[str]:
    """Every dotted module name ``source`` imports, at any indentation (for ``from m
    import n``, both ``m`` and ``m.n``: ``n`` may be a submodule).  Read with regular
    expressions, not parsed: a line in a string that looks like an import counts too,
    which only adds a file to the closure."""
    for match in _FROM.finditer(source):
        module = match.group(1)
        yield module
        names = re.sub(r"#[^\n]*", "", match.group(2)).strip().strip("()")
        yield from (f"{module}.{n.split()[0]}" for n in names.split(",") if n.strip())
    for match in _IMPORT.finditer(source):
        yield from (n.split()[0] for n in match.group(1).split(",") if n.strip())


def import_closure(root: Path, modules: Iterable[str]) -> list[Path]:
    """The files of ``modules`` (dotted names under ``root``), their packages'
    ``__init__.py`` files, and every project file they import, sorted."""
    seen: set[Path] = set()
    looked: set[str] = set()  # dotted names already resolved (each once: a stat or two)
    todo = list(modules)
    while todo:
        parts = todo.pop().split(".")
        if parts[0] not in _PACKAGES:
            continue
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix in looked:
                continue
            looked.add(prefix)
            path = _module_file(root, prefix)
            if path is None or path in seen:
                continue
            seen.add(path)
            todo.extend(_imported(path.read_text(encoding="utf-8")))
    return sorted(seen)
