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
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np
from scipy import stats

from ...errors import NotApplicableError
from ..epps_pulley import _NODES, _NORMAL_CF, _SQRT2, _TAIL_CUT, _WEIGHTS, _gauss_kernel_sum
from ..multivariate import HZ_MIN_RELATIVE_SPREAD, hz_null_moments
from ..norms import (
    cv_isotropic_gaussian,
    cv_matched_gaussian,
    effective_dimension,
    effective_rank,
)
from ..results import HenzeZirklerResult, MardiaResult, NormResult, TestStatistic

__all__ = [
    "CharacteristicSums",
    "CoMoments",
    "ColumnMoments",
    "GramSums",
    "NormSummary",
    "PairwiseMerger",
    "epps_pulley_statistics",
    "henze_zirkler_result",
    "mardia_result",
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
@dataclass(frozen=True, eq=False)
class CharacteristicSums:
    """Epps–Pulley sums of standardised columns ``z`` (global mean and std).

    Attributes
    ----------
    n : int
    real, imag : ndarray, shape (nodes, m)
        ``sum cos(t z)`` and ``sum sin(t z)`` over all rows, at the positive
        Gauss–Hermite nodes ``t``.
    tails : dict
        Column -> the values with ``|z| > 4``, in row order (few for data near
        a Gaussian; they are treated in closed form).
    """

    n: int
    real: np.ndarray
    imag: np.ndarray
    tails: dict[int, np.ndarray] = field(default_factory=dict)

    @classmethod
    def of(cls, z: np.ndarray) -> CharacteristicSums:
        """Return the sums of one standardised float64 block ``(rows, m)``."""
        z = _as64(z)
        m = z.shape[1]
        real = np.empty((_NODES.size, m))
        imag = np.empty((_NODES.size, m))
        arg = np.empty_like(z)
        trig = np.empty_like(z)
        for i, t in enumerate(_NODES):
            np.multiply(z, t, out=arg)
            np.cos(arg, out=trig)
            real[i] = trig.sum(axis=0)
            np.sin(arg, out=trig)
            imag[i] = trig.sum(axis=0)
        tail = np.abs(z) > _TAIL_CUT
        tails = {int(j): z[tail[:, j], j].copy() for j in np.flatnonzero(tail.any(axis=0))}
        return cls(z.shape[0], real, imag, tails)

    def merge(self, other: CharacteristicSums) -> CharacteristicSums:
        """Return the sums of the union (tail points concatenated in row order)."""
        tails = dict(self.tails)
        for j, values in other.tails.items():
            tails[j] = np.concatenate([tails[j], values]) if j in tails else values
        return CharacteristicSums(
            self.n + other.n, self.real + other.real, self.imag + other.imag, tails
        )


def tail_bulk_kernel(z: np.ndarray, tails: dict[int, np.ndarray]) -> dict[int, float]:
    """``sum_{o in tail} sum_{bulk rows k of z} exp(-(o - z_k)^2 / 2)`` per tail column.

    The cross term of the closed-form tail treatment; a second pass, run only
    when some column has tail points. Its partials add.
    """
    out: dict[int, float] = {}
    for j, z_out in tails.items():
        col = z[:, j]
        out[j] = _gauss_kernel_sum(z_out, col[np.abs(col) <= _TAIL_CUT])
    return out


def epps_pulley_statistics(sums: CharacteristicSums, cross: dict[int, float]) -> np.ndarray:
    """Finalise Epps–Pulley statistics (as :func:`~gaussaudit.stats.epps_pulley.epps_pulley`).

    Parameters
    ----------
    sums : CharacteristicSums
    cross : dict
        Merged :func:`tail_bulk_kernel` sums (column -> value).
    """
    n = sums.n
    real, imag = sums.real.copy(), sums.imag.copy()
    exact = np.zeros(real.shape[1])
    for j, z_out in sums.tails.items():
        phase = np.outer(_NODES, z_out)
        real[:, j] -= np.cos(phase).sum(axis=1)
        imag[:, j] -= np.sin(phase).sum(axis=1)
        exact[j] = (_gauss_kernel_sum(z_out, z_out) + 2.0 * cross.get(j, 0.0)) / n - _SQRT2 * float(
            np.exp(-0.25 * z_out * z_out).sum()
        )
    real /= n
    imag /= n
    real -= _NORMAL_CF[:, None]
    return n * np.einsum("i,ij->j", _WEIGHTS, real * real + imag * imag) + exact


def add_dicts(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    """Sum two sparse partials keyed by column."""
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0.0) + v
    return out


# ----------------------------------------------------------------------------- Gram tiles
@dataclass(frozen=True, eq=False)
class GramSums:
    """Sums for Mardia and Henze–Zirkler over whitened rows ``y`` (times ``scale``).

    Attributes
    ----------
    n : int
        Rows whose per-row terms are included.
    cube_sum : float
        ``sum_{j,k} (y_j . y_k)^3`` over the tiles seen (or 0 when the tensor
        is used instead).
    exp_sum : float
        ``sum_{j,k} exp(y_j . y_k - |y_j|^2/2 - |y_k|^2/2)`` over the tiles seen.
    sq_sq : float
        ``sum_j (|y_j|^2 / scale^2)^2``.
    diag : float
        ``sum_j exp(-b^2 / (2 (1 + b^2)) |y_j|^2 / scale^2)`` (Henze–Zirkler).
    tensor : ndarray or None
        ``sum_j y_j (x) y_j (x) y_j`` as ``(p * p, p)`` when used.
    """

    n: int = 0
    cube_sum: float = 0.0
    exp_sum: float = 0.0
    sq_sq: float = 0.0
    diag: float = 0.0
    tensor: np.ndarray | None = None

    @classmethod
    def of_rows(cls, y: np.ndarray, *, scale: float, beta: float, tensor: bool) -> GramSums:
        """Per-row terms of one block of whitened rows."""
        sq = np.einsum("ij,ij->i", y, y) / scale**2
        b2 = beta * beta
        t = None
        if tensor:
            p = y.shape[1]
            t = np.zeros((p * p, p))
            step = max(1, 2**21 // max(p * p, 1))
            for i0 in range(0, y.shape[0], step):
                rows = y[i0 : i0 + step]
                pairs = (rows[:, :, None] * rows[:, None, :]).reshape(rows.shape[0], p * p)
                t += pairs.T @ rows
        return cls(
            n=int(y.shape[0]),
            sq_sq=float(np.sum(sq**2)),
            diag=float(np.sum(np.exp(-b2 / (2.0 * (1.0 + b2)) * sq))),
            tensor=t,
        )

    @classmethod
    def of_tile(
        cls, yi: np.ndarray, yj: np.ndarray, *, weight: float, skew: bool, hz: bool
    ) -> GramSums:
        """Tile sums of the Gram block ``yi yj'`` (``weight`` 2 off the diagonal)."""
        g = yi @ yj.T
        cube = weight * float(np.vdot(g * g, g)) if skew else 0.0
        exp_sum = 0.0
        if hz:
            g -= 0.5 * np.einsum("ij,ij->i", yi, yi)[:, None]
            g -= 0.5 * np.einsum("ij,ij->i", yj, yj)[None, :]
            np.exp(g, out=g)
            exp_sum = weight * float(g.sum())
        return cls(cube_sum=cube, exp_sum=exp_sum)

    def merge(self, other: GramSums) -> GramSums:
        """Add the sums."""
        if self.tensor is None:
            tensor = other.tensor
        elif other.tensor is None:
            tensor = self.tensor
        else:
            tensor = self.tensor + other.tensor
        return GramSums(
            self.n + other.n,
            self.cube_sum + other.cube_sum,
            self.exp_sum + other.exp_sum,
            self.sq_sq + other.sq_sq,
            self.diag + other.diag,
            tensor,
        )


def hz_degenerate(n: int, p: int) -> str | None:
    """Why Henze–Zirkler gives no information at this (n, p), or None."""
    _, mu, var = hz_null_moments(n, p)
    if var > 0 and np.sqrt(var) / mu > HZ_MIN_RELATIVE_SPREAD:
        return None
    return (
        f"Henze-Zirkler degenerates at d = {p}, n = {n}: its null spread "
        f"({max(var, 0.0) ** 0.5:.2g}) is below the precision of the statistic, "
        "which then equals 1 for any data; see the subspace tests instead"
    )


def mardia_result(sums: GramSums, *, p: int, scale: float) -> MardiaResult:
    """Finalise Mardia's tests (as :func:`~gaussaudit.stats.multivariate.mardia`)."""
    n = sums.n
    cube = sums.cube_sum
    if sums.tensor is not None:
        cube = float(np.einsum("ij,ij->", sums.tensor, sums.tensor))
    cube /= scale**6
    b1 = cube / n**2
    b2 = sums.sq_sq / n
    df = p * (p + 1.0) * (p + 2.0) / 6.0
    small = n < 20
    if small:
        k = (p + 1.0) * (n + 1.0) * (n + 3.0) / (n * ((n + 1.0) * (p + 1.0) - 6.0))
        skew = n * k * b1 / 6.0
    else:
        skew = n * b1 / 6.0
    kurt = (b2 - p * (p + 2.0)) * np.sqrt(n / (8.0 * p * (p + 2.0)))
    return MardiaResult(
        skewness=TestStatistic(float(skew), float(stats.chi2.sf(skew, df))),
        kurtosis=TestStatistic(float(kurt), float(2.0 * stats.norm.sf(abs(kurt)))),
        b1=float(b1),
        b2=float(b2),
        n=n,
        p=p,
        small_sample_correction=small,
    )


def henze_zirkler_result(sums: GramSums, *, p: int) -> HenzeZirklerResult:
    """Finalise Henze–Zirkler (as :func:`~gaussaudit.stats.multivariate.henze_zirkler`)."""
    n = sums.n
    reason = hz_degenerate(n, p)
    if reason:
        raise NotApplicableError(reason)
    beta, mu, var = hz_null_moments(n, p)
    b2 = beta * beta
    hz = n * (
        sums.exp_sum / n**2
        - 2.0 * (1.0 + b2) ** (-p / 2.0) * (sums.diag / n)
        + (1.0 + 2.0 * b2) ** (-p / 2.0)
    )
    psi = np.sqrt(np.log1p(var / mu**2))
    pmu = np.log(mu) - 0.5 * psi**2
    pvalue = float(stats.norm.sf((np.log(hz) - pmu) / psi)) if hz > 0 else 1.0
    return HenzeZirklerResult(
        statistic=float(hz),
        pvalue=pvalue,
        beta=beta,
        null_mean=mu,
        null_variance=var,
        n=n,
        p=p,
    )
