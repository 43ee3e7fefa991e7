"""The outputs of ``vhostmc matrix``: matrix.md, matrix.csv and matrix.png.

One row per property and environment (and fairness preset, when the matrix has
that axis), one column per revision and ring size.  On the fairness axis a
violation also shows its shape: ``violated (L)`` for a finite counterexample,
``violated (L, stutter)`` for a lasso that stays in its last state,
``violated (L, cycle k..)`` for one whose steps k to L repeat.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from checker.outputs.files import write_atomic
from checker.runs.environments import get_environment
from checker.runs.fairness import get_fairness
from checker.runs.matrixcells import Cell, MatrixResult


def lasso_shape(p: dict[str, Any]) -> str:
    """``", stutter"`` or ``", cycle k.."`` for a lasso counterexample (``k``: its first
    repeated step), ``""`` for a finite one."""
    loop = p.get("loop")
    if loop is None:
        return ""
    return ", stutter" if loop == p["length"] else f", cycle {loop + 1}.."


def cell_text(result: MatrixResult, cell: Cell, prop: str, out_dir: Path | None) -> str:
    """``holds``, ``violated (L steps)`` (linked to its ITF trace when ``out_dir``
    is given) or ``inconclusive (<bound>)``.  On the fairness axis a violation is
    ``violated (L)`` followed by its lasso shape (:func:`lasso_shape`)."""
    p = result.verdict(cell, prop)
    if p["status"] == "violated" and p["length"] is None:
        return "violated (unreachable)"  # a sometimes property no reachable state satisfies
    if p["status"] == "violated":
        text = (f"violated ({p['length']}{lasso_shape(p)})" if result.fairness
                else f"violated ({p['length']} steps)")
        itf = (p.get("trace") or {}).get("itf")
        if out_dir is not None and itf:
            return f"[{text}]({_relative(Path(itf), out_dir)})"
        return text
    if p["status"] == "inconclusive":
        return f"inconclusive ({bound_text(result.docs[cell])})"
    if p["status"] == "error":
        return "error (see Runs)"
    return "holds"


def bound_text(doc: dict[str, Any]) -> str:
    """The bound(s) that cut a run, in words."""
    return ", ".join(doc.get("bounds_hit") or []) or "search incomplete"


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def markdown_table(result: MatrixResult, out_dir: Path | None = None) -> str:
    """The verdict table in Markdown; cells link to their traces when ``out_dir`` is given
    (links are relative to it).  The fairness axis adds a ``fairness`` column."""
    cols = result.columns()
    fair_head, fair_rule = ("fairness | ", "--- | ") if result.fairness else ("", "")
    lines = [f"| property | environment | {fair_head}"
             + " | ".join(f"{r} n={n}" for r, n in cols) + " |",
             f"| --- | --- | {fair_rule}" + " | ".join("---" for _ in cols) + " |"]
    for env, prop, fair in result.rows():
        row = [cell_text(result, result.cell(r, n, env, fair), prop, out_dir) for r, n in cols]
        fair_cell = f"{fair} | " if fair is not None else ""
        lines.append(f"| {prop} | {env} | {fair_cell}" + " | ".join(row) + " |")
    return "\n".join(lines)


FAIRNESS_LEGEND = (
    "Each row also names a fairness preset (`checker/runs/fairness.py`), the fairness "
    "liveness is judged under. A liveness violation is a lasso: `violated (L, stutter)` "
    "is L steps after which the run stays in its last state, `violated (L, cycle k..)` "
    "L steps of which steps k to L repeat forever; `violated (L)` is a finite "
    "counterexample of L steps (an invariant).")


def markdown(result: MatrixResult, out_dir: Path, command: str | None) -> str:
    """The matrix as a Markdown page: the command, the table, the runs."""
    title = "revisions x ring sizes" + (" x fairness presets" if result.fairness else "")
    lines = [f"# Verdict matrix: {title}", ""]
    if command:
        lines += ["Reproduce with one command (from the repository root):", "",
                  "```sh", command, "```", ""]
    lines += [
        ("Each column is a revision at a ring size (`vq->num`), each row a property under a "
         "named environment (`checker/runs/environments.py`). A cell is `holds` (complete search), "
         "`violated (L steps)` linked to its shortest counterexample (ITF; `vhostmc replay` "
         "re-executes it) or `inconclusive (<bound>)` when a limit cut the search."),
        "",
    ]
    if result.fairness:
        lines += [FAIRNESS_LEGEND, ""]
    lines += [markdown_table(result, out_dir)]
    lines += ["", "## Runs", "",
              "| cell | states | transitions | depth | seconds | search |",
              "| --- | --- | --- | --- | --- | --- |"]
    for cell in result.cells:
        doc = result.docs[cell]
        if "error" in doc:
            lines.append(f"| {cell.key} | | | | | error: {doc['error']} |")
            continue
        if "not_run" in doc:
            lines.append(f"| {cell.key} | | | | | not run: {bound_text(doc)} |")
            continue
        st = doc["stats"]
        search = "complete" if doc["complete"] else f"cut ({bound_text(doc)})"
        if not doc["complete"] and not doc.get("bounds_hit"):
            search = "stopped: every property violated"
        lines.append(f"| [{cell.key}](cells/{cell.key}/result.json) | {st['states']} | "
                     f"{st['transitions']} | {st['max_depth']} | {st['seconds']:.1f} | {search} |")
    first = result.cells[0].revision if result.cells else None  # every revision has them
    envs = ", ".join(f"`{e}`: {get_environment(e, first).description}" for e in result.envs)
    lines += ["", f"Environments: {envs}.", ""]
    if result.fairness:
        fairs = ", ".join(f"`{f}`: {get_fairness(f).description}" for f in result.fairness)
        lines += [f"Fairness presets: {fairs}.", ""]
    return "\n".join(lines)


CSV_FIELDS = ("property", "environment", "revision", "ring_size", "status", "steps", "bound",
              "trace", "states", "seconds")
"""The columns of matrix.csv; the fairness axis adds ``fairness`` after ``environment``."""


def csv_text(result: MatrixResult, out_dir: Path) -> str:
    """One line per cell and property."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    fields = list(CSV_FIELDS)
    if result.fairness:
        fields.insert(2, "fairness")
    writer.writerow(fields)
    for env, prop, fair in result.rows():
        for label, n in result.columns():
            cell = result.cell(label, n, env, fair)
            doc = result.docs[cell]
            p = result.verdict(cell, prop)
            itf = (p.get("trace") or {}).get("itf")
            stats = doc.get("stats", {})
            note = {"inconclusive": bound_text(doc), "error": doc.get("error", "")}
            writer.writerow([prop, env] + ([fair] if fair is not None else []) + [
                label, n, p["status"], p["length"] or "",
                note.get(p["status"], ""),
                _relative(Path(itf), out_dir) if itf else "",
                stats.get("states", ""), stats.get("seconds", ""),
            ])
    return buf.getvalue()


