"""What differs between two revisions (``vhostmc diff-revisions A B``).

Three things are compared:

* the steps: an action of both revisions whose body function differs (the
  quoted patch code of both is shown), and actions only one has;
* the helper methods the actions call (``initial_refcount``,
  ``too_many_pending``, ...): a method resolved to a different function in
  the two classes, shown with both docstrings, which quote the code;
* the state variables (a revision may widen a range or add a variable).

Then both revisions are checked at one ring size in one environment, and
each property's verdict and trace length are shown side by side.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checker.engines.base import Limits
from checker.lang.model import ActionSpec, Model, Var, source_location
from checker.runs.catalog import load_revision
from checker.runs.check import CheckRequest, run_check
from checker.runs.environments import get_environment


@dataclass
class StepDiff:
    """An action that differs: ``kind`` is ``changed``, ``added`` or ``removed``."""

    name: str
    kind: str
    old: ActionSpec | None
    new: ActionSpec | None


@dataclass
class HelperDiff:
    """A non-action method (or property) resolved to different code."""

    name: str
    old: Any
    new: Any


@dataclass
class RevisionDiff:
    """Everything :func:`diff_revisions` found."""

    old: Model
    new: Model
    steps: list[StepDiff] = field(default_factory=list)
    helpers: list[HelperDiff] = field(default_factory=list)
    variables: list[tuple[str, Var | None, Var | None]] = field(default_factory=list)


def _function(obj: Any) -> Any:
    """The function behind a method, classmethod, staticmethod or property."""
    if isinstance(obj, (classmethod, staticmethod)):
        return obj.__func__
    if isinstance(obj, property):
        return obj.fget
    return obj


def _body(spec: ActionSpec) -> Any:
    """The function an action's (bound) body method runs (inside any assumption guard)."""
    body = inspect.unwrap(spec.body)
    return getattr(body, "__func__", body)


def same_code(a: Any, b: Any) -> bool:
    """Whether two functions are the same code: the same object, or (when a revision
    file was loaded twice, e.g. imported by hand besides ``extends``) functions
    defined at the same file and line with the same bytecode and constants.
    Functions built by :func:`checker.lang.split.split_step` compare what they
    were built from."""
    if a is b:
        return True
    if a is None or b is None:
        return False
    for attr in ("__vhostmc_body__", "__vhostmc_split_of__"):
        if hasattr(a, attr) or hasattr(b, attr):
            return (same_code(getattr(a, attr, None), getattr(b, attr, None))
                    and _same_marks(a, b))
    ca, cb = getattr(a, "__code__", None), getattr(b, "__code__", None)
    if ca is None or cb is None:
        return False
    return (ca.co_firstlineno == cb.co_firstlineno
            and Path(ca.co_filename).resolve() == Path(cb.co_filename).resolve()
            and ca.co_code == cb.co_code and ca.co_consts == cb.co_consts
            and _same_marks(a, b))


def _same_marks(a: Any, b: Any) -> bool:
    """Same quoted code and fairness declaration (the parts of a step that are data)."""
    keys = ("__vhostmc_action__", "__vhostmc_fairness__", "__vhostmc_assume__")
    def data(fn: Any) -> tuple[Any, ...]:
        out = []
        for key in keys:
            mark = getattr(fn, key, None)
            out.append(tuple(x for x in mark if not callable(x)) if isinstance(mark, tuple)
                       else mark)
        return tuple(out)
    return data(a) == data(b)


def _helpers(cls: type[Model], actions: set[str]) -> dict[str, Any]:
    """Every callable attribute of ``cls`` that is not an action or a dunder."""
    out: dict[str, Any] = {}
    for name in dir(cls):
        if name.startswith("__") or name in actions:
            continue
        obj = inspect.getattr_static(cls, name)
        fn = _function(obj)
        if inspect.isfunction(fn):
            out[name] = fn
    return out


def diff_revisions(old: Model, new: Model) -> RevisionDiff:
    """Compare the steps, helpers and variables of two instantiated revisions."""
    out = RevisionDiff(old, new)
    a = {s.name: s for s in old.action_specs}
    b = {s.name: s for s in new.action_specs}
    for name in list(a) + [n for n in b if n not in a]:
        sa, sb = a.get(name), b.get(name)
        if sa is None:
            out.steps.append(StepDiff(name, "added", None, sb))
        elif sb is None:
            out.steps.append(StepDiff(name, "removed", sa, None))
        elif not same_code(_body(sa), _body(sb)):
            out.steps.append(StepDiff(name, "changed", sa, sb))
    ha = _helpers(type(old), set(a) | set(b))
    hb = _helpers(type(new), set(a) | set(b))
    for name in sorted(set(ha) | set(hb)):
        if not same_code(ha.get(name), hb.get(name)):
            out.helpers.append(HelperDiff(name, ha.get(name), hb.get(name)))
    va = {v.name: v for v in old.vars}
    vb = {v.name: v for v in new.vars}
    for name in list(va) + [n for n in vb if n not in va]:
        if va.get(name) != vb.get(name):
            out.variables.append((name, va.get(name), vb.get(name)))
    return out


def _doc(fn: Any, max_lines: int = 12) -> str:
    """The docstring of ``fn``; its source (shortened) when it has none."""
    if fn is None:
        return "(not defined)"
    doc = fn.__doc__
    if doc:
        return inspect.cleandoc(doc)
    try:
        source = textwrap.dedent(inspect.getsource(fn)).splitlines()
    except (OSError, TypeError):
        return "(no docstring)"
    if len(source) > max_lines:
        source = source[:max_lines] + [f"... ({len(source) - max_lines} more lines)"]
    return "(no docstring; source:)\n" + "\n".join(source)


