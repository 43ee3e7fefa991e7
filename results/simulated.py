"""Write results/simulated.md from results/generated/simulated/*/result.json.

Each run is ``vhostmc check --engine simulate`` at ring size 256 with the kernel's
constants (``results/regenerate.sh simulated``), and each violation it found is then
shrunk by ``vhostmc shrink``: what random walks find at the real constants on their
own, next to what lifting from ring 2 finds (results/lifted.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from lifted import ROOT, page

from checker.outputs.files import write_atomic

COMMAND = ("vhostmc check --engine simulate --ring-size 256 --uio-maxiov 1024 --max-pend 128 "
           "--walks 10 --depth 2000 --time-limit 300 <environment's switches>")


def shrunk_lengths() -> dict[str, int]:
    """Steps of each shrunk trace, by the ITF path of the trace it was shrunk from."""
    out = {}
    for path in (ROOT / "generated" / "simulated").glob("*/*.shrunk.itf.json"):
        states = json.loads(path.read_text())["states"]
        out[str(path).replace(".shrunk.itf.json", ".itf.json")] = len(states) - 1
    return out


def table() -> str:
    """The simulated page; a violation's cell also gives its shrunk length."""
    text = page("simulated", "Random simulation at the kernel's constants",
                "results/simulated.py", (
                    f"Each column is one `{COMMAND}` run per environment (`vhostmc list`), "
                    "seed 0. A cell links the walk that broke the property at ring size 256 "
                    "with UIO_MAXIOV 1024 and VHOST_MAX_PEND 128 (docs/engines.md, \"Random "
                    "simulation\"), with the length `vhostmc shrink` cut it to; `-` when no "
                    "walk broke it, which proves nothing (liveness is not checked by "
                    "simulation). Walks are paths of the ring-256 model, replayed, not the "
                    "shortest."))
    for itf, steps in sorted(shrunk_lengths().items()):
        link = "generated/simulated/" + "/".join(Path(itf).parts[-2:])
        text = text.replace(f"steps)]({link})", f"steps; shrunk: {steps})]({link})")
    return text


def main() -> None:
    write_atomic(ROOT / "simulated.md", table())


if __name__ == "__main__":
    main()
