"""Cramér–von Mises per coordinate: R golden values, scipy, edges, calibration."""

import json

import numpy as np
import pytest
from scipy import stats

from gaussaudit.errors import InvalidEmbeddingsError
from gaussaudit.stats import validate
from gaussaudit.stats.cramer_von_mises import CVM_PVALUE_FLOOR, cramer_von_mises, cvm_pvalue
from tests.conftest import GOLDEN, load_golden_data

ALPHA = 0.05


@pytest.fixture(scope="module")
def r_extra() -> dict:
    """Reference values computed in R by tests/golden/make_golden_extra.R."""
    return json.loads((GOLDEN / "r_golden_extra.json").read_text())


@pytest.fixture
def mixed(rng):
    n = 2000
    return np.column_stack(
        [
            rng.standard_normal(n),
            rng.standard_t(3, n),
            rng.standard_t(1, n),  # Cauchy
            rng.exponential(size=n),
            rng.uniform(size=n),
            rng.lognormal(sigma=1.0, size=n),
        ]
    )


def test_matches_r_nortest_on_every_golden_column(r_extra):
    # 17 columns: Gaussian, t5, exponential, uniform, lognormal, multivariate t4; n = 15..6000
    worst_stat = worst_p = 0.0
    for entry in r_extra["datasets"].values():
        x = load_golden_data(entry)
        res = cramer_von_mises(x)
        ref_w = np.array([c["cvm"]["statistic"] for c in entry["columns"].values()])
        ref_p = np.array([c["cvm"]["p_value"] for c in entry["columns"].values()])
        np.testing.assert_allclose(res.statistics, ref_w, rtol=1e-11)
        np.testing.assert_allclose(res.pvalues, ref_p, rtol=1e-11)
        worst_stat = max(worst_stat, float(np.max(np.abs(res.statistics / ref_w - 1))))
        worst_p = max(worst_p, float(np.max(np.abs(res.pvalues / ref_p - 1))))
    assert worst_stat < 1e-11 and worst_p < 1e-11
    # the golden set reaches all five branches of the p-value formula, the floor included
    modified = np.concatenate(
        [
            cramer_von_mises(load_golden_data(e)).extra["modified"]
            for e in r_extra["datasets"].values()
        ]
    )
    branches = np.histogram(modified, [0, 0.0275, 0.051, 0.092, 1.1, np.inf])[0]
    assert np.all(branches >= 1), branches


def test_statistic_equals_scipy_on_standardised_columns(mixed):
    res = cramer_von_mises(mixed)
    z = (mixed - mixed.mean(axis=0)) / mixed.std(axis=0, ddof=1)
    ref = np.array([stats.cramervonmises(col, "norm").statistic for col in z.T])
    np.testing.assert_allclose(res.statistics, ref, rtol=1e-12)
    np.testing.assert_allclose(res.extra["modified"], ref * (1 + 0.5 / mixed.shape[0]))


def test_result_shape_and_pass_rule(mixed):
    res = cramer_von_mises(mixed)
    assert res.test == "cramer_von_mises"
    assert res.n == res.n_input == 2000 and res.d == 6 and res.n_tested == 6
    assert res.threshold is None
    np.testing.assert_array_equal(res.passed(0.05), res.pvalues > 0.05)
    assert res.expected_pass_fraction(0.05) == 0.95
    w, p = res
    assert w is res.statistics and p is res.pvalues
    assert res.passed(0.05)[0] and not res.passed(0.05)[1:4].any()


def test_pvalue_formula_branches_and_floor():
    w = np.array([0.0, 0.01, 0.0275, 0.04, 0.051, 0.07, 0.092, 0.5, 1.0999, 1.1, 50.0, np.nan])
    p = cvm_pvalue(w)
    assert np.all((p[:-1] >= 0) & (p[:-1] <= 1)) and np.isnan(p[-1])
    assert np.all(np.diff(p[:-1]) <= 0)  # decreasing in the statistic
    assert p[-3] == p[-2] == CVM_PVALUE_FLOOR
    # Stephens' 5 % and 1 % points of the modified statistic (case 3)
    assert cvm_pvalue(0.126) == pytest.approx(0.05, abs=1e-3)
    assert cvm_pvalue(0.178) == pytest.approx(0.01, abs=5e-4)
    # the branches join up to ~1e-3 at the knots
    for knot in (0.0275, 0.051, 0.092):
        assert abs(cvm_pvalue(knot - 1e-12) - cvm_pvalue(knot + 1e-12)) < 5e-3


def test_invariant_to_shift_and_scale_and_float64_for_float32(rng):
    x = rng.standard_normal((500, 5))
    base = cramer_von_mises(x)
    moved = cramer_von_mises(3.0 * x - 7.0)
    np.testing.assert_allclose(moved.statistics, base.statistics, rtol=1e-10)
    huge = cramer_von_mises(x * 1e200)  # rescaled exactly before squaring
    np.testing.assert_allclose(huge.statistics, base.statistics, rtol=1e-12)
    x32 = x.astype(np.float32)
    np.testing.assert_allclose(
        cramer_von_mises(x32).statistics,
        cramer_von_mises(x32.astype(np.float64)).statistics,
        rtol=1e-15,
    )


def test_many_columns_in_blocks_equal_one_at_a_time(rng):
    x = rng.standard_t(5, (300, 300))  # three column blocks, on threads
    res = cramer_von_mises(x)
    single = np.array([cramer_von_mises(x[:, [j]]).statistics[0] for j in range(0, 300, 37)])
    np.testing.assert_allclose(res.statistics[::37], single, rtol=1e-14)


def test_constant_columns_are_left_out(rng):
    x = rng.standard_normal((100, 4))
    x[:, 1] = 2.5
    res = cramer_von_mises(validate(x))
    np.testing.assert_array_equal(res.columns, [0, 2, 3])
    assert res.n_tested == 3 and res.d == 4
    all_constant = cramer_von_mises(np.ones((20, 3)))
    assert all_constant.n_tested == 0 and np.isnan(all_constant.pass_fraction())


def test_minimum_rows_and_nan_rejected(rng):
    with pytest.raises(InvalidEmbeddingsError, match="at least 8"):
        cramer_von_mises(rng.standard_normal((7, 3)))
    assert cramer_von_mises(rng.standard_normal((8, 3))).n == 8
    x = rng.standard_normal((50, 3))
    x[4, 1] = np.nan
    with pytest.raises(InvalidEmbeddingsError, match="NaN"):
        cramer_von_mises(x)


@pytest.mark.slow
@pytest.mark.parametrize("n", [20, 200, 2000])
def test_type_one_error_within_binomial_band(n):
    reps = 20_000
    x = np.random.default_rng(n).standard_normal((n, reps))
    rate = float(np.mean(cramer_von_mises(x).pvalues <= ALPHA))
    low, high = stats.binom.ppf([0.0005, 0.9995], reps, ALPHA) / reps
    assert low <= rate <= high, f"n={n}: type-I rate {rate:.4f} outside [{low:.4f}, {high:.4f}]"


@pytest.mark.slow
def test_power_on_heavy_tails():
    rng = np.random.default_rng(3)
    assert np.mean(cramer_von_mises(rng.standard_t(3, (200, 2000))).pvalues <= ALPHA) > 0.6
    assert np.mean(cramer_von_mises(rng.standard_t(3, (1000, 2000))).pvalues <= ALPHA) > 0.99
