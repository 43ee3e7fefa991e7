"""Print the Markdown table of results/generated/runs/*/result.json (pasted into FINDINGS.md)."""

from __future__ import annotations

import json
from pathlib import Path

RUNS = Path(__file__).resolve().parent / "generated" / "runs"
ORDER = ["all", "datapath", "sendfail", "backend", "release", "rogue", "bigring"]


def cell(prop: dict) -> str:
    if prop["status"] == "violated":
        return f"violated ({prop['length']})"
    return prop["status"]


def _explorer(doc: dict) -> str:
    """Which explorer ran, and whether the dead-value reduction and descriptor
    symmetry were on."""
    backend = doc["stats"].get("backend", "python")
    reduced = (doc.get("reduction") or {}).get("on")
    symmetric = (doc.get("symmetry") or {}).get("on")
    return (f"{backend.split(' ')[0]}{', reduced' if reduced else ''}"
            f"{', symmetry' if symmetric else ''}")


def main() -> None:
    docs = []
    for path in sorted(RUNS.glob("*/result.json")):
        config, ring = path.parent.name.rsplit("-n", 1)
        docs.append((ORDER.index(config) if config in ORDER else 99, int(ring), config,
                     json.loads(path.read_text())))
    docs.sort()
    names = [p["name"] for p in docs[0][3]["properties"]]
    print("| config | N | " + " | ".join(names) + " | states | seconds | search | explorer |")
    print("| --- | --- | " + " | ".join("---" for _ in names) + " | --- | --- | --- | --- |")
    for _, ring, config, doc in docs:
        cells = " | ".join(cell(p) for p in doc["properties"])
        search = "complete" if doc["complete"] else ", ".join(doc["bounds_hit"]) or "stopped"
        print(f"| {config} | {ring} | {cells} | {doc['stats']['states']} | "
              f"{doc['stats']['seconds']:.0f} | {search} | {_explorer(doc)} |")


if __name__ == "__main__":
    main()
