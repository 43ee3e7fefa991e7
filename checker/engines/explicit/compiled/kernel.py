"""The BFS loop and the open-addressing visited table, as numba source.

This text is appended to the generated module of :mod:`.flatcode` (so the
module's hash, hence numba's cache, covers it) and uses its names: ``NW``
words per state, ``NS`` slots, ``NSUCC`` the most successors a state can
have, ``unpack``, ``expand``, ``check``, ``canon``.

Tables (all numpy, grown by the Python driver):

* ``states[i]``: the packed words of state ``i``; states are numbered in BFS
  order, so ``states[head:n]`` is the frontier (no separate queue);
* ``parents[i]`` (int32) and ``actions[i]`` (uint16): the BFS tree, for
  shortest traces;
* ``index``: the hash table proper, a power-of-two int32 array of state
  numbers (-1 empty), linear probing, kept at most 70% full.

``ctl`` carries the loop's scalars between calls (see ``C_*`` below); the
loop returns to Python after ``budget`` expansions (progress, time and
memory limits), when the tables need to grow, at the end, or on an error.

The canonicalisation hook: every successor's words pass through
``canon(u2, nw)`` right before the lookup (``u2`` scratch slots).  The
generated ``canon`` is the identity (``CANON = False`` skips it entirely); a
reduction that maps a state to a representative replaces it by code that
unpacks ``nw`` into ``u2``, rewrites slots and packs them back with ``pack``.
"""

KERNEL_SOURCE = '''
C_N, C_HEAD, C_LEVEL_END, C_DEPTH, C_TRANS, C_MAXDEPTH, C_CAP, C_PENDING = 0, 1, 2, 3, 4, 5, 6, 7
C_ERR_STATE, C_ERR_WHAT, C_MAX_STATES, C_MAX_DEPTH, C_FLAGS, C_HAS_PROPS = 8, 9, 10, 11, 12, 13

MASK32 = 0xFFFFFFFF


@njit(cache=True, inline="always")
def hash_words(x):
    """A 32-bit murmur-style hash; every product stays below 2**63 (signed overflow is
    undefined behaviour in LLVM, so the hash must not rely on wrapping)."""
    h = 0x811C9DC5
    for i in range(NW):
        for part in (x[i] & MASK32, x[i] >> 32):
            h = ((h ^ part) * 0x5BD1E995) & MASK32
            h ^= h >> 15
    return h


@njit(cache=True, inline="always")
def same_words(a, b):
    for i in range(NW):
        if a[i] != b[i]:
            return False
    return True


@njit(cache=True)
def find_slot(states, index, x):
    """The table position of ``x`` (holding its number) or of the empty cell it would take."""
    mask = index.shape[0] - 1
    pos = hash_words(x) & mask
    while True:
        j = index[pos]
        if j < 0 or same_words(states[j], x):
            return pos
        pos = (pos + 1) & mask


@njit(cache=True)
def rehash(states, n, index):
    """Fill the (empty, -1) ``index`` with states ``0..n-1``."""
    for i in range(n):
        index[find_slot(states, index, states[i])] = i


@njit(cache=True)
def bfs(states, parents, actions, index, ctl, viol, budget):
    """Expand up to ``budget`` states; 0 done, 1 budget spent, 2 grow, 3 step error,
    4 property error (``ctl[C_ERR_*]`` say where)."""
    u = np.empty(NS, np.int64)
    u2 = np.empty(NS, np.int64)
    succ = np.empty((NSUCC, NW), np.int64)
    sact = np.empty(NSUCC, np.int64)
    info = np.zeros(4, np.int64)
    n = ctl[C_N]
    head = ctl[C_HEAD]
    level_end = ctl[C_LEVEL_END]
    depth = ctl[C_DEPTH]
    trans = ctl[C_TRANS]
    maxdepth = ctl[C_MAXDEPTH]
    capmask = ctl[C_CAP]
    pending = ctl[C_PENDING]
    max_states = ctl[C_MAX_STATES]
    max_depth = ctl[C_MAX_DEPTH]
    flags = ctl[C_FLAGS]
    has_props = ctl[C_HAS_PROPS]
    status = 0
    done = 0
    while head < n:
        if has_props and pending == 0:
            break
        if done >= budget:
            status = 1
            break
        if n + NSUCC > states.shape[0] or (n + NSUCC) * 10 > index.shape[0] * 7:
            status = 2
            break
        if head == level_end:
            depth += 1
            level_end = n
        w = states[head]
        unpack(w, u)
        k = expand(u, w, succ, sact, info)
        if k < 0:
            ctl[C_ERR_STATE] = head
            ctl[C_ERR_WHAT] = info[0]
            status = 3
            break
        capmask |= info[2]
        if pending:
            r = check(u, info[1], pending, viol, head)
            if r < 0:
                ctl[C_ERR_STATE] = head
                ctl[C_ERR_WHAT] = -1 - r
                status = 4
                break
            pending = r
        done += 1
        if max_depth >= 0 and depth >= max_depth:
            if (flags & 2) == 0:
                for j in range(k):
                    x = succ[j]
                    if CANON:
                        canon(u2, x)
                    if index[find_slot(states, index, x)] < 0:
                        flags |= 2
                        break
            head += 1
            continue
        for j in range(k):
            trans += 1
            x = succ[j]
            if CANON:
                canon(u2, x)
            pos = find_slot(states, index, x)
            if index[pos] >= 0:
                continue
            if max_states >= 0 and n >= max_states:
                flags |= 1
                continue
            states[n] = x
            parents[n] = head
            actions[n] = sact[j]
            index[pos] = n
            n += 1
            maxdepth = depth + 1
        head += 1
    ctl[C_N] = n
    ctl[C_HEAD] = head
    ctl[C_LEVEL_END] = level_end
    ctl[C_DEPTH] = depth
    ctl[C_TRANS] = trans
    ctl[C_MAXDEPTH] = maxdepth
    ctl[C_CAP] = capmask
    ctl[C_PENDING] = pending
    ctl[C_FLAGS] = flags
    return status
'''

