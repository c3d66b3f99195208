"""Norm concentration ("thin shell") and effective dimension.

The paper's radial diagnostic is the coefficient of variation of the row norms,
``CV = std(||z_i||) / mean(||z_i||)`` (PAPER.md Eq. 20), computed on raw,
unnormalised embeddings. A Gaussian in high dimension has a small CV; this
module also gives the CV a Gaussian *would* have, so the measured CV can be read
against a reference rather than on its own.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._validation import power_of_two_scale, validate
from .results import NormResult

__all__ = [
    "chi_mean",
    "covariance_eigenvalues",
    "cv_isotropic_gaussian",
    "cv_matched_gaussian",
    "effective_dimension",
    "effective_rank",
    "norm_concentration",
]


def chi_mean(d: int | float) -> float:
    """Mean of the chi distribution with ``d`` degrees of freedom.

    ``E[chi_d] = sqrt(2) Gamma((d+1)/2) / Gamma(d/2)``, evaluated in log space.
    """
    return float(np.sqrt(2.0) * np.exp(special.gammaln((d + 1) / 2.0) - special.gammaln(d / 2.0)))


def cv_isotropic_gaussian(d: int) -> float:
    """Exact CV of ``||z||`` for ``z ~ N(0, s^2 I_d)``.

    ``||z|| / s`` is chi_d with mean ``mu`` and variance ``d - mu^2``, so
    ``CV = sqrt(d - mu^2) / mu`` (about ``1 / sqrt(2d)``; PAPER.md §5.6).
    """
    mu = chi_mean(d)
    return float(np.sqrt(max(d - mu * mu, 0.0)) / mu)


def covariance_eigenvalues(x: np.ndarray) -> np.ndarray:
    """Eigenvalues (descending, clipped at 0) of the sample covariance (ddof=0)."""
    return _centred_eigenvalues(x - x.mean(axis=0))


def _centred_eigenvalues(c: np.ndarray) -> np.ndarray:
    n, d = c.shape
    if d <= n:
        gram = c.T @ c / n
    else:  # same non-zero spectrum, cheaper when d > n
        gram = c @ c.T / n
    ev = np.linalg.eigvalsh(gram)[::-1]
    return np.clip(ev, 0.0, None)


#: Rows centred at a time by :func:`_centred_spectrum` (a block, never an n x d copy).
_CENTRE_ROWS = 8192


def _centred_spectrum(y: np.ndarray, mu: np.ndarray) -> tuple[np.ndarray, float]:
    """Covariance eigenvalues (ddof=0) and ``m'Sm`` of ``y``, centring one row block at a time.

    ``m'Sm = ||C m||^2 / n`` with ``C`` the centred rows; for ``d > n`` the
    spectrum comes from the (small) n x n Gram matrix of the centred rows.
    """
    n, d = y.shape
    if d > n or n <= _CENTRE_ROWS:
        c = y - mu
        return _centred_eigenvalues(c), float(np.sum((c @ mu) ** 2) / n)
    gram = np.zeros((d, d))
    quad = 0.0
    for start in range(0, n, _CENTRE_ROWS):
        c = y[start : start + _CENTRE_ROWS] - mu
        gram += c.T @ c
        quad += float(np.sum((c @ mu) ** 2))
    ev = np.clip(np.linalg.eigvalsh(gram / n)[::-1], 0.0, None)
    return ev, quad / n


def effective_dimension(eigenvalues: np.ndarray) -> float:
    """Participation ratio ``(sum l)^2 / sum l^2`` of covariance eigenvalues."""
    ev = np.asarray(eigenvalues, dtype=float)
    total = ev.sum()
    return float(total**2 / np.sum(ev**2)) if total > 0 else float("nan")


def effective_rank(eigenvalues: np.ndarray) -> float:
    """Entropy effective rank ``exp(-sum p log p)``, ``p = l / sum l``.

    References
    ----------
    .. [1] Roy, O. & Vetterli, M. (2007). The effective rank: a measure of
       effective dimensionality. EUSIPCO.
    """
    ev = np.asarray(eigenvalues, dtype=float)
    total = ev.sum()
    if total <= 0:
        return float("nan")
    p = ev[ev > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))


def cv_matched_gaussian(eigenvalues: np.ndarray, mean_sq: float, mean_quad: float) -> float:
    """CV of ``||z||`` for ``z ~ N(m, S)``, by a second-order delta method.

    Parameters
    ----------
    eigenvalues : ndarray
        Eigenvalues ``l`` of the covariance ``S``.
    mean_sq : float
        ``||m||^2``.
    mean_quad : float
        ``m' S m``.

    Returns
    -------
    float

    Notes
    -----
    ``Q = ||z||^2`` has mean ``M = tr S + ||m||^2`` and variance
    ``V = 2 tr S^2 + 4 m'Sm``. For ``R = sqrt(Q)``,
    ``E R ~ sqrt(M) (1 - V / (8 M^2))`` and ``Var R ~ V / (4 M)``. For an
    isotropic centred Gaussian this is ``1/sqrt(2d)`` to first order; the
    relative error is O(1/d_eff).
    """
    ev = np.asarray(eigenvalues, dtype=float)
    m_total = ev.sum() + mean_sq
    if m_total <= 0:
        return float("nan")
    var_q = 2.0 * np.sum(ev**2) + 4.0 * mean_quad
    mean_r = np.sqrt(m_total) * (1.0 - var_q / (8.0 * m_total**2))
    return float(np.sqrt(var_q / (4.0 * m_total)) / mean_r)


def norm_concentration(x: np.ndarray) -> NormResult:
    """Thin-shell diagnostics of the row norms of an embedding matrix.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Raw (unnormalised) embeddings: on L2-normalised rows the CV is 0 by
        construction.

    Returns
    -------
    NormResult
        Mean, population std and CV of the norms; the CV of an isotropic
        Gaussian of the same ``d``; the CV of a Gaussian with the data's mean and
        covariance; the participation ratio and the entropy effective rank.

    Notes
    -----
    An isotropic Gaussian has ``CV ~ 1/sqrt(2d)`` and an anisotropic one
    ``CV ~ 1/sqrt(2 d_eff)`` with ``d_eff`` the participation ratio, so a CV
    near ``cv_matched_gaussian`` says the norms are as concentrated as a
    Gaussian with this covariance would be. A CV far above it (e.g. 0.5 for
    supervised ResNet features, PAPER.md Table 1) means a wide radial spread:
    a scale mixture, not a thin shell.
    """
    valid = validate(x)
    arr, check = valid.values, valid.check
    # CV and d_eff are scale free. Rescale by an exact power of two only when
    # squares could overflow or lose precision; the results are then identical.
    top = float(np.max(valid.column_scale))
    scale = 1.0 if top == 0.0 or 2.0**-200 < top < 2.0**200 else power_of_two_scale(top)
    y = arr if scale == 1.0 else arr / scale
    norms = np.sqrt(np.einsum("ij,ij->i", y, y))
    mean = float(norms.mean())
    std = float(norms.std())
    mu = y.mean(axis=0)
    ev, mean_quad = _centred_spectrum(y, mu)
    cv_matched = cv_matched_gaussian(ev, float(mu @ mu), mean_quad)
    return NormResult(
        norms=norms * scale,
        mean=mean * scale,
        std=std * scale,
        cv=std / mean if mean > 0 else float("nan"),
        cv_isotropic_gaussian=cv_isotropic_gaussian(check.d),
        cv_matched_gaussian=cv_matched,
        effective_dimension=effective_dimension(ev),
        effective_rank=effective_rank(ev),
        n=check.n,
        d=check.d,
    )
