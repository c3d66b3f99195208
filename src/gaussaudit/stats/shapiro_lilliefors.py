"""Shapiro–Wilk and Lilliefors tests for every coordinate.

Both need whole sorted columns and neither fits the one-pass moment kernels of
:mod:`gaussaudit.stats.univariate`: Shapiro–Wilk is one vectorised SciPy call
over the columns (on a seeded row subsample beyond the 5000 rows its p-values
are calibrated for), Lilliefors the Kolmogorov–Smirnov distance with
estimated parameters and statsmodels' p-value rule applied to every column.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._sampling import seeded_rows
from .results import CoordinateTestResult
from .univariate import _map_column_blocks, _prepare, _standardised

__all__ = ["SW_MAX_ROWS", "lilliefors", "shapiro_wilk"]

#: Shapiro–Wilk p-values (Royston 1995) are calibrated up to 5000 rows.
SW_MAX_ROWS = 5000


def _subsample_rows(y: np.ndarray, max_rows: int, seed: int) -> tuple[np.ndarray, str | None]:
    n = y.shape[0]
    if n <= max_rows:
        return y, None
    return y[
        seeded_rows(n, max_rows, seed)
    ], f"tested a seeded subsample of {max_rows} of {n} rows (seed {seed})"


def shapiro_wilk(
    x: np.ndarray, *, max_rows: int = SW_MAX_ROWS, seed: int = 0
) -> CoordinateTestResult:
    """Shapiro–Wilk test of normality for every coordinate.

    Parameters
    ----------
    x : array_like, shape (n, d)
    max_rows : int
        Royston's p-value approximation is valid for n <= 5000; larger inputs are
        tested on a seeded subsample of ``max_rows`` rows (the same rows for
        every coordinate), recorded in the result.
    seed : int
        Seed of that subsample.

    Returns
    -------
    CoordinateTestResult
        W and p-value per column (``scipy.stats.shapiro`` on each column).

    Notes
    -----
    H0: normal coordinate. W is the squared correlation between the ordered
    sample and approximate expected normal order statistics; values well below
    1 mean the coordinate's quantiles bend away from a Gaussian's.

    References
    ----------
    .. [1] Shapiro, S. S. & Wilk, M. B. (1965). Biometrika 52, 591-611.
    .. [2] Royston, P. (1995). Remark AS R94. Applied Statistics 44, 547-551.
    """
    from scipy import stats

    y, columns, d = _prepare(x)
    n_input = y.shape[0]
    sub, note = _subsample_rows(y, max_rows, seed)
    notes = [note] if note else []
    if note:  # a rare-valued column can be constant on the subsample
        flat = np.all(sub == sub[0], axis=0)
        if flat.any():
            sub, columns = sub[:, ~flat], columns[~flat]
            notes.append(f"{int(flat.sum())} column(s) constant on the subsample were not tested")
    if sub.shape[1]:
        res = stats.shapiro(sub, axis=0)  # scipy's column loop, without per-call overhead
        w, p = np.atleast_1d(res.statistic), np.atleast_1d(res.pvalue)
    else:
        w, p = np.empty(0), np.empty(0)
    return CoordinateTestResult(
        test="shapiro_wilk",
        statistics=w,
        pvalues=p,
        columns=columns,
        n=int(sub.shape[0]),
        n_input=n_input,
        d=d,
        method="Shapiro-Wilk W, Royston (1995) p-value (scipy.stats.shapiro)",
        seed=seed if note else None,
        notes=tuple(notes),
    )


def lilliefors(x: np.ndarray) -> CoordinateTestResult:
    """Lilliefors (Kolmogorov–Smirnov with estimated parameters) test per coordinate.

    Parameters
    ----------
    x : array_like, shape (n, d)

    Returns
    -------
    CoordinateTestResult
        The KS distance D and its p-value from statsmodels
        (``lilliefors(col, 'norm', pvalmethod='approx')``: the Dallal–Wilkinson
        (1986) approximation, as R's ``nortest::lillie.test``, with statsmodels'
        table above p = 0.1).

    Notes
    -----
    H0: normal coordinate. D is the largest gap between the empirical CDF of
    the standardised coordinate and the normal CDF. It is weaker in the tails
    than Anderson–Darling; a coordinate failing Lilliefors has a bulk shape
    problem (bimodality, strong skew). statsmodels' pure table method
    (``pvalmethod='table'``) is conservative for n >= 300 (measured here: 3.3 %
    rejections at alpha = 0.05, n = 300, 20,000 replicates), which is why the
    approximation is used.

    References
    ----------
    .. [1] Lilliefors, H. W. (1967). On the Kolmogorov-Smirnov test for normality
       with mean and variance unknown. JASA 62, 399-402.
    """
    y, columns, d = _prepare(x)
    n = y.shape[0]
    stat = _map_column_blocks(_ks_block, y)
    return CoordinateTestResult(
        test="lilliefors",
        statistics=stat,
        pvalues=_lilliefors_pvalues(stat, n),
        columns=columns,
        n=n,
        n_input=n,
        d=d,
        method="Lilliefors KS distance, Dallal-Wilkinson p-value (statsmodels)",
    )


def _ks_block(block: np.ndarray) -> np.ndarray:
    """Two-sided KS distance of each standardised column (ddof=1) from N(0, 1)."""
    cdf = special.ndtr(_standardised(block.T))  # sorted rows
    n = cdf.shape[1]
    upper = np.arange(1, n + 1) / n
    d_plus = np.max(upper - cdf, axis=1)
    d_minus = np.max(cdf - (upper - 1.0 / n), axis=1)
    return np.maximum(d_plus, d_minus)


def _lilliefors_pvalues(stat: np.ndarray, n: int) -> np.ndarray:
    """P-values by statsmodels' ``pvalmethod='approx'`` rule, for all columns at once.

    The Dallal–Wilkinson formula where it gives p <= 0.1, statsmodels'
    simulated table above (what ``lilliefors`` does one column at a time).
    """
    from statsmodels.stats._lilliefors import get_lilliefors_table, pval_lf

    p = np.asarray(pval_lf(stat.copy(), n), dtype=float)  # pval_lf scales its input
    high = p > 0.1
    if high.any():
        p[high] = get_lilliefors_table(dist="norm").prob(stat[high], n)
    return p
