"""Read/write sets and pc values of the generated steps, read off their code.

The code-reading half of the partial-order reduction (:mod:`.flatpor` has
the argument and the tables): each ``step_<i>(u, w, nw)`` of :mod:`.flatcode`
is straight-line code over the slots ``u[k]``; its reads are every ``u[k]``
it mentions, its writes every field its final assignment clears, its pc
values what its leading ``return 0`` guards require.  The canon's data flow
(:func:`canon_dependencies`) and the slots the invariants read
(:func:`property_reads`) are read the same way.  Code of another shape
raises :class:`.flatcode.Refused`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from checker.engines.explicit.compiled.flatcode import Refused
from checker.engines.explicit.compiled.layout import Layout

_SLOT = re.compile(r"\bu\[(\d+)\]")
_TEMP = re.compile(r"\bt\d+\b")
_DEF = re.compile(r"^(t\d+) = (.*)$")
_EXIT = re.compile(r"^if (.*): return (-?\d+)$")
_FUNC = re.compile(r"^def (\w+)\(([^)]*)\):$", re.MULTILINE)
_ENABLED = re.compile(r"\(e & (\d+)\)")


@dataclass(frozen=True)
class Access:
    """What one compiled step reads and writes (slots), and its pc constants."""

    reads: frozenset[int]
    writes: frozenset[int]
    pcs: dict[int, frozenset[int]]
    """``slot -> values``: the step does anything (a successor, a capacity hit, an
    error) only in states where slot ``slot`` holds one of ``values``."""


def functions(source: str) -> dict[str, list[str]]:
    """Each top-level function of ``source`` by name: its body lines, stripped."""
    out: dict[str, list[str]] = {}
    name = ""
    for line in source.splitlines():
        head = _FUNC.match(line)
        if head:
            name = head[1]
            out[name] = []
        elif name and line.startswith("    "):
            out[name].append(line.strip())
    return out


def _written_slots(layout: Layout, stmt: str, source: str) -> set[int]:
    """The slots whose field the packed-word assignment ``stmt`` clears (``nw[w] =
    (<source>[w] & KEEP) | ...``, or ``nw[w] = <source>[w]``: none)."""
    m = re.match(rf"^nw\[(\d+)\] = (?:{source}\[\d+\]$|\({source}\[\d+\] & (\d+)\))", stmt)
    if m is None:
        raise Refused(f"partial-order reduction: unexpected output statement {stmt[:60]}")
    word = int(m[1])
    cleared = 0 if m[2] is None else ~int(m[2]) & ((1 << 63) - 1)
    return {k for k, f in enumerate(layout.fields)
            if f.word == word and f.width and f.mask & cleared}


def _straight(lines: Sequence[str], what: str) -> None:
    for line in lines:
        if line.endswith(":") or line.startswith(("for ", "while ", "else", "elif ")):
            raise Refused(f"partial-order reduction: {what} is not straight-line code "
                          f"({line[:60]})")


def step_access(layout: Layout, body: Sequence[str], what: str,
                ranges: Sequence[tuple[int, int]]) -> Access:
    """The :class:`Access` of one generated ``step_<i>`` body (see the module);
    ``ranges``: each slot's type range."""
    _straight(body, what)
    reads = {int(k) for line in body for k in _SLOT.findall(line)}
    writes: set[int] = set()
    last = body[-2] if len(body) >= 2 and body[-1] == "return 0" else ""
    if any(re.search(r"\b(?:n?w)\[", line) for line in body if line != last):
        raise Refused(f"partial-order reduction: {what} reads the packed words directly")
    if last.endswith("; return 1"):
        for stmt in last[: -len("; return 1")].split("; "):
            writes |= _written_slots(layout, stmt, "w")
            if len(re.findall(r"\bw\[", stmt)) != 1:
                raise Refused(f"partial-order reduction: {what} reads the packed words "
                              "directly")
    defs: dict[str, str] = {}
    pcs: dict[int, frozenset[int]] = {}
    for line in body:
        d = _DEF.match(line)
        if d:
            defs[d[1]] = d[2]
            continue
        if "return" not in line:
            continue
        exit_ = _EXIT.match(line)
        if exit_ is None or exit_[2] != "0":
            break  # the first exit that may do something: nothing is implied after it
        cond = exit_[1]
        if cond.startswith("not "):
            pcs = _conjunction([pcs, _implied(cond[4:], defs, ranges)])
    return Access(frozenset(reads), frozenset(writes), pcs)


def _conjunction(parts: Sequence[dict[int, frozenset[int]]]) -> dict[int, frozenset[int]]:
    out: dict[int, frozenset[int]] = {}
    for part in parts:
        for k, values in part.items():
            out[k] = out[k] & values if k in out else values
    return out


