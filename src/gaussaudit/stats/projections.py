"""Normality tests on seeded random projections of an embedding matrix.

If embeddings are (close to) uniform on a sphere, or Gaussian, then every fixed
low-dimensional projection is close to Gaussian (PAPER.md §5.3, Corollary 1 and
Prop. 2; Diaconis & Freedman 1987). Coordinates are one particular set of
projections; random unit directions test the same prediction without depending
on the basis the encoder happened to use.
"""

from __future__ import annotations

import numpy as np

from ..errors import UsageError
from ._validation import as_matrix
from .epps_pulley import epps_pulley
from .results import ProjectionResult, Skipped
from .univariate import AD_THRESHOLD, DP_MIN_ROWS, anderson_darling, dagostino_pearson

__all__ = ["projection_tests", "random_directions", "random_orthonormal_frames"]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def random_directions(d: int, n_projections: int, *, seed: int) -> np.ndarray:
    """Seeded random unit directions, uniform on the sphere S^(d-1).

    Parameters
    ----------
    d : int
        Ambient dimension.
    n_projections : int
        Number of directions.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ndarray, shape (d, n_projections)
        Columns of unit Euclidean norm: standard normal draws
        ``default_rng(seed).standard_normal((d, n_projections))`` divided by their
        column norms.
    """
    d = _positive_int(d, "d")
    n_projections = _positive_int(n_projections, "n_projections")
    g = np.random.default_rng(seed).standard_normal((d, n_projections))
    return g / np.linalg.norm(g, axis=0)


def random_orthonormal_frames(d: int, k: int, n_frames: int, *, seed: int) -> np.ndarray:
    """Seeded Haar-random orthonormal k-frames in R^d.

    Parameters
    ----------
    d : int
        Ambient dimension.
    k : int
        Frame size, ``1 <= k <= d``.
    n_frames : int
        Number of frames.
    seed : int
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    ndarray, shape (n_frames, d, k)
        ``frames[i]`` has orthonormal columns spanning a uniformly distributed
        k-dimensional subspace.

    Notes
    -----
    Each frame is the Q factor of a ``(d, k)`` standard normal matrix, with
    column signs fixed so that R has a positive diagonal; without the fix,
    LAPACK's sign convention would make the frame distribution not exactly
    Haar (Mezzadri 2007).
    """
    d = _positive_int(d, "d")
    k = _positive_int(k, "k")
    n_frames = _positive_int(n_frames, "n_frames")
    if k > d:
        raise UsageError(f"frame size k = {k} exceeds the dimension d = {d}")
    g = np.random.default_rng(seed).standard_normal((n_frames, d, k))
    q, r = np.linalg.qr(g)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    signs[signs == 0] = 1.0
    return q * signs[:, None, :]


def projection_tests(
    x: np.ndarray,
    *,
    n_projections: int = 128,
    seed: int = 0,
    threshold: float = AD_THRESHOLD,
) -> ProjectionResult:
    """Run the per-coordinate normality battery on random 1-D projections.

    Parameters
    ----------
    x : array_like, shape (n, d)
        Embedding matrix; n >= 8.
    n_projections : int
        Number of random unit directions.
    seed : int
        Seed of the directions (see :func:`random_directions`).
    threshold : float
        Anderson–Darling pass threshold on the raw A² (0.752, the paper's rule).
        Decisions at a level alpha are taken later, e.g.
        ``result.tests["epps_pulley"].pass_fraction(alpha)``.

    Returns
    -------
    ProjectionResult
        ``tests`` maps ``"anderson_darling"``, ``"dagostino_pearson"`` and
        ``"epps_pulley"`` to a ``CoordinateTestResult`` over the projections
        (column ``j`` is direction ``j``). D'Agostino–Pearson needs at least 20
        rows; below that its entry is a :class:`~gaussaudit.stats.results.Skipped`.

    Notes
    -----
    The centred matrix ``x - mean(x)`` is multiplied by the ``(d, n_projections)``
    directions. Under the hypothesis that the rows are i.i.d. Gaussian, or uniform
    on a high-dimensional sphere (up to O(1/d), PAPER.md §5.3), every projection is
    Gaussian, so each test's pass fraction should be near ``1 - alpha``.
    Projections of one matrix are correlated, so a binomial band for the pass
    fraction is only a guide. Constant projections (all rows equal) are left
    untested, as constant columns are.
    """
    arr, _ = as_matrix(x)
    n, d = arr.shape
    directions = random_directions(d, n_projections, seed=seed)
    projected = (arr - arr.mean(axis=0)) @ directions
    tests: dict[str, object] = {
        "anderson_darling": anderson_darling(projected, threshold=threshold)
    }
    if n < DP_MIN_ROWS:
        tests["dagostino_pearson"] = Skipped(
            "dagostino_pearson", f"needs at least {DP_MIN_ROWS} rows, got {n}"
        )
    else:
        tests["dagostino_pearson"] = dagostino_pearson(projected)
    tests["epps_pulley"] = epps_pulley(projected)
    return ProjectionResult(
        n_projections=int(n_projections),
        seed=int(seed),
        directions=directions,
        tests=tests,
    )
