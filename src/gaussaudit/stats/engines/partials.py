"""Partial results that merge exactly and finalise into the battery's results.

Every statistic the streaming engines compute is a function of a few
accumulators that can be computed on any block of rows and merged, in float64:

- :class:`ColumnMoments`: count, mean and centred sums of powers 2..4 of every
  column -> D'Agostino–Pearson, Jarque–Bera, skewness and kurtosis.
- :class:`CoMoments`: count, mean and centred cross-product sum -> the
  covariance and its spectrum (effective dimension, whitening).
- :class:`NormSummary`: count, mean and centred square sum of the row norms ->
  norm mean, std and CV.
- :class:`CharacteristicSums`: sums of ``cos(t z)`` and ``sin(t z)`` at the
  quadrature nodes plus the few tail points -> Epps–Pulley.
- :class:`GramSums`: sums over Gram tiles (cubes, kernel values) and over
  whitened rows (squared norms, third-moment tensor) -> Mardia, Henze–Zirkler.

Moments are merged from *centred* sums with the pairwise formulas of Chan,
Golub & LeVeque (1979) and Pébay (2008), never from raw power sums, so data
offset far from zero (``1e6 + z``) keep their precision. :class:`PairwiseMerger`
merges partials in a balanced binary tree in block order, so the result does
not depend on how many threads computed the blocks and its rounding grows like
``log(blocks)``.

Examples
--------
>>> import numpy as np
>>> from gaussaudit.stats.engines.partials import ColumnMoments
>>> x = np.random.default_rng(0).standard_normal((1000, 3)) + 1e6
>>> merged = ColumnMoments.of(x[:400]).merge(ColumnMoments.of(x[400:]))
>>> g1, g2 = merged.skewness_kurtosis()
>>> from gaussaudit.stats.univariate import moments
>>> bool(np.allclose(g1, moments(x)[0], atol=1e-6))
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from ..norms import (
    cv_isotropic_gaussian,
    cv_matched_gaussian,
    effective_dimension,
    effective_rank,
)
from ..results import NormResult

__all__ = [
    "CoMoments",
    "ColumnMoments",
    "NormSummary",
    "PairwiseMerger",
    "merge_all",
    "norm_result",
]


class Mergeable(Protocol):
    def merge(self, other: Any) -> Any: ...


P = TypeVar("P", bound=Mergeable)


class PairwiseMerger:
    """Merge partials pushed in block order as a balanced binary tree.

    Like pairwise summation: a stack holds at most ``log2(blocks)`` partials,
    and the result depends only on the sequence of blocks.

    Examples
    --------
    >>> import numpy as np
    >>> m = PairwiseMerger()
    >>> for part in np.array_split(np.arange(10.0)[:, None], 4):
    ...     m.push(ColumnMoments.of(part))
    >>> float(m.result().mean[0])
    4.5
    """

    def __init__(self) -> None:
        self._stack: list[tuple[int, Any]] = []

    def push(self, part: Any) -> None:
        """Add the partial of the next block."""
        level = 0
        while self._stack and self._stack[-1][0] == level:
            _, left = self._stack.pop()
            part = left.merge(part)
            level += 1
        self._stack.append((level, part))

    def result(self) -> Any:
        """Merge what is left (right to left keeps block order) and return it."""
        if not self._stack:
            raise ValueError("no partials were pushed")
        part = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            part = left.merge(part)
        return part


def merge_all(parts: Iterable[P]) -> P:
    """Merge partials in order with a :class:`PairwiseMerger`."""
    merger = PairwiseMerger()
    for part in parts:
        merger.push(part)
    return merger.result()


def _as64(block: np.ndarray) -> np.ndarray:
    return np.asarray(block, dtype=np.float64)


# ----------------------------------------------------------------------------- moments
@dataclass(frozen=True, eq=False)
class ColumnMoments:
    """Per-column count, mean and centred sums ``sum (x - mean)^k``, k = 2, 3, 4.

    Attributes
    ----------
    n : int
    mean, m2, m3, m4 : ndarray, shape (d,)
    """

    n: int
    mean: np.ndarray
    m2: np.ndarray
    m3: np.ndarray
    m4: np.ndarray

    @classmethod
    def of(cls, block: np.ndarray) -> ColumnMoments:
        """Moments of one row block (converted to float64 here, two passes)."""
        b = _as64(block)
        n = b.shape[0]
        if n == 0:
            z = np.zeros(b.shape[1])
            return cls(0, z, z, z, z)
        mean = b.mean(axis=0)
        c = b - mean
        c2 = c * c
        m2 = c2.sum(axis=0)
        m3 = np.einsum("ij,ij->j", c2, c)
        m4 = np.einsum("ij,ij->j", c2, c2)
        return cls(n, mean, m2, m3, m4)

    def merge(self, other: ColumnMoments) -> ColumnMoments:
        """Exact (to rounding) moments of the union of the two row sets."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        na, nb = float(self.n), float(other.n)
        n = na + nb
        delta = other.mean - self.mean
        dn = delta / n
        dn2 = dn * dn
        mean = self.mean + dn * nb
        m2 = self.m2 + other.m2 + delta * dn * na * nb
        m3 = (
            self.m3
            + other.m3
            + delta * dn2 * na * nb * (na - nb)
            + 3.0 * dn * (na * other.m2 - nb * self.m2)
        )
        m4 = (
            self.m4
            + other.m4
            + delta * dn2 * dn * na * nb * (na * na - na * nb + nb * nb)
            + 6.0 * dn2 * (na * na * other.m2 + nb * nb * self.m2)
            + 4.0 * dn * (na * other.m3 - nb * self.m3)
        )
        return ColumnMoments(self.n + other.n, mean, m2, m3, m4)

    def variance(self) -> np.ndarray:
        """Return the population variance (ddof 0) per column."""
        return self.m2 / self.n

    def skewness_kurtosis(self) -> tuple[np.ndarray, np.ndarray]:
        """Return biased skewness g1 and excess kurtosis g2 (as ``univariate.moments``)."""
        m2 = self.m2 / self.n
        with np.errstate(divide="ignore", invalid="ignore"):
            return (self.m3 / self.n) / m2**1.5, (self.m4 / self.n) / m2**2 - 3.0

    def select(self, columns: np.ndarray) -> ColumnMoments:
        """Return the moments of some columns only."""
        return ColumnMoments(
            self.n, self.mean[columns], self.m2[columns], self.m3[columns], self.m4[columns]
        )


