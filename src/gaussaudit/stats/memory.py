"""Memory sizes and budgets: parsing ``"2GiB"``, the memory available, the default budget.

One home for what :mod:`.config` (``memory_limit``) and :mod:`.cost` (the refusal of an
audit that cannot fit) both need.
"""

from __future__ import annotations

import os
import re

from ..errors import UsageError

__all__ = ["MEMORY_FRACTION", "available_memory", "default_memory_limit", "parse_bytes"]

#: Fraction of the available memory an audit may use by default.
MEMORY_FRACTION = 0.25

_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
    "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40,
}  # fmt: skip


def parse_bytes(text: str | int | float) -> int:
    """Parse a memory size such as ``"2GiB"``, ``"500MB"``, ``"1.5g"`` or ``1048576``.

    Decimal units (kB, MB, GB, TB) are powers of 1000; binary units (KiB, MiB,
    GiB, TiB, and the single letters k, m, g, t) powers of 1024.

    Raises
    ------
    UsageError
        Not a size, or not positive.

    Examples
    --------
    >>> parse_bytes("2GiB"), parse_bytes("500MB"), parse_bytes(4096)
    (2147483648, 500000000, 4096)
    """
    if isinstance(text, bool):
        raise UsageError(f"memory_limit must be a size such as '2GiB', got {text!r}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        match = re.fullmatch(
            r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text)
        )
        unit = match.group(2).lower() if match else ""
        if not match or unit not in _UNITS:
            raise UsageError(
                f"memory_limit must be a size such as '2GiB' or '500MB', got {str(text)[:40]!r}"
            )
        value = float(match.group(1)) * _UNITS[unit]
    if not value >= 1:
        raise UsageError(f"memory_limit must be positive, got {text!r}")
    return int(value)


def available_memory() -> int | None:
    """Memory available to a new allocation, in bytes (None when unknown).

    Linux ``MemAvailable``, else the available physical pages from ``sysconf``.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def default_memory_limit() -> int:
    """Return the default memory budget: a quarter of the available memory, at least 256 MiB.

    Examples
    --------
    >>> default_memory_limit() >= 256 * 2**20
    True
    """
    available = available_memory()
    if available is None:  # unknown: assume a small machine
        available = 8 * 2**30
    return max(256 * 2**20, int(available * MEMORY_FRACTION))
