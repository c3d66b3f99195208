"""Multivariate normality: Mardia's skewness and kurtosis, Henze–Zirkler.

Both statistics are functions of the Mahalanobis inner products
``D_jk = (x_j - m)' S^-1 (x_k - m)`` (S with denominator n, as R's MVN). They
are computed from row blocks of a whitened copy of the data, so memory stays
O(n * block) and an n x n matrix is never held; each block's Gram product is
shared by the two tests.

In high dimension both tests lose meaning before they fail loudly: the
covariance becomes singular (d >= n, duplicated columns) and the Henze–Zirkler
statistic collapses onto its diagonal term (its null spread falls below double
precision). These cases raise :class:`~gaussaudit.errors.NotApplicableError`
with the reason instead of returning a number. The battery therefore runs
these tests on the full view only for small d, and on many low-dimensional
projections otherwise (:func:`subspace_tests`).
"""

from __future__ import annotations

import numpy as np
from scipy import special  # chi2.sf = chdtrc, norm.sf(x) = ndtr(-x): scipy's own ufuncs

from ..errors import NotApplicableError
from ._validation import as_matrix
from .results import HenzeZirklerResult, MardiaResult, SubspaceResult, TestStatistic

__all__ = [
    "MAX_CONDITION",
    "covariance_problem",
    "henze_zirkler",
    "hz_beta",
    "hz_null_moments",
    "mahalanobis_whiten",
    "mardia",
    "mardia_henze_zirkler",
    "subspace_tests",
]

#: Covariances with a larger condition number are treated as singular.
MAX_CONDITION = 1e10
#: Henze–Zirkler is degenerate when its null relative spread is below this.
HZ_MIN_RELATIVE_SPREAD = 1e-6
_BLOCK_ROWS = 1024


def _spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centred rows and the eigen-decomposition of their covariance (ddof 0).

    The rows are divided by their largest absolute value only when the
    covariance overflows or underflows (values beyond about 1e±130), which is
    checked on the d x d result instead of with a pass over the data; the
    eigenvectors, and every ratio of eigenvalues, do not depend on that scale.
    """
    c = x - x.mean(axis=0)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # checked just below
        cov = c.T @ c / c.shape[0]
    top = float(np.max(np.abs(cov), initial=0.0))
    if not np.isfinite(top) or top < 2.0**-800:
        peak = float(np.max(np.abs(c), initial=0.0))
        if peak > 0.0:  # zero only when all rows are equal
            c /= peak
            cov = c.T @ c / c.shape[0]
    vals, vecs = np.linalg.eigh(cov)
    return c, vals, vecs


def _spectrum_problem(n: int, p: int, vals: np.ndarray | None, max_condition: float) -> str | None:
    if p >= n:
        return f"d = {p} >= n = {n}: the sample covariance is singular"
    top = vals[-1]
    if top <= 0:
        return "the covariance is zero (all rows equal)"
    rank = int(np.sum(vals > top * 1e-12))
    if rank < p:
        return (
            f"the covariance has rank {rank} < d = {p} (duplicated, constant or "
            "linearly dependent columns); use pca=True (--pca) to test on a PCA to rank"
        )
    cond = top / vals[0]
    if cond > max_condition:
        return (
            f"the covariance is ill-conditioned (condition number {cond:.2g} > "
            f"{max_condition:.0g}); use pca=True (--pca) to test on a PCA to rank"
        )
    return None


def covariance_problem(x: np.ndarray, *, max_condition: float = MAX_CONDITION) -> str | None:
    """Say why the covariance of ``x`` cannot be inverted reliably, or return None.

    Parameters
    ----------
    x : ndarray, shape (n, p)
    max_condition : float
        Largest acceptable ratio of extreme covariance eigenvalues.

    Returns
    -------
    str or None
        A one-line reason (``d >= n``, rank deficiency, ill-conditioning), or
        None when the covariance is fine.
    """
    n, p = x.shape
    if p >= n:
        return _spectrum_problem(n, p, None, max_condition)
    return _spectrum_problem(n, p, _spectrum(x)[1], max_condition)


def mahalanobis_whiten(
    x: np.ndarray, *, max_condition: float = MAX_CONDITION, scale: float = 1.0
) -> np.ndarray:
    """Rows ``y_j`` with ``y_j . y_k = (x_j - m)' S^-1 (x_k - m)``, S with denominator n.

    Parameters
    ----------
    x : ndarray, shape (n, p)
    max_condition : float
        Largest acceptable condition number of S.
    scale : float
        Multiply the whitened rows by this (folds a constant such as the
        Henze–Zirkler bandwidth into the whitening at no cost).

    Returns
    -------
    ndarray, shape (n, p)
        A new array; ``x`` is not modified.

    Raises
    ------
    NotApplicableError
        When :func:`covariance_problem` finds the covariance singular.
    """
    n, p = x.shape
    problem = _spectrum_problem(n, p, None, max_condition) if p >= n else None
    if problem is None:
        c, vals, vecs = _spectrum(x)
        problem = _spectrum_problem(n, p, vals, max_condition)
    if problem:
        raise NotApplicableError(problem)
    w = vecs * (scale / np.sqrt(vals))
    # Rotate the centred copy in place, a row block at a time: no second n x p array.
    step = max(1, 2**21 // max(p, 1))
    for i0 in range(0, n, step):
        c[i0 : i0 + step] = c[i0 : i0 + step] @ w
    return c


def hz_beta(n: int, p: int) -> float:
    """Henze–Zirkler's smoothing parameter ``((2p+1) n / 4)^(1/(p+4)) / sqrt(2)``."""
    return float(((2.0 * p + 1.0) * n / 4.0) ** (1.0 / (p + 4.0)) / np.sqrt(2.0))


