"""Mergeable partials of the O(n^2) and characteristic-function tests.

Epps–Pulley from cos/sin sums at the quadrature nodes (plus the far-tail
points handled exactly), and Mardia / Henze–Zirkler from sums over Gram tiles
(i <= j). Like :mod:`.partials`, every partial merges exactly and then
finalises into the in-memory kernels' result types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ...errors import NotApplicableError
from ..epps_pulley import _NODES, _NORMAL_CF, _SQRT2, _TAIL_CUT, _WEIGHTS, _gauss_kernel_sum
from ..multivariate import HZ_MIN_RELATIVE_SPREAD, hz_null_moments, mardia_from_moments
from ..results import HenzeZirklerResult, MardiaResult
from .partials import _as64

__all__ = [
    "CharacteristicSums",
    "GramSums",
    "add_dicts",
    "epps_pulley_statistics",
    "henze_zirkler_result",
    "hz_degenerate",
    "mardia_result",
    "tail_bulk_kernel",
]


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
    return mardia_from_moments(n, p, cube / n**2, sums.sq_sq / n)


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
    pvalue = float(special.ndtr(-((np.log(hz) - pmu) / psi))) if hz > 0 else 1.0
    return HenzeZirklerResult(
        statistic=float(hz),
        pvalue=pvalue,
        beta=beta,
        null_mean=mu,
        null_variance=var,
        n=n,
        p=p,
    )
