"""The result of a run as a JSON document and as a summary a person reads."""

from __future__ import annotations

from typing import Any

from checker import __version__
from checker.engines.base import RunResult
from checker.lang.fairness import describe_all
from checker.lang.model import Model

EXIT_HOLDS = 0
EXIT_VIOLATED = 1
EXIT_USAGE = 2
EXIT_INCONCLUSIVE = 3


VERDICTS = {EXIT_HOLDS: "all properties hold", EXIT_VIOLATED: "violations found",
            EXIT_INCONCLUSIVE: "inconclusive: nothing violated, but the search was bounded"}
"""The words for each exit code of a run (summary, HTML report)."""


def violation_shape(prop: dict[str, Any]) -> str:
    """The length of a violated property's counterexample, from its result.json entry:
    ``8 steps``, or for a lasso ``lasso: 14 steps, then stays put`` /
    ``lasso: 22 steps, steps 17..22 repeat``."""
    length, loop = prop["length"], prop.get("loop")
    if loop is None:
        return f"{length} steps"
    cycle = "then stays put" if loop == length else f"steps {loop + 1}..{length} repeat"
    return f"lasso: {length} steps, {cycle}"


def exit_code(result: RunResult) -> int:
    """1 if any property is violated, else 3 if any is inconclusive, else 0."""
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
    ``eventually``); when a liveness property is among them, ``fairness``
    lists the assumptions it was judged under.
    """
    env = {p.name for p in model.parameters if p.environment}
    params = model.p.as_dict()
    kinds = kinds or {}
    live = any(k != "always" for k in kinds.values())
    return {
        "tool": "vhostmc",
        "version": __version__,
        "revision": model.name,
        "params": params,
        "environment": {k: v for k, v in params.items() if k in env},
        "engine": result.engine,
        "settings": settings,
        "complete": result.complete,
        "bounds_hit": result.bounds_hit,
        "stats": {
            "states": result.stats.states,
            "transitions": result.stats.transitions,
            "max_depth": result.stats.max_depth,
            "seconds": round(result.stats.seconds, 3),
        },
        "fairness": describe_all(model.fairness()) if live else None,
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
                "property_args": p.trace.property_args if p.trace is not None else None,
            }
            for p in result.properties
        ],
        "exit_code": exit_code(result),
    }


def _work_line(doc: dict[str, Any]) -> str:
    """What the engine did: states explored, or depth reached and solver queries."""
    stats = doc["stats"]
    if doc["engine"] == "explicit":
        work = (f"explored {stats['states']} states, {stats['transitions']} transitions, "
                f"depth {stats['max_depth']}")
    else:
        work = (f"{doc['engine']}: depth {stats['max_depth']} reached, "
                f"{stats['transitions']} solver queries")
    search = "complete" if doc["complete"] else "incomplete"
    if not doc["complete"] and doc["bounds_hit"]:
        search += f" ({', '.join(doc['bounds_hit'])})"
    return f"{work} in {stats['seconds']:.1f}s; search {search}"


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
    if doc.get("fairness"):
        lines.append("liveness judged under these fairness assumptions:")
        lines += [f"  - {text}" for text in doc["fairness"]]
    width = max((len(p["name"]) for p in doc["properties"]), default=8)
    for p in doc["properties"]:
        line = f"  {p['name']:<{width}}  {p['status'].upper()}"
        if p["status"] == "violated":
            line += f"  ({violation_shape(p)})"
            if p["trace"]:
                line += f"  {p['trace']['itf']}"
        elif p["reason"]:  # inconclusive: why; holds: how it was proved (when not exhaustive)
            line += f"  ({p['reason']})"
        for suffix, path in (p.get("evidence") or {}).items():
            line += f"\n      {suffix.split('.')[0]}: {path}"
        lines.append(line)
    verdict = VERDICTS[doc["exit_code"]]
    lines.append(f"result: {verdict} (exit {doc['exit_code']})")
    return "\n".join(lines)
