"""The BFS loops and the open-addressing visited table, as numba source.

This text is appended to the generated module of :mod:`.flatcode` (so the
module's hash, hence numba's cache, covers it) and uses its names: ``NW``
words per state, ``NS`` slots, ``NSUCC`` the most successors a state can
have, ``unpack``, ``expand``, ``check``, ``canon``.

Tables (all numpy, grown by the Python driver, :mod:`.table`):

* ``states[i]``: the packed words of state ``i``; states are numbered in BFS
  order, so ``states[head:n]`` is the frontier (no separate queue);
* ``parents[i]`` (int32) and ``actions[i]`` (uint16): the BFS tree, for
  shortest traces;
* ``index``: the hash table proper, a power-of-two int64 array of cells, linear
  probing, kept at most 70% full.  A taken cell holds a state's 32-bit hash and
  its number, ``hash << 31 | number`` (:func:`cell_of`; -1 is empty), so a probe
  compares the stored words only of a state whose hash is equal: the cells a
  probe passes cost no read of ``states`` (moving the cells to a doubled index
  reads no state either).  It is cut into
  ``2**pbits`` equal *partitions* (contiguous ranges): a state's home cell is
  ``hash & (cells - 1)`` and its probe wraps inside the partition of that
  cell, so the partition holding a state is known from its hash alone.  The
  sequential loop uses ``pbits = 0`` (one partition: plain linear probing);
* ``fill[p]``: how many cells of partition ``p`` are taken (parallel loop).

``fired[i]`` counts the transitions of action instance ``i`` (coverage; the states
an instance reached first are read off ``actions`` afterwards).

``ctl`` carries the loop's scalars between calls (see ``C_*`` below); a loop
returns to Python after about ``budget`` expansions (progress, time and
memory limits), when the tables need to grow, at the end, or on an error.
Status codes: 0 done, 1 budget spent, 2 grow the tables, 3 step error,
4 property error (``ctl[C_ERR_*]`` say where), 5 a partition of the index is
7/8 full (double the index; the parallel loop only).

Partial-order reduction: with ``POR = True`` (a compile-time constant, like
``CANON``; :mod:`.flatpor` writes the ``POR_*`` tables it reads) the
sequential loop keeps, of each expanded state's successors, only those
``por_ample`` selects; with ``POR = False`` the branch is compiled away.
The parallel loop has no such filter (``--por`` runs on one worker).

Lookups start with a cache miss (the index is far larger than the caches):
both loops ``prefetch`` the index cells of lookups to come (the sequential
loop: a state's successors, before its invariants; phase 3: the successors
``AHEAD`` states on) so that the misses overlap.

The canonicalisation hook: every successor's words pass through
``canon(u2, nw)`` right before the lookup (``u2`` scratch slots).  The
generated ``canon`` is the identity (``CANON = False`` skips it entirely); a
reduction that maps a state to a representative replaces it by code that
unpacks ``nw`` into ``u2``, rewrites slots and packs them back with ``pack``.

The parallel loop (:data:`PARALLEL_SOURCE`, ``bfs_par``) numbers states
exactly as the sequential one, so counts, verdicts and traces are equal.  It
takes the frontier in chunks that never straddle a BFS level and runs, per
chunk: (1) on every thread, expand each state, canonicalise and hash its
successors and evaluate the pending invariants on it; (2) in order, apply
the properties (the first violating states, the stop when none is pending)
exactly as the sequential loop, which fixes how many states of the chunk
are expanded; (3) one thread per index partition walks the successors in
order and tentatively inserts those hashing into its partition (a cell then
holds ``-2 - b``, ``b`` the successor's buffer position), so the first
occurrence of each new state is the one marked new (each partition marks in
a row of its own, ``newflag[p, b]``, so that no two threads write one cache
line; the owner of successor ``b`` is known from its hash); (4) in order, a prefix
count numbers the new states (the sequential numbering: by parent, then by
action); (5) on every thread, copy the new states, parents and actions to
their numbers and replace the tentative cells by the numbers.  Only the
writer of a partition touches its cells, so no atomics are needed.
"""

import numpy as np

