"""One self-contained HTML page per run, built from the run's stored files only.

:func:`build_report` reads ``result.json`` of a run folder (the ``--out`` of
``vhostmc check``) and the ITF trace of each counterexample it names,
rebuilds each :class:`~checker.traces.trace.Trace` on the model (the revision and
parameters ``result.json`` records), and returns one HTML page: the run's
parameters and environment switches, the verdict table, the search
statistics and, for each counterexample, its sequence chart and
neighbourhood graph (inline SVG), a step table to walk with the keyboard,
and the explanation of the violation.

The page needs nothing but itself: CSS, script and pictures are inline, a
Content-Security-Policy forbids every fetch, and the script (allowed by its
hash only) just moves the highlighted step; without it the page shows every
step as a static table.  Every text is HTML-escaped; the same stored run
always gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from checker.lang.model import Model
from checker.lang.spec import Property
from checker.outputs.html.parts import definition_list, esc, slug, table
from checker.outputs.html.steps import counterexample_section
from checker.outputs.summary import VERDICTS, counts_states, violation_shape
from checker.traces.trace import Trace

REPORT_NAME = "report.html"
"""The file ``vhostmc check --report`` writes into the run folder."""

_RESULT_FIELDS: dict[str, type] = {"revision": str, "params": dict, "environment": dict,
                                   "engine": str, "settings": dict, "stats": dict,
                                   "properties": list}

class ReportError(ValueError):
    """The folder is not a run vhostmc can report on (a one-line, user-facing message)."""


@dataclass
class Counterexample:
    """A violated property's trace, rebuilt from its ITF file."""

    name: str
    itf_path: Path
    trace: Trace


@dataclass
class StoredRun:
    """A run folder as read back: its result document, model, properties and traces."""

    folder: Path
    doc: dict[str, Any]
    model: Model
    properties: dict[str, Property]
    counterexamples: list[Counterexample]


def build_report(run: StoredRun) -> str:
    """The HTML page of a stored run (read back by :func:`checker.runs.stored.load_run`);
    see the module docstring."""
    doc = run.doc
    anchors = _anchors([c.name for c in run.counterexamples])
    title = (f"vhostmc report: revision {doc['revision']}, ring size "
             f"{doc['params'].get('ring_size', '?')}")
    verdict = VERDICTS.get(doc.get("exit_code", -1), "unknown")
    body = [
        "<header>",
        f"<h1>{esc(title)}</h1>",
        (f'<p class="verdict-line">result: {esc(verdict)} (exit {esc(doc.get("exit_code"))})'
        f" &mdash; {esc(_counts(doc))}</p>"),
        (f'<p class="muted">vhostmc {esc(doc.get("version", "?"))}, engine {esc(doc["engine"])}; '
        "built from result.json and the ITF traces of the run folder.</p>"),
        _contents(run, anchors),
        "</header>",
        _run_section(run),
        _verdict_section(run, anchors),
        _stats_section(doc),
        _coverage_section(doc),
    ]
    for cex in run.counterexamples:
        prop = run.properties.get(cex.name)
        body.append(counterexample_section(run.model, cex.trace, anchors[cex.name],
                                           prop.statement if prop else "", cex.itf_path.name,
                                           example=getattr(prop, "kind", "") == "sometimes"))
    return page(f"{title}: {verdict}", "\n".join(body))


def page(title: str, body: str) -> str:
    """The complete HTML document: inline CSS, ``body``, the inline stepping script."""
    css = _asset("report.css")
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    policy = ("default-src 'none'; style-src 'unsafe-inline'; "
              f"script-src 'sha256-{digest}'; img-src data:; base-uri 'none'; form-action 'none'")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>\n{css}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{script}</script>\n</body>\n</html>\n"
    )


def _asset(name: str) -> str:
    """A file of ``checker/outputs/html/assets`` (package data) as text."""
    text = resources.files("checker.outputs.html").joinpath("assets", name).read_text(encoding="utf-8")
    if "</" + "script" in text.lower() or "<!--" in text:
        raise ValueError(f"report asset {name} must not contain '</script' or '<!--'")
    return text


def _anchors(names: list[str]) -> dict[str, str]:
    """A distinct element id per counterexample, ``cex-<name>``."""
    out: dict[str, str] = {}
    for name in names:
        anchor = f"cex-{slug(name)}"
        while anchor in out.values():
            anchor += "-x"
        out[name] = anchor
    return out


def _counts(doc: dict[str, Any]) -> str:
    statuses = [p["status"] for p in doc["properties"]]
    return ", ".join(f"{statuses.count(s)} {s}" for s in ("violated", "holds", "inconclusive"))


def _contents(run: StoredRun, anchors: dict[str, str]) -> str:
    links = ['<a href="#run">Run</a>', '<a href="#verdicts">Verdicts</a>',
             '<a href="#stats">Statistics</a>']
    if run.doc.get("coverage"):
        links.append('<a href="#coverage">Coverage</a>')
    links += [f'<a href="#{esc(anchors[c.name])}">{esc(c.name)}</a>'
              for c in run.counterexamples]
    return f'<nav aria-label="contents">{" &middot; ".join(links)}</nav>'