def hz_null_moments(n: int, p: int) -> tuple[float, float, float]:
    """Beta and the mean and variance of the Henze–Zirkler statistic under H0.

    Returns
    -------
    beta, mu, var : float
        From Henze & Zirkler (1990), as implemented by R's MVN.
    """
    b = hz_beta(n, p)
    b2, b4, b8 = b**2, b**4, b**8
    a = 1.0 + 2.0 * b2
    wb = (1.0 + b2) * (1.0 + 3.0 * b2)
    mu = 1.0 - a ** (-p / 2.0) * (1.0 + p * b2 / a + p * (p + 2.0) * b4 / (2.0 * a**2))
    var = (
        2.0 * (1.0 + 4.0 * b2) ** (-p / 2.0)
        + 2.0 * a ** (-p) * (1.0 + 2.0 * p * b4 / a**2 + 3.0 * p * (p + 2.0) * b8 / (4.0 * a**4))
        - 4.0
        * wb ** (-p / 2.0)
        * (1.0 + 3.0 * p * b4 / (2.0 * wb) + p * (p + 2.0) * b8 / (2.0 * wb**2))
    )
    return b, float(mu), float(var)


def _block_sums(y: np.ndarray, *, block_rows: int, skew: bool, hz: bool) -> tuple[float, float]:
    """Return ``sum_jk (y_j . y_k)^3`` and ``sum_jk exp(-||y_j - y_k||^2 / 2)``.

    ``y`` holds whitened rows already multiplied by the Henze–Zirkler
    bandwidth, so the kernel's exponent is ``y_j . y_k - a_j - a_k`` with
    ``a_j = ||y_j||^2 / 2``. Only the upper block triangle is computed;
    off-diagonal blocks count twice. Each block's Gram product is written into
    one reused buffer and every later step works in place.
    """
    n = y.shape[0]
    a = 0.5 * np.einsum("ij,ij->i", y, y)
    rows = min(block_rows, n)
    gram = np.empty((rows, rows))
    square = np.empty((rows, rows)) if skew else None
    cube_sum = 0.0
    exp_sum = 0.0
    for i0 in range(0, n, rows):
        yi = y[i0 : i0 + rows]
        ai = a[i0 : i0 + rows, None]
        for j0 in range(i0, n, rows):
            yj = y[j0 : j0 + rows]
            weight = 1.0 if j0 == i0 else 2.0
            shape = (yi.shape[0], yj.shape[0])
            full = shape == gram.shape
            g = np.matmul(yi, yj.T, out=gram) if full else yi @ yj.T
            if skew:
                t = np.multiply(g, g, out=square) if full else g * g
                cube_sum += weight * float(np.vdot(t, g))
            if hz:
                g -= ai
                g -= a[None, j0 : j0 + rows]
                np.exp(g, out=g)
                exp_sum += weight * float(g.sum())
    return cube_sum, exp_sum


