"""Quantified lemmas made ground: instantiation and Skolem constants, by polarity.

A lemma written with ``s.every`` (:meth:`checker.lang.view.StateView.every`) becomes,
on a :class:`~checker.engines.symbolic.encoding.QuantifyingBackend`, one
``ForAll`` over a symbolic position instead of a conjunct per position: its size no
longer grows with the ring.  Z3's own quantifier engines answer the step queries of
such lemmas slowly, or not at all (bench/ground.py at ring 256: 26 s with the
``ForAll`` against 4 s ground, for the guest posting a head; docs/engines.md, "Toward
ring 256"), and name no position that breaks a lemma, so :func:`ground` removes the
quantifiers before Z3 sees them, the way decision procedures for the array property
fragment do:

* a quantifier that holds *universally where it is asserted* (a ``ForAll`` in a
  premise, an ``Exists`` under the negation of a goal) is replaced by its instances at
  a finite set of terms (the array indices the step reads and writes, the constants
  below, the caller's choice).  That *weakens* the assertion, so an answer "unsat" is
  still a proof; "sat" may come from an instance left out (it is a candidate, to be
  judged on the full lemma);
* a quantifier that holds *existentially where it is asserted* (an ``Exists`` in a
  premise, a ``ForAll`` under the negation of a goal: "some position breaks the
  lemma") is replaced by its body over fresh *Skolem constants*: the same
  satisfiability, and the constants name the position a counterexample breaks.

Only positions whose polarity is known are handled: under ``And``, ``Or``, ``Not``,
the two sides of ``Implies`` and the branches of an ``If``.  A quantifier whose truth
is compared (``==``, an ``If`` condition, an argument of anything else) is refused with
:class:`NotGroundable`, since weakening it there could strengthen the formula.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet

import z3

from checker.engines.symbolic.limits import SolverGaveUp


class NotGroundable(ValueError):
    """A quantifier sits where its polarity is not known; the message says where."""


Memo = dict[int, tuple[z3.ExprRef, bool]]
"""Answers by term id, each with its term: Z3 reuses the id of a term Python let go."""


def has_quantifier(term: z3.ExprRef, memo: Memo | None = None) -> bool:
    """Whether ``term`` contains a ``ForAll`` or ``Exists`` (a shared subterm is looked
    at once).  A ``Lambda`` is a term, not a statement: a read of one is reduced once
    the term is ground (:func:`beta_reduced`)."""
    memo = {} if memo is None else memo
    # an explicit stack, not recursion: a Store chain over a 1024-element array is
    # deeper than Python's recursion limit
    stack = [(term, False)]
    while stack:
        t, children_done = stack.pop()
        key = t.get_id()
        if key in memo:
            continue
        if z3.is_quantifier(t) and not _is_lambda(t):
            memo[key] = (t, True)
            continue
        kids = t.children()
        if children_done:
            memo[key] = (t, any(memo[k.get_id()][1] for k in kids))
            continue
        stack.append((t, True))
        stack.extend((k, False) for k in kids if k.get_id() not in memo)
    return memo[term.get_id()][1]


class Grounder:
    """Grounds formulas over one set of instantiation terms (see :func:`ground`).

    ``skolems`` lists every Skolem constant made so far, in order, so a caller can read
    the positions a satisfying assignment gives them."""

    def __init__(self, terms: Iterable[z3.ExprRef],
                 pools: dict[str, list[z3.ExprRef]] | None = None,
                 deadline: float | None = None,
                 outer: dict[str, list[z3.ExprRef]] | None = None) -> None:
        self.terms = _distinct(terms)
        self.deadline = deadline
        """A ``time.monotonic()`` instant past which grounding raises
        :class:`~checker.engines.symbolic.limits.SolverGaveUp` (an instance set grows
        with the ring: seconds at ring size 256)."""
        self.pools = pools
        """With ``pools`` (:func:`index_pools`), a quantifier whose bound index reads
        arrays is instantiated at ``terms`` and at the indices of those arrays only."""
        self.outer = outer or {}
        """The numerals, by array, that an outer quantifier of a nest reading that array
        takes besides ``terms`` (it takes none from ``pools``): those a query names."""
        self.skolems: list[z3.ExprRef] = []
        self._quantified: Memo = {}

    def ground(self, term: z3.BoolRef, asserted: bool = True) -> z3.BoolRef:
        """``term`` without quantifiers: asserted as is when ``asserted``, else as the
        inside of a ``Not`` (a goal whose negation is asserted)."""
        return self._walk(term, asserted)

    def _walk(self, t: z3.BoolRef, positive: bool) -> z3.BoolRef:
        if not has_quantifier(t, self._quantified):
            return t
        if z3.is_quantifier(t):
            return self._quantifier(t, positive)
        kids = t.children()
        if z3.is_and(t):
            return z3.And(*(self._walk(k, positive) for k in kids))
        if z3.is_or(t):
            return z3.Or(*(self._walk(k, positive) for k in kids))
        if z3.is_not(t):
            return z3.Not(self._walk(kids[0], not positive))
        if z3.is_implies(t):
            return z3.Implies(self._walk(kids[0], not positive), self._walk(kids[1], positive))
        if z3.is_app_of(t, z3.Z3_OP_ITE) and not has_quantifier(kids[0], self._quantified):
            return z3.If(kids[0], self._walk(kids[1], positive), self._walk(kids[2], positive))
        raise NotGroundable(f"a quantified lemma (s.every) is used inside "
                            f"{t.decl().name()!r}, where its truth is compared; write it as "
                            f"a conjunct, or as the conclusion of s.implies")

    def _quantifier(self, q: z3.QuantifierRef, positive: bool) -> z3.BoolRef:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise SolverGaveUp("time limit")
        universal = q.is_forall()
        if not universal and not q.is_exists():
            raise NotGroundable("a lambda term cannot be grounded")
        sorts = [q.var_sort(i) for i in range(q.num_vars())]
        if universal == positive:  # holds for every position where asserted: instances
            if self.pools is not None and len(sorts) == 1:
                return self._instances(q, positive)
            pools = [[x for x in self.terms if x.sort() == s] for s in sorts]
            parts = [self._walk(_bind(q, choice), positive)
                     for choice in itertools.product(*pools)]
            return z3.And(*parts) if universal else z3.Or(*parts)
        fresh = [z3.FreshConst(s, f"sk!{q.var_name(i)}") for i, s in enumerate(sorts)]
        self.skolems += fresh
        return self._walk(_bind(q, fresh), positive)

    def _instances(self, q: z3.QuantifierRef, positive: bool) -> z3.BoolRef:
        """``q``'s instances at ``terms`` and at the indices of the arrays its bound
        index reads (all of :attr:`pools` when it reads none).  An outer quantifier of a
        nest takes no numeral from the pools: a count over an array's positions puts
        every position there, and a pair of them is rarely what a step needs (those
        it does need come back through ``terms``, the caller's refinement, or through
        :attr:`outer`, the numerals a query names)."""
        assert self.pools is not None
        mark = z3.FreshConst(q.var_sort(0), "at")
        body = _bind(q, [mark])
        read = _arrays_indexed_by(body, mark)
        nested = has_quantifier(body, self._quantified)
        pool = [*self.terms, *(x for name in (read or self.pools) for x in self.pools.get(name, ())
                               if not (nested and is_numeral(x))),
                *(x for name in read for x in self.outer.get(name, ()) if nested)]
        parts = [self._walk(z3.substitute(body, (mark, x)), positive)
                 for x in _distinct(x for x in pool if x.sort() == mark.sort())]
        return z3.And(*parts) if q.is_forall() else z3.Or(*parts)


def is_numeral(term: z3.ExprRef) -> bool:
    """Whether ``term`` is an int or bit-vector literal."""
    return bool(z3.is_int_value(term) or z3.is_bv_value(term))


def _arrays_indexed_by(term: z3.ExprRef, mark: z3.ExprRef) -> set[str]:
    """The base arrays (:func:`_bases`) of the selects in ``term`` whose index reads
    ``mark``."""
    return {name for t in subterms(term) if z3.is_select(t) and _reads(t.arg(1), mark)
            for name in _bases(t.arg(0))}


def _reads(term: z3.ExprRef, const: z3.ExprRef) -> bool:
    """Whether ``const`` occurs in ``term``."""
    return any(const.eq(x) for x in subterms(term))


def subterms(term: z3.ExprRef, skip: AbstractSet[int] = frozenset()) -> list[z3.ExprRef]:
    """Every subterm of ``term`` once (quantifier bodies included), except those whose
    id is in ``skip`` and theirs."""
    seen: dict[int, z3.ExprRef] = {}
    stack = [term]
    while stack:
        t = stack.pop()
        if t.get_id() not in seen and t.get_id() not in skip:
            seen[t.get_id()] = t
            stack.extend(t.children())
    return list(seen.values())


def _bases(array: z3.ExprRef) -> set[str]:
    """The arrays ``array`` is built from by ``Store`` and ``If``, by their text (an
    array constant's name; a constant array or a lambda its whole term)."""
    if z3.is_store(array):
        return _bases(array.arg(0))
    if z3.is_app_of(array, z3.Z3_OP_ITE):
        return _bases(array.arg(1)) | _bases(array.arg(2))
    return {str(array)}


def index_pools(formulas: Iterable[z3.ExprRef], sort: z3.SortRef,
                skip: AbstractSet[int] = frozenset()) -> dict[str, list[z3.ExprRef]]:
    """The ground indices read or written in ``formulas``, widened to ``sort``
    (:func:`index_terms`), by the base array they index (:func:`_bases`): the
    candidates for a quantifier over that array's positions.  Subterms whose id is in
    ``skip`` (:func:`subterm_ids` of formulas whose pools the caller has, and keeps
    alive) are not looked into."""
    pools: dict[str, list[z3.ExprRef]] = {}
    for t in subterms(z3.And(*formulas), skip):
        if (z3.is_select(t) or z3.is_store(t)) and not any(z3.is_var(x) for x in subterms(t.arg(1))):
            for name in _bases(t.arg(0)):
                pools.setdefault(name, []).append(_widened(t.arg(1), sort))
    return {name: _distinct(terms) for name, terms in pools.items()}


def constant_names(term: z3.ExprRef) -> frozenset[str]:
    """The names of the uninterpreted constants in ``term`` (state variables, arguments,
    Skolem constants)."""
    return frozenset(t.decl().name() for t in subterms(term)
                     if z3.is_const(t) and t.decl().kind() == z3.Z3_OP_UNINTERPRETED)


def subterm_ids(formulas: Iterable[z3.ExprRef]) -> set[int]:
    """The ids of every subterm of ``formulas`` (valid while they are alive)."""
    return {t.get_id() for t in subterms(z3.And(*formulas))}


def _bind(q: z3.QuantifierRef, values: Sequence[z3.ExprRef]) -> z3.BoolRef:
    """``q``'s body with its bound variables replaced by ``values`` (in their order)."""
    # de Bruijn: the last bound variable is Var(0)
    return z3.substitute_vars(q.body(), *reversed(values))


def ground(term: z3.BoolRef, terms: Iterable[z3.ExprRef], asserted: bool = True,
           pools: dict[str, list[z3.ExprRef]] | None = None, deadline: float | None = None,
           outer: dict[str, list[z3.ExprRef]] | None = None,
           ) -> tuple[z3.BoolRef, list[z3.ExprRef]]:
    """``term`` without quantifiers and the Skolem constants made for it: universal
    quantifiers (where asserted) instantiated at each of ``terms`` of the bound
    variable's sort (and, with ``pools``, at the indices of the arrays the bound index
    reads; an outer quantifier of a nest at the numerals ``outer`` lists for them, not at
    those of ``pools``), existential ones over fresh constants.  Unsat after grounding means unsat
    before; see the module's docstring.  Raises :class:`NotGroundable`, and
    :class:`~checker.engines.symbolic.limits.SolverGaveUp` past ``deadline``."""
    g = Grounder(terms, pools, deadline, outer)
    out = g.ground(term, asserted)
    # a goal holds the step's writes, where a shift is a Lambda; a premise only the
    # state's constants (and walking it for reads would cost seconds at ring 256)
    return (out if asserted else beta_reduced(out)), g.skolems


def beta_reduced(term: z3.ExprRef) -> z3.ExprRef:
    """``term`` with every read of a ``Lambda`` at a ground index replaced by the
    lambda's body there (a shift: :meth:`~checker.engines.symbolic.encoding.Z3Backend.
    delete_at`), so the positions it reads are ground indices of the arrays below it."""
    reads = [t for t in subterms(term) if z3.is_select(t) and _is_lambda(t.arg(0))
             and not any(z3.is_var(x) for x in subterms(t.arg(1)))]
    return z3.substitute(term, *((t, z3.simplify(t)) for t in reads)) if reads else term


def _is_lambda(term: z3.ExprRef) -> bool:
    return z3.is_quantifier(term) and term.is_lambda()


def index_terms(formulas: Iterable[z3.ExprRef], sort: z3.SortRef) -> list[z3.ExprRef]:
    """The distinct array indices read or written in ``formulas`` (ground terms), as
    terms of ``sort`` (the model's int sort): an index narrowed from a ``sort`` term
    (``Extract``) is that term, a narrower one is zero-extended.  These are the
    positions a step's query can tell apart, the usual instantiation set: every pool of
    :func:`index_pools` in one."""
    return _distinct(x for pool in index_pools(formulas, sort).values() for x in pool)


def _widened(index: z3.ExprRef, sort: z3.SortRef) -> z3.ExprRef:
    """``index`` as a term of ``sort`` with the same low bits."""
    if index.sort() == sort:
        return index
    if z3.is_app_of(index, z3.Z3_OP_EXTRACT) and index.arg(0).sort() == sort \
            and index.params()[1] == 0:
        return index.arg(0)
    if isinstance(sort, z3.BitVecSortRef) and z3.is_bv(index):
        return z3.ZeroExt(sort.size() - index.size(), index)
    if sort == z3.IntSort() and z3.is_bv(index):
        return z3.BV2Int(index)
    raise NotGroundable(f"an array index of sort {index.sort()} cannot be read as {sort}")


def _distinct(terms: Iterable[z3.ExprRef]) -> list[z3.ExprRef]:
    """``terms`` simplified, without repeats, in their first order."""
    out: dict[int, z3.ExprRef] = {}
    for t in terms:
        s = z3.simplify(t)
        out.setdefault(s.get_id(), s)
    return list(out.values())


def merged_pools(a: dict[str, list[z3.ExprRef]], b: dict[str, list[z3.ExprRef]],
                 ) -> dict[str, list[z3.ExprRef]]:
    """The index pools ``a`` and ``b`` together (each array's indices once, ``a``'s first)."""
    out = {name: list(terms) for name, terms in a.items()}
    for name, terms in b.items():
        known = {t.get_id() for t in out.get(name, ())}
        out.setdefault(name, []).extend(t for t in terms if t.get_id() not in known)
    return out
