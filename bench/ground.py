"""Quantified lemmas at the kernel's ring size: Z3's quantifiers against grounding, and
a count of heads against the same count split per head (docs/engines.md, "Toward ring
256").

1. ``quantified``: a guest ring whose posted entries are distinct and not the guest's,
   two steps (the guest posts a head it owns; vhost_get_vq_desc takes the next entry
   and the head goes back to the guest).  Each step's query is asked with the lemma as
   one ``ForAll`` handed to Z3 (``z3-forall``), then grounded by
   :func:`checker.engines.symbolic.instantiate.ground` at the step's indices
   (``ground``).
2. ``count``: "the guest's heads plus the other places add up to the ring size" kept by
   a step that gives one head back (``g_owned[u] = True``): asked once with ``u``
   symbolic (``one-query``), then once per value of ``u`` (``per-head``).

Prints the answer and the seconds of each; a query that runs past ``--timeout`` is
``unknown``.  No assertions: numbers only; run it with the other cores idle.

    .venv/bin/python bench/ground.py
    .venv/bin/python bench/ground.py --ring-size 64 --timeout 30
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import z3

from checker.engines.symbolic.instantiate import ground, index_terms

BITS = 16


def ring_lemma(n: int, avail: z3.ArrayRef, owned: z3.ArrayRef, last: z3.ExprRef,
               cnt: z3.ExprRef) -> z3.BoolRef:
    """Posted entries ``last .. last + cnt - 1`` (mod ``n``) are distinct heads below
    ``n`` that the guest does not own."""
    p, q = z3.BitVecs("p q", BITS)

    def posted(x: z3.ExprRef) -> z3.BoolRef:
        return z3.And(x >= 0, x < n, z3.URem(x - last + n, n) < cnt)

    return z3.And(
        cnt >= 0, cnt <= n, last >= 0, last < n,
        z3.ForAll([p, q], z3.Implies(z3.And(posted(p), posted(q), p != q), avail[p] != avail[q])),
        z3.ForAll([p], z3.Implies(posted(p), z3.And(avail[p] >= 0, avail[p] < n,
                                                     z3.Not(owned[avail[p]])))))


def quantified(n: int, timeout: float) -> None:
    sort = z3.BitVecSort(BITS)
    avail, owned = z3.Array("avail", sort, sort), z3.Array("owned", sort, z3.BoolSort())
    last, cnt, h = z3.BitVecs("last cnt h", BITS)
    before = ring_lemma(n, avail, owned, last, cnt)
    steps = {
        "post": (z3.And(h >= 0, h < n, owned[h], cnt < n),
                 ring_lemma(n, z3.Store(avail, z3.URem(last + cnt, n), h),
                            z3.Store(owned, h, False), last, cnt + 1)),
        "fetch": (cnt > 0, ring_lemma(n, avail, z3.Store(owned, avail[last], True),
                                      z3.URem(last + 1, n), cnt - 1)),
    }
    for (name, (guard, after)), way in itertools.product(steps.items(), ["z3-forall", "ground"]):
        began = time.monotonic()
        solver = z3.Solver()
        solver.set("timeout", int(timeout * 1000))
        if way == "z3-forall":
            solver.add(before, guard, z3.Not(after))
        else:
            goal, skolems = ground(after, [], asserted=False)
            terms = index_terms([guard, z3.Not(goal)], sort) + skolems
            solver.add(ground(before, terms)[0], guard, z3.Not(goal))
        answer = solver.check()
        print(f"| quantified | {name} | {way} | {answer} | {time.monotonic() - began:.2f} |",
              flush=True)


def count(n: int, timeout: float) -> None:
    index = z3.BitVecSort(max(1, (n - 1).bit_length()))
    owned, u = z3.Array("owned", index, z3.BoolSort()), z3.BitVec("u", index.size())
    rest = z3.BitVec("rest", BITS)

    def heads(a: z3.ArrayRef) -> z3.ExprRef:
        return z3.Sum([z3.If(a[z3.BitVecVal(i, index.size())], z3.BitVecVal(1, BITS),
                             z3.BitVecVal(0, BITS)) for i in range(n)])

    query = [heads(owned) + rest == n, z3.Not(owned[u]),
             z3.Not(heads(z3.Store(owned, u, True)) + rest - 1 == n)]
    began = time.monotonic()
    solver = z3.Solver()
    solver.set("timeout", int(timeout * 1000))
    solver.add(*query)
    print(f"| count | give a head back | one-query | {solver.check()} | "
          f"{time.monotonic() - began:.2f} |", flush=True)
    began = time.monotonic()
    answers = set()
    for v in range(n):
        solver = z3.Solver()
        solver.set("timeout", int(timeout * 1000))
        solver.add(u == v, *query)
        answers.add(str(solver.check()))
    print(f"| count | give a head back | per-head ({n} queries) | {', '.join(sorted(answers))} "
          f"| {time.monotonic() - began:.2f} |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ring-size", type=int, default=256)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per query")
    args = ap.parse_args()
    print(f"ring size {args.ring_size}, timeout {args.timeout:g} s per query")
    print("| lemma | step | way | answer | seconds |")
    print("| --- | --- | --- | --- | --- |")
    quantified(args.ring_size, args.timeout)
    count(args.ring_size, args.timeout)


if __name__ == "__main__":
    main()
