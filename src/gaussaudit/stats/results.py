"""Frozen result types returned by the statistics core.

Results keep raw outputs (per-coordinate statistics and p-values, n, d, seed,
method) so they can be re-thresholded later; decisions at a level ``alpha`` are
methods, never stored flags. Every result unpacks like SciPy's,
``statistic, pvalue = result``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .multiplicity import NullBand, binomial_null_band, reject

__all__ = [
    "CoordinateTestResult",
    "HenzeZirklerResult",
    "MardiaResult",
    "NormResult",
    "ProjectionResult",
    "Skipped",
    "SubspaceResult",
    "TestStatistic",
]


@dataclass(frozen=True, slots=True)
class Skipped:
    """A test that did not run, and why (too few rows, singular covariance, ...)."""

    test: str
    reason: str


@dataclass(frozen=True, eq=False, slots=True)
class CoordinateTestResult:
    """A univariate normality test applied to every coordinate (column).

    Attributes
    ----------
    test : str
        JSON key of the test, e.g. ``"anderson_darling"``.
    statistics, pvalues : ndarray
        One value per tested column (constant columns are not tested).
    columns : ndarray of int
        Index of each tested column in the input matrix.
    n : int
        Rows the statistic was computed on (after any subsampling).
    n_input : int
        Rows in the input.
    d : int
        Columns in the input, including untested ones.
    method : str
        How the statistic and p-value were computed.
    threshold : float or None
        When set, a coordinate passes if ``statistic < threshold`` (the paper's
        Anderson–Darling rule); otherwise it passes if ``pvalue > alpha``.
    null_pass_probability : float or None
        Probability that a Gaussian coordinate passes the threshold rule at this
        ``n`` (only for threshold rules; p-value rules pass with ``1 - alpha``).
    seed : int or None
        Seed of the row subsample, when one was drawn.
    extra : dict
        Further per-coordinate arrays (e.g. the modified A*² statistic).
    notes : tuple of str
        What was subsampled or excluded, in words.
    """

    test: str
    statistics: np.ndarray
    pvalues: np.ndarray
    columns: np.ndarray
    n: int
    n_input: int
    d: int
    method: str
    threshold: float | None = None
    null_pass_probability: float | None = None
    seed: int | None = None
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __iter__(self):
        yield self.statistics
        yield self.pvalues

    @property
    def n_tested(self) -> int:
        """Number of coordinates the test ran on."""
        return int(self.statistics.size)

    def passed(self, alpha: float = 0.05) -> np.ndarray:
        """Boolean mask of coordinates that look Gaussian at level ``alpha``."""
        if self.threshold is not None:
            return self.statistics < self.threshold
        return self.pvalues > alpha

    def pass_fraction(self, alpha: float = 0.05) -> float:
        """Fraction of tested coordinates that pass (NaN when none were tested)."""
        if self.n_tested == 0:
            return float("nan")
        return float(np.mean(self.passed(alpha)))

    def expected_pass_fraction(self, alpha: float = 0.05) -> float:
        """Pass fraction expected if every coordinate were exactly Gaussian."""
        if self.threshold is not None and self.null_pass_probability is not None:
            return float(self.null_pass_probability)
        return 1.0 - alpha

    def null_band(self, alpha: float = 0.05, *, coverage: float = 0.99) -> NullBand:
        """Binomial band for the pass fraction under H0 (independent coordinates)."""
        return binomial_null_band(
            self.n_tested, self.expected_pass_fraction(alpha), coverage=coverage
        )

    def rejections(self, alpha: float = 0.05, *, method: str = "holm") -> np.ndarray:
        """Coordinates rejected after a multiple-testing correction.

        Parameters
        ----------
        alpha : float
            Family-wise error rate (``"holm"``) or false discovery rate (``"fdr_bh"``).
        method : str
            Any method name accepted by ``statsmodels.stats.multitest.multipletests``.
        """
        return reject(self.pvalues, alpha, method=method)


@dataclass(frozen=True, slots=True)
class TestStatistic:
    """One statistic with its p-value (unpacks as ``statistic, pvalue``)."""

    statistic: float
    pvalue: float

    def __iter__(self):
        yield self.statistic
        yield self.pvalue


@dataclass(frozen=True, eq=False, slots=True)
class NormResult:
    """Thin-shell summary of the row norms.

    Attributes
    ----------
    norms : ndarray
        L2 norm of every row.
    mean, std, cv : float
        Mean, population standard deviation and coefficient of variation
        ``std / mean`` of the norms (PAPER.md Eq. 20).
    cv_isotropic_gaussian : float
        Exact CV of ``||z||`` for ``z ~ N(0, s^2 I_d)`` (a scaled chi_d).
    cv_matched_gaussian : float
        CV of ``||z||`` for a Gaussian with the data's mean and covariance
        (second-order delta method; see ``docs/tests/norms.md``).
    effective_dimension : float
        Participation ratio ``(tr S)^2 / tr(S^2)`` of the covariance ``S``.
    effective_rank : float
        Entropy effective rank ``exp(H(p))``, ``p = eigenvalues / sum``.
    n, d : int
    """

    norms: np.ndarray
    mean: float
    std: float
    cv: float
    cv_isotropic_gaussian: float
    cv_matched_gaussian: float
    effective_dimension: float
    effective_rank: float
    n: int
    d: int


@dataclass(frozen=True, slots=True)
class MardiaResult:
    """Mardia's multivariate skewness and kurtosis tests (MVN conventions)."""

    skewness: TestStatistic
    kurtosis: TestStatistic
    b1: float
    b2: float
    n: int
    p: int
    small_sample_correction: bool
    method: str = "mardia"

    def __iter__(self):
        yield self.skewness
        yield self.kurtosis


