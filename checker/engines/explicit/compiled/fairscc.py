"""Fair-cycle analysis on a state graph stored as arrays, in numba.

The same algorithm as :mod:`checker.engines.explicit.liveness` (read its
docstring first), on CSR arrays instead of Python objects: ``offsets`` (int64,
row ``v`` is ``offsets[v]..offsets[v+1]``), ``succ`` (int32 successor numbers)
and ``acts`` (uint16 action-instance indices), in the order the model's
``expand`` produced them (the Python graph's order).  Fairness groups are bits
of an int64 mask (at most 62 groups): ``inst_mask[k]`` the groups instance
``k`` belongs to, ``en[v]`` the groups enabled in state ``v`` (the OR over its
row).  Node sets are byte arrays (``alive``, ``active``), components are
numbered (``fair[v]``, -1 when ``v`` is in no fair component).

* :func:`el_round` is one round of the Emerson-Lei decomposition: an
  iterative Tarjan over the active states; each SCC is judged as
  ``FairnessMasks.unmet`` judges it; a weak failure drops it, a strong one
  drops the states where the starved groups are enabled and keeps the rest
  active for the next round (no cycle crosses two SCCs, so one Tarjan over
  the union of the rests is the Python algorithm's Tarjan over each rest), a
  fair one is numbered.  The driver calls rounds until none keeps states
  active, polling its time limit and interrupts between rounds.
* :func:`reach_dist` (backward BFS over :func:`reverse_rows`) and
  :func:`choose_start` pick the start with the shortest prefix, keyed as the
  Python code keys it: ``(depth + distance, depth, number)``.
* :func:`bfs_leg` is ``bfs_path`` / ``bfs_edge_path`` (same queue order, same
  first hit), so the prefix into the component and the cycle's legs are the
  Python backend's, step for step.

This module depends on no model: numba compiles it once (cached beside it).
"""

from __future__ import annotations

from numba import njit

GOAL_FAIR, GOAL_DISABLED, GOAL_STATE, GOAL_EDGE = 0, 1, 2, 3
"""What :func:`bfs_leg` looks for: a state in a fair component, a state where
``flag`` is disabled, the state ``target``, an edge of a group in ``flag``."""

MAX_GROUPS = 62


@njit(cache=True)
def enabled_masks(offsets, acts, inst_mask, lo, hi, en):  # type: ignore[no-untyped-def]
    """``en[v]`` = OR of ``inst_mask`` over row ``v``, for ``lo <= v < hi``."""
    for v in range(lo, hi):
        m = 0
        for q in range(offsets[v], offsets[v + 1]):
            m |= inst_mask[acts[q]]
        en[v] = m


@njit(cache=True)
def depths(parents, n, depth):  # type: ignore[no-untyped-def]
    """BFS-tree depth of states ``0..n-1`` (a parent is numbered before its child)."""
    depth[0] = 0
    for i in range(1, n):
        depth[i] = depth[parents[i]] + 1


@njit(cache=True)
def alive_states(expanded, oflags, word, shift, m, n, alive):  # type: ignore[no-untyped-def]
    """``alive[v]``: ``v < m`` is expanded and the obligation's goal is false there
    (states ``m..n-1`` are not alive); returns how many are alive."""
    for v in range(m, n):
        alive[v] = 0
    count = 0
    for v in range(m):
        goal = (oflags[v, word] >> (shift + 1)) & 1
        a = 1 if expanded[v] == 1 and goal == 0 else 0
        alive[v] = a
        count += a
    return count


@njit(cache=True, inline="always")
def _tarjan_enter(v, counter, sp, csp, offsets, index, low, stack, onstk, cs_v, cs_e):  # type: ignore[no-untyped-def]
    """Tarjan's visit of ``v``: number ``counter``, pushed at ``stack[sp]`` and as call
    frame ``csp`` (its row from the start); returns the new frame count."""
    index[v] = counter
    low[v] = counter
    stack[sp] = v
    onstk[v] = 1
    cs_v[csp] = v
    cs_e[csp] = offsets[v]
    return csp + 1


