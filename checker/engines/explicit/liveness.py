"""Liveness on the explored state graph: fair cycles, found through SCCs.

``P ~> Q`` fails exactly when some reachable state satisfies ``P`` and not
``Q`` and, from it, a *fair* run never reaches ``Q``.  On a finite graph
such a run ends in a cycle, so the search is:

1. keep the expanded states where ``Q`` is false;
2. find the strongly connected components of that subgraph that contain a
   fair cycle (Emerson-Lei): a component fails a weak constraint when the
   constraint's actions are enabled in every one of its states and taken on
   none of its edges (no cycle inside can do better); it fails a strong one
   when they are enabled somewhere and taken nowhere, and then the states
   where they are enabled are removed and the rest is decomposed again;
3. the violation starts at the ``P``-and-not-``Q`` state that reaches a
   fair component (without passing through ``Q``) by the shortest prefix:
   its search-tree path (shortest, under BFS) plus the shortest path into
   the component; the counterexample is that prefix and a cycle through the
   component that takes or sees disabled every action fairness forces
   (the cycle is not minimised).

Every state may stutter (stay put): runs are not forced to move, only the
fairness constraints force actions.  A cycle that is a single stutter is a
state where every forced action is disabled: the counterexample's ``loop``
is then its last index.  States the search did not expand (a limit stopped
it) have no known successors and take no part, so a violation found on a
partial graph is real; only "holds" needs the complete graph.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import partial

from checker.engines.stategraph import StateGraph
from checker.lang.fairness import Fair, FairGroup, resolve
from checker.lang.model import ActionInstance, Model, State
from checker.lang.spec import Property
from checker.semantics.compiledprops import obligation_checks
from checker.semantics.states import expand, property_view
from checker.traces.trace import Trace, build_trace


@dataclass(frozen=True)
class Obligation:
    """One instance of a liveness property: the property and its ``over`` arguments."""

    prop: Property
    args: tuple[tuple[str, int], ...]

    @property
    def title(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.args)
        return f"{self.prop.name}({inner})" if inner else self.prop.name

    def evaluate(self, view: object) -> tuple[bool, bool]:
        """``(premise, goal)`` in a concrete state view."""
        premise, goal = self.prop.predicate(view, **dict(self.args))
        return bool(premise), bool(goal)


def obligations(model: Model, props: Iterable[Property]) -> list[Obligation]:
    """Every instance of every liveness property in ``props``."""
    return [Obligation(p, tuple(args.items())) for p in props if p.is_liveness
            for args in p.instances(model.p)]


class FairnessMasks:
    """The fairness groups as bit masks over action instances."""

    def __init__(self, model: Model, constraints: Sequence[Fair]) -> None:
        self.groups: list[FairGroup] = resolve(model, constraints)
        self.inst_mask = [0] * len(model.instances)
        self.weak = self.strong = self.finite = 0
        for bit, group in enumerate(self.groups):
            for k in group.instances:
                self.inst_mask[k] |= 1 << bit
            if group.kind == "weak":
                self.weak |= 1 << bit
            elif group.kind == "strong":
                self.strong |= 1 << bit
            else:
                self.finite |= 1 << bit
        self.all = (1 << len(self.groups)) - 1

    def enabled(self, instances: Iterable[int]) -> int:
        mask = 0
        for k in instances:
            mask |= self.inst_mask[k]
        return mask

    def unmet(self, enabled: Iterable[int], taken: int) -> int:
        """The groups (as a mask) a cycle breaks, from its states' enabled masks and the
        mask of its edges: weak ones enabled everywhere and never taken, strong ones
        enabled somewhere and never taken, "finitely" ones taken."""
        en_or, dis_or = 0, 0
        for e in enabled:
            en_or |= e
            dis_or |= ~e & self.all
        return ((self.weak & ~(taken | dis_or)) | (self.strong & ~taken & en_or)
                | (self.finite & taken))

    def violated(self, enabled: Iterable[int], taken: int) -> list[FairGroup]:
        """The groups a cycle breaks (:meth:`unmet`), as :class:`FairGroup` objects."""
        bad = self.unmet(enabled, taken)
        return [g for b, g in enumerate(self.groups) if bad >> b & 1]


class ObligationFlags:
    """The premise and goal of an obligation in each state, by state number."""

    def __init__(self) -> None:
        self.premise = bytearray()
        self.goal = bytearray()

    def record(self, i: int, premise: bool, goal: bool) -> None:
        n = len(self.goal)
        if i == n:  # the next state number: every state, under BFS
            self.premise.append(premise)
            self.goal.append(goal)
            return
        if n < i:
            grow = bytes(i + 1 - n)
            self.premise.extend(grow)
            self.goal.extend(grow)
        self.premise[i], self.goal[i] = premise, goal


@dataclass
class Lasso:
    """A fair lasso: state numbers of ``graph`` and the instances between them."""

    obligation: Obligation
    path: list[tuple[int, int]]
    """``(instance index, state number)`` from the initial state."""
    premise_at: int
    """Position in the path (0 = initial state) where the premise holds."""
    loop: int
    """Position the run returns to after the last step (== len(path) for a stutter)."""


class AnalysisCut(Exception):
    """A fair-cycle analysis was stopped (time limit, interrupt) before it finished."""


class LivenessAnalysis:
    """Fair-cycle search for liveness obligations on one (possibly partial) state graph."""

    POLL_EVERY = 4096
    """States visited between two calls of ``cut``."""

    def __init__(self, model: Model, graph: StateGraph, constraints: Sequence[Fair],
                 cut: Callable[[], bool] | None = None) -> None:
        self.model = model
        self.graph = graph
        self.masks = FairnessMasks(model, constraints)
        self._enabled: dict[int, int] = {}
        self.cut = cut
        """Polled while analysing; when it returns true, :class:`AnalysisCut` is raised."""
        self._polls = 0

    def poll(self) -> None:
        """Raise :class:`AnalysisCut` when ``cut`` says so (asked every POLL_EVERY calls)."""
        if self.cut is None:
            return
        self._polls += 1
        if self._polls % self.POLL_EVERY == 0 and self.cut():
            raise AnalysisCut

    # -- per-state data -------------------------------------------------------
    def enabled_mask(self, i: int) -> int:
        mask = self._enabled.get(i)
        if mask is None:
            mask = self.masks.enabled(k for k, _ in self.graph.edges(i))
            self._enabled[i] = mask
        return mask

    # -- the search -----------------------------------------------------------
    def find(self, obl: Obligation, flags: ObligationFlags) -> Lasso | None:
        """A fair lasso violating ``obl`` with the shortest prefix, or ``None``.

        ``flags`` holds the premise and goal of every expanded state.
        """
        graph, masks = self.graph, self.masks
        premise, goal = flags.premise, flags.goal
        alive = {i for i in range(len(graph)) if graph.is_expanded(i) and not goal[i]}
        if obl.prop.kind == "eventually":
            starts = [0] if 0 in alive else []
        else:
            starts = [i for i in alive if premise[i]]
        if not starts:
            return None

        def cycle_succ(v: int) -> Iterator[tuple[int, int]]:
            self.poll()
            for k, j in graph.edges(v):
                if j in alive and not masks.inst_mask[k] & masks.finite:
                    yield k, j

        fair: dict[int, frozenset[int]] = {}
        for comp in self._fair_components(alive, cycle_succ):
            members = frozenset(comp)
            for v in comp:
                fair[v] = members
        if not fair:
            return None
        reach = self._reaching(alive, fair)
        reachable = [i for i in starts if i in reach]
        if not reachable:
            return None
        # the shortest prefix into a fair component: path to the premise, then inside it
        start = min(reachable, key=lambda i: (graph.depth[i] + reach[i], graph.depth[i], i))
        into = bfs_path(start, lambda v: ((k, j) for k, j in graph.edges(v) if j in alive),
                        lambda v: v in fair)
        entry = into[-1][1] if into else start
        cycle = self._fair_cycle(entry, fair[entry], cycle_succ)
        prefix = graph.path_to(start)
        path = prefix + into + cycle
        loop = len(prefix) + len(into)
        return Lasso(obl, path, len(prefix), loop)

    def _fair_components(
        self, nodes: set[int], succ: Callable[[int], Iterator[tuple[int, int]]]
    ) -> Iterator[list[int]]:
        """The fair SCCs (Emerson-Lei decomposition) of ``nodes`` under ``succ``."""
        masks = self.masks
        work = [nodes]
        while work:
            scope = work.pop()
            for comp in strongly_connected(scope, succ):
                members = set(comp)
                taken = 0
                for v in comp:
                    for k, j in succ(v):
                        if j in members:
                            taken |= masks.inst_mask[k]
                enabled = [self.enabled_mask(v) for v in comp]
                unmet = masks.unmet(enabled, taken)
                if unmet & masks.weak:  # no cycle inside can do better
                    continue
                starved = unmet & masks.strong
                if starved:
                    rest = {v for v, e in zip(comp, enabled) if not e & starved}
                    if rest:
                        work.append(rest)
                    continue
                yield comp

    def _reaching(self, alive: set[int], targets: dict[int, frozenset[int]]) -> dict[int, int]:
        """The states of ``alive`` with a path inside ``alive`` to a state of ``targets``,
        each mapped to the length of the shortest such path."""
        preds: dict[int, list[int]] = {}
        for v in alive:
            self.poll()
            for _, j in self.graph.edges(v):
                if j in alive:
                    preds.setdefault(j, []).append(v)
        dist = dict.fromkeys(targets, 0)
        queue = deque(dist)
        while queue:
            v = queue.popleft()
            for u in preds.get(v, ()):
                if u not in dist:
                    dist[u] = dist[v] + 1
                    queue.append(u)
        return dist

    def _disabled(self, flag: int, v: int) -> bool:
        return not self.enabled_mask(v) & flag

    def _in_group(self, flag: int, k: int) -> bool:
        return bool(self.masks.inst_mask[k] & flag)

    def _fair_cycle(
        self, entry: int, comp: frozenset[int],
        succ: Callable[[int], Iterator[tuple[int, int]]],
    ) -> list[tuple[int, int]]:
        """A cycle from ``entry`` back to it inside ``comp`` meeting every constraint.

        For each weak constraint it visits a state where the constraint's
        actions are disabled, or else takes one of them; for each strong one
        enabled in ``comp`` it takes one; a constraint the cycle built so far
        already meets adds no leg.  An empty list is a stutter at ``entry``.
        """
        masks = self.masks

        def inside(v: int) -> Iterator[tuple[int, int]]:
            return ((k, j) for k, j in succ(v) if j in comp)

        taken_any = 0
        for v in comp:
            for k, _ in inside(v):
                taken_any |= masks.inst_mask[k]
        cycle: list[tuple[int, int]] = []
        cur = entry
        met = ~self.enabled_mask(entry) & masks.weak
        for bit in range(len(masks.groups)):
            flag = 1 << bit
            if met & flag:
                continue
            if masks.weak & flag and any(not self.enabled_mask(v) & flag for v in comp):
                leg = bfs_path(cur, inside, partial(self._disabled, flag))
            elif (masks.weak | masks.strong) & taken_any & flag:
                leg = bfs_edge_path(cur, inside, partial(self._in_group, flag))
            else:
                continue
            cycle += leg
            for k, j in leg:
                met |= masks.inst_mask[k] | (~self.enabled_mask(j) & masks.weak)
            cur = leg[-1][1] if leg else cur
        if cur != entry:
            cycle += bfs_path(cur, inside, lambda v: v == entry)
        return cycle


def strongly_connected(
    nodes: set[int], succ: Callable[[int], Iterator[tuple[int, int]]]
) -> Iterator[list[int]]:
    """Tarjan's SCCs of the subgraph induced by ``nodes`` (iterative)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        work = [(root, succ(root))]
        while work:
            v, it = work[-1]
            pushed = False
            for _, w in it:
                if w not in nodes:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, succ(w)))
                    pushed = True
                    break
                if w in on_stack and index[w] < low[v]:
                    low[v] = index[w]
            if pushed:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                yield comp


