"""Calibration of the verdict's dependent checks under the fitted Gaussian.

The calibrated verdict asks whether each family's pass fraction is too low
for Gaussian data. With independent tests the number of passes is binomial;
the coordinates of a raw view and the random projections of any view are not
independent, and at small d many projections are nearly parallel, so the pass
fraction spreads more than a binomial (about 1.5 times at 2,000 x 8). This
module corrects the floor for that dependence, and tests the norm CV against
its law under the fitted Gaussian.

Dependence correction
---------------------
Every per-coordinate test is invariant to the location, scale and sign of its
column, so under H0 (rows i.i.d. N(m, S)) the joint law of the m pass
indicators of one family depends only on the correlation matrix R of the
tested columns. The variance of the pass count is
``m p (1-p) [1 + (1/m) sum_{j != k} a(R_jk)]`` where ``a(rho)`` is the
correlation of the pass indicators of two N(0, 1) columns with correlation
rho. ``a`` was measured once by simulation (``benchmarks/calibration_pairs.py``,
3,000 pairs per rho at n = 500) and is stored as a non-negative power series
in |rho| with ``a(1) = 1``; a test without a stored curve (a plugin) uses the
rigorous bound ``a(rho) <= |rho|`` (Gebelein's maximal correlation of a
bivariate normal, which tensorises over i.i.d. rows). The floor is then the
lower quantile of the beta-binomial law with mean p and that variance.

R is estimated from a seeded subsample of ``max(2000, 5e7 / d^2)`` rows (all
rows at small d; cost about 0.2 s at d = 768), and for d > 1,024 the
coordinate sum from a seeded subset of 512 columns, scaled up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .fitted_covariance import ViewCovariance, view_covariance
from .multiplicity import beta_binomial_ppf, binomial_ppf
from .norm_cv import norm_cv_test

__all__ = [
    "CALIBRATIONS",
    "FloorCheck",
    "ViewCalibration",
    "calibrate_view",
    "indicator_correlation",
    "pass_floor",
    "variance_inflation",
]

#: How the pass-fraction floors are set: ``dependence`` (corrected for the
#: correlation of the tested columns, the default) or ``binomial`` (independent
#: tests, the old rule; liberal on correlated columns).
CALIBRATIONS = ("dependence", "binomial")

_POWERS = np.array((4, 6, 8, 12, 16, 24, 32, 64), dtype=float)
#: a(rho) = sum c_k |rho|^p_k, fitted by ``benchmarks/calibration_pairs.py``
#: (n = 500, 3,000 pairs per rho); keys: test, then alpha (None for a
#: threshold rule such as the paper's A^2 < 0.752).
_PAIR_COEFFICIENTS: dict[str, dict[float | None, tuple[float, ...]]] = {
    "anderson_darling": {
        None: (0.0, 0.14175, 0.25744, 0.0, 0.0, 0.0, 0.0, 0.60081),
    },
    "dagostino_pearson": {
        0.01: (0.0, 0.0, 0.65108, 0.0, 0.0, 0.0, 0.0, 0.34892),
        0.05: (0.0, 0.05357, 0.54764, 0.0, 0.0, 0.0, 0.0, 0.39879),
        0.1: (0.0, 0.39949, 0.17383, 0.0, 0.0, 0.0, 0.0, 0.42668),
    },
    "epps_pulley": {
        0.01: (0.00179, 0.0, 0.04203, 0.47636, 0.0, 0.0, 0.0, 0.47983),
        0.05: (0.0, 0.0, 0.3825, 0.25363, 0.0, 0.0, 0.0, 0.36387),
        0.1: (0.18235, 0.0, 0.0, 0.50232, 0.0, 0.0, 0.0, 0.31533),
    },
    "jarque_bera": {
        0.01: (0.0, 0.20627, 0.4419, 0.0, 0.0, 0.0, 0.0, 0.35183),
        0.05: (0.04115, 0.49556, 0.01345, 0.0, 0.0, 0.0, 0.0, 0.44984),
        0.1: (0.12756, 0.0, 0.5034, 0.0, 0.0, 0.0, 0.0, 0.36903),
    },
    "lilliefors": {
        0.01: (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        0.05: (0.05638, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.94362),
        0.1: (0.12972, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.87028),
    },
    "shapiro_wilk": {
        0.01: (0.0, 0.0, 0.3771, 0.04175, 0.0, 0.0, 0.0, 0.58115),
        0.05: (0.0, 0.43721, 0.0, 0.0, 0.0, 0.0, 0.0, 0.56279),
        0.1: (0.0, 0.47651, 0.0, 0.0, 0.0, 0.0, 0.0, 0.52349),
    },
}
_ALPHAS = (0.01, 0.05, 0.10)
_COLUMN_SUBSET = 512


def indicator_correlation(test: str, rho: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """Correlation of two columns' pass indicators under H0, as a function of rho.

    Parameters
    ----------
    test : str
        Test name (JSON key).
    rho : array_like
        Correlation of the two Gaussian columns.
    alpha : float
        Level of a p-value rule (ignored for threshold rules).

    Returns
    -------
    ndarray
        Values in [0, 1]; ``|rho|`` (an upper bound) for tests without a curve.

    Examples
    --------
    >>> float(indicator_correlation("dagostino_pearson", 1.0))
    1.0
    >>> float(indicator_correlation("dagostino_pearson", 0.0))
    0.0
    """
    r = np.abs(np.asarray(rho, dtype=float))
    curves = _PAIR_COEFFICIENTS.get(test)
    if not curves:
        return np.minimum(r, 1.0)
    if None in curves:
        coef = curves[None]
    else:
        coef = curves[min(curves, key=lambda a: abs(np.log(a) - np.log(alpha)))]  # type: ignore[arg-type]
    r = np.minimum(r, 1.0)
    out = np.zeros_like(r)
    for c, p in zip(coef, _POWERS, strict=True):
        if c:
            out += c * r**p
    return out


def variance_inflation(
    corr: np.ndarray, test: str, alpha: float = 0.05, *, scale: float = 1.0
) -> float:
    """Variance of a pass count relative to the binomial's, ``1 + (1/m) sum a(R_jk)``.

    Parameters
    ----------
    corr : ndarray, shape (m, m)
        Correlation matrix of the tested columns (or of a subset of them).
    test : str
        Test name.
    alpha : float
    scale : float
        Factor applied to the off-diagonal sum, for a column subset standing
        in for ``m_full`` columns: ``(m_full - 1) / (m - 1)``.

    Returns
    -------
    float
        At least 1.

    Examples
    --------
    >>> variance_inflation(np.eye(5), "anderson_darling")
    1.0
    """
    m = corr.shape[0]
    if m < 2:
        return 1.0
    a = indicator_correlation(test, corr, alpha)
    off = float(a.sum() - np.trace(a))
    return max(1.0, 1.0 + scale * off / m)


def pass_floor(n_tests: int, expected: float, tail: float, inflation: float = 1.0) -> float:
    """Lowest pass fraction consistent with H0 at tail probability ``tail``.

    The lower ``tail`` quantile of the pass count, divided by ``n_tests``:
    binomial(n_tests, expected) when ``inflation`` is 1, else the beta-binomial
    with the same mean and ``inflation`` times the binomial variance.

    Examples
    --------
    >>> pass_floor(128, 0.95, 0.005) <= pass_floor(128, 0.95, 0.005, 1.0)
    True
    >>> pass_floor(128, 0.95, 0.005, 3.0) < pass_floor(128, 0.95, 0.005)
    True
    """
    if n_tests < 1:
        return 0.0
    if inflation <= 1.0 + 1e-9 or n_tests == 1:
        return float(binomial_ppf(tail, n_tests, expected) / n_tests)
    icc = min((inflation - 1.0) / (n_tests - 1), 1.0 - 1e-9)
    total = 1.0 / icc - 1.0
    a, b = expected * total, (1.0 - expected) * total
    return float(beta_binomial_ppf(tail, n_tests, a, b) / n_tests)


@dataclass(frozen=True)
class FloorCheck:
    """One family's pass fraction against its calibrated floor.

    Attributes
    ----------
    family : str
        ``"<test>"`` or ``"projections.<test>"``.
    n_tests : int
    fraction, expected, floor : float
    tail : float
        Lower tail probability the floor is the quantile of.
    inflation : float
        Variance of the pass count relative to the binomial (1: independent).
    passed : bool
    """

    family: str
    n_tests: int
    fraction: float
    expected: float
    floor: float
    tail: float
    inflation: float
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "family": self.family,
            "n_tests": self.n_tests,
            "pass_fraction": self.fraction,
            "expected": self.expected,
            "floor": self.floor,
            "tail": self.tail,
            "variance_inflation": self.inflation,
            "passed": self.passed,
        }


def coordinate_inflation(
    cov: ViewCovariance, columns: np.ndarray, test: str, alpha: float, *, seed: int = 0
) -> float:
    """Variance inflation of a per-coordinate family on ``columns``."""
    m = int(columns.size)
    if m > 2 * _COLUMN_SUBSET:
        pick = np.sort(np.random.default_rng(seed).choice(columns, _COLUMN_SUBSET, replace=False))
        scale = (m - 1) / (_COLUMN_SUBSET - 1)
        return variance_inflation(cov.correlation(pick), test, alpha, scale=scale)
    return variance_inflation(cov.correlation(columns), test, alpha)


@dataclass(frozen=True, eq=False)
class ViewCalibration:
    """What the calibrated verdict needs beyond the test results, for one view.

    Attributes
    ----------
    method : str
        ``"dependence"``.
    inflation : dict
        Variance inflation of each pass-fraction family (``"anderson_darling"``,
        ``"projections.epps_pulley"``, ...); 1 means independent tests.
    norm_cv : NormCVTest or Skipped or None
        The norm-CV test (raw view only).
    rows : int
        Rows the correlations were estimated from.
    """

    method: str
    inflation: dict[str, float]
    norm_cv: Any
    rows: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        norm = self.norm_cv
        if hasattr(norm, "to_dict"):
            norm_out: Any = norm.to_dict()
        elif norm is not None:
            norm_out = {"skipped": norm.reason}
        else:
            norm_out = None
        return {
            "method": self.method,
            "variance_inflation": dict(self.inflation),
            "norm_cv": norm_out,
            "rows": self.rows,
        }


def calibrate_view(
    m: np.ndarray, name: str, view: Any, *, alpha: float, seed: int, mode: str = "dependence"
) -> ViewCalibration | None:
    """Dependence corrections and the norm-CV test for one audited view.

    Parameters
    ----------
    m : ndarray, shape (n, d)
        The view's matrix.
    name : str
        View name (the whitened view's coordinates are uncorrelated by
        construction; the norm-CV test runs on the raw view only).
    view : ViewAudit
        Results so far (coordinates, projections, norms).
    alpha : float
    seed : int
    mode : str
        ``"binomial"`` returns None (no correction).

    Returns
    -------
    ViewCalibration or None
    """
    from .results import CoordinateTestResult, NormResult, ProjectionResult, Skipped

    if mode == "binomial" or m.shape[0] < 3:
        return None
    cov = view_covariance(m, seed=seed)
    inflation: dict[str, float] = {}
    for test, r in view.coordinates.items():
        if not (isinstance(r, CoordinateTestResult) and r.n_tested > 1):
            continue
        if name == "whitened":
            inflation[test] = 1.0
        else:
            inflation[test] = coordinate_inflation(cov, r.columns, test, alpha, seed=seed)
    if isinstance(view.projections, ProjectionResult):
        for test, r in view.projections.tests.items():
            if isinstance(r, CoordinateTestResult) and r.n_tested > 1:
                corr = cov.projected_correlation(view.projections.directions[:, r.columns])
                inflation[f"projections.{test}"] = variance_inflation(corr, test, alpha)
    norm_cv: Any = None
    if isinstance(view.norms, NormResult):
        if name == "raw":
            norm_cv = norm_cv_test(view.norms.norms, cov, seed=seed) or Skipped(
                "norm_cv", "needs at least 20 rows with a positive mean norm"
            )
        else:
            norm_cv = Skipped(
                "norm_cv",
                f"the {name} view's norms are fixed by the transform; tested on the raw view",
            )
    return ViewCalibration("dependence", inflation, norm_cv, cov.rows)
