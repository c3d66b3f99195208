"""How far from Gaussian: a departure measure with an interval, and a margin.

At embedding scale every test rejects; the useful question is how large the
departure is. The measure here is the mean over coordinates of the
Wasserstein-1 distance between each standardised coordinate and N(0, 1),

    W1_j = integral_0^1 |F_j^{-1}(u) - Phi^{-1}(u)| du,

computed exactly for the empirical quantile function (a sum over order
statistics of closed-form normal integrals). W1 is in units of the
coordinate's standard deviation: 0.05 means quantiles off by 0.05 sd on
average. It does not grow with n: its estimate converges to the population
value, and its null expectation (``E0(n) ~ 0.7 / sqrt(n)`` for standardised
Gaussian samples) is subtracted, so Gaussian data reads about 0 at every n.

The 95 % interval is ``value +- 1.96 sd``, with sd from a seeded row bootstrap
on a seeded subset of at most 1,000 rows and 64 coordinates, scaled to the
rows used by the square-root law, plus the between-coordinate sampling term
when only a subset of coordinates is measured.

The practical verdict compares the interval with ``AuditConfig.margin``
(default 0.05; docs/tests/departure.md): within the margin when the upper
bound is at most the margin, outside when the lower bound exceeds it, else
undecided.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import special

from ._sampling import seeded_rows

__all__ = ["DEFAULT_MARGIN", "Departure", "departure", "null_w1", "wasserstein_normal"]

#: Default margin on the bias-corrected mean W1 (in standard deviations).
#: Measured (docs/tests/departure.md): Gaussian data reads 0.000 (upper bound
#: <= 0.004 from n = 200), t(200) 0.000, t(30) 0.005, t(10) 0.029-0.035
#: (n = 2,000-10,000), post-ReLU 0.41. 0.02 keeps t(30) and lighter inside
#: and t(10) and heavier outside.
DEFAULT_MARGIN = 0.02
_MAX_ROWS = 5000
_MAX_COLUMNS = 256
_BOOT_ROWS, _BOOT_COLUMNS, _BOOT_DRAWS = 1000, 64, 30
_SQRT2 = np.sqrt(2.0)


def _phi(t: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * t * t) / np.sqrt(2.0 * np.pi)


def _cdf(t: np.ndarray) -> np.ndarray:
    return 0.5 * special.erfc(-t / _SQRT2)


def wasserstein_normal(x: np.ndarray) -> np.ndarray:
    """Exact W1 between each standardised column's empirical law and N(0, 1).

    Parameters
    ----------
    x : ndarray, shape (n, m)
        Columns with positive variance.

    Returns
    -------
    ndarray, shape (m,)

    Notes
    -----
    With ``z_(i)`` the sorted standardised column (population sd) and
    ``t_i = Phi^{-1}(i/n)``, the cell ``[t_{i-1}, t_i]`` contributes
    ``int |z_(i) - t| phi(t) dt``, which is ``2G(c) - G(a) - G(b)`` when
    ``c = z_(i)`` lies in ``[a, b]`` and ``|G(b) - G(a)|`` otherwise, where
    ``G(t) = c Phi(t) + phi(t)``.

    Examples
    --------
    >>> z = np.random.default_rng(0).standard_normal((20000, 1))
    >>> float(wasserstein_normal(z)[0]) < 0.02
    True
    """
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    c = x - x.mean(axis=0)
    c -= c.mean(axis=0)
    sd = c.std(axis=0)
    # a column without spread (a bootstrap draw of a column of outliers) is a point
    # mass at its mean: its distance to N(0, 1) is E|Z| = sqrt(2/pi), standardised at 0
    z = np.sort(c / np.where(sd > 0, sd, 1.0), axis=0)
    edges = special.ndtri(np.arange(n + 1) / n)  # -inf ... +inf
    a, b = edges[:-1, None], edges[1:, None]
    pa, pb = np.arange(n)[:, None] / n, np.arange(1, n + 1)[:, None] / n
    fa = np.where(np.isfinite(a), _phi(np.where(np.isfinite(a), a, 0.0)), 0.0)
    fb = np.where(np.isfinite(b), _phi(np.where(np.isfinite(b), b, 0.0)), 0.0)
    ga, gb = z * pa + fa, z * pb + fb
    gc = z * _cdf(z) + _phi(z)
    inside = (z >= a) & (z <= b)
    cell = np.where(inside, 2.0 * gc - ga - gb, np.abs(gb - ga))
    return cell.sum(axis=0)


@lru_cache(maxsize=64)
def null_w1(n: int, *, draws: int = 100, seed: int = 20261203) -> tuple[float, float]:
    """Mean and sd of W1 for a standardised N(0, 1) sample of ``n`` (cached, seeded).

    Examples
    --------
    >>> mean, sd = null_w1(2000)
    >>> 0.01 < mean < 0.03
    True
    """
    rng = np.random.default_rng(seed + n)
    w = np.concatenate([wasserstein_normal(rng.standard_normal((n, k))) for k in _chunks(draws, n)])
    return float(w.mean()), float(w.std(ddof=1))


def _chunks(total: int, n: int) -> list[int]:
    per = max(1, int(2_000_000 // max(n, 1)))
    out, left = [], total
    while left > 0:
        out.append(min(per, left))
        left -= per
    return out


@dataclass(frozen=True)
class Departure:
    """Size of a view's departure from Gaussian, with a 95 % interval.

    Attributes
    ----------
    measure : str
        ``"mean_w1"``: mean over coordinates of the bias-corrected W1 distance
        between the standardised coordinate and N(0, 1), in standard deviations.
    value, ci_low, ci_high : float
        Estimate and 95 % interval (clipped at 0).
    margin : float
        What counts as negligible (``AuditConfig.margin``).
    raw_value : float
        The uncorrected mean W1.
    null_mean : float
        The mean W1 of Gaussian samples of the same size (subtracted).
    skewness_median, skewness_max, kurtosis_median, kurtosis_max : float
        Median and maximum over coordinates of |skewness| and |excess kurtosis|.
    rows, columns : int
        Rows and coordinates measured (seeded subsets above 5,000 and 256).
    worst : float
        The largest bias-corrected W1 of a single measured coordinate (no
        interval): one bad coordinate among many moves the mean little.
    """

    measure: str
    value: float
    ci_low: float
    ci_high: float
    margin: float
    raw_value: float
    null_mean: float
    skewness_median: float
    skewness_max: float
    kurtosis_median: float
    kurtosis_max: float
    rows: int
    columns: int
    worst: float = 0.0

    @property
    def within_margin(self) -> bool | None:
        """True if the upper bound is within the margin, False if the lower is beyond it."""
        if self.ci_high <= self.margin:
            return True
        if self.ci_low > self.margin:
            return False
        return None

    def reason(self) -> str:
        """One sentence for the verdict's reasons."""
        size = (
            f"mean W1 distance to N(0,1) {self.value:.3f} "
            f"(95% CI {self.ci_low:.3f}-{self.ci_high:.3f}, margin {self.margin:g})"
        )
        ok = self.within_margin
        if ok is True:
            return f"practical: negligible departure, {size}"
        if ok is False:
            return f"practical: departure larger than the margin, {size}"
        return f"practical: not decided (interval straddles the margin), {size}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``views.<view>.departure``)."""
        return {
            "measure": self.measure,
            "value": self.value,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "margin": self.margin,
            "raw_value": self.raw_value,
            "null_mean": self.null_mean,
            "skewness": {"median_abs": self.skewness_median, "max_abs": self.skewness_max},
            "excess_kurtosis": {
                "median_abs": self.kurtosis_median,
                "max_abs": self.kurtosis_max,
            },
            "rows": self.rows,
            "columns": self.columns,
            "worst_coordinate": self.worst,
        }