def _tensor_cube_sum(y: np.ndarray) -> float:
    """``sum_jk (y_j . y_k)^3`` as the squared norm of ``T = sum_j y_j (x) y_j (x) y_j``.

    O(n p^3) instead of O(n^2 p): ``(y_j . y_k)^3 = <y_j^(x)3, y_k^(x)3>``. The
    tensor is accumulated over row chunks of ``y_j (x) y_j`` (at most 2**21
    elements each) by one matrix product per chunk; a sum of squares, so no
    cancellation.
    """
    n, p = y.shape
    tensor = np.zeros((p * p, p))
    step = max(1, 2**21 // max(p * p, 1))
    for i0 in range(0, n, step):
        rows = y[i0 : i0 + step]
        pairs = (rows[:, :, None] * rows[:, None, :]).reshape(rows.shape[0], p * p)
        tensor += pairs.T @ rows
    return float(np.einsum("ij,ij->", tensor, tensor))


def _mardia_from(n: int, p: int, cube_sum: float, sq: np.ndarray) -> MardiaResult:
    return mardia_from_moments(n, p, cube_sum / n**2, float(np.mean(sq**2)))


def mardia_from_moments(n: int, p: int, b1: float, b2: float) -> MardiaResult:
    """Mardia's tests from the sample's multivariate skewness b1 and kurtosis b2.

    The one finaliser of the in-memory and the streaming kernels (MVN
    conventions: the small-sample skewness correction below n = 20).

    Examples
    --------
    >>> mardia_from_moments(500, 3, 0.05, 15.0).kurtosis.statistic == 0.0
    True
    """
    df = p * (p + 1.0) * (p + 2.0) / 6.0
    small = n < 20
    if small:
        k = (p + 1.0) * (n + 1.0) * (n + 3.0) / (n * ((n + 1.0) * (p + 1.0) - 6.0))
        skew = n * k * b1 / 6.0
    else:
        skew = n * b1 / 6.0
    kurt = (b2 - p * (p + 2.0)) * np.sqrt(n / (8.0 * p * (p + 2.0)))
    return MardiaResult(
        skewness=TestStatistic(float(skew), float(special.chdtrc(df, skew))),
        kurtosis=TestStatistic(float(kurt), float(2.0 * special.ndtr(-abs(kurt)))),
        b1=float(b1),
        b2=float(b2),
        n=n,
        p=p,
        small_sample_correction=small,
    )


def _hz_from(n: int, p: int, exp_sum: float, sq: np.ndarray) -> HenzeZirklerResult:
    beta, mu, var = hz_null_moments(n, p)
    if not (var > 0 and np.sqrt(var) / mu > HZ_MIN_RELATIVE_SPREAD):
        raise NotApplicableError(
            f"Henze-Zirkler degenerates at d = {p}, n = {n}: its null spread "
            f"({max(var, 0.0) ** 0.5:.2g}) is below the precision of the statistic, "
            "which then equals 1 for any data; see the subspace tests instead"
        )
    b2 = beta * beta
    hz = n * (
        exp_sum / n**2
        - 2.0 * (1.0 + b2) ** (-p / 2.0) * np.mean(np.exp(-b2 / (2.0 * (1.0 + b2)) * sq))
        + (1.0 + 2.0 * b2) ** (-p / 2.0)
    )
    psi = np.sqrt(np.log1p(var / mu**2))
    pmu = np.log(mu) - 0.5 * psi**2  # = log(sqrt(mu^4 / (var + mu^2)))
    pvalue = float(special.ndtr(-((np.log(hz) - pmu) / psi))) if hz > 0 else 1.0
    return HenzeZirklerResult(
        statistic=float(hz),
        pvalue=pvalue,
        beta=beta,
        null_mean=mu,
        null_variance=var,
        n=n,
        p=p,
    )


def mardia_henze_zirkler(
    x: np.ndarray, *, block_rows: int = _BLOCK_ROWS, which: tuple[str, ...] = ("mardia", "hz")
) -> tuple[MardiaResult | None, HenzeZirklerResult | None]:
    """Mardia and Henze–Zirkler from one blockwise pass over the Gram products.

    Parameters
    ----------
    x : array_like, shape (n, p)
    block_rows : int
        Rows per block; memory is about ``2 * block_rows**2 * 8`` bytes beyond
        the whitened copy of ``x``.
    which : tuple of {"mardia", "hz"}
        Which statistics to compute.

    Returns
    -------
    mardia, henze_zirkler : result or None
        None for a statistic not asked for.

    Raises
    ------
    NotApplicableError
        Singular or ill-conditioned covariance; degenerate Henze–Zirkler.
    """
    arr, _ = as_matrix(x)
    n, p = arr.shape
    want_m, want_h = "mardia" in which, "hz" in which
    if want_h:
        _, mu, var = hz_null_moments(n, p)
        if not (var > 0 and np.sqrt(var) / mu > HZ_MIN_RELATIVE_SPREAD):
            _hz_from(n, p, 0.0, np.zeros(1))  # raises with the reason
    beta = hz_beta(n, p)
    scale = beta if want_h else 1.0
    y = mahalanobis_whiten(arr, scale=scale)
    # With p**2 < n the third-moment tensor is cheaper than the n x n cubes.
    by_tensor = want_m and p * p < n
    cube_sum, exp_sum = _block_sums(
        y, block_rows=block_rows, skew=want_m and not by_tensor, hz=want_h
    )
    if by_tensor:
        cube_sum = _tensor_cube_sum(y)
    sq = np.einsum("ij,ij->i", y, y) / scale**2
    cube_sum /= scale**6
    m = _mardia_from(n, p, cube_sum, sq) if want_m else None
    h = _hz_from(n, p, exp_sum, sq) if want_h else None
    return m, h


def mardia(x: np.ndarray, *, block_rows: int = _BLOCK_ROWS) -> MardiaResult:
    """Mardia's tests of multivariate skewness and kurtosis.

    Parameters
    ----------
    x : array_like, shape (n, p)
        n > p, non-singular covariance.
    block_rows : int
        Rows per block of the blockwise computation.

    Returns
    -------
    MardiaResult
        ``skewness``: ``n b1 / 6`` (times the small-sample factor ``k`` when
        n < 20), chi-square with ``p(p+1)(p+2)/6`` df. ``kurtosis``:
        ``(b2 - p(p+2)) sqrt(n / (8p(p+2)))``, two-sided standard normal.

    Notes
    -----
    H0: multivariate normal. ``b1 = (1/n^2) sum_jk D_jk^3`` and
    ``b2 = (1/n) sum_j D_jj^2`` with ``D`` the Mahalanobis inner products
    (covariance with denominator n), following R's MVN package. The chi-square
    approximation of the skewness statistic needs n much larger than p^2; in
    embedding dimensions use :func:`subspace_tests`.

    References
    ----------
    .. [1] Mardia, K. V. (1970). Measures of multivariate skewness and kurtosis
       with applications. Biometrika 57, 519-530.
    .. [2] Korkmaz, S., Goksuluk, D. & Zararsiz, G. (2014). MVN: An R package
       for assessing multivariate normality. The R Journal 6(2), 151-162.
    """
    return mardia_henze_zirkler(x, block_rows=block_rows, which=("mardia",))[0]


def henze_zirkler(x: np.ndarray, *, block_rows: int = _BLOCK_ROWS) -> HenzeZirklerResult:
    """Henze–Zirkler test of multivariate normality.

    Parameters
    ----------
    x : array_like, shape (n, p)
        n > p, non-singular covariance.
    block_rows : int
        Rows per block of the blockwise computation.

    Returns
    -------
    HenzeZirklerResult
        The statistic and its log-normal p-value.

    Notes
    -----
    H0: multivariate normal. With ``beta = ((2p+1)n/4)^(1/(p+4)) / sqrt(2)`` and
    ``D_j = ||y_j||^2``, ``D_jk = ||y_j - y_k||^2`` for Mahalanobis-whitened rows,
    ``HZ = (1/n) sum_jk exp(-beta^2 D_jk / 2)
    - 2 (1+beta^2)^(-p/2) sum_j exp(-beta^2 D_j / (2(1+beta^2)))
    + n (1+2beta^2)^(-p/2)``. The p-value treats HZ as log-normal with the
    exact null mean and variance (Henze & Zirkler 1990), as R's MVN does.

    At large p every off-diagonal kernel value underflows and HZ equals 1 for
    any data (pingouin then reports p = 0.5). This function raises
    :class:`~gaussaudit.errors.NotApplicableError` when the null spread of the
    statistic is below 1e-6 of its mean, instead of returning that number.

    References
    ----------
    .. [1] Henze, N. & Zirkler, B. (1990). A class of invariant consistent tests
       for multivariate normality. Comm. Statist. Theory Methods 19, 3595-3617.
    """
    return mardia_henze_zirkler(x, block_rows=block_rows, which=("hz",))[1]


def subspace_tests(
    x: np.ndarray,
    *,
    k: int = 8,
    n_subspaces: int = 16,
    seed: int = 0,
    principal: bool = True,
    block_rows: int = _BLOCK_ROWS,
    which: tuple[str, ...] = ("mardia", "hz"),
) -> SubspaceResult:
    """Mardia and Henze–Zirkler on many k-dimensional projections of the data.

    Parameters
    ----------
    x : array_like, shape (n, d)
    k : int
        Dimension of each subspace.
    n_subspaces : int
        Number of Haar-random orthonormal k-frames (seeded).
    seed : int
    principal : bool
        Also test the top-k principal subspace (reported last).
    block_rows : int
        Rows per block of the blockwise computation.
    which : tuple of {"mardia", "hz"}
        Statistics to compute; p-values of the others are NaN.

    Returns
    -------
    SubspaceResult

    Notes
    -----
    If the embedding is Gaussian (or a uniform sphere in high d with a thin
    shell), every fixed k-dimensional projection is Gaussian (PAPER.md §5.3),
    so each subspace test is an exact-level test of the same H0 and has power
    where the full-dimension tests degenerate. The subspaces are dependent:
    read the rejection fraction against its binomial band as a guide and use
    the Holm-corrected decision (valid under any dependence) as the verdict.

    The principal subspace is chosen from the data, yet its tests keep their
    exact null law for Gaussian data: the affine-invariant configuration of a
    Gaussian sample is independent of its covariance (Basu's theorem) and
    rotation invariant, so projecting it onto eigenvectors of the sample
    covariance gives the configuration of a k-dimensional Gaussian sample.
    """
    from .projections import random_orthonormal_frames

    arr, _ = as_matrix(x)
    n, d = arr.shape
    if k > d:
        raise NotApplicableError(f"subspace dimension k = {k} exceeds d = {d}")
    frames = list(random_orthonormal_frames(d, k, n_subspaces, seed=seed))
    notes: list[str] = []
    # Every statistic below is affine invariant, so the centred rows need no
    # scaling; _spectrum rescales them only where their covariance overflows.
    if principal and d <= n:
        c, _vals, vecs = _spectrum(arr)
        frames.append(vecs[:, ::-1][:, :k])
    else:
        c = arr - arr.mean(axis=0)
        if principal:  # d > n: the right singular vectors, without a d x d matrix
            frames.append(np.linalg.svd(c, full_matrices=False)[2][:k].T)
    total = len(frames)
    skew_p = np.full(total, np.nan)
    kurt_p = np.full(total, np.nan)
    hz_s = np.full(total, np.nan)
    hz_p = np.full(total, np.nan)
    skipped = 0
    for i, frame in enumerate(frames):
        try:
            m, h = mardia_henze_zirkler(c @ frame, block_rows=block_rows, which=which)
        except NotApplicableError as err:
            skipped += 1
            if skipped == 1:
                notes.append(f"subspace {i} skipped: {err}")
            continue
        if m is not None:
            skew_p[i], kurt_p[i] = m.skewness.pvalue, m.kurtosis.pvalue
        if h is not None:
            hz_s[i], hz_p[i] = h.statistic, h.pvalue
    if skipped > 1:
        notes.append(f"{skipped} subspaces skipped in all")
    return SubspaceResult(
        k=k,
        n_subspaces=total,
        seed=seed,
        includes_principal=principal,
        mardia_skewness_pvalues=skew_p,
        mardia_kurtosis_pvalues=kurt_p,
        henze_zirkler_statistics=hz_s,
        henze_zirkler_pvalues=hz_p,
        n=n,
        notes=tuple(notes),
    )
