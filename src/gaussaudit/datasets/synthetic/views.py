"""Two-view channels producing positive pairs of the synthetic inputs (the trainer's)."""

from __future__ import annotations

import numpy as np

from ...errors import UsageError

__all__ = ["binary_views", "gmm_views", "laplace_views"]


def _one_laplace_view(
    x: np.ndarray,
    a: float,
    noise_std: float,
    dropout: float,
    scale_sigma: float,
    rng: np.random.Generator,
) -> np.ndarray:
    v = a * x + np.sqrt(1.0 - a * a) * rng.standard_normal(x.shape)
    if noise_std:
        v = v + noise_std * rng.standard_normal(x.shape)
    if dropout:
        v = v * (rng.random(x.shape) >= dropout)
    if scale_sigma:
        v = v * np.exp(scale_sigma * rng.standard_normal((*x.shape[:-1], 1)))
    return v.astype(np.float32)


def laplace_views(
    x: np.ndarray,
    *,
    a: float = 0.6,
    noise_std: float = 0.2,
    dropout: float = 0.1,
    scale_sigma: float = 0.1,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Two positive views of Laplace inputs (Appendix E.1, Eq. 53 plus jitter).

    Each view is ``A x + sqrt(1 - A^2) eps`` with ``eps ~ N(0, I)``, then,
    independently per view: additive ``N(0, noise_std^2)`` noise, feature
    dropout (each coordinate zeroed with probability ``dropout``, **not**
    rescaled by ``1/(1-p)``: the paper does not say, so it is kept literal),
    and one multiplicative factor ``exp(N(0, scale_sigma^2))`` per sample.
    Set ``noise_std = dropout = scale_sigma = 0`` for the bare channel, whose
    per-coordinate correlation between views is ``2A^2 / (1 + A^2)`` for
    Laplace(0, 1) input (0.53 at A = 0.6).

    Parameters
    ----------
    x : ndarray, shape (..., d)
        Inputs (one row per sample).
    a : float
        Mixing weight ``A`` in [0, 1] (the paper: 0.6; 0.2, 0.5, 0.8 in Fig. 11).
    noise_std : float
        Additive jitter standard deviation (0.2).
    dropout : float
        Feature dropout probability (0.1).
    scale_sigma : float
        Log-scale standard deviation of the per-sample factor (0.1).
    rng : numpy.random.Generator
        Source of randomness (the caller owns it, e.g. one per epoch).

    Returns
    -------
    x1, x2 : ndarray of float32, each shaped like ``x``
    """
    if not 0.0 <= a <= 1.0 or not 0.0 <= dropout < 1.0:
        raise UsageError(f"need 0 <= a <= 1 and 0 <= dropout < 1, got a={a}, dropout={dropout}")
    x = np.asarray(x, dtype=np.float64)
    return tuple(  # type: ignore[return-value]
        _one_laplace_view(x, a, noise_std, dropout, scale_sigma, rng) for _ in range(2)
    )


def gmm_views(
    labels: np.ndarray,
    means: np.ndarray,
    *,
    noise_scale: float = 1.0,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Two independent draws from each sample's own mixture component.

    Parameters
    ----------
    labels : ndarray of int, shape (n,)
        Component of each anchor (from :func:`gmm`).
    means : ndarray, shape (n_components, d)
        From :func:`gmm_means`, with the arguments used for the data.
    noise_scale : float
        The mixture's isotropic standard deviation (same as the data's).
    rng : numpy.random.Generator

    Returns
    -------
    x1, x2 : ndarray of float32, shape (n, d)
    """
    centre = np.asarray(means, dtype=np.float32)[np.asarray(labels)]
    s = np.float32(noise_scale)
    return (
        centre + s * rng.standard_normal(centre.shape, dtype=np.float32),
        centre + s * rng.standard_normal(centre.shape, dtype=np.float32),
    )


def binary_views(
    x: np.ndarray, *, flip: float = 0.001, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two views that each turn a small random fraction of zeros into ones.

    Every zero entry becomes one independently with probability ``flip`` in
    each view (0.1 % of zeros on average, the paper's figure); ones stay ones.

    Parameters
    ----------
    x : ndarray of 0/1, shape (..., d)
    flip : float
        Per-zero flip probability.
    rng : numpy.random.Generator

    Returns
    -------
    x1, x2 : ndarray of float32, each shaped like ``x``
    """
    x = np.asarray(x, dtype=np.float32)
    zero = x == 0
    views = []
    for _ in range(2):
        v = x.copy()
        v[zero & (rng.random(x.shape) < flip)] = 1.0
        views.append(v)
    return views[0], views[1]