@dataclass(frozen=True, eq=False)
class CoMoments:
    """Count, mean and centred cross-product sum ``C = sum (x - m)(x - m)'``.

    Merged with Chan et al.'s parallel update
    ``C = C_a + C_b + (n_a n_b / n) delta delta'``.
    """

    n: int
    mean: np.ndarray
    comoment: np.ndarray

    @classmethod
    def of(cls, block: np.ndarray) -> CoMoments:
        """Co-moments of one row block (float64)."""
        b = _as64(block)
        if b.shape[0] == 0:
            return cls(0, np.zeros(b.shape[1]), np.zeros((b.shape[1], b.shape[1])))
        mean = b.mean(axis=0)
        c = b - mean
        return cls(b.shape[0], mean, c.T @ c)

    def merge(self, other: CoMoments) -> CoMoments:
        """Co-moments of the union of the two row sets."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        na, nb = float(self.n), float(other.n)
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * (nb / n)
        comoment = self.comoment + other.comoment
        comoment += np.multiply.outer(delta, delta * (na * nb / n))
        return CoMoments(self.n + other.n, mean, comoment)

    def covariance(self) -> np.ndarray:
        """Covariance with denominator n (ddof 0)."""
        return self.comoment / self.n


@dataclass(frozen=True)
class NormSummary:
    """Count, mean and centred square sum of the row norms."""

    n: int
    mean: float
    m2: float

    @classmethod
    def of(cls, norms: np.ndarray) -> NormSummary:
        """Summary of the norms of one block."""
        v = _as64(norms)
        if v.size == 0:
            return cls(0, 0.0, 0.0)
        mean = float(v.mean())
        c = v - mean
        return cls(int(v.size), mean, float(c @ c))

    def merge(self, other: NormSummary) -> NormSummary:
        """Summary of the union."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        na, nb = float(self.n), float(other.n)
        n = na + nb
        delta = other.mean - self.mean
        return NormSummary(
            self.n + other.n,
            self.mean + delta * nb / n,
            self.m2 + other.m2 + delta**2 * na * nb / n,
        )

    @property
    def std(self) -> float:
        """Population standard deviation."""
        return math.sqrt(self.m2 / self.n)


def covariance_spectrum(cov: np.ndarray) -> np.ndarray:
    """Eigenvalues of a covariance, descending, clipped at 0."""
    return np.clip(np.linalg.eigvalsh(cov)[::-1], 0.0, None)


def norm_result(
    summary: NormSummary,
    comoments: CoMoments,
    *,
    norms: np.ndarray | None = None,
    scale: float = 1.0,
) -> NormResult:
    """Finalise the thin-shell summary (as :func:`~gaussaudit.stats.norms.norm_concentration`).

    Parameters
    ----------
    summary : NormSummary
        Of the row norms of the rows divided by ``scale``.
    comoments : CoMoments
        Of the rows divided by ``scale``.
    norms : ndarray, optional
        The row norms (of the scaled rows), kept for plots; empty when None.
    scale : float
        The power of two the rows were divided by (1 unless values are extreme).
    """
    n, d = comoments.n, comoments.mean.size
    cov = comoments.covariance()
    ev = covariance_spectrum(cov)
    mu = comoments.mean
    mean_quad = float(mu @ cov @ mu)
    mean, std = summary.mean, summary.std
    return NormResult(
        norms=(np.empty(0) if norms is None else norms * scale),
        mean=mean * scale,
        std=std * scale,
        cv=std / mean if mean > 0 else float("nan"),
        cv_isotropic_gaussian=cv_isotropic_gaussian(d),
        cv_matched_gaussian=cv_matched_gaussian(ev, float(mu @ mu), mean_quad),
        effective_dimension=effective_dimension(ev),
        effective_rank=effective_rank(ev),
        n=n,
        d=d,
    )


# ----------------------------------------------------------------------------- Epps-Pulley
