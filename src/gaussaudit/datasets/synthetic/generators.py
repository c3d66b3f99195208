"""The paper's synthetic generators (Appendix E.1): Laplace, GMM and sparse binary rows.

Rows are generated in blocks of 1024, each block from its own
:class:`numpy.random.SeedSequence` child, so the first ``k`` rows of
``f(n, seed=s)`` equal ``f(k, seed=s)`` for every generator here. The
defaults of the settings the paper leaves unstated are :data:`CHOICES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import UsageError

__all__ = ["CHOICES", "Seed", "gmm", "gmm_means", "laplace", "sparse_binary"]

Seed = int | Sequence[int]


#: The defaults chosen for settings the paper leaves unstated.
CHOICES: dict[str, Any] = {
    "gmm_mean_scale": 1.0,
    "gmm_noise_scale": 1.0,
    "gmm_n_components": 25,
    "gmm_membership": "iid uniform over components",
    "binary_p_one": 0.005,
    "binary_flip": 0.001,
    "laplace_dropout_rescaled": False,
    "laplace_jitter_order": "additive noise, dropout, per-sample scale",
}

_BLOCK = 1024
_KEY_MEANS, _KEY_SAMPLES = 0, 1


def _entropy(seed: Seed) -> int | list[int]:
    if isinstance(seed, np.random.Generator | np.random.SeedSequence):
        raise UsageError("pass an int (or a list of ints) as seed, not a generator")
    return int(seed) if np.ndim(seed) == 0 else [int(s) for s in seed]


def _rng(seed: Seed, *keys: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(_entropy(seed), spawn_key=keys))


def _blocks(n: int):
    for b, start in enumerate(range(0, n, _BLOCK)):
        yield b, start, min(_BLOCK, n - start)


def _check_nd(n: int, d: int) -> None:
    if int(n) < 0 or int(d) < 1:
        raise UsageError(f"need n >= 0 and d >= 1, got n={n}, d={d}")


def laplace(n: int, d: int = 1024, *, seed: Seed) -> np.ndarray:
    """I.i.d. Laplace(0, 1) vectors (variance 2 per coordinate).

    Parameters
    ----------
    n : int
        Number of vectors.
    d : int
        Dimension (the paper: 1024).
    seed : int or sequence of int
        Entropy of the stream; the first ``k`` rows do not depend on ``n``.

    Returns
    -------
    ndarray of float32, shape (n, d)
    """
    _check_nd(n, d)
    out = np.empty((n, d), dtype=np.float32)
    for b, start, m in _blocks(n):
        out[start : start + m] = _rng(seed, _KEY_SAMPLES, b).laplace(0.0, 1.0, (m, d))
    return out


def gmm_means(
    d: int = 1024, n_components: int = 25, *, mean_scale: float = 1.0, seed: Seed
) -> np.ndarray:
    """Component means ``~ N(0, mean_scale^2 I)``, from their own stream.

    Parameters
    ----------
    d : int
        Dimension.
    n_components : int
        Number of components.
    mean_scale : float
        Standard deviation of each mean coordinate (unstated in the paper;
        1.0 chosen, see the module notes).
    seed : int or sequence of int
        The means depend on this only, so a train and a test set drawn with
        the same ``seed`` (or ``means_seed``) share them.

    Returns
    -------
    ndarray of float32, shape (n_components, d)
    """
    _check_nd(n_components, d)
    rng = _rng(seed, _KEY_MEANS)
    return (float(mean_scale) * rng.standard_normal((n_components, d))).astype(np.float32)


def gmm(
    n: int,
    d: int = 1024,
    *,
    n_components: int = 25,
    mean_scale: float = 1.0,
    noise_scale: float = 1.0,
    seed: Seed,
    means_seed: Seed | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw samples from an equally weighted isotropic Gaussian mixture.

    Parameters
    ----------
    n : int
        Number of samples.
    d : int
        Dimension (the paper: 1024).
    n_components : int
        Components (the paper: 25).
    mean_scale : float
        Means ``~ N(0, mean_scale^2 I)``; unstated in the paper, 1.0 chosen.
    noise_scale : float
        Shared isotropic standard deviation; unstated, 1.0 chosen.
    seed : int or sequence of int
        Entropy of the samples (membership and noise).
    means_seed : int or sequence of int, optional
        Entropy of the means (default ``seed``; a separate stream either way).
        Give a train and a test set the same ``means_seed`` and different
        ``seed`` so they share the mixture.

    Returns
    -------
    x : ndarray of float32, shape (n, d)
    labels : ndarray of int64, shape (n,)
        Component of each sample, drawn i.i.d. uniform.

    See Also
    --------
    gmm_means : the means used (same arguments give the same means).
    """
    _check_nd(n, d)
    means = gmm_means(
        d, n_components, mean_scale=mean_scale, seed=seed if means_seed is None else means_seed
    )
    x = np.empty((n, d), dtype=np.float32)
    labels = np.empty(n, dtype=np.int64)
    for b, start, m in _blocks(n):
        rng = _rng(seed, _KEY_SAMPLES, b)
        lab = rng.integers(0, n_components, _BLOCK)[:m]  # full block: prefix-stable
        noise = rng.standard_normal((m, d), dtype=np.float32)
        labels[start : start + m] = lab
        x[start : start + m] = means[lab] + np.float32(noise_scale) * noise
    return x, labels


def sparse_binary(n: int, d: int = 1024, *, p_one: float = 0.005, seed: Seed) -> np.ndarray:
    """I.i.d. Bernoulli(``p_one``) vectors of 0.0 and 1.0.

    Parameters
    ----------
    n : int
        Number of vectors.
    d : int
        Dimension (the paper: 1024).
    p_one : float
        Probability of a one; the paper does not state the sparsity, 0.005
        chosen (see the module notes and PAPER.md §2.3).
    seed : int or sequence of int
        Entropy of the stream.

    Returns
    -------
    ndarray of float32, shape (n, d)
    """
    _check_nd(n, d)
    if not 0.0 <= p_one <= 1.0:
        raise UsageError(f"p_one must be in [0, 1], got {p_one}")
    out = np.empty((n, d), dtype=np.float32)
    for b, start, m in _blocks(n):
        u = _rng(seed, _KEY_SAMPLES, b).random((m, d), dtype=np.float32)
        out[start : start + m] = u < np.float32(p_one)
    return out
