"""Reading many tests at once: null bands for pass fractions and corrections.

A Gaussian embedding does not pass every per-coordinate test: at level
``alpha`` about ``alpha`` of exactly Gaussian coordinates fail by chance, so the
pass fraction to expect is ``1 - alpha`` (about 95 %), not 100 % (PAPER.md §1.3).
:func:`binomial_null_band` gives the range a pass fraction falls in under H0
when coordinates are independent; :func:`reject` applies Holm or
Benjamini–Hochberg across coordinates through statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["NullBand", "binomial_null_band", "reject"]


@dataclass(frozen=True, slots=True)
class NullBand:
    """Central interval of a fraction under H0.

    Attributes
    ----------
    expected : float
        Expected fraction under H0.
    low, high : float
        Bounds of the central ``coverage`` interval (inclusive).
    coverage : float
    n_tests : int
    """

    expected: float
    low: float
    high: float
    coverage: float
    n_tests: int

    def contains(self, fraction: float) -> bool:
        """Whether ``fraction`` lies inside the band."""
        return bool(self.low <= fraction <= self.high)


def binomial_null_band(n_tests: int, expected: float, *, coverage: float = 0.99) -> NullBand:
    """Central binomial interval for a fraction of ``n_tests`` Bernoulli outcomes.

    Parameters
    ----------
    n_tests : int
        Number of tests (coordinates, projections or subspaces).
    expected : float
        Success probability of each test under H0, e.g. ``1 - alpha`` for a
        pass fraction or ``alpha`` for a rejection fraction.
    coverage : float
        Probability mass inside the band (0.99 by default).

    Returns
    -------
    NullBand

    Notes
    -----
    The band assumes independent tests. Correlated coordinates make the spread
    of the pass fraction wider than this; the whitened view has uncorrelated
    coordinates and is the one where the band is closest to exact.
    """
    if n_tests <= 0:
        return NullBand(expected, float("nan"), float("nan"), coverage, 0)
    tail = (1.0 - coverage) / 2.0
    low = stats.binom.ppf(tail, n_tests, expected) / n_tests
    high = stats.binom.ppf(1.0 - tail, n_tests, expected) / n_tests
    return NullBand(float(expected), float(low), float(high), coverage, int(n_tests))


def reject(pvalues: np.ndarray, alpha: float = 0.05, *, method: str = "holm") -> np.ndarray:
    """Which hypotheses are rejected after correcting for multiplicity.

    Parameters
    ----------
    pvalues : array_like
        One p-value per test; NaN entries are never rejected.
    alpha : float
        Family-wise error rate or false-discovery rate.
    method : str
        ``"holm"``, ``"fdr_bh"`` or any other ``multipletests`` method.

    Returns
    -------
    ndarray of bool
    """
    from statsmodels.stats.multitest import multipletests

    p = np.asarray(pvalues, dtype=float)
    out = np.zeros(p.shape, dtype=bool)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], alpha=alpha, method=method)[0]
    return out
