import numpy as np
import pytest
from scipy import stats

from gaussaudit.stats import cv_isotropic_gaussian, effective_dimension, norm_concentration
from gaussaudit.stats.norms import chi_mean


@pytest.mark.parametrize(
    ("d", "cv", "mean"),
    # PAPER.md §5.6
    [(32, 0.1255, 5.613), (64, 0.0886, 7.969), (256, 0.0442, 15.984), (1024, 0.0221, 31.992)],
)
def test_isotropic_reference_matches_chi_distribution(d, cv, mean):
    assert cv_isotropic_gaussian(d) == pytest.approx(stats.chi(d).std() / stats.chi(d).mean())
    assert cv_isotropic_gaussian(d) == pytest.approx(cv, abs=5e-5)
    assert chi_mean(d) == pytest.approx(mean, abs=5e-4)


def test_norm_statistics_match_numpy(rng):
    x = rng.standard_normal((3000, 64)) * 2.0 + 0.3
    res = norm_concentration(x)
    norms = np.linalg.norm(x, axis=1)
    assert res.mean == pytest.approx(norms.mean(), rel=1e-12)
    assert res.std == pytest.approx(norms.std(ddof=0), rel=1e-10)
    assert res.cv == pytest.approx(norms.std() / norms.mean(), rel=1e-10)
    np.testing.assert_allclose(res.norms, norms, rtol=1e-12)


def test_matched_gaussian_cv_agrees_with_monte_carlo(rng):
    scales = np.linspace(0.1, 3.0, 48)
    x = rng.standard_normal((50_000, 48)) * scales + 0.4
    res = norm_concentration(x)
    assert res.cv_matched_gaussian == pytest.approx(res.cv, rel=0.03)
    assert res.effective_dimension == pytest.approx(
        scales.__pow__(2).sum() ** 2 / scales.__pow__(4).sum(), rel=0.03
    )


def test_effective_dimension_and_rank_of_isotropic_data(rng):
    res = norm_concentration(rng.standard_normal((20_000, 32)))
    assert res.effective_dimension == pytest.approx(32, rel=0.01)
    assert res.effective_rank == pytest.approx(32, rel=0.01)
    assert effective_dimension(np.array([1.0, 0, 0])) == 1.0


def test_thin_shell_vs_scale_mixture(rng):
    g = rng.standard_normal((5000, 128))
    mixture = g * rng.exponential(size=(5000, 1))
    assert norm_concentration(g).cv < 0.1 < norm_concentration(mixture).cv


def test_d_greater_than_n_and_huge_values(rng):
    x = rng.standard_normal((50, 200)) * 1e200
    res = norm_concentration(x)
    assert np.isfinite(res.cv) and np.isfinite(res.effective_dimension)
    assert res.effective_dimension <= 50


@pytest.mark.parametrize("scale", [2.0**300, 2.0**-300])
def test_extreme_magnitudes_give_the_same_summary(rng, scale):
    x = rng.standard_normal((300, 20)) + 0.5
    base, far = norm_concentration(x), norm_concentration(x * scale)
    assert far.cv == base.cv  # rescaling by a power of two is exact
    assert far.mean == base.mean * scale
    assert far.effective_dimension == pytest.approx(base.effective_dimension, rel=1e-12)
    assert far.cv_matched_gaussian == pytest.approx(base.cv_matched_gaussian, rel=1e-12)
