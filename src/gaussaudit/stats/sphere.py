"""Sphere-aware reference: is this what a normalised Gaussian looks like.

For L2-normalised embeddings at small d the coordinates are Beta-like, not
Gaussian, so "normalized: not Gaussian" is true but answers the wrong
question (PAPER.md §1.3, §5.3 Route 1). This module compares rows of (near)
constant norm with ``z / ||z||`` for a Gaussian ``z`` of the same covariance:

- isotropic case (covariance of the directions within ``tolerance`` of
  ``I/d``): the exact marginal of a coordinate ``u`` of a uniform point on
  S^(d-1) is ``(u + 1) / 2 ~ Beta((d-1)/2, (d-1)/2)``; every coordinate is
  tested against it by Kolmogorov–Smirnov;
- otherwise (d <= 256): a seeded sample of ``z / ||z||`` with ``z ~ N(m, S)``,
  m and S fitted so that the normalised draws have the directions' mean and
  covariance, and a two-sample Kolmogorov–Smirnov comparison per coordinate.
  Above d = 256 an anisotropic view is not compared (None).

The p-value is Holm's (Bonferroni's minimum) over coordinates, valid under any
dependence; the statistic is the mean over coordinates of ``sqrt(n_eff) D``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from ._sampling import seeded_rows
from ._validation import power_of_two_scale

__all__ = ["SphereResult", "near_constant_norm", "sphere_reference"]

#: Rows count as having constant norm when the CV of their norms is below this.
NORM_CV_TOLERANCE = 1e-3
_MAX_ROWS = 5000
_SIM_ROWS = 4000
_FIT_STEPS = 6
#: The simulated (anisotropic) reference runs up to this dimension.
_MAX_SIM_DIM = 256


@dataclass(frozen=True)
class SphereResult:
    """Coordinates of unit-norm rows against a normalised Gaussian.

    Attributes
    ----------
    statistic : float
        Mean over coordinates of ``sqrt(n_eff) * D`` (Kolmogorov–Smirnov).
    pvalue : float
        Bonferroni minimum over coordinates (Holm's first step).
    consistent : bool
        ``pvalue > alpha``.
    reference : str
        ``"uniform sphere (exact Beta marginal)"`` or ``"normalised Gaussian
        (simulated)"``.
    n, d : int
    """

    statistic: float
    pvalue: float
    consistent: bool
    reference: str
    n: int
    d: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``views.<view>.sphere``)."""
        return {
            "statistic": self.statistic,
            "pvalue": self.pvalue,
            "consistent": self.consistent,
            "reference": self.reference,
            "n": self.n,
            "d": self.d,
        }


def near_constant_norm(norms: np.ndarray, tolerance: float = NORM_CV_TOLERANCE) -> bool:
    """Whether the row norms are constant to within a CV of ``tolerance``.

    Examples
    --------
    >>> near_constant_norm(np.ones(10))
    True
    """
    norms = np.asarray(norms, dtype=float)
    if not norms.size:
        return False
    norms = norms / power_of_two_scale(float(np.max(norms)))  # scale free, no overflow
    mean = float(np.mean(norms))
    return bool(mean > 0 and float(np.std(norms)) / mean < tolerance)


def _fitted_normalised_gaussian(u: np.ndarray, mean: np.ndarray, seed: int) -> np.ndarray:
    """Seeded draws of ``z/||z||``, ``z ~ N(m, V diag(l) V')``, fitted to ``u``'s moments.

    V are the eigenvectors of the directions' covariance; ``l`` and ``m`` are
    adjusted by a few fixed-point steps (common random numbers) until the
    normalised draws have the data's mean and covariance eigenvalues; the
    returned draws are fresh.
    """
    d = u.shape[1]
    target, v = np.linalg.eigh(np.cov(u, rowvar=False))
    target = np.clip(target, 1e-12, None)
    lam, m = target.copy(), mean.copy()
    fit_rng = np.random.default_rng(seed + 1)
    g = fit_rng.standard_normal((_SIM_ROWS, d))
    for _ in range(_FIT_STEPS):
        z = (g * np.sqrt(lam)) @ v.T + m
        z /= np.linalg.norm(z, axis=1, keepdims=True)
        got = np.clip(np.einsum("ij,jk,ik->k", v.T, np.cov(z, rowvar=False), v.T), 1e-12, None)
        lam = lam * target / got
        m = m + (mean - z.mean(axis=0))
    g = np.random.default_rng(seed).standard_normal((_SIM_ROWS, d))
    z = (g * np.sqrt(lam)) @ v.T + m
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def _ks_pvalues(dstat: np.ndarray, n_eff: float) -> np.ndarray:
    from scipy import stats  # only when the sphere reference runs (1 s to import)

    return stats.kstwo.sf(dstat, max(round(n_eff), 1))


def sphere_reference(
    x: np.ndarray, *, alpha: float = 0.05, seed: int = 0, isotropy_tolerance: float = 0.1
) -> SphereResult | None:
    """Compare rows (divided by their norms) with a normalised Gaussian.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Rows of (near) constant norm; each is divided by its own norm.
    alpha : float
        Level of ``consistent``.
    seed : int
        Seed of the row subsample (above 5,000 rows) and of the simulation.
    isotropy_tolerance : float
        The exact Beta reference is used when every eigenvalue of ``d`` times
        the covariance of the directions, and ``d ||mean||^2``, are within this
        of 1 and 0 (plus their sampling error ``3 sqrt(d/n)``).

    Returns
    -------
    SphereResult or None
        None for d < 2, fewer than 20 rows, or a zero row.

    Examples
    --------
    >>> g = np.random.default_rng(0).standard_normal((3000, 8))
    >>> sphere_reference(g / np.linalg.norm(g, axis=1, keepdims=True)).consistent
    True
    """
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    norms = np.linalg.norm(x, axis=1)
    if d < 2 or n < 20 or np.any(norms == 0):
        return None
    u = x / norms[:, None]
    if n > _MAX_ROWS:
        u = u[seeded_rows(n, _MAX_ROWS, seed)]
    m = u.shape[0]
    mean = u.mean(axis=0)
    cov = np.cov(u, rowvar=False) * d
    ev = np.linalg.eigvalsh(cov)
    slack = isotropy_tolerance + 3.0 * np.sqrt(d / m)
    isotropic = bool(np.max(np.abs(ev - 1.0)) <= slack and d * float(mean @ mean) <= slack)
    srt = np.sort(u, axis=0)
    if isotropic:
        a = (d - 1) / 2.0
        cdf = special.betainc(a, a, np.clip((srt + 1.0) / 2.0, 0.0, 1.0))
        i = np.arange(1, m + 1)[:, None]
        dstat = np.maximum(np.max(i / m - cdf, axis=0), np.max(cdf - (i - 1) / m, axis=0))
        n_eff = float(m)
        reference = "uniform sphere (exact Beta marginal)"
    else:
        if d > _MAX_SIM_DIM:
            return None
        z = _fitted_normalised_gaussian(u, mean, seed)
        sim = np.sort(z, axis=0)
        dstat = np.empty(d)
        for j in range(d):
            both = np.concatenate([srt[:, j], sim[:, j]])
            f1 = np.searchsorted(srt[:, j], both, side="right") / m
            f2 = np.searchsorted(sim[:, j], both, side="right") / _SIM_ROWS
            dstat[j] = np.max(np.abs(f1 - f2))
        n_eff = m * _SIM_ROWS / (m + _SIM_ROWS)
        reference = "normalised Gaussian (simulated, same mean and covariance)"
    p = _ks_pvalues(dstat, n_eff)
    pvalue = float(min(1.0, d * float(np.min(p))))
    return SphereResult(
        statistic=float(np.mean(np.sqrt(n_eff) * dstat)),
        pvalue=pvalue,
        consistent=pvalue > alpha,
        reference=reference,
        n=int(m),
        d=int(d),
    )
