"""Royston's H test of multivariate normality, vectorised across coordinates.

Each coordinate gets a Shapiro–Wilk W (or, for a leptokurtic coordinate, the
Shapiro–Francia W'), which Royston's (1992) normalising transform turns into a
normal score; the scores are combined into H, whose chi-square reference has
an equivalent number of degrees of freedom that accounts for the correlation
between coordinates. Conventions follow R's MVN package (``royston``): W' when
the coordinate's kurtosis b2 exceeds 3, the small-sample transform for n <= 11.

W and W' are computed here for all columns at once from one sort per column
(Royston's AS R94 coefficients, in double precision as R's ``swilk.c``), not
with a per-column call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special, stats

from ..errors import NotApplicableError, UsageError
from ._sampling import seeded_rows
from .univariate import _map_column_blocks, _prepare

__all__ = ["ROYSTON_MAX_ROWS", "RoystonResult", "royston", "shapiro_francia_w", "shapiro_wilk_w"]

#: Royston's (1992) approximation of the null law of W holds up to 2000 rows.
ROYSTON_MAX_ROWS = 2000
#: Fewest rows Royston's transform is defined for (gaussaudit validates 8).
ROYSTON_MIN_ROWS = 4
_SMALL_N = 11
# AS R94 polynomial corrections of the two extreme coefficients (in 1/sqrt(n)).
_C1 = (0.0, 0.221157, -0.147981, -2.071190, 4.434685, -2.706056)
_C2 = (0.0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633)


@dataclass(frozen=True, eq=False, slots=True)
class RoystonResult:
    """Royston's H test.

    Attributes
    ----------
    statistic : float
        H.
    pvalue : float
        Chi-square upper tail of H with ``edf`` degrees of freedom.
    edf : float
        Equivalent degrees of freedom ``p / (1 + (p - 1) c)``, c the mean
        transformed correlation.
    w : ndarray, shape (p,)
        W (Shapiro–Wilk) or W' (Shapiro–Francia) of each coordinate.
    francia : ndarray of bool, shape (p,)
        Which coordinates used W' (kurtosis b2 > 3, unless switched off).
    z : ndarray, shape (p,)
        Royston's normal score of each W.
    n : int
        Rows tested (after any subsample).
    n_input : int
        Rows in the input.
    p : int
    seed : int or None
        Seed of the row subsample, when one was drawn.
    notes : tuple of str
    method : str
        Which W convention was used.
    """

    statistic: float
    pvalue: float
    edf: float
    w: np.ndarray
    francia: np.ndarray
    z: np.ndarray
    n: int
    n_input: int
    p: int
    seed: int | None = None
    notes: tuple[str, ...] = ()
    method: str = "royston"

    def __iter__(self):
        yield self.statistic
        yield self.pvalue


def _poly(coef: tuple[float, ...], x: float) -> float:
    return float(np.polynomial.polynomial.polyval(x, coef))


@lru_cache(maxsize=16)
def _coefficients(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Shapiro–Wilk weights ``a`` and centred normal scores ``m`` for n rows (n >= 6).

    ``a`` follows Royston's algorithm AS R94: the two extreme weights come from
    polynomials in ``1/sqrt(n)``, the others are the normal scores
    ``Phi^-1((i - 3/8) / (n + 1/4))`` rescaled. ``m`` holds those scores for
    all i (Shapiro–Francia). Both are antisymmetric and returned for all n
    order statistics.
    """
    half = n // 2
    i = np.arange(1, n + 1, dtype=np.float64)
    m = special.ndtri((i - 0.375) / (n + 0.25))
    mh = -m[:half]  # positive scores of the upper half, largest first
    summ2 = 2.0 * float(np.dot(mh, mh))
    ssumm2 = np.sqrt(summ2)
    rsn = 1.0 / np.sqrt(n)
    a1 = _poly(_C1, rsn) + mh[0] / ssumm2
    a2 = _poly(_C2, rsn) + mh[1] / ssumm2
    fac = np.sqrt((summ2 - 2.0 * mh[0] ** 2 - 2.0 * mh[1] ** 2) / (1.0 - 2.0 * a1**2 - 2.0 * a2**2))
    upper = mh / fac
    upper[0], upper[1] = a1, a2
    a = np.zeros(n)
    a[:half] = -upper
    a[n - half :] = upper[::-1]
    scores = m - m.mean()
    for v in (a, scores):
        v.setflags(write=False)
    return a, scores