@dataclass(frozen=True, slots=True)
class HenzeZirklerResult:
    """Henze–Zirkler test with its log-normal p-value (MVN conventions)."""

    statistic: float
    pvalue: float
    beta: float
    null_mean: float
    null_variance: float
    n: int
    p: int
    method: str = "henze_zirkler"

    def __iter__(self):
        yield self.statistic
        yield self.pvalue


@dataclass(frozen=True, eq=False, slots=True)
class SubspaceResult:
    """Multivariate tests on many k-dimensional subspaces of one view.

    Attributes
    ----------
    k : int
        Dimension of each subspace.
    n_subspaces : int
        Random orthonormal subspaces tested, plus the top-k principal subspace
        when ``includes_principal`` (it is the last entry).
    seed : int
        Seed of the random subspaces.
    mardia_skewness_pvalues, mardia_kurtosis_pvalues, henze_zirkler_pvalues : ndarray
        One p-value per subspace (NaN where a subspace was skipped).
    henze_zirkler_statistics : ndarray
    n : int
        Rows used (after any subsample).
    notes : tuple of str
    other_pvalues : dict
        P-values of the other multivariate tests run on the same subspaces
        (``energy``, ``doornik_hansen``, ``royston``): test name -> p-value
        path (``"pvalue"``) -> one p-value per subspace.
    """

    k: int
    n_subspaces: int
    seed: int
    includes_principal: bool
    mardia_skewness_pvalues: np.ndarray
    mardia_kurtosis_pvalues: np.ndarray
    henze_zirkler_statistics: np.ndarray
    henze_zirkler_pvalues: np.ndarray
    n: int
    notes: tuple[str, ...] = ()
    other_pvalues: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def rejection_fraction(self, pvalues: np.ndarray, alpha: float = 0.05) -> float:
        """Fraction of subspaces whose p-value is at most ``alpha``."""
        finite = pvalues[np.isfinite(pvalues)]
        return float(np.mean(finite <= alpha)) if finite.size else float("nan")

    def null_band(self, alpha: float = 0.05, *, coverage: float = 0.99) -> NullBand:
        """Binomial band of the rejection fraction under H0.

        Subspaces of one data set are not independent, so this band is a guide;
        the calibrated verdict uses a Holm correction, valid under dependence.
        """
        return binomial_null_band(self.n_subspaces, alpha, coverage=coverage)


@dataclass(frozen=True, eq=False, slots=True)
class ProjectionResult:
    """The per-coordinate battery applied to seeded random unit directions.

    Attributes
    ----------
    n_projections : int
    seed : int
    directions : ndarray, shape (d, n_projections)
        The unit directions (columns).
    tests : dict
        ``CoordinateTestResult`` per test name (``anderson_darling``,
        ``dagostino_pearson``, ``epps_pulley``).
    """

    n_projections: int
    seed: int
    directions: np.ndarray
    tests: dict[str, Any]