def bfs_path(
    start: int, succ: Callable[[int], Iterable[tuple[int, int]]], goal: Callable[[int], bool]
) -> list[tuple[int, int]]:
    """Shortest ``(instance, state)`` path from ``start`` to a state meeting ``goal``
    (empty if ``start`` meets it); raises ``ValueError`` if none is reachable."""
    if goal(start):
        return []
    back: dict[int, tuple[int, int]] = {start: (-1, -1)}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for k, j in succ(v):
            if j in back:
                continue
            back[j] = (v, k)
            if goal(j):
                return _unwind(back, j)
            queue.append(j)
    raise ValueError("no path to the goal")


def bfs_edge_path(
    start: int, succ: Callable[[int], Iterable[tuple[int, int]]], edge: Callable[[int], bool]
) -> list[tuple[int, int]]:
    """Shortest path from ``start`` ending with an edge whose instance meets ``edge``."""
    back: dict[int, tuple[int, int]] = {start: (-1, -1)}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for k, j in succ(v):
            if edge(k):
                return _unwind(back, v) + [(k, j)]
            if j not in back:
                back[j] = (v, k)
                queue.append(j)
    raise ValueError("no such edge reachable")


def _unwind(back: dict[int, tuple[int, int]], v: int) -> list[tuple[int, int]]:
    path: list[tuple[int, int]] = []
    while back[v][0] >= 0:
        u, k = back[v]
        path.append((k, v))
        v = u
    path.reverse()
    return path


