"""How much memory a run may take when the user sets no ``--memory-limit``."""

from __future__ import annotations

import resource


def default_memory_limit() -> int:
    """A safe share of the machine's memory, in bytes: 60% of ``MemTotal``, but at most
    80% of what is available when the run starts (``MemAvailable``); 4 GiB if unknown."""
    return _share(of_total=60, of_available=80)


def memory_ceiling() -> int:
    """The memory a Z3 engine may take, in bytes: 90% of ``MemTotal``, but at most 95%
    of what is available when the run starts; 4 GiB if unknown.  Higher than
    :func:`default_memory_limit`, which sizes a table ahead of time: this one only
    stops a run before the kernel's out-of-memory killer would (pdr's proofs at ring
    size 2 take up to 13.5 GB of 24)."""
    return _share(of_total=90, of_available=95)


def _share(of_total: int, of_available: int) -> int:
    """``of_total`` percent of ``MemTotal``, at most ``of_available`` percent of
    ``MemAvailable``, in bytes (from ``/proc/meminfo``; 4 GiB when it cannot be read)."""
    info: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, rest = line.partition(":")
                info[key] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return 4 << 30
    if "MemTotal" not in info:
        return 4 << 30
    share = info["MemTotal"] * of_total // 100
    if "MemAvailable" in info:
        share = min(share, info["MemAvailable"] * of_available // 100)
    return share


def peak_memory_mib() -> int:
    """The process's peak resident memory so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10  # KiB on Linux
