"""Seeded row subsamples, chosen one way everywhere.

Every place that tests, plots or loads a subset of rows draws it with
:func:`seeded_rows`, so the same ``(n, size, seed)`` always means the same rows:
a subsample drawn while loading a file equals the one :func:`~gaussaudit.stats.audit`
would draw from the loaded matrix.
"""

from __future__ import annotations

import numpy as np

__all__ = ["describe_subsample", "seeded_rows"]


def seeded_rows(n: int, size: int, seed: int) -> np.ndarray:
    """Return sorted indices of ``size`` of ``n`` rows, drawn without replacement.

    Parameters
    ----------
    n : int
        Number of rows to draw from.
    size : int
        Number of rows to keep (at most ``n``).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ndarray of int, shape (size,)
        Increasing row indices.
    """
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def describe_subsample(size: int, n: int, seed: int) -> str:
    """Return the report's wording for a seeded subsample of ``size`` of ``n`` rows."""
    return f"{size} of {n} rows (seeded subsample, seed {seed})"