def lasso_trace(model: Model, graph: StateGraph, lasso: Lasso) -> Trace:
    """The explicit engine's lasso as a :class:`Trace` (see :func:`trace_of_lasso`)."""
    states = graph.states
    steps = [(model.instances[k], states[j]) for k, j in lasso.path]
    return trace_of_lasso(model, lasso.obligation, states[0], steps, lasso.loop,
                          lasso.premise_at)


def trace_of_lasso(
    model: Model, obl: Obligation, initial: State,
    steps: Sequence[tuple[ActionInstance, State]], loop: int, premise_at: int,
) -> Trace:
    """A lasso of any engine as a :class:`Trace`: ``loop`` and the obligation's
    arguments set, and the plain-words explanation (:func:`explain_lasso`)."""
    trace = build_trace(model, obl.prop.name, initial, steps)
    trace.loop = loop
    trace.property_args = dict(obl.args)
    trace.explanation = explain_lasso(model, trace, premise_at)
    return trace


LISTED_INSTANCES = 8
"""An action with more enabled instances than this is named once, with their count."""


def _instance_list(instances: Iterable[ActionInstance]) -> list[str]:
    """Labels of ``instances``, sorted; an action with more than
    :data:`LISTED_INSTANCES` of them as ``guest_post (512 instances)`` (ring size 256)."""
    by_action: dict[str, set[str]] = {}
    for inst in instances:
        by_action.setdefault(inst.name, set()).add(inst.label)
    out = []
    for name in sorted(by_action):
        labels = sorted(by_action[name])
        out += labels if len(labels) <= LISTED_INSTANCES else [f"{name} ({len(labels)} instances)"]
    return out


