"""Whether a run explores canonical states: the dead-value proof, cached on disk.

:func:`decide` runs :func:`checker.engines.symbolic.deadproof.prove` for the
model, its parameters and the selected properties, or reads the outcome of
an earlier identical proof from the cache (``$VHOSTMC_CACHE``, else
``~/.cache/vhostmc``, file ``reduction/<key>.json``).  The key hashes the
source the proof's outcome depends on (this module, the proofs and every
project file they import, found by :func:`checker.engines.imports.import_closure`;
the named revisions and properties, and every revision or spec file loaded
in this process), the parameters and the property names, so a change to any
of them proves again; an edit to the CLI, the outputs, the explorers or the
other Z3 engines does not.  The reduction is on only
when the proof passed; a failed or timed-out query turns it off with a
warning naming the action, why, and the state pair Z3 found.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.engines.imports import import_closure
from checker.lang.model import Model, State
from checker.lang.spec import Property
from checker.semantics.canon import canonicalizer, interpreted_canon
from checker.semantics.deadvalues import checked_declarations
from checker.semantics.states import as_dict, compiles

CACHE_ENV = "VHOSTMC_CACHE"
"""Folder for cached proof results (default ``~/.cache/vhostmc``)."""

_REPO = Path(__file__).resolve().parents[2]
_PROOF_MODULES = ("checker.engines.reduction", "checker.engines.symmetry",
                  "checker.engines.symbolic.deadproof", "checker.engines.symbolic.symproof")
"""Where the proofs start: :func:`proof_sources` follows their imports."""
_REVISION_DIRS = ("models", "specs")


@dataclass
class Reduction:
    """The decision for one run: ``canon`` when on, and what result.json says."""

    canon: Callable[[State], State] | None
    info: dict[str, Any] = field(default_factory=dict)
    warning: str | None = None


def cache_dir() -> Path:
    """Where proof results are kept."""
    given = os.environ.get(CACHE_ENV)
    return Path(given) if given else Path.home() / ".cache" / "vhostmc"


@functools.cache
def _project_sources() -> list[Path]:
    """vhostmc's own files of :func:`proof_sources`: found once per process (reading
    every import takes about a tenth of a second)."""
    named = [p for d in _REVISION_DIRS for p in (_REPO / d).rglob("*.py")]
    dotted = [".".join(p.relative_to(_REPO).with_suffix("").parts) for p in named]
    return import_closure(_REPO, [*_PROOF_MODULES, *dotted])


def proof_sources() -> list[Path]:
    """The source files whose text goes into :func:`proof_key`: vhostmc's own that
    the proofs can run (the proof modules and all they import, every named revision
    and spec) and every user revision or spec file loaded so far."""
    files = _project_sources()
    user = sorted(Path(str(getattr(m, "__file__", ""))) for name, m in list(sys.modules.items())
                  if name.startswith("vhostmc_user_"))
    return [*files, *user]


_read_sources: dict[Path, bytes] = {}
"""Each source file's text as this process first read it: the code it runs was
imported then, so a file edited while a long run goes on does not file that run's
proofs under the edited text's key."""


def _source_text(path: Path) -> bytes:
    if path not in _read_sources:
        try:
            _read_sources[path] = path.read_bytes()
        except OSError:
            _read_sources[path] = b"?"
    return _read_sources[path]


def proof_key(model: Model, properties: Sequence[Property]) -> str:
    """A hash of everything the proof's outcome depends on (module docstring)."""
    digest = hashlib.sha256()
    for path in proof_sources():
        shown = path.relative_to(_REPO) if path.is_relative_to(_REPO) else path
        digest.update(str(shown).encode())
        digest.update(_source_text(path))
    digest.update(type(model).__qualname__.encode())
    digest.update(json.dumps(model.p.as_dict(), sort_keys=True, default=str).encode())
    digest.update(json.dumps(sorted((p.name, p.kind) for p in properties)).encode())
    return digest.hexdigest()[:32]


def recall_proof(path: Path) -> dict[str, Any] | None:
    """The proof outcome cached at ``path``, marked ``cached``; ``None`` when there is
    none (or it cannot be read)."""
    try:
        stored: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    stored["cached"] = True
    return stored


def remember_proof(path: Path, outcome: dict[str, Any]) -> dict[str, Any]:
    """Write ``outcome`` to the cache at ``path`` atomically (an unwritable cache only
    costs the next run the proof); return it marked not ``cached``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(outcome, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    outcome["cached"] = False
    return outcome


def _proved(model: Model, properties: Sequence[Property],
            stop: Callable[[], str | None] | None = None,
            deadline: float | None = None) -> dict[str, Any]:
    """The proof outcome as stored in the cache (computed, or read from it); raises
    :class:`~checker.engines.symbolic.validity.ProofCut` when ``stop`` or ``deadline``
    cut it (nothing is cached then)."""
    from checker.engines.symbolic.deadproof import prove  # z3: only when not cached

    path = cache_dir() / "reduction" / f"{proof_key(model, properties)}.json"
    stored = recall_proof(path)
    if stored is not None:
        return stored
    result = prove(model, properties, stop=stop, deadline=deadline)
    outcome = {
        "passed": result.passed,
        "queries": result.queries,
        "seconds": round(result.seconds, 3),
        "failures": [f.line(model) for f in result.failures],
        "declarations": result.declarations,
        "assumptions": result.assumptions,
    }
    witness = next((f for f in result.failures if f.state is not None), None)
    if witness is not None and witness.state is not None and witness.canonical is not None:
        outcome["counterexample"] = {"query": witness.what,
                                     "s": as_dict(model, witness.state),
                                     "canon_s": as_dict(model, witness.canonical)}
    return remember_proof(path, outcome)


def decide(model: Model, properties: Sequence[Property], requested: bool = True,
           stop: Callable[[], str | None] | None = None,
           deadline: float | None = None) -> Reduction:
    """Prove (or recall) the reduction for ``model`` and ``properties``; on only if it passed.

    ``stop`` (an interrupt) and ``deadline`` (the run's time limit) cut the proof; the
    run then goes on unreduced (and stops at once, the limit being past)."""
    if not requested:
        return Reduction(None, {"on": False, "why": "--no-reduction"})
    if not checked_declarations(model):
        return Reduction(None, {"on": False, "why": f"{model.name} declares no dead values"})
    from checker.engines.symbolic.validity import ProofCut

    try:
        proof = _proved(model, properties, stop, deadline)
    except ProofCut as cut:
        return Reduction(None, {"on": False, "why": f"the proof was cut by {cut}"})
    except Exception as err:  # noqa: BLE001 - a model Z3 cannot run: no proof, no reduction
        why = f"the proof could not be built ({type(err).__name__}: {err})"
        warning = f"dead-value reduction off for {model.name}: {why}; exploring every state"
        return Reduction(None, {"on": False, "why": why}, warning)
    info: dict[str, Any] = {"on": bool(proof["passed"]), "proof": proof}
    if not proof["passed"]:
        first = proof["failures"][0] if proof["failures"] else "no reason recorded"
        info["why"] = f"the proof failed for {first}"
        warning = (f"dead-value reduction off for {model.name}: the proof failed for {first}; "
                   "exploring every state")
        return Reduction(None, info, warning)
    if compiles(model):
        return Reduction(canonicalizer(model), info)  # compiled by the proof already
    return Reduction(lambda state: interpreted_canon(model, state), info)
