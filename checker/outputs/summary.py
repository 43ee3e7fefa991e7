"""The result of a run as a JSON document and as a summary a person reads."""

from __future__ import annotations

from typing import Any

from checker import __version__
from checker.engines.base import RunResult
from checker.engines.registry import engine_names, get_engine
from checker.lang.fairness import describe_all
from checker.lang.model import Model

EXIT_HOLDS = 0
EXIT_VIOLATED = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3
EXIT_INTERNAL = 4
"""An internal error (a bug in vhostmc): one line on stderr, the traceback in a crash log."""
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}
"""Exit code of a run stopped by a signal (128 + its number): whatever was found is written,
the rest is inconclusive."""


VERDICTS = {EXIT_HOLDS: "all properties hold", EXIT_VIOLATED: "violations found",
            EXIT_INCONCLUSIVE: "inconclusive: nothing violated, but the search was bounded",
            SIGNAL_EXIT["SIGINT"]: "interrupted (SIGINT): what was found is written, the rest "
                                   "is inconclusive",
            SIGNAL_EXIT["SIGTERM"]: "interrupted (SIGTERM): what was found is written, the rest "
                                    "is inconclusive"}
"""The words for each exit code of a run (summary, HTML report)."""


def violation_shape(prop: dict[str, Any]) -> str:
    """The length of a violated property's counterexample, from its result.json entry:
    ``8 steps``, or for a lasso ``lasso: 14 steps, then stays put`` /
    ``lasso: 22 steps, steps 17..22 repeat``; a trace that need not be the shortest
    says how it was found (``8 steps, lifted from ring size 2``)."""
    length, loop = prop["length"], prop.get("loop")
    origin = f", {prop['origin']}" if prop.get("origin") else ""
    if loop is None:
        return f"{length} steps{origin}"
    cycle = "then stays put" if loop == length else f"steps {loop + 1}..{length} repeat"
    return f"lasso: {length} steps, {cycle}{origin}"


def exit_code(result: RunResult) -> int:
    """130/143 if a signal stopped the run, else 1 if any property is violated, else 3 if
    any is inconclusive, else 0."""
    if result.stopped is not None:
        return SIGNAL_EXIT.get(result.stopped, EXIT_INCONCLUSIVE)
    statuses = {p.status for p in result.properties}
    if "violated" in statuses:
        return EXIT_VIOLATED
    if "inconclusive" in statuses or not result.properties:
        return EXIT_INCONCLUSIVE
    return EXIT_HOLDS