def explain_lasso(model: Model, trace: Trace, premise_at: int) -> str:
    """Why the lasso violates its property, in words."""
    args = ", ".join(f"{k}={v}" for k, v in trace.property_args.items())
    prop_text = f"{trace.property} ({args})" if args else trace.property
    n = len(trace)
    where = "the initial state" if premise_at == 0 else f"the state after step {premise_at}"
    if trace.loop is None:
        return ""
    if trace.loop == n:
        last = trace.states[-1]
        free = _instance_list(inst for inst, _ in expand(model, last).successors)
        here = "the initial state" if n == 0 else f"the state after step {n}"
        movable = (f"only {', '.join(free)} could move, and nothing forces them" if free
                   else "nothing can move at all")
        cycle = (f"the run then stays forever in {here}: no action that "
                 f"fairness forces is enabled there ({movable})")
    else:
        cycle = (f"the run then repeats steps {trace.loop + 1}..{n} forever, a cycle that "
                 "respects every fairness assumption")
    return (f"{prop_text}: the premise holds in {where} and the goal never holds from "
            f"there on; {cycle}")


def check_lasso(
    model: Model, prop: Property, args: dict[str, int], constraints: Sequence[Fair],
    states: Sequence[State], instances: Sequence[int], loop: int,
) -> list[str]:
    """What is wrong with a lasso (empty when it is a fair counterexample to ``prop``).

    ``states[0..n]`` with ``instances[i]`` taken from ``states[i]`` to
    ``states[i + 1]``; after the last state the run continues at
    ``states[loop]`` (``loop == n``: it stays in the last state).
    """
    n = len(states) - 1
    problems: list[str] = []
    if not 0 <= loop <= n:
        return [f"loop {loop} is outside the trace (0..{n})"]
    if states[loop] != states[n]:
        return [f"the last state differs from state {loop}, where the loop is said to start"]
    obl = Obligation(prop, tuple(args.items()))
    expansions = [expand(model, st) for st in states]
    flags = [obl.evaluate(property_view(model, st, exp.enabled_actors))
             for st, exp in zip(states, expansions)]
    first_free = max((i + 1 for i, (_, g) in enumerate(flags) if g), default=0)
    if first_free > loop:
        problems.append(f"the goal of {obl.title} holds in state {first_free - 1}, inside the "
                        "repeating part")
    if prop.kind == "eventually":
        if first_free > 0:
            problems.append(f"the goal of {obl.title} holds in state {first_free - 1}")
    elif not any(p for p, _ in flags[first_free:]):
        problems.append(f"the premise of {obl.title} never holds where the goal stays false")
    masks = FairnessMasks(model, constraints)
    enabled = [masks.enabled(inst.index for inst, _ in exp.successors)
               for exp in expansions[loop:n] or expansions[n:]]
    taken = masks.enabled(instances[loop:n])
    for group in masks.violated(enabled, taken):
        problems.append(f"the repeating part is not fair: {group.text}")
    return problems


