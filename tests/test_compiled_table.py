"""The compiled explorer's visited table: growth near the memory limit."""

from __future__ import annotations

import types

import numpy as np

from checker.engines.explicit.compiled.table import Table


def _filled(n: int, words: int = 2) -> Table:
    """A table holding ``n`` states (index filling stubbed out: only sizes matter)."""
    table = Table(words, types.SimpleNamespace(reinsert=lambda *args: None))
    assert table.grow(0, n, 1 << 40)
    table.states[:n] = np.arange(n * words).reshape(n, words)
    return table


def test_near_the_limit_the_states_grow_by_as_much_as_fits() -> None:
    table = _filled(1000)
    cap = table.states.shape[0]
    per_state = 8 * 2 + 4 + 2
    # a quarter more would need (cap + cap // 4) states' bytes; give room for cap // 8 more
    limit = table.nbytes + (cap + cap // 8) * per_state
    assert table.grow(cap, 1, limit)
    assert table.states.shape[0] == cap + cap // 8
    assert table.nbytes <= limit
    assert (table.states[:1000] == np.arange(2000).reshape(1000, 2)).all()  # copied over


def test_a_growth_too_small_to_be_worth_a_copy_stops_the_search() -> None:
    table = _filled(1000)
    cap = table.states.shape[0]
    before = table.nbytes
    limit = before + (cap + cap // 32) * (8 * 2 + 4 + 2)
    assert not table.grow(cap, 1, limit)
    assert table.states.shape[0] == cap and table.nbytes == before  # nothing changed
