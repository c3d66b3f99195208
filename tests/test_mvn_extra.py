"""Energy, Doornik–Hansen and Royston tests: R golden values, edges, calibration.

Golden values: ``tests/golden/r_golden_extra.json`` from ``make_golden_extra.R``
(energy::mvnorm.e / mvnorm.etest; Doornik–Hansen and Royston written in base R
from the papers with R's shapiro.test and nortest::sf.test for the W's).
"""

import json

import numpy as np
import pytest
from scipy import special, stats

from gaussaudit.errors import InvalidEmbeddingsError, NotApplicableError, UsageError
from gaussaudit.stats import validate
from gaussaudit.stats._sampling import seeded_rows
from gaussaudit.stats.doornik_hansen import DoornikHansenResult, doornik_hansen
from gaussaudit.stats.energy import (
    EnergyResult,
    _distance_sum,
    _mean_distance_to_normal,
    energy_statistic,
    energy_test,
)
from gaussaudit.stats.royston import (
    RoystonResult,
    royston,
    shapiro_francia_w,
    shapiro_wilk_w,
)
from tests.conftest import GOLDEN, load_golden_data

ALPHA = 0.05


@pytest.fixture(scope="module")
def r_extra() -> dict:
    """Reference values computed in R by tests/golden/make_golden_extra.R."""
    return json.loads((GOLDEN / "r_golden_extra.json").read_text())


def _datasets(r_extra):
    for name, entry in r_extra["datasets"].items():
        yield name, entry, load_golden_data(entry)


def _mvt(rng, n, d, df):
    """Multivariate t: Gaussian rows divided by one chi factor each."""
    return rng.standard_normal((n, d)) / np.sqrt(rng.chisquare(df, n) / df)[:, None]


def _band(reps, p=ALPHA, coverage=0.999):
    tail = (1 - coverage) / 2
    return stats.binom.ppf([tail, 1 - tail], reps, p) / reps


# ---------------------------------------------------------------- energy


def test_energy_statistic_matches_r_energy(r_extra):
    # n = 15..6000, d = 2..5 (Gaussian, mixed marginals, multivariate t4), and the d = 1 path
    for name, entry, x in _datasets(r_extra):
        ref = entry["energy"]
        assert energy_statistic(x) == pytest.approx(ref["statistic"], rel=1e-10), name
        assert energy_statistic(x[:, :1]) == pytest.approx(
            ref["statistic_first_column"], rel=1e-10
        ), name


def test_energy_pvalue_agrees_with_r_bootstrap_within_monte_carlo_error(r_extra):
    for name in ("gauss_n50_d4", "gauss_n15_d3"):
        entry = r_extra["datasets"][name]
        res = energy_test(load_golden_data(entry), n_boot=999, seed=5)
        p_r = entry["energy"]["etest_p_value"]
        se = np.sqrt(2 * p_r * (1 - p_r) / 999)  # two independent Monte Carlo estimates
        assert abs(res.pvalue - p_r) < 4 * se, name
    # R returns 0 for the strongly non-normal sets; here p is the smallest possible value
    entry = r_extra["datasets"]["mixed_n200_d5"]
    assert entry["energy"]["etest_p_value"] == 0
    res = energy_test(load_golden_data(entry), n_boot=99, seed=5)
    assert res.exceedances == 0 and res.pvalue == pytest.approx(0.01)


def test_mean_distance_to_normal_closed_forms():
    r = np.array([0.0, 1e-3, 0.3, 1.0, 2.5, 7.0, 40.0, 300.0])
    phi, cdf = stats.norm.pdf(r), stats.norm.cdf(r)
    one = 2 * r * cdf + 2 * phi - r  # d = 1
    np.testing.assert_allclose(_mean_distance_to_normal(r**2, 1), one, rtol=1e-14)
    rr = r[1:]
    three = (rr + 1 / rr) * (2 * cdf[1:] - 1) + 2 * phi[1:]  # d = 3
    np.testing.assert_allclose(_mean_distance_to_normal(rr**2, 3), three, rtol=1e-13)
    # general d: sqrt(2) G((d+1)/2)/G(d/2) 1F1(-1/2; d/2; -|y|^2/2) where SciPy's 1F1 is finite
    for d in (2, 8, 64):
        sq = np.array([0.0, 0.5, 3.0, float(d), 4.0 * d])
        const = np.sqrt(2) * np.exp(special.gammaln((d + 1) / 2) - special.gammaln(d / 2))
        ref = const * special.hyp1f1(-0.5, d / 2, -sq / 2)
        np.testing.assert_allclose(_mean_distance_to_normal(sq, d), ref, rtol=1e-12)
    # d = 768, where SciPy's hyp1f1 overflows: finite, increasing, ~ sqrt(|y|^2 + d) for large |y|
    sq = np.array([0.0, 100.0, 768.0, 3000.0, 1e6])
    big = _mean_distance_to_normal(sq, 768)
    assert np.all(np.isfinite(big)) and np.all(np.diff(big) > 0)
    np.testing.assert_allclose(big[-1], np.sqrt(1e6 + 767.5), rtol=1e-6)


