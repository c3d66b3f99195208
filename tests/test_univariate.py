import warnings

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.diagnostic import lilliefors as sm_lilliefors
from statsmodels.stats.diagnostic import normal_ad

from gaussaudit.errors import InvalidEmbeddingsError, NotApplicableError
from gaussaudit.stats import (
    ad_pvalue,
    anderson_darling,
    dagostino_pearson,
    jarque_bera,
    lilliefors,
    shapiro_wilk,
)
from tests.conftest import load_golden_data


@pytest.fixture
def mixed(rng):
    n = 3000
    return np.column_stack(
        [
            rng.standard_normal(n),
            rng.standard_t(3, n),
            rng.exponential(size=n),
            rng.uniform(size=n),
            np.maximum(rng.standard_normal(n), 0) + 0.01 * rng.standard_normal(n),
            rng.lognormal(sigma=1.0, size=n),
        ]
    )


def _scipy_ad(col):
    return stats.anderson(col, dist="norm", method="interpolate").statistic


def test_anderson_darling_matches_scipy(mixed):
    res = anderson_darling(mixed)
    ref = np.array([_scipy_ad(c) for c in mixed.T])
    np.testing.assert_allclose(res.statistics, ref, rtol=1e-10)
    n = mixed.shape[0]
    np.testing.assert_allclose(res.extra["modified"], ref * (1 + 0.75 / n + 2.25 / n**2))


def test_anderson_darling_keeps_scipy_accuracy_at_large_n(rng):
    # A^2 ~ 0.5 is the difference of two numbers near n: the weighted sum must be
    # added pairwise (as scipy does) to stay within 1e-10 of it at n = 20,000.
    n = 20_000
    x = rng.standard_normal((n, 40))
    x[:, 1] = rng.standard_t(1, n)  # Cauchy
    x[:, 2] = rng.exponential(size=n)
    x[:5, 3] = 1e30  # standardised values beyond 37: the log_ndtr path
    res = anderson_darling(x)
    ref = np.array([_scipy_ad(c) for c in x.T])
    np.testing.assert_allclose(res.statistics, ref, rtol=1e-10)