_COMPARE = re.compile(r"^u\[(\d+)\] (==|!=|<=|>=|<|>) (-?\d+)$")
_TESTS = {"==": int.__eq__, "!=": int.__ne__, "<": int.__lt__, "<=": int.__le__,
          ">": int.__gt__, ">=": int.__ge__}
MAX_RANGE = 4096
"""Slots with a wider type range are not analysed as program counters."""


def _implied(expr: str, defs: dict[str, str],
             ranges: Sequence[tuple[int, int]]) -> dict[int, frozenset[int]]:
    """``slot -> values`` such that ``expr`` (code over ``defs``' temporaries) is true
    only where each such slot holds one of its values; ``{}`` when nothing is known.
    Reads comparisons of a slot with a literal, a slot used as a truth value, and
    ``&``/``|`` of those."""
    expr = expr.strip()
    if expr in defs:
        return _implied(defs[expr], defs, ranges)
    test = _COMPARE.match(expr)
    bare = re.fullmatch(r"u\[(\d+)\]", expr)
    if test or bare:
        k = int((test or bare)[1])  # type: ignore[index]
        lo, hi = ranges[k]
        if hi - lo > MAX_RANGE:
            return {}
        if test:
            op, c = _TESTS[test[2]], int(test[3])
            return {k: frozenset(v for v in range(lo, hi + 1) if op(v, c))}
        return {k: frozenset(v for v in range(lo, hi + 1) if v != 0)}
    junction = re.fullmatch(r"\((\S+(?: ([&|]) \S+)+)\)", expr)
    if junction is None:
        return {}
    parts = [_implied(x, defs, ranges) for x in junction[1].split(f" {junction[2]} ")]
    if junction[2] == "&":
        return _conjunction(parts)
    common = set(parts[0]).intersection(*parts[1:])
    return {k: frozenset().union(*(p[k] for p in parts)) for k in common}


def canon_dependencies(layout: Layout, source: str) -> dict[int, frozenset[int]]:
    """For each slot the canon may rewrite, the slots its new value is computed from."""
    body = functions(source).get("canon")
    if body is None:
        raise Refused("partial-order reduction: no canon function in the canon source")
    _straight(body, "the canon")
    deps: dict[str, set[int]] = {}

    def of(expr: str) -> set[int]:
        out = {int(k) for k in _SLOT.findall(expr)}
        for t in _TEMP.findall(expr):
            out |= deps.get(t, set())
        return out

    targets: dict[int, frozenset[int]] = {}
    for line in body:
        if line.startswith("u["):
            continue  # loading a slot from the words
        d = _DEF.match(line)
        if d:
            deps[d[1]] = of(d[2])
            continue
        if not line.startswith("nw["):
            if line == "pass":
                continue
            raise Refused(f"partial-order reduction: unexpected canon line {line[:60]}")
        written = _written_slots(layout, line, "nw")
        parts = [p.strip() for p in line.split(" | ")[1:]]
        shifts = {layout.fields[k].shift for k in written}
        by_shift: dict[int, set[int]] = {}
        for part in parts:
            if re.fullmatch(r"-?\d+", part):
                continue  # a constant: no slot
            shift = re.search(r"<< (\d+)\)$", part)
            at = int(shift[1]) if shift else 0
            if not balanced(part) or at not in shifts:
                # a shape this reader does not know: every field depends on everything
                every = frozenset(of(" ".join(parts)) | set().union(*deps.values()))
                by_shift = {s: set(every) for s in shifts}
                break
            by_shift.setdefault(at, set()).update(of(part))
        for k in written:
            targets[k] = frozenset(by_shift.get(layout.fields[k].shift, set()))
    return targets


def balanced(text: str) -> bool:
    """Whether the parentheses of ``text`` close in order."""
    depth = 0
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def property_reads(source: str, count: int,
                   actor_bits: dict[str, int]) -> tuple[set[int], set[str]]:
    """The slots the ``prop_<p>`` functions read, and the actors whose enabledness they
    read (``e & mask``)."""
    funcs = functions(source)
    slots: set[int] = set()
    actors: set[str] = set()
    for p in range(count):
        body = funcs.get(f"prop_{p}", [])
        for line in body:
            slots |= {int(k) for k in _SLOT.findall(line)}
            for mask in _ENABLED.findall(line):
                actors |= {a for a, bit in actor_bits.items() if int(mask) & bit}
            if re.search(r"\be\b", line) and not _ENABLED.search(line):
                actors |= set(actor_bits)  # e read otherwise: every actor counts
    return slots, actors