CTL_FIELDS = ("n", "head", "level_end", "depth", "transitions", "max_depth_seen", "capacity",
              "pending", "err_state", "err_what", "max_states", "max_depth", "flags", "has_props")
"""The meaning of each ``ctl`` entry, in order (the ``C_*`` constants above)."""
CTL = {name: i for i, name in enumerate(CTL_FIELDS)}
"""``ctl`` position by name."""

PARALLEL_SOURCE = '''

@njit(cache=True, parallel=True)
def expand_chunk(states, head, m, us, succ, sact, counts, infos):
    """Expand states ``head .. head + m - 1`` on every numba thread (no shared writes)."""
    for t in prange(m):
        w = states[head + t]
        unpack(w, us[t])
        counts[t] = expand(us[t], w, succ[t], sact[t], infos[t])


@njit(cache=True)
def bfs_par(states, parents, actions, index, ctl, viol, budget, chunk):
    """:func:`bfs` with each chunk of ``chunk`` frontier states expanded in parallel first;
    properties and insertions then run in order, so numbering, counts, verdicts and
    traces are the sequential ones (expansions past a stop are discarded)."""
    us = np.empty((chunk, NS), np.int64)
    u2 = np.empty(NS, np.int64)
    succ = np.empty((chunk, NSUCC, NW), np.int64)
    sact = np.empty((chunk, NSUCC), np.int64)
    counts = np.empty(chunk, np.int64)
    infos = np.zeros((chunk, 4), np.int64)
    n = ctl[C_N]
    head = ctl[C_HEAD]
    level_end = ctl[C_LEVEL_END]
    depth = ctl[C_DEPTH]
    trans = ctl[C_TRANS]
    maxdepth = ctl[C_MAXDEPTH]
    capmask = ctl[C_CAP]
    pending = ctl[C_PENDING]
    max_states = ctl[C_MAX_STATES]
    max_depth = ctl[C_MAX_DEPTH]
    flags = ctl[C_FLAGS]
    has_props = ctl[C_HAS_PROPS]
    status = 0
    done = 0
    stop = False
    while head < n and not stop:
        if has_props and pending == 0:
            break
        if done >= budget:
            status = 1
            break
        m = min(chunk, n - head)
        if n + m * NSUCC > states.shape[0] or (n + m * NSUCC) * 10 > index.shape[0] * 7:
            status = 2
            break
        expand_chunk(states, head, m, us, succ, sact, counts, infos)
        for t in range(m):
            if has_props and pending == 0:
                stop = True
                break
            if head == level_end:
                depth += 1
                level_end = n
            k = counts[t]
            if k < 0:
                ctl[C_ERR_STATE] = head
                ctl[C_ERR_WHAT] = infos[t, 0]
                status = 3
                stop = True
                break
            capmask |= infos[t, 2]
            if pending:
                r = check(us[t], infos[t, 1], pending, viol, head)
                if r < 0:
                    ctl[C_ERR_STATE] = head
                    ctl[C_ERR_WHAT] = -1 - r
                    status = 4
                    stop = True
                    break
                pending = r
            done += 1
            if max_depth >= 0 and depth >= max_depth:
                if (flags & 2) == 0:
                    for j in range(k):
                        x = succ[t, j]
                        if CANON:
                            canon(u2, x)
                        if index[find_slot(states, index, x)] < 0:
                            flags |= 2
                            break
                head += 1
                continue
            for j in range(k):
                trans += 1
                x = succ[t, j]
                if CANON:
                    canon(u2, x)
                pos = find_slot(states, index, x)
                if index[pos] >= 0:
                    continue
                if max_states >= 0 and n >= max_states:
                    flags |= 1
                    continue
                states[n] = x
                parents[n] = head
                actions[n] = sact[t, j]
                index[pos] = n
                n += 1
                maxdepth = depth + 1
            head += 1
    ctl[C_N] = n
    ctl[C_HEAD] = head
    ctl[C_LEVEL_END] = level_end
    ctl[C_DEPTH] = depth
    ctl[C_TRANS] = trans
    ctl[C_MAXDEPTH] = maxdepth
    ctl[C_CAP] = capmask
    ctl[C_PENDING] = pending
    ctl[C_FLAGS] = flags
    return status
'''
