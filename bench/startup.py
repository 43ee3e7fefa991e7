"""Start-up cost of the CLI: wall time of `vhostmc --version`, `vhostmc list` and a small
ring-1 check, each the median of several runs (compare figures taken in one run).

    .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VHOSTMC = str(Path(sys.executable).with_name("vhostmc"))


def median_seconds(cmd: list[str], runs: int) -> float:
    """The median wall time of ``cmd`` over ``runs`` runs."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as out:
        cases = {
            "vhostmc --version": [VHOSTMC, "--version"],
            "vhostmc list": [VHOSTMC, "list"],
            "check ring 1 (datapath, one invariant)": [
                VHOSTMC, "check", "--ring-size", "1", "--max-backend-changes", "0",
                "--release", "no", "--send-failures", "0", "--property", "memory-safe",
                "--pictures", "none", "-q", "--out", out],
        }
        print(f"{'command':45} {'median s':>9}")
        for name, cmd in cases.items():
            print(f"{name:45} {median_seconds(cmd, args.runs):9.3f}")


if __name__ == "__main__":
    main()
