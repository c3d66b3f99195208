"""Views of an embedding matrix: raw, L2-normalised rows, PCA- or ZCA-whitened.

The paper audits raw and normalised embeddings (PAPER.md §1.1) and whitens for
its uniformity figures (§4.4). The battery runs on whichever views are asked
for; each view is a plain matrix plus a record of what was done to make it.

Two whitenings are offered. ``whitened`` (PCA) rotates onto the covariance's
eigenvectors; when the data are near isotropic those eigenvectors are an
arbitrary rotation, and a rotated sum of many independent coordinates is close
to Gaussian, so the PCA-whitened coordinates hide axis-aligned departures.
``zca`` (``Σ^(-1/2)``, opt-in) whitens without leaving the original axes: its
coordinate j is the original coordinate j decorrelated from the others
(docs/calibration.md, "Views").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InvalidEmbeddingsError, UnknownNameError
from .config import VIEWS

__all__ = ["VIEWS", "View", "make_view", "normalize_rows", "pca_whiten", "zca_whiten"]


@dataclass(frozen=True, eq=False)
class View:
    """One view of the data.

    Attributes
    ----------
    name : str
        ``"raw"``, ``"normalized"``, ``"whitened"`` or ``"zca"``.
    matrix : ndarray, shape (n, d_view)
        The transformed embeddings (``d_view`` is the covariance rank for the
        whitened views).
    notes : tuple of str
        What was done (e.g. dimensions dropped by whitening).
    leading : ndarray, shape (d_view, r), optional
        Orthonormal leading principal directions of the data *before*
        whitening, in the view's coordinates, by decreasing eigenvalue. Set for
        the whitened views, whose own covariance is the identity (so a PCA of
        the view finds an arbitrary rotation); the subspace tests and the
        diagnosis use it as the view's principal subspace.
    """

    name: str
    matrix: np.ndarray
    notes: tuple[str, ...] = ()
    leading: np.ndarray | None = None


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Divide every row by its L2 norm.

    Raises
    ------
    InvalidEmbeddingsError
        If a row is all zeros (it has no direction).
    """
    scale = np.max(np.abs(x), axis=1, keepdims=True)
    if np.any(scale == 0):
        row = int(np.flatnonzero(scale[:, 0] == 0)[0])
        raise InvalidEmbeddingsError(
            f"row {row} is all zeros and cannot be L2-normalised (normalized view)"
        )
    y = x / scale  # guard against overflow in the squares
    return y / np.linalg.norm(y, axis=1, keepdims=True)


def pca_whiten(x: np.ndarray, *, rtol: float = 1e-10) -> tuple[np.ndarray, int, np.ndarray]:
    """PCA-whiten: centre, rotate onto covariance eigenvectors, scale to unit variance.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    rtol : float
        Eigenvalues at most ``rtol * max eigenvalue`` are treated as zero; their
        directions are dropped, so the result has the covariance's numerical rank
        as its number of columns.

    Returns
    -------
    z : ndarray, shape (n, rank)
        ``(x - mean) V diag(l)^(-1/2)`` with eigenvalues ``l`` (ddof=1, as
        ``torch.cov``) in descending order.
    rank : int
    eigenvalues : ndarray
        All eigenvalues, descending.

    Notes
    -----
    This is the W = V diag(l)^(-1/2) whitening of the authors' W-CLIP code
    (PAPER.md §4.4, §6). For d > n it is computed from the n x n Gram matrix.
    """
    n, d = x.shape
    scale = np.max(np.abs(x)) or 1.0
    c = (x - x.mean(axis=0)) / scale
    if d <= n:
        vals, vecs = np.linalg.eigh(c.T @ c / (n - 1))
        vals, vecs = vals[::-1], vecs[:, ::-1]
        keep = vals > rtol * max(vals[0], 0.0)
        z = (c @ vecs[:, keep]) / np.sqrt(vals[keep])
    else:
        vals, u = np.linalg.eigh(c @ c.T / (n - 1))
        vals, u = vals[::-1], u[:, ::-1]
        keep = vals > rtol * max(vals[0], 0.0)
        z = u[:, keep] * np.sqrt(n - 1)
    with np.errstate(over="ignore", invalid="ignore"):  # only the reported eigenvalues
        vals = np.clip(vals, 0.0, None)  # can overflow (scale**2 past the float max)
        vals = np.where(vals > 0.0, vals * np.float64(scale) ** 2, 0.0)
    return np.ascontiguousarray(z), int(keep.sum()), vals


