"""The data path's step case with quantified lemmas, grounded, one action at a time.

On v3.1's data path (``--max-backend-changes 0 --release no --send-failures 0
--signal-loop iteration``) at ``--ring-size N`` (256: the kernel's constants,
UIO_MAXIOV 1024, VHOST_MAX_PEND 128), on the array layout: for each action (a
parameterised one on symbolic arguments), is there a typed state satisfying
``no-double-use``, ``memory-safe``, dp-environment, dp-worker, dp-skbs, dp-count
(specs/datapath_invariant.py) and q-places, q-distinct, q-window
(specs/datapath_quantified.py) from which the action reaches a state that breaks one
of them, stops at a capacity or writes outside a type?

The lemmas' ``s.every`` are quantifiers; :func:`checker.engines.symbolic.instantiate.
ground` instantiates the premise's at the indices of the arrays each reads
(:func:`~checker.engines.symbolic.instantiate.index_pools`) and the goal's get Skolem
constants; the types hold at every position (ground, linear in the ring).  A satisfying
premise is judged on the concrete lemmas: when its state breaks a lemma at some
position, that position joins the instantiation terms and the query is asked again (refinement); otherwise it is a real
counterexample to induction.  Prints per action: the answer (``unsat``: closed),
rounds, instantiation terms added, seconds; then the total.  No assertions: numbers
only (docs/engines.md, "Toward ring 256").

    .venv/bin/python bench/quantstep.py --ring-size 2
    .venv/bin/python bench/quantstep.py --ring-size 256 --timeout 120
    .venv/bin/python bench/quantstep.py --ring-size 256 --actions tx_signal_used,dev_complete
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import z3

from checker.engines.symbolic.encoding import QuantifyingBackend
from checker.engines.symbolic.instantiate import ground, index_pools
from checker.engines.symbolic.unroll import StepTemplate
from checker.lang.expr import ConcreteBackend, Value
from checker.lang.model import Model, State
from checker.lang.spec import Property
from checker.lang.view import StateView
from checker.runs.catalog import select_properties
from models.v3_1 import V3_1

NAMES = [(str(ROOT / "specs" / "datapath_invariant.py"),
          ["no-double-use", "memory-safe", "dp-environment", "dp-worker", "dp-skbs", "dp-count"]),
         (str(ROOT / "specs" / "datapath_quantified.py"), ["q-places", "q-distinct", "q-window"])]


class Witness(ConcreteBackend):
    """The concrete backend, noting the positions at which an ``every`` first fails."""

    def __init__(self) -> None:
        self.found: list[int] = []

    def every(self, count: int, body: Callable[[Value], Value]) -> Value:
        for i in range(count):
            if not body(i):
                self.found.append(i)
                return False
        return True


def broken_positions(model: Model, props: list[Property], state: State) -> tuple[set[int], str | None]:
    """Positions where ``state`` breaks a lemma (what refinement adds), and the first
    lemma broken with no position (``None``: every lemma holds)."""
    for p in props:
        w = Witness()
        if not p.predicate(StateView(model, state, w)):
            return set(w.found), None if w.found else p.name
    return set(), None


def clamped(model: Model, state: State) -> State:
    """``state`` with every array element outside its type set to the type's lowest
    value (a quantified type is instantiated at the positions a query reads only)."""
    return tuple(val if v.size is None or v.is_bool
                 else tuple(x if v.lo <= x <= v.hi else v.lo for x in val)
                 for v, val in zip(model.vars, state))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-size", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per query")
    ap.add_argument("--rounds", type=int, default=30, help="refinement rounds per action")
    ap.add_argument("--types", choices=("ground", "quantified"), default="ground",
                    help="array elements' types at every position, or as quantifiers "
                         "(grounded like the lemmas; a candidate's elements outside their "
                         "types are then set to the type's lowest value before it is judged)")
    ap.add_argument("--actions", default="", help="comma-separated label prefixes (default: all)")
    args = ap.parse_args()
    ring = args.ring_size
    kernel = {"uio_maxiov": 1024, "max_pend": 128} if ring == 256 else {}
    model = V3_1({"ring_size": ring, "max_backend_changes": 0, "release": "no",
                  "send_failures": 0, "signal_loop": "iteration", **kernel})
    began = time.monotonic()
    t = StepTemplate(model, True, arrays=True, grouped=True)
    print(f"ring size {ring}: step built in {time.monotonic() - began:.1f} s")
    props = [p for spec, names in NAMES for p in select_properties(names, [spec])]
    backend = QuantifyingBackend(t.bits)

    def holds(state: Any) -> list[z3.BoolRef]:
        view = StateView(model, state, backend, t.enabled)
        return [p.predicate(view) for p in props]

    def in_type(array: Any, lo: int, hi: int) -> Callable[[Value], Value]:
        return lambda i: z3.And(backend.select(array, i) >= lo, backend.select(array, i) <= hi)

    def typed() -> list[z3.BoolRef]:
        """Every scalar and every array element of the current state in its type: ground
        at each position (linear in the ring, and a candidate's state is then typed
        everywhere), or with ``--types quantified`` one quantifier per array."""
        if args.types == "ground":
            return t.layout.ranges(t.cur)
        state = t.layout.state(t.cur)
        return [*t.layout.ranges(t.cur, elements=False),
                *(backend.every(v.size, in_type(x, v.lo, v.hi))
                  for (v, _), x in zip(t.layout.slots, state) if v.size is not None and not v.is_bool)]

    premise = [*holds(t.layout.state(t.cur)), *typed()]
    flat = [h for h in premise if not z3.is_quantifier(h)]
    wanted = [w for w in args.actions.split(",") if w]
    print("| action | answer | rounds | terms added | seconds |")
    print("| --- | --- | --- | --- | --- |")
    total = time.monotonic()
    for g in t.groups:
        label = g.instances[0].label
        if wanted and not any(label.startswith(w) for w in wanted):
            continue
        began = time.monotonic()
        safe = z3.Not(z3.Or(g.ex.ill_typed, *(c for _, c in g.ex.capacity_hits())))
        goal, _ = ground(z3.And(*holds(t.layout.state(g.ex.values)), safe), [], asserted=False)
        query = [g.domain(), g.ex.enabled, z3.Not(goal)]
        pools = index_pools(query + flat, z3.BitVecSort(t.bits))
        terms = [z3.BitVecVal(0, t.bits)]
        answer, rounds = "", 0
        while rounds < args.rounds:
            rounds += 1
            solver = z3.Solver()
            solver.set("timeout", int(args.timeout * 1000))
            solver.add(ground(z3.And(*premise), terms, pools=pools)[0], *query)
            result = solver.check()
            answer = str(result)
            if result != z3.sat:
                break
            state = clamped(model, t.layout.decode(solver.model(), t.cur))
            extra, broken = broken_positions(model, props, state)
            if not extra:
                answer = f"CTI ({broken or 'the lemmas hold in its state'})"
                break
            terms += [z3.BitVecVal(i, t.bits) for i in sorted(extra)]
        else:
            answer = "open (refinement rounds used up)"
        print(f"| {label} | {answer} | {rounds} | {len(terms) - 1} "
              f"| {time.monotonic() - began:.2f} |", flush=True)
    print(f"total {time.monotonic() - total:.1f} s")


if __name__ == "__main__":
    main()