STATUS_COLORS = {"holds": "#4caf50", "violated": "#e53935", "inconclusive": "#bdbdbd",
                 "error": "#8e24aa"}


def write_png(result: MatrixResult, path: Path) -> None:
    """A heat map: green holds, red violated (with the trace length), grey inconclusive."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    order = list(STATUS_COLORS)
    cols = result.columns()
    rows = result.rows()
    grid = [[order.index(result.verdict(result.cell(r, n, env, fair), prop)["status"])
             for r, n in cols] for env, prop, fair in rows]
    fig, ax = plt.subplots(figsize=(1.3 + 1.1 * len(cols) + 2.5, 0.9 + 0.42 * len(rows)))
    ax.imshow(grid, cmap=ListedColormap([STATUS_COLORS[s] for s in order]), vmin=0,
              vmax=len(order) - 1, aspect="auto")
    for i, (env, prop, fair) in enumerate(rows):
        for j, (r, n) in enumerate(cols):
            p = result.verdict(result.cell(r, n, env, fair), prop)
            text = {"holds": "holds", "inconclusive": "?", "error": "error"}.get(
                p["status"], f"{p['length'] if p['length'] is not None else 'unreach.'}")
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(cols)), [f"{r}\nn={n}" for r, n in cols], fontsize=8)
    ax.set_yticks(range(len(rows)), [f"{prop} / {env}" + (f" / {fair}" if fair else "")
                                     for env, prop, fair in rows], fontsize=8)
    ax.set_xticks([x - 0.5 for x in range(1, len(cols))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_title("vhostmc verdicts (number: counterexample length in steps)", fontsize=9)
    shown = [s for s in order if any(
        s == result.verdict(result.cell(r, n, env, fair), prop)["status"]
        for env, prop, fair in rows for r, n in cols)]
    ax.legend(handles=[Patch(color=STATUS_COLORS[s], label=s) for s in shown or order],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    os.replace(tmp, path)  # atomic, as every other output


def write_outputs(result: MatrixResult, out_dir: Path, command: str | None) -> None:
    """matrix.md, matrix.csv and matrix.png in ``out_dir``."""
    write_atomic(out_dir / "matrix.md", markdown(result, out_dir, command))
    write_atomic(out_dir / "matrix.csv", csv_text(result, out_dir))
    write_png(result, out_dir / "matrix.png")