KERNEL_SOURCE = '''
C_N, C_HEAD, C_LEVEL_END, C_DEPTH, C_TRANS, C_MAXDEPTH, C_CAP, C_PENDING = 0, 1, 2, 3, 4, 5, 6, 7
C_ERR_STATE, C_ERR_WHAT, C_MAX_STATES, C_MAX_DEPTH, C_FLAGS, C_HAS_PROPS = 8, 9, 10, 11, 12, 13

MASK32 = 0xFFFFFFFF
NUMBER_BITS = 31
NUMBER_MASK = (1 << NUMBER_BITS) - 1
REINSERT_AHEAD = 16


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


@njit(cache=True, inline="always")
def cell_of(h, n):
    """The index cell of state number ``n`` whose hash is ``h`` (both below 2**31 and
    2**32: the cell is never negative)."""
    return (h << NUMBER_BITS) | n


@njit(cache=True, inline="always")
def number_in(c):
    """The state number a taken cell ``c`` holds."""
    return c & NUMBER_MASK


@njit(cache=True, inline="always")
def slot_in(states, index, x, h, pmask):
    """The cell of ``x`` (``h`` its hash) or the empty cell it would take; ``pmask`` is
    the partition size less one (the probe wraps inside the home cell's partition)."""
    pos = h & (index.shape[0] - 1)
    base = pos - (pos & pmask)
    while True:
        c = index[pos]
        if c < 0 or ((c >> NUMBER_BITS) == h and same_words(states[number_in(c)], x)):
            return pos
        pos = base | ((pos + 1) & pmask)


@njit(cache=True)
def find_slot(states, index, x, pbits):
    """:func:`slot_in` for ``x`` in an index of ``2**pbits`` partitions."""
    return slot_in(states, index, x, hash_words(x), (index.shape[0] - 1) >> pbits)


@njit(cache=True, inline="always")
def part_shift(index, pbits):
    """``cell >> part_shift`` is the cell's partition."""
    lg = 0
    while (1 << lg) < index.shape[0]:
        lg += 1
    return lg - pbits


@njit(cache=True, inline="always")
def part_of(h, mask, shift):
    """The partition of the state hashing to ``h`` (``mask``: the index's size less one;
    ``shift``: :func:`part_shift`)."""
    return (h & mask) >> shift


@njit(cache=True)
def cells_of(states, n):
    """The index cells of states ``0..n-1`` (each hashed), for :func:`reinsert`."""
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = cell_of(hash_words(states[i]), i)
    return out


@njit(cache=True)
def reinsert(old, index, fill, pbits):
    """Fill the (empty, -1) ``index`` with the taken cells of ``old`` (the index it
    replaces, or :func:`cells_of` the states); ``fill`` counts per partition."""
    fill[:] = 0
    reinsert_part(old, index, pbits, 0, True, fill)


@njit(cache=True, inline="always")
def reinsert_part(old, index, pbits, p, every, fill):
    """Put the taken cells of ``old`` whose new home cell is in partition ``p`` (every
    cell if ``every``, counted per partition in ``fill``) into the empty cells of
    ``index``; returns how many.  A cell holds its state's hash, so no state is read
    or hashed: ``old`` is read in order, and the new cells ``REINSERT_AHEAD`` on are
    asked for first (``prefetch``)."""
    mask = index.shape[0] - 1
    pmask = mask >> pbits
    shift = part_shift(index, pbits)
    m = old.shape[0]
    a = 0
    for q in range(m):
        if q + REINSERT_AHEAD < m:
            ahead = old[q + REINSERT_AHEAD]
            if ahead >= 0:
                home = (ahead >> NUMBER_BITS) & mask
                if every or (home >> shift) == p:
                    prefetch(index, home)
        c = old[q]
        if c < 0:
            continue
        pos = (c >> NUMBER_BITS) & mask
        if not every and (pos >> shift) != p:
            continue
        base = pos - (pos & pmask)
        while index[pos] != -1:
            pos = base | ((pos + 1) & pmask)
        index[pos] = c
        a += 1
        if every:
            fill[pos >> shift] += 1
    return a


@njit(cache=True, inline="always")
def successor_hash(x, hs, j, u2, do_canon):
    """The hash of successor ``x = succ[j]``: canonicalised here and hashed if
    ``do_canon``, else ``hs[j]`` (the caller's)."""
    if do_canon:
        if CANON:
            canon(u2, x)
        return hash_words(x)
    return hs[j]


@njit(cache=True)
def add_successors(states, parents, actions, index, fill, pbits, succ, sact, hs, k, parent,
                   u2, do_canon, n, max_states):
    """Insert the new states among ``succ[:k]`` (canonicalised first if ``do_canon``) as
    children of ``parent``, in order, numbered from ``n``; a new state past ``max_states``
    (if >= 0) is dropped.  ``hs[j]`` is ``succ[j]``'s hash, already computed by the
    caller (read only when not ``do_canon``; otherwise it is computed here, after the
    canonicalisation).  Returns the next number and whether one was dropped."""
    pmask = (index.shape[0] - 1) >> pbits
    shift = part_shift(index, pbits)
    dropped = False
    for j in range(k):
        x = succ[j]
        h = successor_hash(x, hs, j, u2, do_canon)
        pos = slot_in(states, index, x, h, pmask)
        if index[pos] >= 0:
            continue
        if max_states >= 0 and n >= max_states:
            dropped = True
            continue
        states[n] = x
        parents[n] = parent
        actions[n] = sact[j]
        index[pos] = cell_of(h, n)
        if pbits:
            fill[pos >> shift] += 1
        n += 1
    return n, dropped


@njit(cache=True)
def any_new(states, index, pbits, succ, hs, k, u2, do_canon):
    """Whether some state of ``succ[:k]`` (canonicalised first if ``do_canon``) is not
    stored yet (the search past a depth bound would have found more); ``hs`` as for
    :func:`add_successors`."""
    pmask = (index.shape[0] - 1) >> pbits
    for j in range(k):
        x = succ[j]
        h = successor_hash(x, hs, j, u2, do_canon)
        if index[slot_in(states, index, x, h, pmask)] < 0:
            return True
    return False


@njit(cache=True)
def por_ample(u, succ, sact, k, states, index, u2, x2):
    """Partial-order reduction (``POR``, see :mod:`.flatpor`): move the successors of
    the first safe actor's enabled steps to the front of ``succ``/``sact`` and return
    their number, when they are some but not all of the ``k`` successors and each of
    them (canonicalised) is new; else ``k`` (expand fully)."""
    pmask = index.shape[0] - 1
    for a in range(POR_NACT):
        slot = POR_PCSLOT[a]
        col = 0
        if slot >= 0:
            col = u[slot] - POR_PCLO[a]
            if col < 0 or col >= POR_SAFE.shape[1]:
                continue
        if POR_SAFE[a, col] == 0:
            continue
        m = 0
        for j in range(k):
            if POR_ACTOR[sact[j]] == a:
                m += 1
        if m == 0:
            continue
        if m == k:
            return k
        fresh = True
        for j in range(k):
            if POR_ACTOR[sact[j]] == a:
                for q in range(NW):
                    x2[q] = succ[j, q]
                if CANON:
                    canon(u2, x2)
                if index[slot_in(states, index, x2, hash_words(x2), pmask)] >= 0:
                    fresh = False
                    break
        if not fresh:
            continue
        p = 0
        for j in range(k):
            if POR_ACTOR[sact[j]] == a:
                if p != j:
                    for q in range(NW):
                        succ[p, q] = succ[j, q]
                    sact[p] = sact[j]
                p += 1
        return p
    return k


@njit(cache=True)
def bfs(states, parents, actions, index, fill, ctl, viol, fired, budget):
    """Expand up to ``budget`` states one by one (statuses: see the module);
    ``fired[i]`` counts the transitions of action instance ``i``."""
    u = np.empty(NS, np.int64)
    u2 = np.empty(NS, np.int64)
    succ = np.empty((NSUCC, NW), np.int64)
    sact = np.empty(NSUCC, np.int64)
    hs = np.empty(NSUCC, np.int64)
    info = np.zeros(4, np.int64)
    x2 = np.empty(NW, np.int64)
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
        if not POR:
            # canonicalise now and ask for the successors' index cells, so that their
            # cache misses overlap with each other and with the invariants below
            imask = index.shape[0] - 1
            for j in range(k):
                x = succ[j]
                if CANON:
                    canon(u2, x)
                hs[j] = hash_words(x)
                prefetch(index, hs[j] & imask)
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
            if (flags & 2) == 0 and any_new(states, index, 0, succ, hs, k, u2, POR):
                flags |= 2
        else:
            if POR:
                k = por_ample(u, succ, sact, k, states, index, u2, x2)
            trans += k
            for j in range(k):
                fired[sact[j]] += 1
            n2, dropped = add_successors(states, parents, actions, index, fill, 0, succ, sact,
                                         hs, k, head, u2, POR, n, max_states)
            if dropped:
                flags |= 1
            if n2 > n:
                maxdepth = depth + 1
            n = n2
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

def par_buffers(chunk: int, words: int, nsucc: int, parts: int) -> tuple[np.ndarray, ...]:
    """The work arrays of ``bfs_par`` for ``chunk`` frontier states per round and an
    index of ``parts`` partitions (phase 3's marks: a row per partition, so that two
    threads never write the same cache line)."""
    rows = chunk * nsucc
    return (np.zeros((rows, words), np.int64), np.zeros(rows, np.int64),
            np.zeros(rows, np.int64), np.zeros((parts, rows), np.uint8),
            np.zeros((parts, rows), np.int64),
            np.zeros(chunk, np.int64), np.zeros(chunk, np.int64), np.zeros(chunk, np.int64),
            np.zeros((chunk, 4), np.int64), np.zeros(chunk, np.int64))


def par_buffer_bytes(chunk: int, words: int, nsucc: int, parts: int) -> int:
    """Bytes of :func:`par_buffers`."""
    return chunk * nsucc * (8 * words + 16 + 9 * parts) + chunk * 8 * 8


CTL_FIELDS = ("n", "head", "level_end", "depth", "transitions", "max_depth_seen", "capacity",
              "pending", "err_state", "err_what", "max_states", "max_depth", "flags", "has_props")
"""The meaning of each ``ctl`` entry, in order (the ``C_*`` constants above)."""
CTL = {name: i for i, name in enumerate(CTL_FIELDS)}
"""``ctl`` position by name."""

MIN_CHUNK = 64
"""The parallel loop asks for bigger tables when fewer than this many frontier states
(or the rest of the level, if fewer) have room for all their successors."""

PARALLEL_SOURCE = '''

