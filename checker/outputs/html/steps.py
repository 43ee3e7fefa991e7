"""The counterexample part of the HTML report: pictures, the step table, the step panel.

The step table is complete static HTML (one row per step: actor, action,
kernel function, quoted patch code, changed variables); the panel beside
it shows one step in full (its variable diffs and the whole state) and is
rendered here for step 1, so the page reads the same without script.  The
section also carries the steps as JSON (``<script type="application/json"
class="cex-data">``), from which ``assets/report.js`` refills the
panel when the reader steps forward and back.
"""

from __future__ import annotations

from typing import Any

from checker.lang.model import Model
from checker.lang.presentation import format_value
from checker.outputs.html.parts import esc, json_for_script, table
from checker.outputs.html.pictures import chart_figure, graph_figure
from checker.traces.trace import Step, Trace

KEY_HINT = ("Click a step (or the table), then: &rarr; or j next step, &larr; or k previous, "
            "Home first, End last.")


def diff_text(name: str, before: Any, after: Any) -> str:
    """One variable diff as the report prints it: ``name: a -> b``."""
    return f"{name}: {format_value(before)} -> {format_value(after)}"


def base_name(name: str) -> str:
    """The variable a changed name belongs to: ``rc[1]`` -> ``rc``."""
    return name.split("[", 1)[0]


def in_cycle(trace: Trace, index: int) -> bool:
    """Whether step ``index`` lies on a lasso's cycle (after the state the run loops back to)."""
    return trace.loop is not None and index > trace.loop


def step_data(model: Model, trace: Trace) -> dict[str, Any]:
    """The JSON the page's script steps through: variable names, each step, loop, explanation."""
    return {
        "vars": [v.name for v in model.vars],
        "loop": trace.loop,
        "explanation": trace.explanation,
        "steps": [
            {
                "index": step.index,
                "actor": step.actor,
                "action": step.label,
                "function": step.function,
                "code": step.code,
                "changes": [diff_text(n, a, b) for n, a, b in step.changes],
                "changed": sorted({base_name(n) for n, _, _ in step.changes}),
                "state": [format_value(v) for v in step.state],
            }
            for step in trace.steps
        ],
    }


def counterexample_section(model: Model, trace: Trace, anchor: str, statement: str,
                           itf_name: str, example: bool = False) -> str:
    """The report section of one counterexample (or, ``example``, of a trace reaching a
    ``sometimes`` property); ``anchor`` is its element id."""
    n = len(trace)
    loop_attr = f' data-loop="{trace.loop}"' if trace.loop is not None else ""
    lasso = ", a lasso" if trace.loop is not None else ""
    parts = [
        (f'<section class="cex" id="{esc(anchor)}" data-property="{esc(trace.property)}" '
         f'data-steps="{n}"{loop_attr}>'),
        (f"<h2>{'Example' if example else 'Counterexample'}: "
         f"{esc(trace.property)}{esc(_instance(trace))} "
         f'<span class="muted">({n} steps{lasso})</span></h2>'),
    ]
    if statement:
        parts.append(f'<p class="statement">The property: {esc(statement)}</p>')
    parts.append(f'<p class="muted">Trace file: <code>{esc(itf_name)}</code> (ITF; '
                 f"<code>vhostmc replay</code> re-executes it)</p>")
    parts.append(chart_figure(model, trace, f"{anchor}-chart-"))
    parts.append(graph_figure(model, trace, f"{anchor}-graph-"))
    parts.append(_state_details(model, trace.initial, "Initial state (state 0)", "initial"))
    if n:
        parts.append(f'<div class="walk"><div class="steps-wrap" tabindex="0" '
                     f'aria-label="steps of the counterexample to {esc(trace.property)}">'
                     f"{_step_table(trace)}</div>{_panel(model, trace, trace.steps[0])}</div>")
        parts.append(f'<script type="application/json" class="cex-data">'
                     f"{json_for_script(step_data(model, trace))}</script>")
    else:
        parts.append('<p class="notice">The initial state already violates the property.</p>')
    if trace.loop is not None:
        parts.append(f'<p class="loop-note">{_loop_text(trace)}</p>')
    parts.append(f'<div class="explanation"><h3>Why {esc(trace.property)} is violated</h3>'
                 f"<p>{esc(trace.explanation or 'no explanation recorded')}</p></div>")
    parts.append("</section>")
    return "\n".join(parts)


