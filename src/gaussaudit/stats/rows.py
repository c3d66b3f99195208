"""How many rows each step of an audit reads: one rule for every engine.

The subspace tests read a seeded subsample that grows with n within a memory
budget; the steps that need whole rows in memory (departure, sphere reference,
diagnosis) read at most :data:`FINISH_ROWS`. The in-memory battery and the
streaming engines both record these counts in ``execution.rows_used``.
"""

from __future__ import annotations

from typing import Any

from .config import AuditConfig

__all__ = ["FINISH_ROWS", "rows_used", "subspace_rows"]

#: Rows of the seeded subsample read by the steps that need whole rows in memory.
FINISH_ROWS = 5000

#: The subspace tests read one row in ``SUBSPACE_ROWS_PER`` beyond ``multivariate_max_rows``,
#: up to ``SUBSPACE_ROWS_MAX`` rows (their cost is about 16 k rows^2 per subspace).
SUBSPACE_ROWS_PER = 50
SUBSPACE_ROWS_MAX = 20_000
#: The budget the subspace rows are held to when ``memory_limit`` is unset (fixed, so the
#: rows, and the numbers, do not depend on the memory free at the time).
SUBSPACE_DEFAULT_BUDGET = 2**30


def subspace_rows(n: int, d: int, config: AuditConfig) -> int:
    """Rows of the seeded subsample the subspace tests read.

    ``multivariate_max_rows`` up to n = 50 x that (125,000 rows by default), then
    one row in 50, at most 20,000, and no more than four float64 copies of
    them fit in ``memory_limit`` (1 GiB when unset).

    Examples
    --------
    >>> cfg = AuditConfig()
    >>> subspace_rows(50_000, 768, cfg), subspace_rows(1_000_000, 768, cfg)
    (2500, 20000)
    """
    base = config.multivariate_max_rows
    rows = max(base, min(SUBSPACE_ROWS_MAX, n // SUBSPACE_ROWS_PER))
    if rows > base:
        from .memory import parse_bytes

        limit = SUBSPACE_DEFAULT_BUDGET
        if config.memory_limit is not None:
            limit = parse_bytes(config.memory_limit)
        rows = max(base, min(rows, limit // max(4 * 8 * d, 1)))
    return int(min(n, rows))


def rows_used(n: int, d: int, config: Any, calibration: Any = None) -> dict[str, int]:
    """Rows each step of an audit reads (the same in memory and streamed).

    Examples
    --------
    >>> from gaussaudit.stats.config import AuditConfig
    >>> rows_used(100_000, 768, AuditConfig())["departure"]
    5000
    """
    sub = min(n, config.multivariate_max_rows)
    out = {
        "per_coordinate": n,
        "norms": n,
        "projections": n,
        "full_multivariate": sub,
        "subspaces": subspace_rows(n, d, config),
        "departure": min(n, FINISH_ROWS),
        "sphere": min(n, FINISH_ROWS),
        "diagnosis": min(n, FINISH_ROWS),
    }
    rows = getattr(calibration, "rows", None)
    if rows is not None:
        out["calibration"] = int(rows)
    return out
