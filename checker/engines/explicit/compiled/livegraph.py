"""The compiled explorer's state graph as arrays, and liveness lassos found on it.

:class:`LiveGraph` holds, for the stored states ``0..rows-1`` (BFS order):

* ``offsets`` (int64), ``succ`` (int32), ``acts`` (uint16): the rows, CSR, in
  the order ``expand`` produces successors (the Python graph's order);
* ``expanded`` (uint8): 1 when the row is complete (0: a successor was cut
  away by a depth or state limit; such a state takes no part, as in
  :mod:`checker.engines.explicit.liveness`);
* ``oflags`` (int64, one row of words per state): each obligation's premise
  and goal (:mod:`.flatlive`);
* ``en`` (int64): the fairness groups enabled in each state.

Rows are filled by the generated ``graph_rows`` (numba: it re-expands each
state and looks its successors up in the visited table), in chunks, as the
BFS passes each checkpoint.  :meth:`LiveGraph.find` is
:meth:`checker.engines.explicit.liveness.LivenessAnalysis.find` on the states
``< m`` (the first ``m`` expanded: the Python explorer's graph at the same
checkpoint), computed by :mod:`.fairscc`; its lasso is the same one, step for
step.  Every array is allocated only when the memory limit allows it
(:class:`GraphFull` otherwise); the analysis polls ``cut`` between numba calls
(a decomposition round, a path leg) and raises
:class:`~checker.engines.explicit.liveness.AnalysisCut` when it says stop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import ModuleType

import numpy as np

from checker.engines.explicit.compiled import fairscc
from checker.engines.explicit.compiled.flatlive import obligation_words
from checker.engines.explicit.liveness import AnalysisCut, FairnessMasks, Lasso, Obligation

SCRATCH: dict[str, tuple[tuple[str, type], ...]] = {
    "decomposition": (("alive", np.uint8), ("active", np.uint8), ("onstk", np.uint8),
                      ("fair", np.int32), ("index", np.int32), ("low", np.int32),
                      ("stack", np.int32), ("cs_v", np.int32), ("mark", np.int32),
                      ("cs_e", np.int64)),
    "lasso": (("seen", np.int32), ("out_k", np.int32), ("out_v", np.int32),
              ("depth", np.int32), ("rev_off", np.int64)),
}
"""The analysis's work arrays, one element per discovered state: the fair-component
decomposition's (35 bytes a state), and the lasso's (24, plus ``rev_src``, one int32 per
edge), made only for a property that has a fair component, i.e. is violated."""


class GraphFull(Exception):
    """The graph or the analysis's arrays would pass the memory limit."""