def departure(
    x: np.ndarray,
    *,
    margin: float = DEFAULT_MARGIN,
    seed: int = 0,
    columns: np.ndarray | None = None,
) -> Departure | None:
    """Measure how far a view's coordinates are from Gaussian.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        The view.
    margin : float
        Mean W1 (in standard deviations) regarded as negligible.
    seed : int
        Seed of the row/column subsets and the bootstrap.
    columns : ndarray of int, optional
        Columns to measure (default: those with positive variance).

    Returns
    -------
    Departure or None
        None when fewer than 20 rows or no non-constant column.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2000, 32))
    >>> dep = departure(x)
    >>> dep.within_margin
    True
    """
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    if columns is None:
        columns = np.flatnonzero(np.ptp(x, axis=0) > 0)
    if n < 20 or columns.size == 0:
        return None
    rng = np.random.default_rng(seed)
    if columns.size > _MAX_COLUMNS:
        columns = np.sort(rng.choice(columns, _MAX_COLUMNS, replace=False))
    rows = seeded_rows(n, _MAX_ROWS, seed) if n > _MAX_ROWS else slice(None)
    y = x[rows][:, columns]
    y = y / np.max(np.abs(y), axis=0)  # scale free, no overflow in moments
    m_rows = y.shape[0]
    w = wasserstein_normal(y)
    null_mean, _null_sd = null_w1(m_rows)
    value = float(w.mean() - null_mean)
    # Row-sampling sd from a small seeded bootstrap, scaled by sqrt(rows).
    bc = rng.choice(y.shape[1], min(_BOOT_COLUMNS, y.shape[1]), replace=False)
    br = min(_BOOT_ROWS, m_rows)
    base = y[rng.choice(m_rows, br, replace=False)][:, bc]
    boots = np.array(
        [wasserstein_normal(base[rng.integers(0, br, br)]).mean() for _ in range(_BOOT_DRAWS)]
    )
    sd_rows = float(boots.std(ddof=1) * np.sqrt(br / m_rows))
    sd_cols = 0.0
    if columns.size < d:
        frac = 1.0 - columns.size / max(d, 1)
        sd_cols = float(w.std(ddof=1) / np.sqrt(w.size) * np.sqrt(frac)) if w.size > 1 else 0.0
    sd = float(np.hypot(sd_rows, sd_cols))
    c = y - y.mean(axis=0)
    c -= c.mean(axis=0)
    c2 = c * c
    m2 = c2.mean(axis=0)
    g1 = np.abs(np.mean(c2 * c, axis=0) / m2**1.5)
    c2 *= c2
    g2 = np.abs(c2.mean(axis=0) / m2**2 - 3.0)
    return Departure(
        measure="mean_w1",
        value=max(value, 0.0),
        ci_low=max(value - 1.96 * sd, 0.0),
        ci_high=max(value + 1.96 * sd, 0.0),
        margin=float(margin),
        raw_value=float(w.mean()),
        null_mean=null_mean,
        skewness_median=float(np.median(g1)),
        skewness_max=float(np.max(g1)),
        kurtosis_median=float(np.median(g2)),
        kurtosis_max=float(np.max(g2)),
        rows=int(m_rows),
        columns=int(columns.size),
        worst=max(float(w.max() - null_mean), 0.0),
    )
