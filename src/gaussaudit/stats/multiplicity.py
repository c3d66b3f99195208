"""Reading many tests at once: null bands for pass fractions and corrections.

A Gaussian embedding does not pass every per-coordinate test: at level
``alpha`` about ``alpha`` of exactly Gaussian coordinates fail by chance, so the
pass fraction to expect is ``1 - alpha`` (about 95 %), not 100 % (PAPER.md §1.3).
:func:`binomial_null_band` gives the range a pass fraction falls in under H0
when coordinates are independent; :func:`reject` applies Holm or
Benjamini–Hochberg across coordinates (written here, checked against
``statsmodels.stats.multitest.multipletests`` in the tests; other methods go to
statsmodels, imported only then).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "NullBand",
    "beta_binomial_ppf",
    "binomial_null_band",
    "binomial_ppf",
    "fdr_bh",
    "holm",
    "reject",
]


def binomial_ppf(q: float, n: int, p: float) -> float:
    """``scipy.stats.binom.ppf(q, n, p)`` without importing ``scipy.stats``.

    The same ufunc scipy's ``binom`` calls for ``0 < q < 1``; the boundaries
    as scipy gives them (``-1`` at ``q = 0``, ``n`` at ``q = 1``).

    Examples
    --------
    >>> binomial_ppf(0.5, 10, 0.5)
    5.0
    """
    if not 0.0 < q < 1.0 or not 0.0 <= p <= 1.0:
        from scipy import stats

        return float(stats.binom.ppf(q, n, p))
    try:
        from scipy.special._ufuncs import _binom_ppf
    except ImportError:  # pragma: no cover - a scipy without the private ufunc
        from scipy import stats

        return float(stats.binom.ppf(q, n, p))
    return float(_binom_ppf(q, n, p))


def beta_binomial_ppf(q: float, n: int, a: float, b: float) -> float:
    """``scipy.stats.betabinom.ppf(q, n, a, b)`` for ``0 < q < 1``, without ``scipy.stats``.

    The smallest ``k`` whose CDF (a sum of scipy's ``betabinom`` pmf, the same
    formula) reaches ``q``.

    Examples
    --------
    >>> beta_binomial_ppf(0.5, 10, 2.0, 2.0)
    5.0
    """
    from scipy.special import betaln

    if not 0.0 < q < 1.0:
        from scipy import stats

        return float(stats.betabinom.ppf(q, n, a, b))
    k = np.arange(n + 1, dtype=float)
    combiln = -np.log(n + 1) - betaln(n - k + 1, k + 1)
    pmf = np.exp(combiln + betaln(k + a, n - k + b) - betaln(a, b))
    idx = int(np.searchsorted(np.cumsum(pmf), q))
    idx = min(max(idx, 0), n)
    # settle the boundary with scipy's own sum (np.sum of the pmf up to k)
    while idx > 0 and np.sum(pmf[:idx]) >= q:
        idx -= 1
    while idx < n and np.sum(pmf[: idx + 1]) < q:
        idx += 1
    return float(idx)


def holm(pvalues: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Holm's step-down rejections (``multipletests(p, alpha, "holm")[0]``).

    Sorted ascending, ``p_(k)`` (k = 0, 1, ...) is rejected while every
    ``p_(j) <= alpha / (m - j)`` for ``j <= k``.

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03, 0.5]), 0.05).tolist()
    [True, False, False, False]
    """
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p)
    over = p[order] > alpha / np.arange(m, 0, -1)
    first = int(np.argmax(over)) if over.any() else m
    out = np.zeros(m, dtype=bool)
    out[order[:first]] = True
    return out


def fdr_bh(pvalues: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Benjamini–Hochberg step-up rejections (``multipletests(p, alpha, "fdr_bh")[0]``).

    Sorted ascending, every ``p_(j)`` with ``j <= k`` is rejected, ``k`` the
    largest index with ``p_(k) <= alpha (k + 1) / m``.

    Examples
    --------
    >>> fdr_bh(np.array([0.01, 0.04, 0.03, 0.5]), 0.05).tolist()
    [True, True, True, False]
    """
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p)
    below = p[order] <= alpha * np.arange(1, m + 1) / m
    out = np.zeros(m, dtype=bool)
    if below.any():
        last = int(np.flatnonzero(below)[-1])
        out[order[: last + 1]] = True
    return out


_METHODS = {"holm": holm, "fdr_bh": fdr_bh}


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
    low = binomial_ppf(tail, n_tests, expected) / n_tests
    high = binomial_ppf(1.0 - tail, n_tests, expected) / n_tests
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
    p = np.asarray(pvalues, dtype=float)
    out = np.zeros(p.shape, dtype=bool)
    ok = np.isfinite(p)
    if ok.any():
        kernel = _METHODS.get(method)
        if kernel is None:
            from statsmodels.stats.multitest import multipletests

            out[ok] = multipletests(p[ok], alpha=alpha, method=method)[0]
        else:
            out[ok] = kernel(p[ok], alpha)
    return out