def _run_section(run: StoredRun) -> str:
    """Parameters and environment switches (with their meaning), revision and user files."""
    doc = run.doc
    help_of = {p.name: p.help for p in run.model.parameters}
    env = doc["environment"]

    def params_table(environment: bool, title: str) -> str:
        rows = [(f"<code>--{esc(k.replace('_', '-'))}</code>", f"<code>{esc(v)}</code>",
                 esc(help_of.get(k, ""))) for k, v in doc["params"].items()
                if (k in env) == environment]
        css = "environment" if environment else "parameters"
        return f"<div><h3>{esc(title)}</h3>" + table(("option", "value", "meaning"), rows,
                                                       css) + "</div>"

    settings = doc["settings"]
    where = [("revision", (f"<code>{esc(doc['revision'])}</code> "
              f"<span class=\"muted\">{esc(run.model.description)}</span>"))]
    if settings.get("revision_file"):
        where.append(("revision file", f"<code>{esc(settings['revision_file'])}</code>"))
    if settings.get("spec_files"):
        where.append(("spec files", ", ".join(f"<code>{esc(f)}</code>"
                                              for f in settings["spec_files"])))
    return ('<section id="run"><h2>Run</h2>' + definition_list(where) + '<div class="columns">'
            + params_table(False, "Parameters") + params_table(True, "Environment switches")
            + "</div></section>")


def _verdict_section(run: StoredRun, anchors: dict[str, str]) -> str:
    """One row per property of result.json: name, statement, status, steps or reason."""
    rows, attrs = [], []
    for p in run.doc["properties"]:
        name, status = p["name"], p["status"]
        prop = run.properties.get(name)
        link = (f'<a href="#{esc(anchors[name])}">{esc(name)}</a>' if name in anchors
                else esc(name))
        if status == "violated" and p.get("length") is not None:
            detail = violation_shape(p)
        elif status == "holds" and p.get("length") is not None:
            detail = f"reached: example of {p['length']} steps"
        else:
            detail = str(p.get("reason") or "")
        rows.append((link, esc(getattr(prop, "kind", "always")) if prop else "",
                     esc(prop.statement) if prop else "", esc(status.upper()), esc(detail)))
        attrs.append(f' class="verdict status-{esc(slug(status))}" data-property="{esc(name)}"'
                     f' data-status="{esc(status)}"')
    verdicts = table(("property", "kind", "statement", "status", "steps / reason"), rows,
                     "verdicts", attrs)
    fairness = run.doc.get("fairness") or []
    judged = ("<p>Liveness properties (kinds leads-to, eventually) were judged on the runs "
              "that respect these fairness assumptions:</p><ul class=\"fairness\">"
              + "".join(f"<li>{esc(text)}</li>" for text in fairness) + "</ul>"
              if fairness else "")
    return ('<section id="verdicts"><h2>Verdicts</h2>'
            + verdicts + judged + "</section>")


def _stats_section(doc: dict[str, Any]) -> str:
    """The engine's work (states, transitions, depth, time) and the settings and limits."""
    stats = doc["stats"]
    search = "complete" if doc.get("complete") else "incomplete"
    if not doc.get("complete") and doc.get("bounds_hit"):
        search += f" (cut by {', '.join(map(str, doc['bounds_hit']))})"
    work: list[tuple[str, Any]] = [("engine", doc["engine"]), ("search", search)]
    if counts_states(doc):
        work += [("states", stats.get("states")), ("transitions", stats.get("transitions"))]
    else:  # the Z3 engines count solver queries, not states
        work.append(("solver queries", stats.get("transitions")))
    work += [("depth reached", stats.get("max_depth")), ("seconds", stats.get("seconds"))]
    limits = [(key.replace("_", " "), _setting(value)) for key, value in doc["settings"].items()
              if key not in ("revision_file", "spec_files")]
    return ('<section id="stats"><h2>Statistics</h2><div class="columns"><div>'
            + definition_list([(k, esc(v)) for k, v in work], "stats")
            + "</div><div><h3>Settings and limits</h3>"
            + definition_list([(k, esc(v)) for k, v in limits], "limits")
            + "</div></div></section>")


def _coverage_section(doc: dict[str, Any]) -> str:
    """How often each action fired (result.json ``coverage``); actions that never fired
    first, marked.  Empty for an engine that does not count."""
    cov = doc.get("coverage")
    if not cov:
        return ""
    never = set(cov.get("never_fired") or [])
    actions = cov.get("actions") or {}
    order = sorted(actions, key=lambda name: (name not in never, name))
    rows = [(f"<code>{esc(name)}</code>", esc(actions[name].get("actor", "")),
             esc(actions[name].get("instances", "")), esc(actions[name].get("fired", "")),
             esc(actions[name].get("new_states", ""))) for name in order]
    attrs = [' class="never-fired"' if name in never else "" for name in order]
    scope = ("every reachable state was expanded" if cov.get("search_complete")
             else "the search was incomplete: an action may still fire in the unexplored part")
    note = (f"<p><strong>{len(never)} action(s) never fired</strong>: "
            + ", ".join(f"<code>{esc(n)}</code>" for n in sorted(never)) + "</p>"
            if never else "<p>Every action fired.</p>")
    return ('<section id="coverage"><h2>Coverage</h2>'
            f'<p class="muted">Transitions taken per action ({esc(scope)}).</p>' + note
            + table(("action", "actor", "instances", "fired", "new states"), rows, "coverage",
                    attrs) + "</section>")


def _setting(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