def result_document(
    model: Model,
    result: RunResult,
    trace_files: dict[str, dict[str, str]],
    settings: dict[str, Any],
    kinds: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``--json`` document (also written as ``result.json``).

    ``kinds`` maps property names to their kind (``always``, ``leads-to``,
    ``eventually``, ``sometimes``); when a liveness property is among them,
    ``fairness`` lists the assumptions it was judged under.  ``coverage``
    (explicit engine) counts how often each action fired; ``interrupted``
    names the signal that stopped the run, if one did.
    """
    env = {p.name for p in model.parameters if p.environment}
    params = model.p.as_dict()
    kinds = kinds or {}
    live = any(k in ("leads-to", "eventually") for k in kinds.values())
    return {
        "tool": "vhostmc",
        "version": __version__,
        "revision": model.name,
        "params": params,
        "environment": {k: v for k, v in params.items() if k in env},
        "engine": result.engine,
        "stats_unit": stats_unit(result.engine),
        "settings": settings,
        "complete": result.complete,
        "bounds_hit": result.bounds_hit,
        "stats": {
            "states": result.stats.states,
            "transitions": result.stats.transitions,
            "max_depth": result.stats.max_depth,
            "seconds": round(result.stats.seconds, 3),
            **_speed(result),
        },
        "fairness": describe_all(model.fairness()) if live else None,
        "assumptions": [a.describe() for a in model.assumptions()],
        "properties": [
            {
                "name": p.name,
                "kind": kinds.get(p.name, "always"),
                "status": p.status,
                "length": len(p.trace) if p.trace is not None else None,
                "trace": trace_files.get(p.name),
                "reason": p.reason,
                "explanation": p.trace.explanation if p.trace is not None else None,
                "loop": p.trace.loop if p.trace is not None else None,
                "origin": (p.trace.origin or None) if p.trace is not None else None,
                "property_args": p.trace.property_args if p.trace is not None else None,
            }
            for p in result.properties
        ],
        "coverage": coverage_document(model, result),
        "interrupted": result.stopped,
        "exit_code": exit_code(result),
    }


def stats_unit(engine: str) -> str:
    """``states`` when ``engine`` counts explored states, ``depth`` when it unrolls."""
    return get_engine(engine).progress_unit if engine in engine_names() else "states"


def counts_states(doc: dict[str, Any]) -> bool:
    """Whether the stats of a result document count explored states (else depth and
    solver queries); documents written before ``stats_unit`` existed say it by name."""
    return doc.get("stats_unit", "states" if doc["engine"] == "explicit" else "depth") == "states"
def coverage_document(model: Model, result: RunResult) -> dict[str, Any] | None:
    """How often each action fired (``None`` for an engine that does not count):
    ``actions`` per action name (its actor, transitions taken, new states found,
    instances), ``instances`` per instance label, ``never_fired`` the action names
    with no transition, ``search_complete`` whether every reachable state was expanded
    (else an action may still fire in the unexplored part)."""
    if result.coverage is None:
        return None
    actions: dict[str, dict[str, Any]] = {}
    instances: dict[str, dict[str, int]] = {}
    for inst, (fired, fresh) in zip(model.instances, result.coverage):
        instances[inst.label] = {"fired": fired, "new_states": fresh}
        entry = actions.setdefault(inst.spec.name, {"actor": inst.spec.actor, "fired": 0,
                                                    "new_states": 0, "instances": 0})
        entry["fired"] += fired
        entry["new_states"] += fresh
        entry["instances"] += 1
    return {"search_complete": result.complete, "actions": actions, "instances": instances,
            "never_fired": [name for name, e in actions.items() if e["fired"] == 0]}


def coverage_warnings(doc: dict[str, Any]) -> list[str]:
    """A warning naming the actions that never fired in a complete search (as TLC warns),
    or none."""
    cov = doc.get("coverage")
    if not cov or not cov["search_complete"] or not cov["never_fired"]:
        return []
    never = cov["never_fired"]
    text = (f"warning: {len(never)} action(s) never fired in any reachable state: "
            f"{', '.join(never)} (a guard that is never true here, or a bound too small? "
            "per-action counts: 'coverage' in result.json)")
    return [text]


def coverage_line(doc: dict[str, Any]) -> str | None:
    """``coverage: 25 of 27 actions fired ...`` for the summary, or ``None``."""
    cov = doc.get("coverage")
    if not cov:
        return None
    total = len(cov["actions"])
    never = cov["never_fired"]
    line = f"coverage: {total - len(never)} of {total} actions fired"
    if never:
        where = ("never fired" if cov["search_complete"]
                 else "did not fire in the explored part (search incomplete)")
        line += f"; {where}: {', '.join(never)}"
    return line
def _speed(result: RunResult) -> dict[str, Any]:
    """The explicit engine's backend, states per second and (compiled) bytes per state."""
    stats = result.stats
    if not stats.backend:
        return {}
    out: dict[str, Any] = {"backend": stats.backend,
                           "states_per_second": round(stats.states / stats.seconds)
                           if stats.seconds > 0 else None}
    out["workers"] = stats.workers
    if stats.table_bytes:
        out["table_bytes"] = stats.table_bytes
        out["bytes_per_state"] = round(stats.table_bytes / max(1, stats.states), 1)
    if stats.graph_bytes:
        out["graph_bytes"] = stats.graph_bytes
    return out


def _work_line(doc: dict[str, Any]) -> str:
    """What the engine did: states explored, or depth reached and solver queries."""
    stats = doc["stats"]
    if counts_states(doc):
        work = (f"explored {stats['states']} states, {stats['transitions']} transitions, "
                f"depth {stats['max_depth']}")
    elif doc["engine"] == "pdr" and not stats["transitions"]:
        work = f"pdr: {stats['states']} states explored, no Houdini round"
    elif doc["engine"] == "pdr":
        work = (f"pdr: {stats['states']} states explored to mine candidate invariants, "
                f"induction tried up to k={stats['max_depth']}, "
                f"{stats['transitions']} Houdini rounds")
    elif doc["engine"] == "kind":  # max_depth: the last k whose base and step case finished
        k = stats["max_depth"]
        work = (f"kind: k = 1..{k} finished" if k else "kind: no k finished") + (
            f", {stats['transitions']} solver queries")
    elif doc["engine"] == "simulate":  # states: walks done, transitions: steps taken
        walks = f"{stats['states']} random walk" + ("" if stats["states"] == 1 else "s")
        work = (f"simulate: {walks}, {stats['transitions']} steps, "
                f"the longest {stats['max_depth']}")
    elif doc["engine"] == "inductive":  # max_depth: 1 once every action was asked
        work = (f"inductive: step case {'finished' if stats['max_depth'] else 'not finished'}, "
                f"{stats['transitions']} solver queries")
    else:
        work = (f"{doc['engine']}: depth {stats['max_depth']} reached, "
                f"{stats['transitions']} solver queries")
    if stats.get("backend"):
        workers = stats.get("workers", 1)
        work += f" (backend: {stats['backend']}" + (f", {workers} workers)" if workers > 1
                                                    else ")")
    search = "complete" if doc["complete"] else "incomplete"
    if not doc["complete"] and doc["bounds_hit"]:
        search += f" ({', '.join(doc['bounds_hit'])})"
    elif not doc["complete"]:  # no bound hit: say why, when every open property agrees
        reasons = {p.get("reason") for p in doc.get("properties", [])
                   if p.get("status") == "inconclusive"}
        if len(reasons) == 1 and None not in reasons:
            search += f" ({reasons.pop()})"
    return f"{work} in {stats['seconds']:.1f}s; search {search}"


def reduction_line(reduction: dict[str, Any]) -> str:
    """Whether the dead-value reduction was on, and on what grounds."""
    proof = reduction.get("proof") or {}
    if reduction.get("on"):
        how = "recalled from the cache" if proof.get("cached") else (
            f"{proof.get('queries')} Z3 queries, {proof.get('seconds', 0):.1f}s")
        return (f"dead-value reduction: on ({len(proof.get('declarations', []))} declarations, "
                f"proof passed: {how}; traces show canonical values)")
    return f"dead-value reduction: off ({reduction.get('why', 'not applicable')})"


def symmetry_line(symmetry: dict[str, Any]) -> str:
    """Whether the symmetry reduction (``--symmetry``) was on, and on what grounds."""
    proof = symmetry.get("proof") or {}
    if symmetry.get("on"):
        how = "recalled from the cache" if proof.get("cached") else (
            f"{proof.get('queries')} Z3 queries, {proof.get('seconds', 0):.1f}s")
        return (f"symmetry reduction: on ({symmetry.get('ids')}; one state per "
                f"{symmetry.get('renamings')} renamings; proof passed: {how}; traces are "
                "model paths re-fired from the representatives)")
    return f"symmetry reduction: off ({symmetry.get('why', 'not applicable')})"


def por_line(por: dict[str, Any]) -> str:
    """Whether the partial-order reduction (``--por``) was on, and where it applies."""
    if not por.get("on"):
        return f"partial-order reduction: off ({por.get('why', 'not applicable')})"
    safe = []
    for actor, entry in (por.get("actors") or {}).items():
        if entry.get("pc") is None and entry.get("safe"):
            safe.append(actor)
        elif entry.get("safe_at"):
            safe.append(f"{actor} at {entry['pc']} in {entry['safe_at']}")
    where = "; ".join(safe) if safe else "no actor's steps are independent and invisible: " \
        "no state is reduced"
    return (f"partial-order reduction: on (invariants only; ample sets: {where}; traces are "
            "model paths, not necessarily the shortest)")


def summary_text(doc: dict[str, Any]) -> str:
    """A few lines: what was checked, under which switches, and each verdict."""
    params = doc["params"]
    env = doc["environment"]
    lines = [
        (f"vhostmc {doc['version']}: revision {doc['revision']}, engine {doc['engine']}, "
        f"ring size {params.get('ring_size')}"),
        "parameters: " + ", ".join(f"{k}={v}" for k, v in params.items() if k not in env),
        "environment: " + ", ".join(f"{k}={v}" for k, v in env.items()),
        _work_line(doc),
    ]
    if doc.get("assumptions"):
        lines.append("environment assumptions (runs are restricted to these):")
        lines += [f"  - {text}" for text in doc["assumptions"]]
    if doc.get("reduction") is not None:
        lines.append(reduction_line(doc["reduction"]))
    if doc.get("symmetry") is not None:
        lines.append(symmetry_line(doc["symmetry"]))
    if doc.get("por") is not None:
        lines.append(por_line(doc["por"]))
    if doc.get("fairness"):
        lines.append("liveness judged under these fairness assumptions:")
        lines += [f"  - {text}" for text in doc["fairness"]]
    width = max((len(p["name"]) for p in doc["properties"]), default=8)
    for p in doc["properties"]:
        line = f"  {p['name']:<{width}}  {p['status'].upper()}"
        if p["status"] == "violated" and p["length"] is None:
            line += f"  ({p['reason']})" if p["reason"] else ""
        elif p["status"] == "violated":
            line += f"  ({violation_shape(p)})"
            if p["trace"]:
                line += f"  {p['trace']['itf']}"
        elif p["status"] == "holds" and p["length"] is not None:
            line += f"  (reached: example of {p['length']} steps)"
            if p["trace"]:
                line += f"  {p['trace']['itf']}"
        elif p["reason"]:  # inconclusive: why; holds: how it was proved (when not exhaustive)
            line += f"  ({p['reason']})"
        for suffix, path in (p.get("evidence") or {}).items():
            line += f"\n      {suffix.split('.')[0]}: {path}"
        lines.append(line)
    coverage = coverage_line(doc)
    if coverage:
        lines.append(coverage)
    lines += coverage_warnings(doc)
    verdict = VERDICTS.get(doc["exit_code"], "unknown")
    lines.append(f"result: {verdict} (exit {doc['exit_code']})")
    return "\n".join(lines)
