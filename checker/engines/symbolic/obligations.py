"""A liveness property's obligations checked at once, on a symbolic argument.

A leads-to property with ``over=`` has one obligation per argument value: v9's
``no-leak`` one per head, 256 at the kernel's ring size.  The lasso search asked
for a violation of each, so the property's predicate was run on Z3 terms 256
times (about 0.3 s each) before the first query.  An :class:`ObligationGroup`
runs it **once**, its arguments being Z3 constants of the model's int sort
(``no-leak.h@obl``), each constrained to the values the obligations give it.
The constants are the same in every state of a lasso (``@obl`` is no step's
suffix, so instantiating a term at step ``k`` leaves them alone): a satisfying
lasso violates the obligation whose values the model gives them, and the
search goes on with that concrete obligation (its trace, its check).

Why it is exact, as for grouped actions (:mod:`checker.engines.symbolic.groups`):
the predicate run on a constant ``h`` builds terms that, with ``h`` replaced by a
value ``v``, are the terms the run on ``v`` builds, because every Python-level use
of ``h`` raises :class:`checker.engines.symbolic.guard.SymbolicMisuse`.  A
predicate that does is checked one obligation at a time instead, which is exact
too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import z3

from checker.engines.explicit.liveness import Obligation
from checker.engines.symbolic.groups import fits, in_values, param_const
from checker.lang.spec import Property


@dataclass(frozen=True, eq=False)  # compared by identity: its fields hold Z3 terms
class ObligationGroup:
    """Every obligation of ``prop`` (``members``), its arguments the constants ``params``."""

    prop: Property
    params: tuple[tuple[str, Any], ...]
    members: tuple[Obligation, ...]

    @property
    def title(self) -> str:
        """``no-leak(h=*)``: the property with every argument value."""
        return f"{self.prop.name}({', '.join(f'{name}=*' for name, _ in self.params)})"

    @property
    def args(self) -> tuple[tuple[str, Any], ...]:
        """The arguments to run the predicate with: the constants."""
        return self.params

    def domain(self) -> z3.BoolRef:
        """Each constant takes exactly the values the obligations give it (their
        combinations are all obligations: ``over`` is a product of the domains)."""
        return z3.And(*(in_values(c, [dict(o.args)[name] for o in self.members])
                        for name, c in self.params))

    def picked(self, m: z3.ModelRef) -> Obligation:
        """The obligation whose argument values ``m`` gives the constants."""
        values = {name: m.eval(c, model_completion=True).as_signed_long()
                  if z3.is_bv(c) else m.eval(c, model_completion=True).as_long()
                  for name, c in self.params}
        return next(o for o in self.members if dict(o.args) == values)


def grouped(obligations: Sequence[Obligation], bits: int | None) -> list[Obligation | ObligationGroup]:
    """``obligations`` with those of each property that has several replaced by one
    :class:`ObligationGroup`, when every argument value fits the model's int sort
    (signed ``bits``)."""
    by_prop: dict[str, list[Obligation]] = {}
    for o in obligations:
        by_prop.setdefault(o.prop.name, []).append(o)
    out: list[Obligation | ObligationGroup] = []
    for members in by_prop.values():
        if len(members) > 1 and fits((o.args for o in members), bits):
            prop = members[0].prop
            params = tuple((name, param_const(prop.name, name, "@obl", bits))
                           for name, _ in members[0].args)
            out.append(ObligationGroup(prop, params, tuple(members)))
        else:
            out.extend(members)
    return out

