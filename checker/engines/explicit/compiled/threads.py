"""Which threads run the parallel loop (``--workers``): numba's threading layer and
how its idle threads wait.

Measured on this project's 2-core machine (v3.1 ring 2 datapath, two workers,
``bench/compiled_workers.py`` and ``bench/parallel_phases.py``):

* GNU OpenMP with ``GOMP_SPINCOUNT=0`` (idle threads sleep at once): 2.25 M
  states/s on an idle machine; 0.94 M with other jobs on both cores;
* numba's ``workqueue`` layer: 1.65 M idle, 0.64 M busy (its threads sleep
  too, but waking them for each of the three parallel phases of a chunk
  costs more);
* OpenMP with spinning threads (``GOMP_SPINCOUNT=10000``; the library's
  default spins longer still): 0.31 M busy: a spinning thread takes the core
  from the thread doing the work.

So OpenMP without spinning, unless the user chose (``NUMBA_THREADING_LAYER``,
``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY``); ``workqueue`` where libgomp is
missing, or was loaded before this module could set its spin count.
"""

from __future__ import annotations

import os
from pathlib import Path

USER_CHOICES = ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")
"""Environment variables by which the user sets OpenMP's waiting (left alone if set)."""


def _gomp_loaded() -> bool:
    """Whether libgomp is already mapped into this process (it reads its environment
    once, when it is loaded)."""
    try:
        return "libgomp" in Path("/proc/self/maps").read_text()
    except OSError:
        return True  # unknown: assume the worst


def choose_layer() -> None:
    """Set numba's threading layer (before its first parallel loop; later calls change
    nothing numba has already started)."""
    import numba

    if "NUMBA_THREADING_LAYER" in os.environ:
        return
    if any(name in os.environ for name in USER_CHOICES):
        layers = ["omp", "workqueue", "tbb"]
    elif _gomp_loaded():
        layers = ["workqueue", "omp", "tbb"]
    else:
        os.environ["GOMP_SPINCOUNT"] = "0"
        layers = ["omp", "workqueue", "tbb"]
    numba.config.THREADING_LAYER = "default"  # type: ignore[attr-defined]
    numba.config.THREADING_LAYER_PRIORITY = layers  # type: ignore[attr-defined]


def use_threads(workers: int) -> int:
    """Run numba's parallel loops on ``workers`` threads (at most ``NUMBA_NUM_THREADS``)
    under the layer :func:`choose_layer` picks; returns how many."""
    import numba

    choose_layer()
    threads = min(workers, numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    numba.set_num_threads(threads)
    return int(threads)