def grown_capacity(cap: int, need: int, floor: int, fits: Callable[[int], bool]) -> int:
    """A new capacity of at least ``need`` (and ``floor``) elements: half again ``cap`` when
    ``fits`` (bytes for that many elements stay within the limit) says so, else a
    quarter, an eighth, a sixteenth more, else exactly ``need``.  Near the memory limit
    the arrays thus grow by what fits rather than give up.  Raises :class:`GraphFull`
    when not even ``need`` fits."""
    for share in (2, 4, 8, 16):
        want = max(need, cap + cap // share, floor)
        if fits(want):
            return want
    if fits(need):
        return need
    raise GraphFull


class GraphError(Exception):
    """``graph_rows`` failed on a state: ``state`` and ``what`` (instance or obligation)."""

    def __init__(self, kind: int, state: int, what: int) -> None:
        super().__init__(f"graph_rows error {kind} at state {state}")
        self.kind, self.state, self.what = kind, state, what


class LiveGraph:
    """The rows of the expanded states and the fair-cycle analysis on them."""

    def __init__(self, module: ModuleType, obligations: Sequence[Obligation],
                 masks: FairnessMasks, room: Callable[[int], bool],
                 cut: Callable[[], bool] | None = None) -> None:
        self.module = module
        self.obligations = list(obligations)
        self.masks = masks
        if len(masks.groups) > fairscc.MAX_GROUPS:
            raise ValueError(f"{len(masks.groups)} fairness groups (at most {fairscc.MAX_GROUPS})")
        self.inst_mask = np.array(masks.inst_mask or [0], np.int64)
        self.room = room
        """``room(extra)``: whether ``extra`` more bytes stay within the memory limit."""
        self.cut = cut
        self.words = obligation_words(len(self.obligations))
        self.rows = 0
        self.offsets = np.zeros(1, np.int64)
        self.succ = np.zeros(0, np.int32)
        self.acts = np.zeros(0, np.uint16)
        self.oflags = np.zeros((0, self.words), np.int64)
        self.expanded = np.zeros(0, np.uint8)
        self.en = np.zeros(0, np.int64)
        self._work: dict[str, np.ndarray] = {}
        self._scratch_n = {part: -1 for part in SCRATCH}
        self._rev_m = -1
        self._depth_n = -1
        self._stamp = 0
        self.err = np.zeros(2, np.int64)

    # -- memory ------------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Bytes of every array this graph holds (rows, flags, analysis work arrays)."""
        total = sum(a.nbytes for a in (self.offsets, self.succ, self.acts, self.oflags,
                                       self.expanded, self.en))
        return int(total + sum(a.nbytes for a in self._work.values()))

    def _grow_states(self, need: int) -> None:
        cap = self.expanded.shape[0]
        if need <= cap:
            return
        per = 8 + 8 * self.words + 1 + 8
        cap = grown_capacity(cap, need, 1024, lambda c: self.room(c * per))
        offsets = np.zeros(cap + 1, np.int64)
        offsets[:self.rows + 1] = self.offsets[:self.rows + 1]
        self.offsets = offsets
        oflags = np.zeros((cap, self.words), np.int64)
        oflags[:self.rows] = self.oflags[:self.rows]
        self.oflags = oflags
        expanded = np.zeros(cap, np.uint8)
        expanded[:self.rows] = self.expanded[:self.rows]
        self.expanded = expanded
        en = np.zeros(cap, np.int64)
        en[:self.rows] = self.en[:self.rows]
        self.en = en

    def _grow_edges(self, need: int) -> None:
        cap = self.succ.shape[0]
        if need <= cap:
            return
        cap = grown_capacity(cap, need, 4096, lambda c: self.room(c * 6))
        used = int(self.offsets[self.rows])
        succ = np.empty(cap, np.int32)
        succ[:used] = self.succ[:used]
        self.succ = succ
        acts = np.empty(cap, np.uint16)
        acts[:used] = self.acts[:used]
        self.acts = acts

    # -- building ----------------------------------------------------------------------
    def extend(self, states: np.ndarray, index: np.ndarray, pbits: int, hi: int,
               nsucc: int) -> None:
        """Add the rows of states ``rows..hi-1`` (all expanded by the BFS); ``index`` has
        ``2**pbits`` partitions (:mod:`.table`)."""
        self._grow_states(hi)
        lo = self.rows
        while lo < hi:
            if self.cut is not None and self.cut():
                raise AnalysisCut
            used = int(self.offsets[lo])
            chunk = min(hi, lo + (1 << 16))
            self._grow_edges(used + (chunk - lo) * nsucc // 4 + nsucc)
            done = int(self.module.graph_rows(states, index, pbits, lo, chunk, self.offsets, self.succ,
                                              self.acts, self.oflags, self.expanded, self.err))
            if done < 0:
                raise GraphError(done, int(self.err[0]), int(self.err[1]))
            if done == lo:
                self._grow_edges(used + 2 * nsucc)
                continue
            fairscc.enabled_masks(self.offsets, self.acts, self.inst_mask, lo, done, self.en)
            lo = self.rows = done

    # -- analysis ----------------------------------------------------------------------
    def _scratch(self, n: int, part: str) -> None:
        """Work arrays of ``part`` (:data:`SCRATCH`) for ``n`` discovered states, kept for
        later analyses; the lasso's are only made once a fair component is found."""
        if n <= self._scratch_n[part]:
            return
        names = [name for name, _ in SCRATCH[part]] + (["rev_src"] if part == "lasso" else [])
        old = sum(self._work[name].nbytes for name in names if name in self._work)
        per = sum(np.dtype(dtype).itemsize for _, dtype in SCRATCH[part])
        cap = grown_capacity(max(self._scratch_n[part], 0), n, n,
                             lambda c: self.room(c * per - old))
        for name in names:
            self._work.pop(name, None)
        for name, dtype in SCRATCH[part]:
            self._work[name] = np.zeros(cap + 1, dtype)
        self._scratch_n[part] = cap
        if part == "lasso":
            self._rev_m = self._depth_n = -1
            self._stamp = 0

    def find(self, o: int, m: int, n: int, parents: np.ndarray,
             actions: np.ndarray) -> Lasso | None:
        """A fair lasso violating obligation ``o`` on the rows of states ``< m`` (``n``
        states discovered; ``parents`` and ``actions`` the BFS tree), or ``None``."""
        obl = self.obligations[o]
        masks = self.masks
        self._scratch(n, "decomposition")
        w = self._work
        word, shift = o // 32, 2 * (o % 32)
        alive = w["alive"]
        if fairscc.alive_states(self.expanded, self.oflags, word, shift, m, n, alive) == 0:
            return None
        eventually = obl.prop.kind == "eventually"
        if eventually and not alive[0]:
            return None
        active, fair = w["active"], w["fair"]
        active[:n] = alive[:n]
        fair[:n] = -1
        ctl = np.zeros(1, np.int64)
        while True:
            self._poll()
            again = fairscc.el_round(
                self.offsets, self.succ, self.acts, self.inst_mask, masks.finite, masks.weak,
                masks.strong, masks.all, self.en, m, active, fair, ctl, w["index"], w["low"],
                w["onstk"], w["stack"], w["cs_v"], w["cs_e"], w["mark"])
            if again == 0:
                break
        if ctl[0] == 0:
            return None
        self._scratch(n, "lasso")
        if self._rev_m != m:
            rev_src = np.empty(max(1, int(self.offsets[m])), np.int32)
            if not self.room(rev_src.nbytes):
                raise GraphFull
            w["rev_src"] = rev_src
            fairscc.reverse_rows(self.offsets, self.succ, m, w["rev_off"], rev_src)
            self._rev_m = m
        if self._depth_n != n:
            fairscc.depths(parents, n, w["depth"])
            self._depth_n = n
        dist, queue = w["low"], w["stack"]
        fairscc.reach_dist(w["rev_off"], w["rev_src"], alive, fair, m, dist, queue)
        start = int(fairscc.choose_start(alive, self.oflags, word, shift, eventually, dist,
                                         w["depth"], m))
        if start < 0:
            return None
        into = self._leg(start, -1, fairscc.GOAL_FAIR)
        entry = into[-1][1] if into else start
        cycle = self._fair_cycle(entry, int(fair[entry]), m)
        prefix: list[tuple[int, int]] = []
        v = start
        while v != 0:
            p = int(parents[v])
            prefix.append((int(actions[v]), v))
            v = p
        prefix.reverse()
        path = prefix + into + cycle
        return Lasso(obl, path, len(prefix), len(prefix) + len(into))

    def _poll(self) -> None:
        if self.cut is not None and self.cut():
            raise AnalysisCut

    def _leg(self, start: int, comp: int, goal: int, flag: int = 0,
             target: int = -1) -> list[tuple[int, int]]:
        self._poll()
        w = self._work
        self._stamp += 1
        count = int(fairscc.bfs_leg(
            self.offsets, self.succ, self.acts, start, w["alive"], w["fair"], comp,
            self.inst_mask, self.masks.finite, goal, flag, target, self.en, w["index"],
            w["cs_v"], w["seen"], self._stamp, w["stack"], w["out_k"], w["out_v"]))
        if count < 0:
            raise ValueError("no path to the goal")
        return [(int(k), int(v)) for k, v in zip(w["out_k"][:count], w["out_v"][:count])]

    def _fair_cycle(self, entry: int, comp: int, m: int) -> list[tuple[int, int]]:
        """:meth:`LivenessAnalysis._fair_cycle` (same legs, same order) on the arrays."""
        masks, en = self.masks, self.en
        out = np.zeros(2, np.int64)
        fairscc.comp_masks(self.offsets, self.succ, self.acts, self._work["fair"], comp,
                           self.inst_mask, masks.finite, en, masks.all, m, out)
        taken_any, dis_any = int(out[0]), int(out[1])
        cycle: list[tuple[int, int]] = []
        cur = entry
        met = ~int(en[entry]) & masks.weak
        for bit in range(len(masks.groups)):
            flag = 1 << bit
            if met & flag:
                continue
            if masks.weak & flag and dis_any & flag:
                leg = self._leg(cur, comp, fairscc.GOAL_DISABLED, flag)
            elif (masks.weak | masks.strong) & taken_any & flag:
                leg = self._leg(cur, comp, fairscc.GOAL_EDGE, flag)
            else:
                continue
            cycle += leg
            for k, j in leg:
                met |= masks.inst_mask[k] | (~int(en[j]) & masks.weak)
            cur = leg[-1][1] if leg else cur
        if cur != entry:
            cycle += self._leg(cur, comp, fairscc.GOAL_STATE, target=entry)
        return cycle
