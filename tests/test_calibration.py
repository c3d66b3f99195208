"""Type-I error and power of the core tests.

Each per-coordinate test is vectorised across columns, so R independent
Gaussian replicates of size n are one (n, R) matrix. A test at level alpha must
reject a fraction of replicates inside the 99.9% binomial band around alpha.
"""

import numpy as np
import pytest
from scipy import stats

from gaussaudit import audit
from gaussaudit.stats import (
    anderson_darling,
    dagostino_pearson,
    jarque_bera,
    lilliefors,
    mardia_henze_zirkler,
    shapiro_wilk,
)

ALPHA = 0.05


def band(reps: int, p: float = ALPHA, coverage: float = 0.999) -> tuple[float, float]:
    tail = (1 - coverage) / 2
    return stats.binom.ppf(tail, reps, p) / reps, stats.binom.ppf(1 - tail, reps, p) / reps


def check_rate(pvalues: np.ndarray, label: str) -> None:
    rate = float(np.mean(pvalues <= ALPHA))
    low, high = band(pvalues.size)
    assert low <= rate <= high, f"{label}: type-I rate {rate:.4f} outside [{low:.4f}, {high:.4f}]"


TESTS = {
    "anderson_darling": anderson_darling,
    "dagostino_pearson": dagostino_pearson,
    "shapiro_wilk": shapiro_wilk,
    "lilliefors": lilliefors,
}


@pytest.mark.parametrize("name", list(TESTS))
def test_type_one_error_quick(name):
    x = np.random.default_rng(2026).standard_normal((300, 3000))
    check_rate(TESTS[name](x).pvalues, name)


def test_ad_threshold_rule_pass_rate_quick():
    x = np.random.default_rng(7).standard_normal((1000, 4000))
    res = anderson_darling(x)
    low, high = band(4000, res.expected_pass_fraction())
    assert low <= res.pass_fraction() <= high


def test_jarque_bera_is_asymptotic():
    # JB's chi2(2) approximation is conservative at small n and fine at large n
    small = jarque_bera(np.random.default_rng(1).standard_normal((100, 4000))).pvalues
    assert np.mean(small <= ALPHA) < ALPHA
    large = jarque_bera(np.random.default_rng(2).standard_normal((20000, 2000))).pvalues
    check_rate(large, "jarque_bera n=20000")


def test_multivariate_type_one_error_quick():
    rng = np.random.default_rng(11)
    skew, kurt, hz = [], [], []
    for _ in range(400):
        m, h = mardia_henze_zirkler(rng.standard_normal((150, 3)))
        skew.append(m.skewness.pvalue)
        kurt.append(m.kurtosis.pvalue)
        hz.append(h.pvalue)
    # 400 replicates: a 99.9% band is wide, but gross miscalibration still fails
    check_rate(np.array(hz), "henze_zirkler")
    check_rate(np.array(skew), "mardia skewness")
    assert np.mean(np.array(kurt) <= ALPHA) <= band(400)[1]  # kurtosis z is conservative


@pytest.mark.slow
@pytest.mark.parametrize("n", [20, 50, 200, 1000, 5000])
@pytest.mark.parametrize("name", list(TESTS))
def test_type_one_error_full(name, n):
    reps = 10_000 if n <= 1000 else 2000
    x = np.random.default_rng(n).standard_normal((n, reps))
    pvalues = TESTS[name](x).pvalues
    if name == "dagostino_pearson" and n < 100:
        # K^2's chi2(2) approximation is liberal at small n (measured 6.2 % at n = 20 and
        # 50, the same as scipy.stats.normaltest): documented in docs/tests/dagostino-pearson.md
        rate = float(np.mean(pvalues <= ALPHA))
        assert ALPHA <= rate <= 0.07, f"{name} n={n}: {rate:.4f}"
        return
    check_rate(pvalues, f"{name} n={n}")


@pytest.mark.slow
@pytest.mark.parametrize(("n", "p"), [(50, 2), (200, 3), (1000, 3), (2500, 5)])
def test_multivariate_type_one_error_full(n, p):
    rng = np.random.default_rng(n + p)
    reps = 1000
    hz = np.empty(reps)
    skew = np.empty(reps)
    for i in range(reps):
        m, h = mardia_henze_zirkler(rng.standard_normal((n, p)))
        hz[i], skew[i] = h.pvalue, m.skewness.pvalue
    check_rate(hz, f"henze_zirkler n={n} p={p}")
    if n >= 200:
        check_rate(skew, f"mardia skewness n={n} p={p}")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["t5", "post_relu"])
def test_verdict_power(kind):
    rng = np.random.default_rng(5)
    reps = 100
    hits_paper = hits_cal = 0
    for _ in range(reps):
        if kind == "t5":
            x = rng.standard_t(5, size=(5000, 64))
        else:
            x = np.maximum(rng.standard_normal((5000, 64)) @ rng.standard_normal((64, 64)), 0)
        res = audit(x, views=("raw",), projections=32, subspaces=8, multivariate_max_rows=1000)
        v = res.views["raw"].verdict
        hits_paper += v.paper_rule is False
        hits_cal += v.calibrated is False
    assert hits_cal / reps >= 0.99
    assert hits_paper / reps >= 0.99


@pytest.mark.slow
def test_verdict_type_one_error_on_gaussian():
    rng = np.random.default_rng(9)
    reps = 100
    false_paper = false_cal = 0
    for _ in range(reps):
        x = rng.standard_normal((5000, 64))
        res = audit(x, views=("raw",), projections=32, subspaces=8, multivariate_max_rows=1000)
        v = res.views["raw"].verdict
        false_paper += v.paper_rule is False
        false_cal += v.calibrated is False
    assert false_paper == 0
    # the calibrated verdict combines several band checks and a Holm family;
    # measured rate is reported in docs/tests/multiple-testing.md
    assert false_cal / reps <= 0.15