@njit(cache=True)
def el_round(offsets, succ, acts, inst_mask, finite, weak, strong, full, en, m,  # type: ignore[no-untyped-def]
             active, fair, ctl, index, low, onstk, stack, cs_v, cs_e, mark):
    """One Emerson-Lei round over the states ``v < m`` with ``active[v]``; returns how
    many stay active for the next round (0: the decomposition is done).

    ``ctl[0]``: fair components numbered so far.  Edges of ``finite`` groups are not
    cycle edges.  ``mark[v]``: the round's SCC number of ``v``.
    """
    for v in range(m):
        index[v] = -1
        onstk[v] = 0
        mark[v] = -1
    serial = 0
    counter = 0
    sp = 0
    again = 0
    for root in range(m):
        if active[root] == 0 or index[root] >= 0:
            continue
        csp = _tarjan_enter(root, counter, sp, 0, offsets, index, low, stack, onstk, cs_v,
                            cs_e)
        counter += 1
        sp += 1
        while csp > 0:
            v = cs_v[csp - 1]
            pos = cs_e[csp - 1]
            end = offsets[v + 1]
            pushed = False
            while pos < end:
                w = succ[pos]
                k = acts[pos]
                pos += 1
                if w >= m or active[w] == 0 or (inst_mask[k] & finite) != 0:
                    continue
                if index[w] < 0:
                    cs_e[csp - 1] = pos
                    csp = _tarjan_enter(w, counter, sp, csp, offsets, index, low, stack, onstk,
                                        cs_v, cs_e)
                    counter += 1
                    sp += 1
                    pushed = True
                    break
                if onstk[w] == 1 and index[w] < low[v]:
                    low[v] = index[w]
            if pushed:
                continue
            csp -= 1
            if csp > 0:
                u = cs_v[csp - 1]
                low[u] = min(low[u], low[v])
            if low[v] != index[v]:
                continue
            top = sp
            while True:
                sp -= 1
                w = stack[sp]
                onstk[w] = 0
                if w == v:
                    break
            serial += 1
            for t in range(sp, top):
                mark[stack[t]] = serial
            taken = 0
            en_or = 0
            dis_or = 0
            for t in range(sp, top):
                x = stack[t]
                en_or |= en[x]
                dis_or |= ~en[x] & full
                for q in range(offsets[x], offsets[x + 1]):
                    k = acts[q]
                    if mark[succ[q]] == serial and (inst_mask[k] & finite) == 0:
                        taken |= inst_mask[k]
            unmet = ((weak & ~(taken | dis_or)) | (strong & ~taken & en_or)
                     | (finite & taken))
            if unmet & weak:
                for t in range(sp, top):
                    active[stack[t]] = 0
            elif unmet & strong:
                starved = unmet & strong
                for t in range(sp, top):
                    x = stack[t]
                    if en[x] & starved:
                        active[x] = 0
                    else:
                        again += 1
            else:
                c = ctl[0]
                ctl[0] = c + 1
                for t in range(sp, top):
                    x = stack[t]
                    fair[x] = c
                    active[x] = 0
    return again


@njit(cache=True)
def comp_masks(offsets, succ, acts, fair, c, inst_mask, finite, en, full, m, out):  # type: ignore[no-untyped-def]
    """``out[0]``: the groups taken on non-``finite`` edges inside fair component ``c``;
    ``out[1]``: the groups disabled in some state of it."""
    taken = 0
    dis = 0
    for v in range(m):
        if fair[v] != c:
            continue
        dis |= ~en[v] & full
        for q in range(offsets[v], offsets[v + 1]):
            k = acts[q]
            if fair[succ[q]] == c and (inst_mask[k] & finite) == 0:
                taken |= inst_mask[k]
    out[0] = taken
    out[1] = dis


@njit(cache=True)
def reverse_rows(offsets, succ, m, rev_off, rev_src):  # type: ignore[no-untyped-def]
    """The predecessors of states ``< m`` over rows ``< m``, as CSR ``rev_off``/``rev_src``."""
    for v in range(m + 1):
        rev_off[v] = 0
    for v in range(m):
        for q in range(offsets[v], offsets[v + 1]):
            j = succ[q]
            if j < m:
                rev_off[j + 1] += 1
    for v in range(m):
        rev_off[v + 1] += rev_off[v]
    fill = rev_off[:m].copy()
    for v in range(m):
        for q in range(offsets[v], offsets[v + 1]):
            j = succ[q]
            if j < m:
                rev_src[fill[j]] = v
                fill[j] += 1


