"""One worker against two (CompiledChecker(workers=2)) on v3.1 ring-2 data path, 5 M states.

Prints, per run (1, 2, 1, 2 workers): states, transitions, wall and CPU seconds.

    .venv/bin/python bench/compiled_workers.py
"""

import time

from checker.engines.base import Limits
from checker.engines.explicit.compiled.search import CompiledChecker
from checker.runs.catalog import load_revision, select_properties

m = load_revision("v3.1")({"ring_size": 2, "max_backend_changes": 0, "release": "no", "send_failures": 0})
props = select_properties(["no-double-use", "memory-safe"])
CompiledChecker(m, props, Limits(max_states=10), workers=2).run()  # compile
for w in (1, 2, 1, 2):
    t = time.perf_counter(); c = time.process_time()
    r = CompiledChecker(m, props, Limits(max_states=5_000_000), workers=w).run()
    print(w, r.stats.states, r.stats.transitions, f"wall {time.perf_counter()-t:.1f} cpu {time.process_time()-c:.1f}", flush=True)
