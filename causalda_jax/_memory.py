"""Refusing, before allocating it, an output larger than the memory the machine has free."""

from __future__ import annotations

import os

__all__ = ["available_memory", "check_memory", "format_bytes"]


def available_memory() -> int | None:
    """Bytes that new allocations can take now, or ``None`` when the system does not say.

    Linux's ``MemAvailable`` (free plus reclaimable cache), capped by the container's cgroup
    limit when there is one; elsewhere the free physical pages.
    """
    free = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    free = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    if free is None:
        try:
            free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read().strip())
        if limit != "max":
            free = min(free, int(limit) - used)
    except (OSError, ValueError):
        pass
    return max(int(free), 0)


def format_bytes(n: float) -> str:
    """``1.5 GB`` style, decimal units.

    Example:
        >>> format_bytes(1.5e9), format_bytes(2000)
        ('1.5 GB', '2 kB')
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def check_memory(needed: int, what: str, advice: str, *, available: int | None = None) -> None:
    """Raise before allocating ``needed`` bytes when the machine has less than that free.

    Args:
        needed: estimated peak bytes of the work.
        what: what needs them, e.g. ``"sampling 10^9 rows × 4 columns"``.
        advice: what to change, e.g. ``"draw fewer samples"``.
        available: bytes free (default: :func:`available_memory`).

    Raises:
        MemoryError: naming the estimate, the memory available and the advice.

    Example:
        >>> check_memory(10**6, "a test", "nothing", available=10**9)
        >>> check_memory(10**10, "sampling", "draw fewer samples", available=10**9)
        Traceback (most recent call last):
        ...
        MemoryError: sampling needs about 10 GB of memory but 1 GB is available; draw fewer samples
    """
    available = available_memory() if available is None else available
    if available is not None and needed > available:
        raise MemoryError(
            f"{what} needs about {format_bytes(needed)} of memory but {format_bytes(available)} is available; {advice}"
        )
