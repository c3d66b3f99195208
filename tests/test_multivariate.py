import numpy as np
import pingouin
import pytest

from gaussaudit.errors import NotApplicableError
from gaussaudit.stats import covariance_problem, henze_zirkler, mardia, mardia_henze_zirkler
from gaussaudit.stats.multivariate import (
    _block_sums,
    _tensor_cube_sum,
    hz_null_moments,
    mahalanobis_whiten,
)
from tests.conftest import load_golden_data

MV_SETS = ["gauss_n50_d4", "mixed_n200_d5", "gauss_n15_d3", "heavy_n300_d3"]


@pytest.mark.parametrize("dataset", MV_SETS)
def test_mardia_against_r(r_golden, dataset):
    entry = r_golden["datasets"][dataset]
    ref = entry["mardia"]
    res = mardia(load_golden_data(entry), block_rows=16)
    assert res.b1 == pytest.approx(ref["g1p"], rel=1e-10)
    assert res.b2 == pytest.approx(ref["g2p"], rel=1e-10)
    assert res.small_sample_correction == ref["small_sample_correction"]
    assert res.skewness.statistic == pytest.approx(ref["skew_statistic"], rel=1e-10)
    assert res.skewness.pvalue == pytest.approx(ref["p_skew"], rel=1e-8, abs=1e-300)
    assert res.kurtosis.statistic == pytest.approx(ref["kurt_statistic"], rel=1e-10, abs=1e-12)
    assert res.kurtosis.pvalue == pytest.approx(ref["p_kurt"], rel=1e-8, abs=1e-300)


@pytest.mark.parametrize("dataset", MV_SETS)
def test_henze_zirkler_against_r_and_pingouin(r_golden, dataset):
    entry = r_golden["datasets"][dataset]
    ref = entry["henze_zirkler"]
    x = load_golden_data(entry)
    res = henze_zirkler(x, block_rows=16)
    assert res.statistic == pytest.approx(ref["statistic"], rel=1e-10)
    assert res.pvalue == pytest.approx(ref["p_value"], rel=1e-8, abs=1e-300)
    assert res.beta == pytest.approx(ref["beta"], rel=1e-12)
    assert res.null_mean == pytest.approx(ref["mu"], rel=1e-12)
    assert res.null_variance == pytest.approx(ref["si2"], rel=1e-10)
    pg = pingouin.multivariate_normality(x)
    assert res.statistic == pytest.approx(pg.hz, rel=1e-10)


@pytest.mark.parametrize("block_rows", [1, 7, 64, 5000])
def test_blockwise_equals_one_block(rng, block_rows):
    x = rng.standard_t(6, size=(301, 4))
    m, h = mardia_henze_zirkler(x, block_rows=block_rows)
    m_ref, h_ref = mardia_henze_zirkler(x, block_rows=10_000)
    assert m.b1 == pytest.approx(m_ref.b1, rel=1e-12)
    assert h.statistic == pytest.approx(h_ref.statistic, rel=1e-12)


@pytest.mark.parametrize("shape", [(301, 4), (3000, 9), (40, 7)])
def test_tensor_cube_sum_equals_blockwise_cubes(rng, shape):
    # Mardia's sum of cubed inner products: O(n p^3) tensor form (used when p^2 < n)
    # against the O(n^2 p) blockwise form (used otherwise), on the same whitened rows.
    y = mahalanobis_whiten(rng.standard_t(5, size=shape))
    by_blocks, _ = _block_sums(y, block_rows=97, skew=True, hz=False)
    assert _tensor_cube_sum(y) == pytest.approx(by_blocks, rel=1e-11)


def test_affine_invariance(rng):
    x = rng.standard_normal((400, 3))
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    m1, h1 = mardia_henze_zirkler(x)
    m2, h2 = mardia_henze_zirkler(x @ a + 5.0)
    assert m1.b1 == pytest.approx(m2.b1, rel=1e-8)
    assert h1.statistic == pytest.approx(h2.statistic, rel=1e-8)


def test_power_on_heavy_tails(rng):
    x = rng.standard_t(4, size=(2000, 3))
    m, h = mardia_henze_zirkler(x)
    assert m.kurtosis.pvalue < 1e-6 and h.pvalue < 1e-6


def test_d_greater_than_n_is_skipped_with_reason(rng):
    x = rng.standard_normal((20, 30))
    assert "d = 30 >= n = 20" in covariance_problem(x)
    with pytest.raises(NotApplicableError, match="singular"):
        henze_zirkler(x)


def test_duplicated_column_is_skipped_where_pingouin_says_p0(rng):
    x = rng.standard_normal((500, 4))
    x = np.column_stack([x, x[:, 0]])
    with pytest.raises(NotApplicableError, match="rank 4 < d = 5"):
        mardia(x)
    assert pingouin.multivariate_normality(x).pval == 0  # the anchor's silent failure


def test_ill_conditioned_covariance_is_skipped(rng):
    x = rng.standard_normal((500, 3))
    x[:, 2] = x[:, 0] + 3e-6 * x[:, 2]
    with pytest.raises(NotApplicableError, match="ill-conditioned"):
        henze_zirkler(x)


def test_high_dimension_henze_zirkler_degeneracy_detected(rng):
    # pingouin returns HZ = 1, p = 0.5 for Gaussian and heavy-tailed data alike here
    x = rng.standard_t(3, size=(2000, 256))
    pg = pingouin.multivariate_normality(x)
    assert pg.hz == pytest.approx(1.0) and pg.pval == pytest.approx(0.5, abs=0.01)
    with pytest.raises(NotApplicableError, match="degenerates"):
        henze_zirkler(x)
    _, _, var = hz_null_moments(2000, 256)
    assert var < 1e-20


def test_mardia_still_runs_in_moderate_dimension(rng):
    res = mardia(rng.standard_normal((3000, 20)))
    assert 0 < res.skewness.pvalue <= 1 and res.p == 20