def test_energy_distance_sum_is_exact_and_block_free(rng):
    y = rng.standard_normal((300, 5))
    y[7] = y[3] + 1e-9  # a near-duplicate pair: taken from differences, not the Gram form
    direct = np.sqrt(((y[:, None, :] - y[None, :, :]) ** 2).sum(-1)).sum()
    for rows in (1, 7, 64, 300, 1024):
        assert _distance_sum(y, rows) == pytest.approx(direct, rel=1e-13)
    x = rng.standard_normal((257, 3))
    assert energy_statistic(x, block_rows=16) == pytest.approx(energy_statistic(x), rel=1e-12)


def test_energy_is_affine_invariant(rng):
    x = rng.standard_t(6, (200, 3))
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    assert energy_statistic(x @ a.T + 5.0) == pytest.approx(energy_statistic(x), rel=1e-9)


def test_energy_test_is_seeded_and_recorded(rng):
    x = rng.standard_normal((60, 2))
    first = energy_test(x, n_boot=39, seed=11)
    again = energy_test(validate(x), n_boot=39, seed=11)
    assert isinstance(first, EnergyResult)
    assert (first.statistic, first.pvalue) == (again.statistic, again.pvalue)
    assert first.seed == 11 and first.n_boot == 39 and (first.n, first.p) == (60, 2)
    assert first.pvalue == (1 + first.exceedances) / 40
    statistic, pvalue = first
    assert statistic == first.statistic and 0 < pvalue <= 1
    with pytest.raises(UsageError, match="n_boot"):
        energy_test(x, n_boot=0)


def test_energy_edges(rng):
    with pytest.raises(InvalidEmbeddingsError, match="at least 8"):
        energy_statistic(rng.standard_normal((5, 2)))
    with pytest.raises(NotApplicableError, match="singular"):
        energy_statistic(rng.standard_normal((10, 12)))  # d >= n
    x = rng.standard_normal((50, 3))
    const = x.copy()
    const[:, 1] = 4.0
    with pytest.raises(NotApplicableError, match="rank"):
        energy_test(const, n_boot=5)
    dup = np.column_stack([x, x[:, 0]])
    with pytest.raises(NotApplicableError, match="rank"):
        energy_statistic(dup)
    bad = x.copy()
    bad[0, 0] = np.inf
    with pytest.raises(InvalidEmbeddingsError, match="NaN/Inf"):
        energy_statistic(bad)


# ---------------------------------------------------------------- Doornik-Hansen


