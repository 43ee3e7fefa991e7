"""The folder tree is the architecture: lower layers never import higher ones, no circles.

Every ``import`` of the project's own modules is read from the source (top-level,
inside functions and under ``TYPE_CHECKING`` alike) and checked against the
layer order documented in docs/architecture.md.  The circle test leaves out
imports under ``if TYPE_CHECKING:``: a model's actions take a view and a view
wraps a model, a reference that exists for the type checker only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["lang", "semantics", "traces", "engines", "outputs", "runs", "cli"]
"""checker/ sub-packages, lowest first."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_only(tree: ast.Module) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` blocks."""
    return {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
            and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING"
            for stmt in block.body for n in ast.walk(stmt)}


def _imports(path: Path, runtime_only: bool = False) -> set[str]:
    """The project modules ``path`` imports (anywhere in the file; with
    ``runtime_only``, not those under ``if TYPE_CHECKING:``)."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_only(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in {"checker", "models", "specs"}}


def _graph(runtime_only: bool = False) -> nx.DiGraph:
    files = [p for top in ("checker", "models", "specs") for p in (ROOT / top).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    graph: nx.DiGraph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        for target in _imports(path, runtime_only):
            while target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != name and not name.startswith(target + "."):
                graph.add_edge(name, target)
    return graph


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "checker" or len(parts) < 2 or parts[1] not in LAYERS:
        return None
    return LAYERS.index(parts[1])


def test_lower_layers_never_import_higher_ones() -> None:
    upward = [f"{a} -> {b}" for a, b in _graph().edges
              if _layer(a) is not None and _layer(b) is not None and _layer(b) > _layer(a)]
    assert upward == []


def test_no_import_circles_between_modules() -> None:
    graph = _graph(runtime_only=True)
    assert sorted(sorted(c) for c in nx.simple_cycles(graph) if len(c) > 1) == []


def test_checker_modules_all_live_in_a_layer() -> None:
    stray = [m for m in _graph() if m.startswith("checker.") and _layer(m) is None]
    assert stray == []


def test_models_and_specs_import_only_the_language_layer() -> None:
    bad = [f"{a} -> {b}" for a, b in _graph().edges
           if a.split(".")[0] in {"models", "specs"} and b.startswith("checker.")
           and _layer(b) != 0]
    assert bad == []


def test_the_checker_names_no_model_module() -> None:
    bad = [f"{a} -> {b}" for a, b in _graph().edges
           if a.startswith("checker.") and b.split(".")[0] in {"models", "specs"}
           and _layer(a) is not None and _layer(a) < LAYERS.index("runs")]
    assert bad == []


def test_starting_the_cli_imports_no_heavy_library() -> None:
    """``vhostmc --version``, ``list`` and a small check start fast: matplotlib, networkx,
    numpy and z3 are imported only by the code that uses them."""
    import subprocess
    import sys

    code = ("import sys, checker.cli; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'matplotlib', 'networkx', 'numpy', 'z3', 'numba'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