def _instance(trace: Trace) -> str:
    """`` for h=0`` for a liveness property's instance, else nothing."""
    args = ", ".join(f"{k}={v}" for k, v in trace.property_args.items())
    return f" for {args}" if args else ""


def _loop_text(trace: Trace) -> str:
    """What a lasso does after its last step, in words."""
    mark = '<span class="loop-mark">&#8635;</span>'
    if trace.loop == len(trace):
        return f"{mark} After step {len(trace)} the run stays in that state forever."
    target = "the initial state" if trace.loop == 0 else f"the state after step {trace.loop}"
    return (f"{mark} After step {len(trace)} the run is back in {target}: steps "
            f"{(trace.loop or 0) + 1}&ndash;{len(trace)} (marked {mark}) repeat forever.")


def _step_table(trace: Trace) -> str:
    rows, attrs = [], []
    for step in trace.steps:
        mark = ' <span class="loop-mark" title="on the cycle">&#8635;</span>' \
            if in_cycle(trace, step.index) else ""
        changes = "<br>".join(f"<code>{esc(diff_text(*c))}</code>" for c in step.changes)
        rows.append((f"{step.index}{mark}", esc(step.actor), f"<code>{esc(step.label)}</code>",
                     esc(step.function), f'<code class="code">{esc(step.code)}</code>',
                     changes or '<span class="muted">nothing</span>'))
        classes = ["step", f"actor-{esc(step.actor)}"]
        if in_cycle(trace, step.index):
            classes.append("cycle")
        if step.index == 1:
            classes.append("current")
        current = ' aria-current="step"' if step.index == 1 else ""
        attrs.append(f' class="{" ".join(classes)}" data-step="{step.index}"{current}')
    html = table(("#", "actor", "action", "kernel function", "patch code", "changed"), rows,
                 "steps", attrs)
    if trace.loop is not None:
        html = html.replace("</tbody>", '</tbody><tfoot><tr class="loop-back"><td colspan="6">'
                            f"{_loop_text(trace)}</td></tr></tfoot>", 1)
    return html


def _panel(model: Model, trace: Trace, step: Step) -> str:
    """The step panel, filled in for ``step`` (the script refills it on each move)."""
    n = len(trace)
    diffs = "".join(f"<li><code>{esc(diff_text(*c))}</code></li>" for c in step.changes) \
        or "<li>nothing</li>"
    changed = {base_name(name) for name, _, _ in step.changes}
    cycle_hidden = "" if in_cycle(trace, step.index) else " hidden"
    violation_hidden = "" if step.index == n else " hidden"
    return (
        '<aside class="panel" aria-live="polite">'
        f'<h3>Step <span class="pos">{step.index}</span> of {n} '
        f'<span class="cycle-tag"{cycle_hidden}>&#8635; on the cycle</span></h3>'
        f'<dl><dt>actor</dt><dd class="actor">{esc(step.actor)}</dd>'
        f'<dt>action</dt><dd><code class="action">{esc(step.label)}</code></dd>'
        f'<dt>kernel function</dt><dd class="function">{esc(step.function)}</dd></dl>'
        f'<h4>Patch code</h4><pre class="code">{esc(step.code)}</pre>'
        f'<h4>Changed</h4><ul class="diffs">{diffs}</ul>'
        + _state_details(model, step.state, f"Full state after step {step.index}", "state-box",
                         changed)
        + f'<div class="violation"{violation_hidden}><strong>Violation:</strong> '
        f"{esc(trace.explanation)}</div>"
        f'<p class="hint" hidden>{KEY_HINT}</p></aside>'  # the script shows it
    )


def _state_details(model: Model, state: tuple[Any, ...], title: str, css_class: str,
                   changed: set[str] | None = None) -> str:
    """A collapsed ``<details>`` with every variable of ``state``; ``changed`` ones marked."""
    marked = changed or set()
    rows = []
    for var, value in zip(model.vars, state):
        cls = ' class="changed"' if var.name in marked else ""
        rows.append(f"<tr><td{cls}>{esc(var.name)}</td><td{cls}>{esc(format_value(value))}</td></tr>")
    return (f'<details class="{esc(css_class)}"><summary class="state-title">{esc(title)}'
            '</summary><table class="state"><thead><tr><th>variable</th><th>value</th></tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></details>')