@njit(cache=True)
def reach_dist(rev_off, rev_src, alive, fair, m, dist, queue):  # type: ignore[no-untyped-def]
    """``dist[v]``: the shortest path inside ``alive`` from ``v`` to a fair state
    (-1: none)."""
    head = 0
    tail = 0
    for v in range(m):
        if fair[v] >= 0:
            dist[v] = 0
            queue[tail] = v
            tail += 1
        else:
            dist[v] = -1
    while head < tail:
        v = queue[head]
        head += 1
        for q in range(rev_off[v], rev_off[v + 1]):
            u = rev_src[q]
            if alive[u] == 1 and dist[u] < 0:
                dist[u] = dist[v] + 1
                queue[tail] = u
                tail += 1


@njit(cache=True)
def choose_start(alive, oflags, word, shift, eventually, dist, depth, m):  # type: ignore[no-untyped-def]
    """The start state of the shortest prefix (-1: none): among the alive states where
    the premise holds (``eventually``: the initial state only) and a fair state is
    reachable, the least ``(depth + dist, depth, number)``."""
    best = -1
    bkey0 = 0
    bkey1 = 0
    for v in range(1 if eventually else m):
        if alive[v] == 0 or dist[v] < 0:
            continue
        if not eventually and ((oflags[v, word] >> shift) & 1) == 0:
            continue
        k0 = depth[v] + dist[v]
        k1 = depth[v]
        if best < 0 or k0 < bkey0 or (k0 == bkey0 and k1 < bkey1):
            best = v
            bkey0 = k0
            bkey1 = k1
    return best


@njit(cache=True)
def bfs_leg(offsets, succ, acts, start, alive, fair, comp, inst_mask, finite, goal,  # type: ignore[no-untyped-def]
            flag, target, en, back_v, back_k, seen, stamp, queue, out_k, out_v):
    """The shortest path from ``start`` (written to ``out_k``/``out_v``; returns its
    length, -1 when none): ``comp < 0``: over edges into ``alive`` states; else over
    non-``finite`` edges inside fair component ``comp``.  ``goal`` (``GOAL_*``) says
    where it ends; a state goal met by ``start`` gives 0 steps.  ``seen[v] == stamp``
    marks visited states (the caller passes a fresh stamp each call)."""
    if goal == 0 and fair[start] >= 0:
        return 0
    if goal == 1 and (en[start] & flag) == 0:
        return 0
    if goal == 2 and start == target:
        return 0
    seen[start] = stamp
    back_v[start] = -1
    head = 0
    tail = 1
    queue[0] = start
    hit = -1
    last_k = -1
    last_j = -1
    while head < tail and hit < 0:
        v = queue[head]
        head += 1
        for q in range(offsets[v], offsets[v + 1]):
            j = succ[q]
            k = acts[q]
            if alive[j] == 0:
                continue
            if comp >= 0 and (fair[j] != comp or (inst_mask[k] & finite) != 0):
                continue
            if goal == 3:
                if inst_mask[k] & flag:
                    hit = v
                    last_k = k
                    last_j = j
                    break
                if seen[j] != stamp:
                    seen[j] = stamp
                    back_v[j] = v
                    back_k[j] = k
                    queue[tail] = j
                    tail += 1
                continue
            if seen[j] == stamp:
                continue
            seen[j] = stamp
            back_v[j] = v
            back_k[j] = k
            if ((goal == 0 and fair[j] >= 0) or (goal == 1 and (en[j] & flag) == 0)
                    or (goal == 2 and j == target)):
                hit = j
                break
            queue[tail] = j
            tail += 1
    if hit < 0:
        return -1
    n = 0
    v = hit
    while back_v[v] >= 0:
        out_k[n] = back_k[v]
        out_v[n] = v
        n += 1
        v = back_v[v]
    for t in range(n // 2):
        a = out_k[t]
        out_k[t] = out_k[n - 1 - t]
        out_k[n - 1 - t] = a
        b = out_v[t]
        out_v[t] = out_v[n - 1 - t]
        out_v[n - 1 - t] = b
    if goal == 3:
        out_k[n] = last_k
        out_v[n] = last_j
        n += 1
    return n


__all__ = [
    "GOAL_DISABLED",
    "GOAL_EDGE",
    "GOAL_FAIR",
    "GOAL_STATE",
    "MAX_GROUPS",
    "alive_states",
    "bfs_leg",
    "choose_start",
    "comp_masks",
    "depths",
    "el_round",
    "enabled_masks",
    "reach_dist",
    "reverse_rows",
]
