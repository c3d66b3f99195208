"""Energy test of multivariate normality (Székely & Rizzo), in row blocks.

The statistic is R's ``energy::mvnorm.e``: the rows are standardised with the
sample mean and the sample covariance (denominator n - 1), ``y_j = S^{-1/2}(x_j
- m)``, and

``E = n (2/n sum_j E|y_j - Z| - E|Z - Z'| - 1/n² sum_jk |y_j - y_k|)``

with ``Z, Z'`` independent standard normal vectors. The double sum of
Euclidean distances is accumulated over tiles of ``block_rows`` rows (upper
triangle only), so an n x n matrix is never held. ``E|y - Z|`` has the closed
form ``sqrt(2) Γ((d+1)/2)/Γ(d/2) 1F1(-1/2; d/2; -|y|²/2)``; it is evaluated
as a Poisson mixture of chi means (all terms positive, no cancellation),
because SciPy's ``hyp1f1`` overflows at embedding dimensions (d = 768).

The p-value comes from a parametric bootstrap, as ``energy::mvnorm.etest``:
the statistic is affine invariant, so under H0 its law depends on (n, d) only
and is simulated from standard normal samples of the same shape (seeded, and
cached per (n, d, n_boot, seed) so that many subspaces of one view share it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

from ..errors import UsageError
from ._validation import as_matrix
from .multivariate import mahalanobis_whiten

__all__ = ["ENERGY_N_BOOT", "EnergyResult", "energy_statistic", "energy_test"]

#: Default number of bootstrap replicates (p-value resolution 1/200).
ENERGY_N_BOOT = 199
_BLOCK_ROWS = 1024
#: Pairs closer than this fraction of ``|y_j|² + |y_k|²`` get their distance
#: from the coordinate differences (the Gram form loses digits there).
_CLOSE = 1e-2
#: Poisson weights beyond this many standard deviations (plus a margin) are
#: below 1e-30 of the total and are not summed.
_POISSON_SDS = 12.0
_POISSON_MARGIN = 30.0
_CHUNK_ELEMENTS = 2**20


@dataclass(frozen=True, slots=True)
class EnergyResult:
    """Energy test of multivariate normality with a parametric-bootstrap p-value.

    Attributes
    ----------
    statistic : float
        ``energy::mvnorm.e`` of the input.
    pvalue : float
        ``(1 + exceedances) / (n_boot + 1)``.
    n_boot : int
        Bootstrap replicates simulated under H0.
    exceedances : int
        Replicates whose statistic was at least ``statistic``.
    seed : int
        Seed of the bootstrap replicates.
    n, p : int
        Rows and columns tested.
    method : str
    """

    statistic: float
    pvalue: float
    n_boot: int
    exceedances: int
    seed: int
    n: int
    p: int
    method: str = "energy"

    def __iter__(self):
        yield self.statistic
        yield self.pvalue


def _log_half_gamma_ratio(z: np.ndarray) -> np.ndarray:
    """``log(Γ(z + 1/2) / Γ(z))`` to full precision for z > 0.

    Below 50 the ratio of gamma functions (no overflow there); from 50 on the
    asymptotic series ``sqrt(z)(1 - 1/(8z) + 1/(128z²) + 5/(1024z³) - ...)``,
    whose truncation error is below 2e-15 at z = 50.
    """
    z = np.asarray(z, dtype=np.float64)
    small = z < 50.0
    out = np.empty_like(z)
    zs = z[small]
    out[small] = np.log(special.gamma(zs + 0.5) / special.gamma(zs))
    t = 1.0 / z[~small]
    series = 1.0 + t * (
        -1 / 8
        + t
        * (1 / 128 + t * (5 / 1024 + t * (-21 / 32768 + t * (-399 / 262144 + t * 869 / 4194304))))
    )
    out[~small] = 0.5 * np.log(z[~small]) + np.log(series)
    return out


def _mean_distance_to_normal(sq_norms: np.ndarray, d: int) -> np.ndarray:
    """``E|y - Z|`` for ``Z ~ N(0, I_d)``, given ``|y|²`` (one value per row).

    ``|y - Z|²`` is noncentral chi-square with d degrees of freedom and
    noncentrality ``|y|²``: a Poisson(``lam = |y|²/2``) mixture of central
    chi-squares with ``d + 2j`` degrees of freedom, whose square roots have
    means ``r_j = sqrt(2) Γ(d/2 + j + 1/2) / Γ(d/2 + j)``. The mixture is summed
    over ``lam ± (12 sqrt(lam) + 30)``. Both the Poisson weights and ``r_j`` are
    built by cumulative sums of small logarithms from the window's first term
    (the weights then normalised by their own sum), so no difference of large
    log-gamma values enters and the result keeps about 1e-14 relative
    precision at any ``lam``. Rows are sorted by window width, so each chunk
    computes about as many terms as its rows need.
    """
    lam = 0.5 * np.asarray(sq_norms, dtype=np.float64)
    out = np.empty_like(lam)
    half = np.ceil(_POISSON_SDS * np.sqrt(lam) + _POISSON_MARGIN)
    low = np.maximum(np.floor(lam) - half, 0.0)
    width = (np.floor(lam) + half - low + 1).astype(np.int64)
    order = np.argsort(width, kind="stable")
    b = 0.5 * d
    start = 0
    while start < order.size:
        # the widest row of a chunk sets its window; chunk rows * window <= 2**20
        idx = order[start : start + max(1, _CHUNK_ELEMENTS // int(width[order[start]]))]
        window = int(width[idx].max())
        idx = idx[: max(1, min(idx.size, _CHUNK_ELEMENTS // window))]
        window = int(width[idx].max())
        lam_i, low_i = lam[idx, None], low[idx, None]
        k = np.arange(1, window, dtype=np.float64)[None, :]
        log_w = np.zeros((idx.size, window))
        with np.errstate(divide="ignore"):  # lam = 0: only j = 0 has weight
            np.cumsum(np.log(lam_i / (low_i + k)), axis=1, out=log_w[:, 1:])
        log_w -= log_w.max(axis=1, keepdims=True)
        log_r = np.zeros((idx.size, window))
        np.cumsum(np.log1p(0.5 / (b + low_i + k - 1.0)), axis=1, out=log_r[:, 1:])
        log_r += _log_half_gamma_ratio(b + low[idx])[:, None]
        w = np.exp(log_w)
        out[idx] = math.sqrt(2.0) * np.einsum("ij,ij->i", w, np.exp(log_r)) / w.sum(axis=1)
        start += idx.size
    return out


def _distance_sum(y: np.ndarray, block_rows: int) -> float:
    """``sum_jk |y_j - y_k|`` over all ordered pairs, from tiles of the Gram matrix.

    ``|y_j - y_k|² = a_j + a_k - 2 y_j.y_k``; pairs where this is below 1 % of
    ``a_j + a_k`` (the diagonal among them) are recomputed from the
    differences, so every distance keeps full relative precision.
    """
    n = y.shape[0]
    a = np.einsum("ij,ij->i", y, y)
    rows = max(1, min(block_rows, n))
    step = max(1, _CHUNK_ELEMENTS // max(y.shape[1], 1))
    total = 0.0
    for i0 in range(0, n, rows):
        yi, ai = y[i0 : i0 + rows], a[i0 : i0 + rows, None]
        for j0 in range(i0, n, rows):
            yj, aj = y[j0 : j0 + rows], a[None, j0 : j0 + rows]
            d2 = yi @ yj.T
            d2 *= -2.0
            both = ai + aj
            d2 += both
            both *= _CLOSE
            r, c = np.nonzero(np.less(d2, both, out=np.empty(d2.shape, dtype=bool)))
            for k0 in range(0, r.size, step):
                rk, ck = r[k0 : k0 + step], c[k0 : k0 + step]
                diff = yi[rk] - yj[ck]
                d2[rk, ck] = np.einsum("ij,ij->i", diff, diff)
            np.maximum(d2, 0.0, out=d2)
            np.sqrt(d2, out=d2)
            total += (1.0 if j0 == i0 else 2.0) * float(d2.sum())
    return total


def _statistic_of(arr: np.ndarray, block_rows: int) -> float:
    n, d = arr.shape
    y = mahalanobis_whiten(arr, scale=math.sqrt((n - 1.0) / n))  # S with denominator n - 1
    sq = np.einsum("ij,ij->i", y, y)
    mean1 = float(np.mean(_mean_distance_to_normal(sq, d)))
    mean2 = 2.0 * math.exp(float(_log_half_gamma_ratio(np.array([0.5 * d]))[0]))  # E|Z - Z'|
    mean3 = _distance_sum(y, block_rows) / n**2
    return n * (2.0 * mean1 - mean2 - mean3)


def energy_statistic(x: np.ndarray, *, block_rows: int = _BLOCK_ROWS) -> float:
    """Compute the energy statistic of multivariate normality (R's ``energy::mvnorm.e``).

    Parameters
    ----------
    x : array_like or ValidatedMatrix, shape (n, d)
        n > d and a non-singular covariance.
    block_rows : int
        Rows per tile of the distance sum; memory is about
        ``2 * block_rows**2 * 8`` bytes beyond a whitened copy of ``x``.

    Returns
    -------
    float
        ``E >= 0`` in theory (small negative values are rounding); large
        values mean a departure from normality.

    Raises
    ------
    NotApplicableError
        Singular or ill-conditioned covariance (d >= n, constant or
        duplicated columns).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.stats.energy import energy_statistic
    >>> x = np.random.default_rng(0).standard_normal((200, 3))
    >>> 0.0 < energy_statistic(x) < 2.0
    True
    """
    arr, _ = as_matrix(x)
    return _statistic_of(arr, block_rows)


@lru_cache(maxsize=32)
def _null_statistics(n: int, d: int, n_boot: int, seed: int, block_rows: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    null = np.array([_statistic_of(rng.standard_normal((n, d)), block_rows) for _ in range(n_boot)])
    null.setflags(write=False)
    return null


def energy_test(
    x: np.ndarray,
    *,
    n_boot: int = ENERGY_N_BOOT,
    seed: int = 0,
    block_rows: int = _BLOCK_ROWS,
) -> EnergyResult:
    """Energy test of multivariate normality (as ``energy::mvnorm.etest``).

    Parameters
    ----------
    x : array_like or ValidatedMatrix, shape (n, d)
        n > d and a non-singular covariance.
    n_boot : int
        Parametric-bootstrap replicates (>= 1).
    seed : int
        Seed of the replicates; recorded in the result.
    block_rows : int
        Rows per tile of the distance sums.

    Returns
    -------
    EnergyResult
        ``statistic`` equals ``energy::mvnorm.e(x)``; ``pvalue`` is
        ``(1 + #{E_b >= E}) / (n_boot + 1)`` over replicates ``E_b``
        computed on standard normal samples of the same shape.

    Raises
    ------
    NotApplicableError
        Singular or ill-conditioned covariance.
    UsageError
        ``n_boot < 1``.

    Notes
    -----
    H0: the rows are i.i.d. multivariate normal with unknown mean and
    non-singular covariance. E is n times the energy distance between the
    standardised sample and N(0, I_d); it is affine invariant and consistent
    against every fixed alternative with finite first moment.

    The replicates are standard normal samples: whatever the true mean and
    covariance, the standardised sample of a Gaussian has the same law up to
    a rotation, which E ignores. ``energy`` returns ``#{E_b >= E} / n_boot``,
    which can be 0; the ``+1`` form used here is never 0 and keeps the test
    exact at every level (Davison & Hinkley 1997, §4.2).

    Cost: one statistic is O(n² d) for the distances (tiles of Gram
    products) plus O(n d² + d³) for the whitening; the test is
    ``n_boot + 1`` statistics. The null replicates depend only on
    (n, d, n_boot, seed, block_rows) and are cached (32 entries), so testing
    many subspaces of one view pays for one null. Measured on a loaded
    2-core machine: about 0.4 s per statistic at n = 2500, d = 8.

    Averaged over seeds the test is exact; for one seed every test of the
    same shape shares one null sample, so the realised level is alpha plus
    or minus about ``sqrt(alpha (1 - alpha) / n_boot)`` (0.015 at 199
    replicates, 0.007 at 999).

    References
    ----------
    .. [1] Székely, G. J. & Rizzo, M. L. (2005). A new test for multivariate
       normality. Journal of Multivariate Analysis 93, 58-80.
    .. [2] Rizzo, M. L. & Székely, G. J. energy: E-statistics (R package),
       functions ``mvnorm.e`` and ``mvnorm.etest``.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussaudit.stats.energy import energy_test
    >>> x = np.random.default_rng(0).standard_normal((100, 2))
    >>> res = energy_test(x, n_boot=49, seed=1)
    >>> res.n_boot, bool(0.0 < res.pvalue <= 1.0)
    (49, True)
    """
    if n_boot < 1:
        raise UsageError(f"n_boot must be at least 1, got {n_boot}")
    arr, _ = as_matrix(x)
    n, d = arr.shape
    stat = _statistic_of(arr, block_rows)  # raises first if the covariance is singular
    null = _null_statistics(n, d, int(n_boot), int(seed), int(block_rows))
    exceed = int(np.count_nonzero(null >= stat))
    return EnergyResult(
        statistic=float(stat),
        pvalue=(1.0 + exceed) / (n_boot + 1.0),
        n_boot=int(n_boot),
        exceedances=exceed,
        seed=int(seed),
        n=n,
        p=d,
    )
