"""The lasso search checks a property's obligations at once, on a symbolic argument,
and falls back to one at a time when the property's code cannot take one."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.engines.explicit.liveness import Obligation
from checker.engines.symbolic.bmc import run_bmc
from checker.engines.symbolic.bounded import BoundedSearch
from checker.engines.symbolic.lasso import LassoSearch, loop_index
from checker.engines.symbolic.obligations import ObligationGroup
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.spec import Property, properties_in
from checker.runs.userfiles import load_spec_file
from models.v9 import V9
from specs import zerocopy

NO_LEAK = next(p for p in properties_in(zerocopy) if p.name == "no-leak")

BRANCHY = """\
from typing import Any
from checker.lang.spec import leads_to
from checker.lang.view import StateView
from specs.zerocopy import excused, outstanding


@leads_to("branchy-leak", "no-leak, with a Python branch on its argument",
          over=lambda p: {"h": range(p.ring_size)})
def branchy(s: StateView, h: int) -> Any:
    head = 0 if h == 0 else h
    return outstanding(s, head), s.any(s.neg(outstanding(s, head)), excused(s, head))


@leads_to("never-used", "a head the guest owns ends up in a full used ring (never)",
          over=lambda p: {"h": range(p.ring_size)})
def never_used(s: StateView, h: int) -> Any:
    return s.g_owned[h], s.used_cnt > s.p.ring_size


@leads_to("branchy-never-used", "never-used, with a Python branch on its argument",
          over=lambda p: {"h": range(p.ring_size)})
def branchy_never_used(s: StateView, h: int) -> Any:
    head = 0 if h == 0 else h
    return s.g_owned[head], s.used_cnt > s.p.ring_size
"""


def _search(model: V9, props: list[Property]) -> LassoSearch:
    search = BoundedSearch(model, None, StepTemplate(model))
    return LassoSearch(model, search.u, search.query, props, list(model.fairness()))


def test_no_leak_is_one_group_of_every_head() -> None:
    model = V9({"ring_size": 4})
    lassos = _search(model, [NO_LEAK])
    (unit,) = lassos.units
    assert isinstance(unit, ObligationGroup)
    assert unit.title == "no-leak(h=*)"
    assert [dict(o.args) for o in unit.members] == [{"h": h} for h in range(4)]
    lassos._violations(2, loop_index(2))
    assert lassos.units == [unit]


def test_a_property_branching_on_its_argument_is_checked_one_obligation_at_a_time(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "branchy.py"
    spec.write_text(BRANCHY)
    branchy = next(p for p in load_spec_file(str(spec)) if p.name == "branchy-leak")
    model = V9({"ring_size": 4})
    lassos = _search(model, [branchy])
    assert isinstance(lassos.units[0], ObligationGroup)
    lassos._violations(2, loop_index(2))
    assert all(isinstance(u, Obligation) for u in lassos.units)
    assert [u.title for u in lassos.units] == [f"branchy-leak(h={h})" for h in range(4)]


@pytest.mark.parametrize("prop", ["never-used", "branchy-never-used"])
def test_grouped_and_one_at_a_time_find_the_same_lasso(tmp_path: Path, prop: str) -> None:
    spec = tmp_path / "branchy.py"
    spec.write_text(BRANCHY)
    props = {p.name: p for p in load_spec_file(str(spec))}
    model = V9({"ring_size": 2, "max_backend_changes": 0, "release": "no"})
    result = run_bmc(model, [props[prop]], depth=12)
    (verdict,) = result.properties
    assert verdict.status == "violated" and verdict.trace is not None
    assert (len(verdict.trace), verdict.trace.loop) == (6, 6)  # 6 steps, then stays put
