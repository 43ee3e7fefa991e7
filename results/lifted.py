"""Write results/lifted.md from results/generated/lifted/*/result.json.

Each run is ``vhostmc check --engine bmc --lift-from 2`` at ring size 256 with the
kernel's constants (``results/regenerate.sh lifted``): which of the ring-2
counterexamples of each revision and environment are paths at the real constants.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from checker.outputs.files import write_atomic
from checker.outputs.summary import violation_shape
from checker.runs.environments import environment_names

RUNS = ROOT / "generated" / "lifted"
REVISIONS = ["v9", "v3.1"]
COMMAND = ("vhostmc check --engine bmc --lift-from 2 --ring-size 256 --uio-maxiov 1024 "
           "--max-pend 128 --depth 1 <environment's switches>")


def cell(prop: dict, run: str, folder: str = "lifted") -> str:
    """A violated property links its trace (its origin is the page's, so it is left
    out); anything else is ``-``."""
    if prop["status"] == "violated":
        itf = Path(prop["trace"]["itf"]).name
        shape = violation_shape({**prop, "origin": None})
        return f"[violated ({shape})](generated/{folder}/{run}/{itf})"
    return "-"


def page(folder: str, title: str, writer: str, explanation: str) -> str:
    """The Markdown page of the runs in ``results/generated/<folder>/<revision>-<env>``:
    one row per property and environment, a column per revision, then the seconds of
    each run. ``writer`` names the script that writes it."""
    docs = {path.parent.name: json.loads(path.read_text())
            for path in sorted((ROOT / "generated" / folder).glob("*/result.json"))}
    envs = environment_names()
    names = [p["name"] for p in next(iter(docs.values()))["properties"]]
    lines = [
        f"# {title}",
        "",
        (f"Regenerate: `results/regenerate.sh {folder}` (bulk in `results/generated/{folder}/`); "
         f"this page is written by `{writer}`."),
        "",
        explanation,
        "",
        "| property | environment | " + " | ".join(f"{r} n=256" for r in REVISIONS) + " |",
        "| --- | --- | " + " | ".join("---" for _ in REVISIONS) + " |",
    ]
    for env in envs:
        if not any(f"{rev}-{env}" in docs for rev in REVISIONS):
            continue
        for i, name in enumerate(names):
            cells = []
            for rev in REVISIONS:
                run = f"{rev}-{env}"
                doc = docs.get(run)
                cells.append("(not run)" if doc is None
                             else cell(doc["properties"][i], run, folder))
            lines.append(f"| {name} | {env} | " + " | ".join(cells) + " |")
    seconds = {run: doc["stats"]["seconds"] for run, doc in docs.items()}
    lines += ["", "Seconds per run: " + ", ".join(f"{run} {s:.0f}" for run, s in seconds.items())
              + "."]
    return "\n".join(lines) + "\n"


def table() -> str:
    """The lifted page."""
    return page("lifted", "Ring-2 counterexamples at the kernel's constants", "results/lifted.py", (
        f"Each column is one `{COMMAND}` run per environment (`vhostmc list`). A cell "
        "links the trace when the explicit engine's ring-2 counterexample, fired again "
        "at ring size 256 with UIO_MAXIOV 1024 and VHOST_MAX_PEND 128, is a violation "
        "there too (docs/engines.md, \"Lifting\"); `-` when nothing was lifted (the "
        "property holds at ring 2, see matrix.md, or its trace did not lift). Lifted "
        "traces are paths of the ring-256 model, replayed, not necessarily the shortest."))


def main() -> None:
    write_atomic(ROOT / "lifted.md", table())


if __name__ == "__main__":
    main()