def test_doornik_hansen_matches_r(r_extra):
    for name, entry, x in _datasets(r_extra):
        ref = entry["doornik_hansen"]
        res = doornik_hansen(x)
        assert isinstance(res, DoornikHansenResult)
        assert res.statistic == pytest.approx(ref["statistic"], rel=1e-12), name
        assert res.pvalue == pytest.approx(ref["p_value"], rel=1e-11), name
        assert res.df == ref["df"] == 2 * x.shape[1]
        np.testing.assert_allclose(res.z_skewness, ref["z_skewness"], rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(res.z_kurtosis, ref["z_kurtosis"], rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(res.skewness, ref["skewness"], rtol=1e-11, atol=1e-14)
        np.testing.assert_allclose(res.kurtosis, ref["kurtosis"], rtol=1e-12)


def test_doornik_hansen_invariances_and_univariate_case(rng):
    x = rng.standard_t(8, (400, 4))
    base = doornik_hansen(x)
    scaled = doornik_hansen(x * np.array([1e-3, 5.0, 1e200, 1.0]) - 3.0)
    assert scaled.statistic == pytest.approx(base.statistic, rel=1e-10)
    col = doornik_hansen(x[:, :1])
    assert col.df == 2 and col.p == 1 and np.isfinite(col.statistic)
    statistic, pvalue = base
    assert pvalue == pytest.approx(stats.chi2.sf(statistic, 8), rel=1e-14)


def test_doornik_hansen_edges(rng):
    x = rng.standard_normal((40, 3))
    const = x.copy()
    const[:, 2] = -1.0
    with pytest.raises(NotApplicableError, match=r"constant \(2\)"):
        doornik_hansen(const)
    with pytest.raises(NotApplicableError, match="rank 3 < d = 4"):
        doornik_hansen(np.column_stack([x, x[:, 0] - 2 * x[:, 1]]))
    with pytest.raises(NotApplicableError, match="more rows than columns"):
        doornik_hansen(rng.standard_normal((9, 9)))
    with pytest.raises(InvalidEmbeddingsError, match="at least 8"):
        doornik_hansen(x[:7])
    x[3, 1] = np.nan
    with pytest.raises(InvalidEmbeddingsError, match="NaN"):
        doornik_hansen(x)


# ---------------------------------------------------------------- Royston


def test_shapiro_w_statistics_match_r(r_extra):
    for name, entry, x in _datasets(r_extra):
        cols = list(entry["columns"].values())
        if "shapiro_w" not in cols[0]:
            continue
        np.testing.assert_allclose(
            shapiro_wilk_w(x), [c["shapiro_w"] for c in cols], rtol=0, atol=1e-14, err_msg=name
        )
        np.testing.assert_allclose(
            shapiro_francia_w(x), [c["francia_w"] for c in cols], rtol=0, atol=1e-14, err_msg=name
        )


def test_shapiro_wilk_w_agrees_with_scipy(rng):
    x = np.column_stack([rng.standard_normal(700), rng.exponential(size=700)])
    ref = [stats.shapiro(col).statistic for col in x.T]
    # scipy's swilk keeps single-precision coefficients: agreement to ~1e-8, R to 1e-14
    np.testing.assert_allclose(shapiro_wilk_w(x), ref, atol=1e-7)


def test_royston_matches_r(r_extra):
    cases = [
        (name, entry["royston"], load_golden_data(entry))
        for name, entry in r_extra["datasets"].items()
        if "royston" in entry  # n <= 2000
    ]
    for name, sub in r_extra["subsets"].items():  # n = 10 and 11: the small-sample transform
        rows = np.array(sub["rows"]) - 1
        data = load_golden_data(r_extra["datasets"][sub["dataset"]])[rows]
        cases.append((name, sub["royston"], data))
    assert len(cases) == 6
    for name, ref, x in cases:
        res = royston(x)
        assert isinstance(res, RoystonResult)
        assert res.n == ref["n"] and res.seed is None
        assert res.statistic == pytest.approx(ref["statistic"], rel=1e-12), name
        assert res.pvalue == pytest.approx(ref["p_value"], rel=1e-11), name
        assert res.edf == pytest.approx(ref["edf"], rel=1e-13), name
        np.testing.assert_array_equal(res.francia, ref["francia"], err_msg=name)
        np.testing.assert_allclose(res.w, ref["w"], rtol=0, atol=1e-14, err_msg=name)
        np.testing.assert_allclose(res.z, ref["z"], rtol=1e-12, atol=1e-12, err_msg=name)


def test_royston_with_shapiro_wilk_only(r_extra):
    entry = r_extra["datasets"]["mixed_n200_d5"]
    x = load_golden_data(entry)
    res = royston(x, francia=False)
    assert not res.francia.any() and "Shapiro-Wilk" in res.method
    sw = [c["shapiro_w"] for c in entry["columns"].values()]
    np.testing.assert_allclose(res.w, sw, rtol=0, atol=1e-14)
    mvn = royston(x)
    assert mvn.francia.any() and "MVN" in mvn.method
    assert res.edf == mvn.edf and res.statistic != mvn.statistic
    # same transform, same combination: only the W of the leptokurtic columns changed
    same = ~mvn.francia
    np.testing.assert_array_equal(res.z[same], mvn.z[same])


def test_royston_subsamples_beyond_2000_rows(rng):
    x = rng.standard_normal((2600, 3))
    res = royston(x, seed=4)
    assert res.n == 2000 and res.n_input == 2600 and res.seed == 4
    assert "seeded subsample of 2000 of 2600 rows (seed 4)" in res.notes[0]
    assert royston(x, seed=4).statistic == res.statistic
    small = royston(x, max_rows=500, seed=1)
    assert small.n == 500
    with pytest.raises(UsageError, match="max_rows"):
        royston(x, max_rows=2001)
    assert royston(x[:2000]).seed is None


def test_royston_edges(rng):
    x = rng.standard_normal((60, 3))
    const = x.copy()
    const[:, 0] = 1.0
    with pytest.raises(NotApplicableError, match=r"constant \(0\)"):
        royston(const)
    with pytest.raises(InvalidEmbeddingsError, match="at least 8"):
        royston(x[:7])
    nan = x.copy()
    nan[0, 2] = np.nan
    with pytest.raises(InvalidEmbeddingsError, match="NaN"):
        royston(nan)
    # no inverse is needed: duplicated columns and d > n are answered, with fewer edf
    dup = royston(np.column_stack([x, x[:, 0]]))
    assert dup.edf < 3.5 and np.isfinite(dup.pvalue)
    wide = royston(rng.standard_normal((20, 40)))
    assert wide.p == 40 and np.isfinite(wide.statistic)
    one = royston(x[:, :1])
    assert one.edf == 1.0 and one.pvalue == pytest.approx(stats.chi2.sf(one.statistic, 1))
    # a very non-normal column: z is near its largest possible value (~18 at n = 2000)
    spiky = np.column_stack([rng.standard_t(1, 2000) ** 3, rng.standard_normal(2000)])
    res = royston(spiky)
    assert res.z[0] > 17 and np.isfinite(res.statistic) and res.pvalue < 1e-60


def test_royston_constant_on_subsample_is_not_applicable(rng):
    x = rng.standard_normal((2100, 2))
    x[:, 1] = 0.0
    x[0, 1] = 1.0  # varies in the input, almost surely constant on 2000 of the rows
    assert 0 not in seeded_rows(2100, 2000, 1)  # seed 1 leaves the varying row out
    with pytest.raises(NotApplicableError, match="subsample"):
        royston(x, seed=1)


# ---------------------------------------------------------------- calibration (slow)


def _rates(func, n, d, reps, seed, df=None):
    rng = np.random.default_rng(seed)
    p = np.empty(reps)
    for i in range(reps):
        x = rng.standard_normal((n, d)) if df is None else _mvt(rng, n, d, df)
        p[i] = func(x).pvalue
    return float(np.mean(p <= ALPHA))


@pytest.mark.slow
@pytest.mark.parametrize("n,d", [(50, 2), (200, 5), (1000, 3)])
def test_doornik_hansen_type_one_error(n, d):
    reps = 3000
    rate = _rates(doornik_hansen, n, d, reps, seed=n + d)
    low, high = _band(reps)
    assert low <= rate <= high, f"DH n={n} d={d}: {rate:.4f} outside [{low:.4f}, {high:.4f}]"


@pytest.mark.slow
@pytest.mark.parametrize("n,d", [(50, 2), (200, 5), (1000, 3)])
def test_royston_type_one_error(n, d):
    reps = 3000
    low, high = _band(reps)
    # Royston 1983/1992 (W for every coordinate) holds its level
    rate = _rates(lambda x: royston(x, francia=False), n, d, reps, seed=n + d)
    assert low <= rate <= high, f"Royston n={n} d={d}: {rate:.4f} outside [{low:.4f}, {high:.4f}]"
    # R's MVN convention (W' where b2 > 3) is liberal: measured 6-7 % at alpha = 0.05
    mvn = _rates(royston, n, d, reps, seed=n + d)
    assert ALPHA < mvn < 0.085, f"MVN-convention rate {mvn:.4f}"


@pytest.mark.slow
@pytest.mark.parametrize("n,d", [(30, 2), (100, 3)])
def test_energy_type_one_error(n, d):
    # Every replicate shares one cached null sample, so the realised level is that sample's
    # (sd about sqrt(alpha (1 - alpha) / n_boot)); 999 replicates keep it within ~0.007 of alpha.
    reps = 1000
    rate = _rates(lambda x: energy_test(x, n_boot=999, seed=0), n, d, reps, seed=n)
    low, high = _band(reps)
    assert low <= rate <= high, f"energy n={n} d={d}: {rate:.4f} outside [{low:.4f}, {high:.4f}]"


@pytest.mark.slow
def test_power_on_heavy_tails():
    # multivariate t with 5 df, n = 200, d = 3
    assert _rates(doornik_hansen, 200, 3, 300, seed=1, df=5) > 0.8
    assert _rates(lambda x: royston(x, francia=False), 200, 3, 300, seed=2, df=5) > 0.8
    assert _rates(lambda x: energy_test(x, n_boot=199, seed=0), 200, 3, 200, seed=3, df=5) > 0.6