def _one_minus_squared_correlation(sorted_rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``1 - corr(row, weights)²`` per row, as ``(s - c)(s + c) / s²`` (no cancellation near 1).

    ``weights`` must sum to zero; rows are centred here.
    """
    xc = sorted_rows - sorted_rows.mean(axis=1, keepdims=True)
    ssx = np.einsum("ij,ij->i", xc, xc)
    sax = np.einsum("ij,j->i", xc, weights)  # no BLAS: this runs on worker threads
    s = np.sqrt(float(np.einsum("i,i->", weights, weights)) * ssx)
    return (s - sax) * (s + sax) / (s * s)


def _block_w(block: np.ndarray, a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """1 - W, 1 - W' and the kurtosis b2 of every column of ``block``."""
    rows = np.sort(np.array(block.T, dtype=np.float64), axis=1)  # (columns, n)
    # scale-free: divide by the range as swilk.c does, so huge values cannot overflow
    rows /= (rows[:, -1] - rows[:, 0])[:, None]
    one_minus_w = _one_minus_squared_correlation(rows, a)
    one_minus_wf = _one_minus_squared_correlation(rows, m)
    c = rows - rows.mean(axis=1, keepdims=True)
    c2 = c * c
    m2 = c2.mean(axis=1)
    b2 = np.einsum("ij,ij->i", c2, c2) / rows.shape[1] / m2**2
    return np.vstack([one_minus_w, one_minus_wf, b2])


def shapiro_wilk_w(x: np.ndarray) -> np.ndarray:
    """Shapiro–Wilk W of every column (Royston's AS R94 weights, double precision).

    Parameters
    ----------
    x : array_like or ValidatedMatrix, shape (n, d)
        n >= 8; constant columns give NaN.

    Returns
    -------
    ndarray, shape (d,)
        Equal to R's ``shapiro.test(col)$statistic`` (to about 1e-15).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.stats.royston import shapiro_wilk_w
    >>> w = shapiro_wilk_w(np.random.default_rng(0).standard_normal((100, 2)))
    >>> bool(np.all((w > 0.9) & (w <= 1.0)))
    True
    """
    return 1.0 - _columns(x)[0]


def shapiro_francia_w(x: np.ndarray) -> np.ndarray:
    """Shapiro–Francia W' of every column (as R's ``nortest::sf.test``).

    Parameters
    ----------
    x : array_like or ValidatedMatrix, shape (n, d)
        n >= 8; constant columns give NaN.

    Returns
    -------
    ndarray, shape (d,)
        The squared correlation between the sorted column and the normal
        scores ``Phi^-1((i - 3/8) / (n + 1/4))``.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.stats.royston import shapiro_francia_w
    >>> w = shapiro_francia_w(np.random.default_rng(0).standard_normal((100, 2)))
    >>> bool(np.all((w > 0.9) & (w <= 1.0)))
    True
    """
    return 1.0 - _columns(x)[1]


def _columns(x: np.ndarray) -> np.ndarray:
    """Rows ``1 - W``, ``1 - W'``, ``b2`` for every input column (NaN for constant ones)."""
    y, columns, d = _prepare(x)
    out = np.full((3, d), np.nan)
    out[:, columns] = _w_and_kurtosis(y)
    return out


def _w_and_kurtosis(y: np.ndarray) -> np.ndarray:
    a, m = _coefficients(y.shape[0])
    if not y.shape[1]:
        return np.empty((3, 0))
    return _map_column_blocks(lambda b: _block_w(b, a, m), y, stack=True)


def _royston_scores(one_minus_w: np.ndarray, n: int) -> np.ndarray:
    """Royston's (1992) normal scores of W: log(1 - W) standardised by polynomials in n."""
    if n <= _SMALL_N:
        g = -2.273 + 0.459 * n
        mu = 0.544 - 0.39978 * n + 0.025054 * n**2 - 0.0006714 * n**3
        sigma = np.exp(1.3822 - 0.77857 * n + 0.062767 * n**2 - 0.0020322 * n**3)
        return (-np.log(g - np.log(one_minus_w)) - mu) / sigma
    ln = np.log(n)
    mu = -1.5861 - 0.31082 * ln - 0.083751 * ln**2 + 0.0038915 * ln**3
    sigma = np.exp(-0.4803 - 0.082676 * ln + 0.0030302 * ln**2)
    return (np.log(one_minus_w) - mu) / sigma


def _equivalent_df(y: np.ndarray) -> float:
    """Royston's equivalent degrees of freedom from the transformed correlations."""
    n, p = y.shape
    if p == 1:
        return 1.0
    c = y - y.mean(axis=0)
    c /= np.sqrt(np.einsum("ij,ij->j", c, c))
    corr = np.clip(c.T @ c, -1.0, 1.0)
    np.fill_diagonal(corr, 1.0)
    u = 0.715
    ln = np.log(n)
    v = 0.21364 + 0.015124 * ln**2 - 0.0018034 * ln**3
    transformed = corr**5 * (1.0 - u * (1.0 - corr) ** u / v)
    mean_c = (transformed.sum() - p) / (p * p - p)
    return float(p / (1.0 + (p - 1.0) * mean_c))


def royston(
    x: np.ndarray, *, max_rows: int = ROYSTON_MAX_ROWS, seed: int = 0, francia: bool = True
) -> RoystonResult:
    """Royston's H test of multivariate normality.

    Parameters
    ----------
    x : array_like or ValidatedMatrix, shape (n, p)
        n >= 8; no constant column. p may exceed n (no matrix is inverted).
    max_rows : int
        Royston's approximation holds for n <= 2000; larger inputs are tested
        on a seeded subsample of ``max_rows`` rows (at most 2000), recorded in
        the result.
    seed : int
        Seed of that subsample.
    francia : bool
        True (R's MVN convention): a coordinate whose kurtosis b2 exceeds 3
        gets the Shapiro–Francia W' instead of W. False: W for every
        coordinate (Royston 1983/1992). The MVN convention is liberal:
        6-7 % rejections of Gaussian data at alpha = 0.05 for n = 50 to 1000
        and d = 1 to 10, against 4.6-5.5 % with ``francia=False`` (3000
        replicates each; docs/tests/royston.md).

    Returns
    -------
    RoystonResult
        H, its chi-square(``edf``) p-value, and each coordinate's W and score.

    Raises
    ------
    NotApplicableError
        A constant column (in the input or on the subsample).
    UsageError
        ``max_rows`` outside [8, 2000].

    Notes
    -----
    H0: the rows are i.i.d. p-variate normal. For each coordinate, W is
    Shapiro–Wilk's statistic, or Shapiro–Francia's W' when the coordinate's
    kurtosis ``b2 = m4 / m2²`` exceeds 3 (the MVN convention, ``francia=True``;
    W' then goes through W's normalising transform, which is what makes that
    convention liberal). Royston's
    transform gives ``z = (log(1 - W) - mu_n) / sigma_n`` (n >= 12; a
    log-log form for n <= 11) and ``k = Phi^-1(Phi(-z) / 2)²``, which is
    chi-square(1) under H0. With R the correlation matrix,
    ``c = mean_{i != j} r_ij^5 (1 - u (1 - r_ij)^u / v_n)``, ``u = 0.715``,
    ``edf = p / (1 + (p - 1) c)`` and ``H = edf * mean(k)`` is approximately
    chi-square(edf). ``k`` is computed from ``log Phi(-z)``, which keeps
    its relative precision for large z. With
    p = 1, edf = 1 (MVN needs p >= 2). Duplicated or collinear columns are
    allowed: they raise the mean correlation and lower edf.

    Large n: beyond 2000 rows the test runs on a subsample, so its power
    stops growing with n; with 2000 rows it already detects small
    departures of any single coordinate.

    References
    ----------
    .. [1] Royston, J. P. (1983). Some techniques for assessing multivariate
       normality based on the Shapiro-Wilk W. Applied Statistics 32, 121-133.
    .. [2] Royston, J. P. (1992). Approximating the Shapiro-Wilk W-test for
       non-normality. Statistics and Computing 2, 117-119.
    .. [3] Royston, P. (1995). Remark AS R94. Applied Statistics 44, 547-551.
    .. [4] Korkmaz, S., Goksuluk, D. & Zararsiz, G. (2014). MVN: an R package
       for assessing multivariate normality. The R Journal 6(2), 151-162.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.stats.royston import royston
    >>> x = np.random.default_rng(0).standard_normal((300, 4))
    >>> res = royston(x)
    >>> round(res.edf, 2), bool(0.0 < res.pvalue <= 1.0)
    (4.0, True)
    """
    if not 8 <= max_rows <= ROYSTON_MAX_ROWS:
        raise UsageError(
            f"max_rows must be between 8 and {ROYSTON_MAX_ROWS} (the range of Royston's "
            f"approximation), got {max_rows}"
        )
    y, columns, d = _prepare(x)
    _require_varying(columns, d, "the input")
    n_input = y.shape[0]
    notes: list[str] = []
    used_seed = None
    if n_input > max_rows:
        y = y[seeded_rows(n_input, max_rows, seed)]
        used_seed = seed
        notes.append(f"tested a seeded subsample of {max_rows} of {n_input} rows (seed {seed})")
        flat = np.flatnonzero(np.all(y == y[0], axis=0))
        _require_varying(np.setdiff1d(np.arange(d), flat), d, "the subsample")
    n = y.shape[0]
    one_minus_w, one_minus_wf, b2 = _w_and_kurtosis(y)
    francia_rule = francia
    francia = (b2 > 3.0) if francia_rule else np.zeros(b2.shape, dtype=bool)
    one_minus = np.where(francia, one_minus_wf, one_minus_w)
    z = _royston_scores(one_minus, n)
    k = special.ndtri_exp(special.log_ndtr(-z) - np.log(2.0)) ** 2
    edf = _equivalent_df(y)
    h = edf * float(np.mean(k))
    return RoystonResult(
        statistic=h,
        pvalue=float(stats.chi2.sf(h, edf)),
        edf=edf,
        w=1.0 - one_minus,
        francia=francia,
        z=z,
        n=n,
        n_input=n_input,
        p=d,
        seed=used_seed,
        notes=tuple(notes),
        method="royston: W' where b2 > 3 (R's MVN)" if francia_rule else "royston: Shapiro-Wilk W",
    )


def _require_varying(columns: np.ndarray, d: int, where: str) -> None:
    if columns.size == d:
        return
    const = np.setdiff1d(np.arange(d), columns)
    shown = ", ".join(str(int(i)) for i in const[:10]) + (" ..." if const.size > 10 else "")
    raise NotApplicableError(
        f"Royston's test needs every column to vary; {const.size} column(s) of {where} "
        f"are constant ({shown})"
    )
