"""A view's covariance fitted on a seeded row subsample.

Both halves of the calibrated verdict use it: the dependence correction of the
pass-fraction floors (:mod:`gaussaudit.stats.calibration`) reads its
correlations, and the norm-CV test (:mod:`gaussaudit.stats.norm_cv`) simulates
row norms from its spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._sampling import seeded_rows
from ._validation import power_of_two_scale

__all__ = ["ViewCovariance", "view_covariance"]


@dataclass(frozen=True, eq=False)
class ViewCovariance:
    """A view's covariance, from a seeded row subsample, computed lazily.

    Attributes
    ----------
    centred : ndarray, shape (rows, d)
        The subsample, centred and divided by ``scale``.
    scale : float
        A power of two making the values O(1) (results are scale free).
    mean : ndarray, shape (d,)
        Mean of the full view.
    rows : int
        Rows the covariance is estimated from.
    """

    centred: np.ndarray
    scale: float
    mean: np.ndarray
    rows: int

    @staticmethod
    def _corr(a: np.ndarray) -> np.ndarray:
        c = a.T @ a
        sd = np.sqrt(np.clip(np.diag(c), 0.0, None))
        sd[sd == 0] = 1.0
        return c / sd[:, None] / sd[None, :]

    def correlation(self, columns: np.ndarray | None = None) -> np.ndarray:
        """Correlation matrix of the given columns (all by default)."""
        return self._corr(self.centred if columns is None else self.centred[:, columns])

    def projected_correlation(self, directions: np.ndarray) -> np.ndarray:
        """Correlation matrix of the projections onto the columns of ``directions``."""
        return self._corr(self.centred @ directions)

    def spectrum(self) -> tuple[np.ndarray, float, float]:
        """Eigenvalues of the covariance (ddof=1), ``||mean||^2`` and ``mean' S mean``.

        In units of ``scale``. Values only (no eigenvectors): O(min(rows, d)^3).
        """
        c = self.centred
        k = max(c.shape[0] - 1, 1)
        gram = c.T @ c if c.shape[1] <= c.shape[0] else c @ c.T
        ev = np.clip(np.linalg.eigvalsh(gram / k), 0.0, None)
        mu = self.mean / self.scale
        return ev, float(mu @ mu), float(np.sum((c @ mu) ** 2) / k)


def view_covariance(x: np.ndarray, *, max_rows: int | None = None, seed: int = 0) -> ViewCovariance:
    """Estimate a view's covariance from a seeded row subsample.

    ``max_rows`` defaults to ``max(2000, 5e7 / d^2)`` rows (all rows at small d),
    so the cost is at most about ``max(2000 d^2, 5e7)`` multiply-adds.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((500, 3))
    >>> view_covariance(x).correlation().shape
    (3, 3)
    """
    n, d = x.shape
    if max_rows is None:
        max_rows = max(2000, int(5e7 // max(d * d, 1)))
    sub = x[seeded_rows(n, max_rows, seed)] if n > max_rows else x
    top = float(np.max(np.abs(sub))) if sub.size else 0.0
    scale = power_of_two_scale(top)
    c = sub / scale
    c = c - c.mean(axis=0)
    return ViewCovariance(centred=c, scale=scale, mean=x.mean(axis=0), rows=int(sub.shape[0]))
