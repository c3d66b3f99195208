"""Sphere-aware reference for rows of constant norm."""

import numpy as np
import pytest

from gaussaudit import audit
from gaussaudit.stats.sphere import near_constant_norm, sphere_reference


def unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("d", [3, 8, 32])
def test_uniform_sphere_is_consistent_with_exact_beta(d):
    res = sphere_reference(unit(np.random.default_rng(d).standard_normal((4000, d))))
    assert res.reference.startswith("uniform sphere") and res.consistent


def test_a_cone_is_a_normalised_gaussian_with_a_mean():
    # a shifted Gaussian, normalised, is what the simulated reference describes
    rng = np.random.default_rng(1)
    u = unit(rng.standard_normal((4000, 8)) + np.array([0.6] + [0] * 7))
    res = sphere_reference(u)
    assert res.reference.startswith("normalised Gaussian") and res.consistent


def test_uniform_on_a_cube_surface_is_not_a_normalised_gaussian():
    rng = np.random.default_rng(11)
    u = unit(rng.uniform(-1, 1, (4000, 3)))
    assert not sphere_reference(u).consistent


def test_anisotropic_normalised_gaussian_is_consistent_by_simulation():
    rng = np.random.default_rng(2)
    u = unit(rng.standard_normal((3000, 8)) * np.linspace(0.5, 2.0, 8))
    res = sphere_reference(u)
    assert res.reference.startswith("normalised Gaussian") and res.consistent


def test_normalised_t3_is_not_a_normalised_gaussian():
    # rows of constant norm whose directions are not those of a Gaussian
    rng = np.random.default_rng(3)
    u = unit(rng.standard_t(2, (4000, 4)))
    assert not sphere_reference(u).consistent


def test_normalized_view_reports_sphere_json_shape():
    x = np.random.default_rng(4).standard_normal((2000, 8))
    res = audit(x, views=("raw", "normalized"), projections=16, subspaces=0)
    assert res.views["raw"].sphere is None  # norms spread: not asked
    s = res.views["normalized"].sphere
    assert set(s.to_dict()) >= {"statistic", "pvalue", "consistent"}
    assert s.consistent
    assert near_constant_norm(np.full(5, 2.0))


def test_sphere_setting_forces_and_disables():
    x = np.random.default_rng(5).standard_normal((500, 4))
    assert (
        audit(x, views=("raw",), projections=8, subspaces=0, sphere=True).views["raw"].sphere
        is not None
    )
    assert (
        audit(x, views=("normalized",), projections=8, subspaces=0, sphere=False)
        .views["normalized"]
        .sphere
        is None
    )
