"""What an audit will cost, decided before the battery commits memory or time.

Two rules, both recorded in the report when they act:

- **Projections scale with d and n.** ``d`` directions already span the space,
  so more than :data:`DIRECTIONS_PER_DIM` · d random directions add little but
  cost; and the projected matrix (n × P float64, plus the kernels' working
  copies) is kept under :data:`PROJECTION_VALUES` values. At d = 2 the default
  128 directions become 32; at d ≥ 8 and n ≤ 390,000 nothing changes.
- **A memory estimate before the audit.** :func:`estimate_bytes` adds up the
  float64 views and the largest working set of the tests; when it exceeds
  the memory the machine has available, :func:`check_budget` refuses with a
  one-line error that names the way out (a row subsample), instead of letting
  the process be killed half way.

Examples
--------
>>> effective_projections(128, n=2_000_000, d=2)
25
>>> effective_projections(128, n=10_000, d=768)
128
"""

from __future__ import annotations

from ..errors import UsageError
from .memory import available_memory

__all__ = [
    "DIRECTIONS_PER_DIM",
    "PROJECTION_VALUES",
    "available_memory",
    "check_budget",
    "effective_projections",
    "estimate_bytes",
]

#: Random directions per dimension beyond which more directions add little.
DIRECTIONS_PER_DIM = 16
#: Largest projected matrix (values) the projection battery builds.
PROJECTION_VALUES = 50_000_000
#: Fewest directions kept whatever n is (the pass fractions need some).
_MIN_DIRECTIONS = 8


def effective_projections(asked: int, *, n: int, d: int) -> int:
    """Random directions the projection battery uses for ``asked`` at this size.

    ``min(asked, 16 d, max(8, 5e7 // n))``; 0 stays 0.
    """
    if asked <= 0:
        return 0
    by_rows = max(_MIN_DIRECTIONS, PROJECTION_VALUES // max(n, 1))
    return int(min(asked, DIRECTIONS_PER_DIM * d, by_rows))


def estimate_bytes(n: int, d: int, config: object) -> int:
    """Peak memory of the battery beyond the loaded matrix, in bytes (an estimate).

    Each view beyond ``raw`` is a float64 copy; the per-coordinate kernels
    work on column blocks, the norms on one centred block, the projections on
    n × P values with two working copies, and the multivariate tests on their
    row subsample.
    """
    views = getattr(config, "views", ("raw",))
    rows = min(n, getattr(config, "max_samples", None) or n)
    copies = sum(1 for v in views if v != "raw")
    per_view = rows * d * 8
    projections = effective_projections(getattr(config, "projections", 0), n=rows, d=d)
    working = max(3 * rows * projections * 8, 2 * rows * min(d, 128) * 8)
    mv_rows = min(rows, getattr(config, "multivariate_max_rows", 2500))
    multivariate = mv_rows * (d + 2048) * 8
    return int(copies * per_view + working + multivariate)


def check_budget(n: int, d: int, config: object, *, available: int | None = None) -> None:
    """Refuse an audit whose estimated memory exceeds what is available.

    Parameters
    ----------
    n, d : int
        Rows and columns to audit.
    config : AuditConfig
    available : int, optional
        Bytes available (default: :func:`available_memory`).

    Raises
    ------
    UsageError
        With the estimate, what is available and the subsample that fits.

    Examples
    --------
    >>> from gaussaudit.stats.config import AuditConfig
    >>> check_budget(1000, 16, AuditConfig(), available=10**9)
    >>> check_budget(10**7, 768, AuditConfig(views="all"), available=10**9)
    Traceback (most recent call last):
    ...
    gaussaudit.errors.UsageError: auditing 10000000 x 768 (3 views) needs about 133.6 GiB ...
    """
    free = available_memory() if available is None else available
    need = estimate_bytes(n, d, config)
    if free is None or need <= 0.8 * free:
        return
    views = getattr(config, "views", ("raw",))
    per_row = max(need / max(n, 1), 1.0)
    fits = max(int(0.8 * free / per_row) // 1000 * 1000, 1000)
    raise UsageError(
        f"auditing {n} x {d} ({len(views)} view{'s' if len(views) > 1 else ''}) needs about "
        f"{need / 2**30:.1f} GiB beyond the matrix, more than the {free / 2**30:.1f} GiB "
        f"available; audit a row subsample (max_samples={fits}) or fewer views",
        option="max_samples",
    )
