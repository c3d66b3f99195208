import numpy as np
import pytest

from gaussaudit.errors import InvalidEmbeddingsError, UsageError
from gaussaudit.stats.epps_pulley import epps_pulley
from gaussaudit.stats.projections import (
    projection_tests,
    random_directions,
    random_orthonormal_frames,
)
from gaussaudit.stats.results import CoordinateTestResult, ProjectionResult, Skipped
from gaussaudit.stats.univariate import anderson_darling, dagostino_pearson

TEST_NAMES = {"anderson_darling", "dagostino_pearson", "epps_pulley"}


def test_directions_unit_norm_and_seeded():
    u = random_directions(50, 16, seed=3)
    assert u.shape == (50, 16)
    np.testing.assert_allclose(np.linalg.norm(u, axis=0), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(u, random_directions(50, 16, seed=3))
    assert not np.allclose(u, random_directions(50, 16, seed=4))
    g = np.random.default_rng(3).standard_normal((50, 16))
    np.testing.assert_allclose(u, g / np.linalg.norm(g, axis=0))


def test_directions_one_dimension():
    u = random_directions(1, 5, seed=0)
    np.testing.assert_array_equal(np.abs(u), 1.0)


@pytest.mark.parametrize(("d", "n_proj"), [(0, 3), (3, 0), (2.5, 3), (True, 3)])
def test_directions_reject_bad_sizes(d, n_proj):
    with pytest.raises(UsageError):
        random_directions(d, n_proj, seed=0)


def test_frames_orthonormal_and_seeded():
    f = random_orthonormal_frames(20, 4, 7, seed=5)
    assert f.shape == (7, 20, 4)
    gram = np.einsum("fdi,fdj->fij", f, f)
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(4), gram.shape), atol=1e-13)
    np.testing.assert_array_equal(f, random_orthonormal_frames(20, 4, 7, seed=5))
    assert not np.allclose(f, random_orthonormal_frames(20, 4, 7, seed=6))
    square = random_orthonormal_frames(3, 3, 2, seed=0)
    np.testing.assert_allclose(
        square @ square.transpose(0, 2, 1), np.broadcast_to(np.eye(3), (2, 3, 3)), atol=1e-14
    )


def test_frames_are_haar_distributed():
    # First column of a Haar frame is uniform on the sphere: E[u_1^2] = 1/d and
    # the sign fix makes the first coordinate symmetric (no LAPACK sign bias).
    f = random_orthonormal_frames(5, 2, 20_000, seed=1)
    first = f[:, 0, 0]
    assert np.mean(first**2) == pytest.approx(1 / 5, abs=0.01)
    assert abs(np.mean(first > 0) - 0.5) < 0.02
    assert abs(np.mean(f[:, :, 1] ** 2) - 1 / 5) < 0.01


def test_frames_reject_k_above_d():
    with pytest.raises(UsageError):
        random_orthonormal_frames(3, 4, 1, seed=0)


def test_projection_tests_structure_and_reproducibility():
    x = np.random.default_rng(0).standard_normal((300, 40)) * 3.0 + 1.0
    res = projection_tests(x, n_projections=16, seed=9)
    assert isinstance(res, ProjectionResult)
    assert (res.n_projections, res.seed) == (16, 9)
    np.testing.assert_array_equal(res.directions, random_directions(40, 16, seed=9))
    assert set(res.tests) == TEST_NAMES
    projected = (x - x.mean(axis=0)) @ res.directions
    for name, fn in [
        ("anderson_darling", anderson_darling),
        ("dagostino_pearson", dagostino_pearson),
        ("epps_pulley", epps_pulley),
    ]:
        got = res.tests[name]
        assert isinstance(got, CoordinateTestResult) and got.d == 16
        np.testing.assert_allclose(got.statistics, fn(projected).statistics, rtol=1e-12)
    again = projection_tests(x, n_projections=16, seed=9)
    np.testing.assert_array_equal(
        again.tests["epps_pulley"].pvalues, res.tests["epps_pulley"].pvalues
    )


def test_projection_tests_gaussian_passes():
    x = np.random.default_rng(1).standard_normal((2000, 256))
    res = projection_tests(x, n_projections=128, seed=0)
    for name in TEST_NAMES:
        test = res.tests[name]
        assert test.n_tested == 128
        assert abs(test.pass_fraction(0.05) - test.expected_pass_fraction(0.05)) < 0.08, name


def test_projection_tests_exponential_fails():
    x = np.random.default_rng(2).exponential(size=(5000, 8))
    res = projection_tests(x, n_projections=64, seed=1)
    for name in TEST_NAMES:
        assert res.tests[name].pass_fraction(0.05) < 0.1, name


def test_projection_tests_few_rows_skip_dagostino():
    x = np.random.default_rng(3).standard_normal((12, 5))
    res = projection_tests(x, n_projections=4, seed=0)
    skipped = res.tests["dagostino_pearson"]
    assert isinstance(skipped, Skipped) and skipped.test == "dagostino_pearson"
    assert "20" in skipped.reason
    assert res.tests["epps_pulley"].n_tested == 4


def test_projection_tests_validation():
    x = np.random.default_rng(4).standard_normal((200, 6))
    strict = projection_tests(x, n_projections=16, seed=0, threshold=0.0)
    assert strict.tests["anderson_darling"].pass_fraction() == 0.0
    with pytest.raises(UsageError):
        projection_tests(np.ones((30, 3)), n_projections=0)
    with pytest.raises(InvalidEmbeddingsError):
        projection_tests(np.ones((4, 3)))


def test_projection_tests_constant_data():
    res = projection_tests(np.full((30, 3), 2.0), n_projections=5, seed=0)
    assert res.tests["epps_pulley"].n_tested == 0