def test_anderson_darling_pvalues_match_statsmodels(mixed):
    res = anderson_darling(mixed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _, ref = normal_ad(mixed, axis=0)
    finite = np.isfinite(ref)  # statsmodels' naive log(1 - Phi) gives NaN on heavy tails
    # beyond the vertex of the last branch (A*2 ~ 153) statsmodels lets p rise again
    finite &= res.extra["modified"] < 150
    assert finite.sum() >= 3
    big = res.pvalues > 1e-20  # far tails: statsmodels loses digits in log(1 - Phi)
    np.testing.assert_allclose(res.pvalues[finite & big], ref[finite & big], rtol=1e-8)
    np.testing.assert_allclose(res.pvalues[finite], ref[finite], rtol=1e-4, atol=1e-300)
    # the heavy-tailed columns get a finite statistic and a (near) zero p-value here
    assert np.all(np.isfinite(res.statistics))
    assert np.all(res.pvalues[~finite] < 1e-6)


def test_ad_pass_rule_is_raw_statistic_below_threshold(mixed):
    res = anderson_darling(mixed)
    np.testing.assert_array_equal(res.passed(), res.statistics < 0.752)
    assert res.threshold == 0.752
    # under H0 about 95% of coordinates pass at n = 3000 (PAPER.md §1.3)
    assert 0.945 < res.expected_pass_fraction() < 0.955


def test_ad_pvalue_piecewise_is_continuous_and_monotone():
    a = np.linspace(0.01, 200, 200001)
    p = ad_pvalue(a)
    for lo, hi in ((0.01, 0.2), (0.2, 0.34), (0.34, 0.6), (0.6, 200)):
        piece = p[(a >= lo) & (a < hi)]
        assert np.all(np.diff(piece) <= 0)
    assert p[0] <= 1 and p[-1] == 0
    # the breakpoints of the D'Agostino-Stephens formula join up to ~1e-3
    for knot in (0.2, 0.34, 0.6):
        left, right = ad_pvalue(knot - 1e-9), ad_pvalue(knot + 1e-9)
        assert abs(left - right) < 5e-3


def test_dagostino_pearson_matches_scipy(mixed):
    res = dagostino_pearson(mixed)
    ref = stats.normaltest(mixed, axis=0)
    np.testing.assert_allclose(res.statistics, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(res.pvalues, ref.pvalue, rtol=1e-8, atol=1e-300)
    s = stats.skewtest(mixed, axis=0)
    np.testing.assert_allclose(res.extra["z_skewness"], s.statistic, rtol=1e-10)


def test_dagostino_pearson_float32_input_computed_in_float64(rng):
    x = rng.standard_normal((5000, 8)).astype(np.float32)
    res = dagostino_pearson(x)
    ref = stats.normaltest(x.astype(np.float64), axis=0)
    np.testing.assert_allclose(res.pvalues, ref.pvalue, rtol=1e-9)


def test_dagostino_pearson_needs_20_rows(rng):
    with pytest.raises(NotApplicableError, match="at least 20"):
        dagostino_pearson(rng.standard_normal((19, 3)))
    assert dagostino_pearson(rng.standard_normal((20, 3))).n == 20


def test_jarque_bera_matches_scipy(mixed):
    res = jarque_bera(mixed)
    ref = stats.jarque_bera(mixed, axis=0)
    np.testing.assert_allclose(res.statistics, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(res.pvalues, ref.pvalue, rtol=1e-8, atol=1e-300)


def test_shapiro_wilk_matches_scipy(mixed):
    res = shapiro_wilk(mixed)
    for j, col in enumerate(mixed.T):
        ref = stats.shapiro(col)
        assert res.statistics[j] == pytest.approx(ref.statistic, rel=1e-12)
        assert res.pvalues[j] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert res.seed is None and res.notes == ()


def test_shapiro_wilk_subsamples_above_5000_rows_with_a_recorded_seed(rng):
    x = rng.standard_normal((6000, 3))
    res = shapiro_wilk(x, seed=7)
    assert res.n == 5000 and res.n_input == 6000 and res.seed == 7
    assert "5000 of 6000" in res.notes[0]
    rows = np.sort(np.random.default_rng(7).choice(6000, 5000, replace=False))
    ref = stats.shapiro(x[rows, 1])
    assert res.statistics[1] == pytest.approx(ref.statistic, rel=1e-12)
    again = shapiro_wilk(x, seed=7)
    np.testing.assert_array_equal(res.pvalues, again.pvalues)


def test_shapiro_wilk_skips_columns_constant_on_the_subsample(rng):
    x = rng.standard_normal((6000, 3))
    x[:, 1] = 0.0
    x[3, 1] = 1.0  # one non-zero value: a rare pixel, constant on most subsamples
    rows = np.sort(np.random.default_rng(0).choice(6000, 5000, replace=False))
    assert 3 not in rows  # the seed-0 subsample misses it
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy warns on a zero-range input
        res = shapiro_wilk(x, seed=0)
    np.testing.assert_array_equal(res.columns, [0, 2])
    assert "1 column(s) constant on the subsample" in res.notes[1]


@pytest.mark.parametrize("n", [12, 30, 120, 1000])
def test_lilliefors_vectorised_equals_statsmodels_per_column(rng, n):
    # Both p-value branches: Dallal-Wilkinson below 0.1, the simulated table above.
    x = np.column_stack([rng.standard_normal((n, 20)), rng.standard_t(2, (n, 10))])
    res = lilliefors(x)
    ref = np.array([sm_lilliefors(c, dist="norm", pvalmethod="approx") for c in x.T])
    np.testing.assert_allclose(res.statistics, ref[:, 0], rtol=1e-10)
    np.testing.assert_allclose(res.pvalues, ref[:, 1], rtol=1e-10)
    assert (ref[:, 1] > 0.1).any() and (ref[:, 1] < 0.1).any()


def test_lilliefors_matches_statsmodels(mixed):
    res = lilliefors(mixed)
    for j, col in enumerate(mixed.T):
        d, p = sm_lilliefors(col, dist="norm", pvalmethod="approx")
        assert res.statistics[j] == pytest.approx(d, rel=1e-10)
        assert res.pvalues[j] == pytest.approx(p, rel=1e-10)


@pytest.mark.parametrize(
    "dataset", ["gauss_n50_d4", "mixed_n200_d5", "gauss_n15_d3", "heavy_n300_d3", "gauss_n6000_d2"]
)
def test_against_r(r_golden, dataset):
    entry = r_golden["datasets"][dataset]
    x = load_golden_data(entry)
    ad, lf = anderson_darling(x), lilliefors(x)
    sw = shapiro_wilk(x) if x.shape[0] <= 5000 else None
    for j, name in enumerate(sorted(entry["columns"], key=lambda c: int(c[1:]))):
        ref = entry["columns"][name]
        assert ad.statistics[j] == pytest.approx(ref["ad"]["statistic"], rel=1e-10)
        if ad.extra["modified"][j] < 10:  # nortest floors p at 3.7e-24 beyond 10
            assert ad.pvalues[j] == pytest.approx(ref["ad"]["p_value"], rel=1e-8, abs=1e-300)
        assert lf.statistics[j] == pytest.approx(ref["lillie"]["statistic"], rel=1e-10)
        if sw is not None:
            assert sw.statistics[j] == pytest.approx(ref["shapiro"]["statistic"], rel=1e-7)
            assert sw.pvalues[j] == pytest.approx(ref["shapiro"]["p_value"], rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("dataset", ["gauss_n50_d4", "mixed_n200_d5", "heavy_n300_d3"])
def test_lilliefors_pvalues_against_r(r_golden, dataset):
    # R's lillie.test uses the Dallal-Wilkinson formula, as we do up to p = 0.1;
    # above that R extrapolates the formula while statsmodels reads its table.
    entry = r_golden["datasets"][dataset]
    lf = lilliefors(load_golden_data(entry))
    checked = 0
    for j, name in enumerate(sorted(entry["columns"], key=lambda c: int(c[1:]))):
        ref = entry["columns"][name]["lillie"]["p_value"]
        if ref <= 0.1:
            assert lf.pvalues[j] == pytest.approx(ref, rel=1e-6, abs=1e-300)
            checked += 1
    assert checked or dataset == "gauss_n50_d4"


FUNCS = [anderson_darling, dagostino_pearson, jarque_bera, shapiro_wilk, lilliefors]


@pytest.mark.parametrize("func", FUNCS)
def test_constant_columns_are_excluded(func, rng):
    x = rng.standard_normal((200, 4))
    x[:, 1] = 3.0
    res = func(x)
    np.testing.assert_array_equal(res.columns, [0, 2, 3])
    assert res.d == 4 and res.n_tested == 3


@pytest.mark.parametrize("func", FUNCS)
def test_huge_values_and_float16(func, rng):
    x = rng.standard_normal((300, 3))
    base = func(x)
    huge = func(x * 2.0**900)  # squares would overflow without rescaling
    np.testing.assert_allclose(huge.statistics, base.statistics, rtol=1e-9)
    half = func(x.astype(np.float16))
    assert np.all(np.isfinite(half.statistics))


@pytest.mark.parametrize("func", [anderson_darling, jarque_bera, shapiro_wilk, lilliefors])
def test_minimum_rows(func, rng):
    assert func(rng.standard_normal((8, 2))).n == 8
    with pytest.raises(InvalidEmbeddingsError, match="at least 8"):
        func(rng.standard_normal((7, 2)))


def test_duplicated_rows_are_fine(rng):
    x = np.repeat(rng.standard_normal((100, 3)), 2, axis=0)
    assert np.all(np.isfinite(anderson_darling(x).statistics))


def test_result_unpacks_like_scipy(rng):
    stat, p = dagostino_pearson(rng.standard_normal((100, 2)))
    assert stat.shape == p.shape == (2,)


def test_rejections_use_statsmodels_multipletests(mixed):
    from statsmodels.stats.multitest import multipletests

    res = dagostino_pearson(mixed)
    for method in ("holm", "fdr_bh"):
        expected = multipletests(res.pvalues, alpha=0.05, method=method)[0]
        np.testing.assert_array_equal(res.rejections(0.05, method=method), expected)


def test_fused_ad_dp_equals_separate_tests(mixed):
    from gaussaudit.stats.univariate import anderson_darling_dagostino_pearson

    x = np.column_stack([mixed, np.full(len(mixed), 2.0)])  # a constant column too
    ad, dp = anderson_darling_dagostino_pearson(x)
    ad_ref, dp_ref = anderson_darling(x), dagostino_pearson(x)
    np.testing.assert_allclose(ad.statistics, ad_ref.statistics, rtol=1e-12)
    np.testing.assert_allclose(dp.statistics, dp_ref.statistics, rtol=1e-9)
    np.testing.assert_allclose(dp.pvalues, dp_ref.pvalues, rtol=1e-8, atol=1e-300)
    np.testing.assert_array_equal(ad.columns, ad_ref.columns)
    assert ad.null_pass_probability == ad_ref.null_pass_probability
    with pytest.raises(NotApplicableError):
        anderson_darling_dagostino_pearson(x[:19])