MIN_CHUNK = ''' + str(MIN_CHUNK) + '''
BLOCK = 64
AHEAD = 8


@njit(cache=True, parallel=True)
def expand_chunk(states, head, m, succ, sact, start, counts, infos, hashes, vmask, nprops,
                 pending):
    """Phase 1, every thread (blocks of ``BLOCK`` states): expand states ``head .. head + m
    - 1``; the ``counts[t]`` successors of state ``head + t`` go to ``succ[start[t]:]``
    (one after the other inside the block's ``BLOCK * NSUCC`` rows), canonicalised,
    their hashes to ``hashes``; ``vmask[t]``: the ``pending`` invariants the state
    violates (-1: one needs the interpreter)."""
    for blk in prange((m + BLOCK - 1) // BLOCK):
        u = np.empty(NS, np.int64)
        u2 = np.empty(NS, np.int64)
        one = np.empty((NSUCC, NW), np.int64)  # expanding into a local array, then copying,
        acts = np.empty(NSUCC, np.int64)  # is faster than expanding into a view of succ
        info = np.zeros(4, np.int64)
        scratch = np.empty(nprops, np.int64)
        b = blk * BLOCK * NSUCC
        for t in range(blk * BLOCK, min(m, (blk + 1) * BLOCK)):
            w = states[head + t]
            unpack(w, u)
            start[t] = b
            k = expand(u, w, one, acts, info)
            counts[t] = k
            infos[t, 0] = info[0]
            infos[t, 1] = info[1]
            infos[t, 2] = info[2]
            for j in range(k):
                x = one[j]
                if CANON:
                    canon(u2, x)
                for q in range(NW):
                    succ[b, q] = x[q]
                sact[b] = acts[j]
                hashes[b] = hash_words(x)
                b += 1
            vm = 0
            if pending != 0 and k >= 0:
                r = check(u, info[1], pending, scratch, 0)
                vm = -1 if r < 0 else pending & ~r
            vmask[t] = vm


@njit(cache=True, parallel=True)
def insert_parts(states, index, fill, pbits, succ, hashes, start, counts, cut, newflag, slots,
                 added, overflow, lookup_only):
    """Phase 3, one thread per partition: walk the successors of the first ``cut``
    states in order and mark (``newflag[p, b]``, ``p`` the partition of successor ``b``;
    only those of partition ``p`` are written in row ``p``) each first occurrence of a
    state not in the index; unless ``lookup_only``, insert it tentatively (cell
    ``slots[p, b]`` := ``-2 - b``).
    ``added[p]``: how many partition ``p`` marked; ``overflow[p]``: it stopped because
    the partition would pass 7/8 full (its marks are then incomplete)."""
    parts = 1 << pbits
    mask = index.shape[0] - 1
    pmask = mask >> pbits
    shift = part_shift(index, pbits)
    for p in prange(parts):
        room = (pmask + 1) * 7 // 8 - fill[p]
        a = 0
        over = 0
        for t in range(cut):
            if over:
                break
            if t + AHEAD < cut:
                b1 = start[t + AHEAD]
                for b in range(b1, b1 + counts[t + AHEAD]):
                    pos = hashes[b] & mask
                    if (pos >> shift) == p:
                        prefetch(index, pos)
            if t + AHEAD // 2 < cut:
                b1 = start[t + AHEAD // 2]
                for b in range(b1, b1 + counts[t + AHEAD // 2]):
                    pos = hashes[b] & mask
                    if (pos >> shift) == p:
                        c = index[pos]
                        if c >= 0 and (c >> NUMBER_BITS) == hashes[b]:
                            prefetch(states[number_in(c)], 0)
            b0 = start[t]
            for j in range(counts[t]):
                b = b0 + j
                pos = hashes[b] & mask
                if (pos >> shift) != p:
                    continue
                x = succ[b]
                h = hashes[b]
                base = pos - (pos & pmask)
                while True:
                    c = index[pos]
                    if c == -1:
                        break
                    if c >= 0:
                        if (c >> NUMBER_BITS) == h and same_words(states[number_in(c)], x):
                            break
                    elif hashes[-2 - c] == h and same_words(succ[-2 - c], x):
                        break
                    pos = base | ((pos + 1) & pmask)
                if index[pos] != -1:
                    newflag[p, b] = 0
                    continue
                if not lookup_only:
                    if a >= room:
                        over = 1
                        break
                    index[pos] = -2 - b
                    slots[p, b] = pos
                newflag[p, b] = 1
                a += 1
        added[p] = a
        overflow[p] = over


@njit(cache=True, parallel=True)
def commit_chunk(states, parents, actions, index, pbits, head, cut, succ, sact, hashes, start,
                 counts, newflag, slots, first):
    """Phase 5, every thread: store the new successors of state ``head + t`` under the
    numbers from ``first[t]`` on, in order, and put the numbers in their cells."""
    mask = index.shape[0] - 1
    shift = part_shift(index, pbits)
    for t in prange(cut):
        i = first[t]
        b0 = start[t]
        for j in range(counts[t]):
            b = b0 + j
            p = part_of(hashes[b], mask, shift)
            if newflag[p, b]:
                for q in range(NW):
                    states[i, q] = succ[b, q]
                parents[i] = head + t
                actions[i] = sact[b]
                index[slots[p, b]] = cell_of(hashes[b], i)
                i += 1


@njit(cache=True)
def drop_tentative(index):
    """Undo phase 3 (every tentative cell back to empty); used when a partition overflows."""
    for pos in range(index.shape[0]):
        if index[pos] < -1:
            index[pos] = -1


@njit(cache=True)
def count_fired(fired, sact, start, counts, cut):
    """Add the successors of a chunk's first ``cut`` states to ``fired`` (per instance)."""
    for t in range(cut):
        for b in range(start[t], start[t] + counts[t]):
            fired[sact[b]] += 1


@njit(cache=True)
def bfs_par(states, parents, actions, index, fill, pbits, ctl, viol, fired, budget, buffers):
    """:func:`bfs` on chunks of up to ``chunk`` frontier states of one level, expanded and
    inserted on numba threads (the index has ``2**pbits`` partitions, one writer each);
    numbering, counts, verdicts and traces are those of :func:`bfs` (see the module).
    ``buffers``: :func:`par_buffers` (kept between calls: fresh ones would be paged in
    at every call)."""
    succ, sact, hashes, newflag, slots, counts, start, first, infos, vmask = buffers
    chunk = counts.shape[0]
    u = np.empty(NS, np.int64)
    u2 = np.empty(NS, np.int64)
    parts = 1 << pbits
    added = np.zeros(parts, np.int64)
    overflow = np.zeros(parts, np.int64)
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
        if head == level_end:
            depth += 1
            level_end = n
        want = min(chunk, level_end - head)
        fit = min(states.shape[0] - n, index.shape[0] * 7 // 10 - n) // NSUCC
        if fit < min(want, MIN_CHUNK):
            status = 2
            break
        m = min(want, fit)
        # phase 1
        expand_chunk(states, head, m, succ, sact, start, counts, infos, hashes, vmask,
                     viol.shape[0], pending)
        # phase 2: properties in order; cut = how many states of the chunk are expanded
        cut = m
        now_pending = pending
        now_cap = capmask
        for t in range(m):
            if has_props and now_pending == 0:
                cut = t
                break
            k = counts[t]
            if k < 0:
                ctl[C_ERR_STATE] = head + t
                ctl[C_ERR_WHAT] = infos[t, 0]
                status = 3
                cut = t
                break
            now_cap |= infos[t, 2]
            if vmask[t] & now_pending:
                unpack(states[head + t], u)
                r = check(u, infos[t, 1], now_pending, viol, head + t)
                if r < 0:
                    ctl[C_ERR_STATE] = head + t
                    ctl[C_ERR_WHAT] = -1 - r
                    status = 4
                    cut = t
                    break
                now_pending = r
        chunk_trans = 0
        for t in range(cut):
            chunk_trans += counts[t]
        if max_depth >= 0 and depth >= max_depth:
            # past the depth bound: nothing is inserted, only "would there be more?"
            if (flags & 2) == 0 and cut > 0:
                insert_parts(states, index, fill, pbits, succ, hashes, start, counts, cut,
                             newflag, slots, added, overflow, True)
                if added.sum() > 0:
                    flags |= 2
        elif max_states >= 0 and n >= max_states:
            # the state bound is reached: nothing is inserted, only "was one dropped?"
            trans += chunk_trans
            count_fired(fired, sact, start, counts, cut)
            if (flags & 1) == 0 and cut > 0:
                insert_parts(states, index, fill, pbits, succ, hashes, start, counts, cut,
                             newflag, slots, added, overflow, True)
                if added.sum() > 0:
                    flags |= 1
        elif cut > 0:
            # phase 3
            insert_parts(states, index, fill, pbits, succ, hashes, start, counts, cut,
                         newflag, slots, added, overflow, False)
            if overflow.sum() > 0:
                drop_tentative(index)
                for p in range(viol.shape[0]):
                    if (pending & ~now_pending) >> p & 1:
                        viol[p] = -1
                status = 5
                break
            # phase 4: the sequential numbering
            mask = index.shape[0] - 1
            shift = part_shift(index, pbits)
            new = 0
            for t in range(cut):
                first[t] = n + new
                b0 = start[t]
                for b in range(b0, b0 + counts[t]):
                    new += newflag[part_of(hashes[b], mask, shift), b]
            trans += chunk_trans
            count_fired(fired, sact, start, counts, cut)
            if max_states >= 0 and n + new > max_states:
                # the bound falls inside this chunk: undo, insert one by one
                for t in range(cut):
                    b0 = start[t]
                    for b in range(b0, b0 + counts[t]):
                        p = part_of(hashes[b], mask, shift)
                        if newflag[p, b]:
                            index[slots[p, b]] = -1
                before = n
                for t in range(cut):
                    b0 = start[t]
                    n, dropped = add_successors(
                        states, parents, actions, index, fill, pbits, succ[b0:b0 + NSUCC],
                        sact[b0:b0 + NSUCC], hashes[b0:b0 + NSUCC], counts[t], head + t, u2,
                        False, n, max_states)
                    if dropped:
                        flags |= 1
                if n > before:
                    maxdepth = depth + 1
            elif new > 0:
                # phase 5
                commit_chunk(states, parents, actions, index, pbits, head, cut, succ, sact,
                             hashes, start, counts, newflag, slots, first)
                for p in range(parts):
                    fill[p] += added[p]
                n += new
                maxdepth = depth + 1
        pending = now_pending
        capmask = now_cap
        head += cut
        done += cut
        if status != 0:
            break
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


@njit(cache=True, parallel=True)
def fill_par(a, v):
    """``a[:] = v`` on every thread (so that the fresh pages are touched, and faulted in,
    by both cores)."""
    for i in prange(a.shape[0]):
        a[i] = v


@njit(cache=True, parallel=True)
def copy_par(dst, src, n):
    """``dst[:n] = src[:n]`` (elements, or rows of a 2-dimensional array) on every thread."""
    for i in prange(n):
        dst[i] = src[i]


@njit(cache=True, parallel=True)
def reinsert_par(old, index, fill, pbits):
    """:func:`reinsert`, one thread per partition (each reads all of ``old`` and inserts
    the cells whose new home is in its partition)."""
    parts = 1 << pbits
    for p in prange(parts):
        fill[p] = reinsert_part(old, index, pbits, p, False, fill)
'''
