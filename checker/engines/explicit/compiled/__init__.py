"""The compiled explicit-state explorer: packed states, numba step code, flat hash table.

``layout`` packs a state into 63-bit words, ``flatcode`` generates numba
source for every action instance and invariant from the one model definition
(the :mod:`checker.semantics.codegen` machinery in its flat-array mode),
``kernel`` holds the BFS loop and the open-addressing table, ``build``
caches and imports the generated module, ``search`` drives it from Python
and ``engine glue`` lives in :mod:`checker.engines.explicit.engine`.
"""
