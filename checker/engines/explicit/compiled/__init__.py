"""The compiled explicit-state explorer: packed states, numba step code, flat hash table.

``layout`` packs a state into 63-bit words, ``flatcode`` generates numba
source for every action instance and invariant from the one model definition
(the :mod:`checker.semantics.codegen` machinery in its flat-array mode),
``kernel`` holds the BFS loop and the open-addressing table (as numba
source), ``table`` its numpy arrays and the memory limit, ``build`` caches
and imports the generated modules, ``search`` drives the loop from Python
(limits, verdicts, traces) and ``run`` is what
:mod:`checker.engines.explicit.engine` calls.
"""