def zca_whiten(x: np.ndarray, *, rtol: float = 1e-10) -> tuple[np.ndarray, int, np.ndarray]:
    """ZCA-whiten: centre and multiply by ``Σ^(-1/2)``, keeping the original axes.

    Parameters
    ----------
    x : ndarray, shape (n, d)
    rtol : float
        Eigenvalues at most ``rtol * max eigenvalue`` are treated as zero, as in
        :func:`pca_whiten`.

    Returns
    -------
    z : ndarray, shape (n, d)
        ``(x - mean) V diag(l)^(-1/2) V^T`` on the kept eigenvectors ``V``; its
        sample covariance is the projector ``V V^T`` (the identity at full rank).
    rank : int
    vecs : ndarray, shape (d, rank)
        The kept eigenvectors, by decreasing eigenvalue: the data's principal
        directions in the view's coordinates.

    Notes
    -----
    ``Σ^(-1/2)`` is the whitening closest to the identity (it minimises
    ``E||x - W x||²`` among whitenings), so coordinate j of the view is
    coordinate j of the data decorrelated from the rest. A departure carried
    by one original coordinate stays in one view coordinate, where the
    PCA-whitened view spreads it over all of them. For d > n (rank < d) the
    dropped directions map to zero and the view's columns are dependent.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((500, 3)) @ np.array([[2.0, 0, 0], [1, 1, 0], [0, 0, 3]])
    >>> z, rank, _ = zca_whiten(x)
    >>> rank, bool(np.allclose(np.cov(z, rowvar=False), np.eye(3)))
    (3, True)
    """
    n, d = x.shape
    scale = np.max(np.abs(x)) or 1.0
    c = (x - x.mean(axis=0)) / scale
    if d <= n:
        vals, vecs = np.linalg.eigh(c.T @ c / (n - 1))
        vals, vecs = vals[::-1], vecs[:, ::-1]
        keep = vals > rtol * max(vals[0], 0.0)
        vecs = vecs[:, keep]
        z = ((c @ vecs) / np.sqrt(vals[keep])) @ vecs.T
    else:
        _, s, vt = np.linalg.svd(c, full_matrices=False)
        keep = s**2 > rtol * max(s[0] ** 2, 0.0)
        vecs = vt[keep].T
        z = ((c @ vecs) / (s[keep] / np.sqrt(n - 1))) @ vecs.T
    return np.ascontiguousarray(z), int(keep.sum()), np.ascontiguousarray(vecs)


def make_view(x: np.ndarray, name: str) -> View:
    """Build the view ``name`` of the float64 matrix ``x``.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        Validated float64 embeddings.
    name : {"raw", "normalized", "whitened", "zca"}

    Returns
    -------
    View

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((100, 4))
    >>> view = make_view(x, "zca")
    >>> view.matrix.shape, view.leading.shape
    ((100, 4), (4, 4))
    """
    if name == "raw":
        return View("raw", x)
    if name == "normalized":
        return View("normalized", normalize_rows(x), ("rows divided by their L2 norm",))
    if name == "whitened":
        z, rank, _ = pca_whiten(x)
        notes = ["PCA-whitened (centred, W = V diag(l)^-1/2)"]
        if rank < x.shape[1]:
            notes.append(f"covariance rank {rank} < d = {x.shape[1]}: kept {rank} directions")
        return View("whitened", z, tuple(notes), leading=np.eye(rank))
    if name == "zca":
        z, rank, vecs = zca_whiten(x)
        notes = ["ZCA-whitened (centred, W = Sigma^-1/2: the original axes kept)"]
        if rank < x.shape[1]:
            notes.append(
                f"covariance rank {rank} < d = {x.shape[1]}: {x.shape[1] - rank} "
                "direction(s) set to zero"
            )
        return View("zca", z, tuple(notes), leading=vecs)
    raise UnknownNameError("view", name, VIEWS)