def _where(fn: Any) -> str:
    owner = getattr(fn, "__qualname__", "?").rsplit(".", 1)[0]
    return f"{owner}, {_short_path(source_location(fn))}"


def _short_path(location: str) -> str:
    """``file:line`` relative to the current folder, else to the repository."""
    path, _, line = location.rpartition(":")
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        try:
            rel = Path(path).resolve().relative_to(base.resolve())
        except ValueError:
            continue
        return f"{rel.as_posix()}:{line}"
    return location


def _var_text(v: Var | None) -> str:
    if v is None:
        return "(absent)"
    kind = "bool" if v.is_bool else f"int [{v.lo}, {v.hi}]"
    return kind + (f" x {v.size}" if v.size is not None else "")


def _indent(text: str, prefix: str = "      ") -> list[str]:
    return [prefix + line if line else "" for line in text.splitlines()]


def render_diff(diff: RevisionDiff) -> str:
    """The differences as text a reviewer reads."""
    a, b = diff.old.name, diff.new.name
    lines = [f"Revision {a} -> {b}", ""]
    lines.append(f"Steps that differ ({len(diff.steps)}):")
    if not diff.steps:
        lines.append("  (none)")
    for step in diff.steps:
        spec = step.new or step.old
        assert spec is not None
        lines.append(f"  {step.kind:<8} {step.name}  [{spec.actor}] -- {spec.function}")
        for rev, s in ((a, step.old), (b, step.new)):
            if s is None:
                lines.append(f"    {rev}: (no such step)")
                continue
            lines.append(f"    {rev} ({_where(_body(s))}):")
            lines += textwrap.wrap(s.code, width=96, initial_indent="      code: ",
                                   subsequent_indent="            ")
        if step.kind == "changed" and step.old and step.new and step.old.code == step.new.code:
            lines.append("    (same quoted code; the model's body of the step differs)")
    lines += ["", f"Helper methods that differ ({len(diff.helpers)}):"]
    if not diff.helpers:
        lines.append("  (none)")
    for helper in diff.helpers:
        lines.append(f"  {helper.name}")
        for rev, fn in ((a, helper.old), (b, helper.new)):
            where = f" ({_where(fn)})" if fn is not None else ""
            lines.append(f"    {rev}{where}:")
            lines += _indent(_doc(fn))
    lines += ["", f"State variables that differ ({len(diff.variables)}):"]
    if not diff.variables:
        lines.append("  (none)")
    for name, va, vb in diff.variables:
        lines.append(f"  {name}: {a} {_var_text(va)}, {b} {_var_text(vb)}")
    return "\n".join(lines)


@dataclass
class VerdictRow:
    """One property's verdict in both revisions."""

    name: str
    old: dict[str, Any]
    new: dict[str, Any]

    @property
    def changed(self) -> bool:
        return (self.old["status"], self.old["length"]) != (self.new["status"], self.new["length"])


def verdict_text(p: dict[str, Any]) -> str:
    """``holds``, ``violated (L steps)`` or ``inconclusive``."""
    if p["status"] == "violated":
        return f"violated ({p['length']} steps)"
    return str(p["status"])


def revision_params(revision: str, ring_size: int, env: str) -> dict[str, Any]:
    """The parameters ``revision`` is checked with: the ring size and the switches of
    its environment ``env`` (which a revision file may declare itself)."""
    return {"ring_size": ring_size, **get_environment(env, revision).switches}


def compare_verdicts(
    old: str, new: str, ring_size: int, env: str, properties: tuple[str, ...],
    specs: tuple[str, ...], limits: Limits, out_dir: Path,
) -> tuple[list[VerdictRow], list[dict[str, Any]]]:
    """Check both revisions (names or files) and pair up each property's verdict.

    Each run writes to ``out_dir/<revision>`` (``<revision>-2`` for the second
    when both have the same name).  Returns the rows and both result documents.
    """
    docs: list[dict[str, Any]] = []
    for rev in (old, new):
        params = revision_params(rev, ring_size, env)
        label = load_revision(rev).name
        if docs and docs[0]["revision"] == label:
            label += "-2"
        req = CheckRequest(revision=rev, params=params, properties=properties, specs=specs,
                           limits=limits, out_dir=out_dir / label)
        docs.append(run_check(req).doc)
    rows = [VerdictRow(p["name"], p, q)
            for p, q in zip(docs[0]["properties"], docs[1]["properties"])]
    return rows, docs


def render_verdicts(rows: list[VerdictRow], ring_size: int, env: str,
                    docs: list[dict[str, Any]]) -> str:
    """The verdict table, marking the properties whose verdict or length changes."""
    a, b = docs[0]["revision"], docs[1]["revision"]
    width = max([len(r.name) for r in rows] + [8])
    lines = [f"Verdicts at ring size {ring_size}, environment {env}:",
             f"  {'property':<{width}}  {a:<24}{b}"]
    for r in rows:
        mark = "changed" if r.changed else "same"
        lines.append(f"  {r.name:<{width}}  {verdict_text(r.old):<24}{verdict_text(r.new):<24}"
                     f"{mark}")
    for doc in docs:
        st = doc["stats"]
        how = "complete" if doc["complete"] else (
            "cut by " + ", ".join(doc["bounds_hit"]) if doc["bounds_hit"]
            else "stopped once every property was violated")
        lines.append(f"  {doc['revision']}: {st['states']} states in {st['seconds']:.1f}s, search {how}")
    changed = [r.name for r in rows if r.changed]
    lines.append("verdicts that change: " + (", ".join(changed) if changed else "none"))
    return "\n".join(lines)