class LiveSearch:
    """The explorer's side of liveness: flags per state, analyses as the graph grows."""

    FIRST_CHECKPOINT = 4096

    def __init__(self, model: Model, graph: StateGraph, props: Iterable[Property],
                 constraints: Sequence[Fair], cut: Callable[[], bool] | None = None) -> None:
        self.model = model
        self.graph = graph
        self.obligations = obligations(model, props)
        self.checks = obligation_checks(
            model, [(o.prop, dict(o.args)) for o in self.obligations]).checks
        """``(premise, goal)`` of each obligation as a function of a state (compiled)."""
        self.flags = [ObligationFlags() for _ in self.obligations]
        self.analysis = LivenessAnalysis(model, graph, constraints, cut)
        self.cut_short = False
        """Whether an analysis was stopped by ``cut`` (its pending properties are undecided)."""
        self.found: dict[str, Trace] = {}
        self.pending: list[str] = list(dict.fromkeys(o.prop.name for o in self.obligations))
        """Liveness properties not yet found violated (kept up to date by :meth:`analyse`)."""
        self.next_check = self.FIRST_CHECKPOINT

    def observe(self, i: int, state: State, enabled_actors: AbstractSet[str]) -> None:
        """Record the premise and goal of each obligation in expanded state ``i``
        (``state``, where the actors ``enabled_actors`` can move)."""
        for check, flags in zip(self.checks, self.flags):
            premise, goal = check(state, enabled_actors)
            flags.record(i, premise, goal)

    def due(self) -> bool:
        """Whether the graph has doubled since the last analysis (and one is needed)."""
        return bool(self.pending) and self.graph.expanded >= self.next_check

    def checkpoint(self) -> None:
        """Analyse the graph now; the next analysis is due when it has doubled again.
        The explorer calls this when :meth:`due` says so."""
        self.next_check = 2 * self.graph.expanded
        self.analyse()

    def finish(self) -> None:
        """The final analysis (none when ``cut`` already says stop: ``cut_short``)."""
        if self.pending:
            cut = self.analysis.cut
            if cut is not None and cut():
                self.cut_short = True
                return
            self.analyse()

    def analyse(self) -> None:
        """Look for a fair lasso for each pending obligation; a cut leaves the rest
        pending and sets ``cut_short``."""
        try:
            for obl, flags in zip(self.obligations, self.flags):
                if obl.prop.name in self.found:
                    continue
                lasso = self.analysis.find(obl, flags)
                if lasso is not None:
                    self.found[obl.prop.name] = lasso_trace(self.model, self.graph, lasso)
        except AnalysisCut:
            self.cut_short = True
        self.pending = [name for name in self.pending if name not in self.found]
