"""Diagnosis rules: each fires on its departure and not on Gaussian data."""

import numpy as np
import pytest

from gaussaudit import audit
from gaussaudit.stats.diagnosis import diagnose


def codes(x, **kw):
    return {f.code for f in diagnose(x, **kw)}


@pytest.mark.parametrize("n", [200, 2000, 10000])
def test_gaussian_fires_nothing(n):
    rng = np.random.default_rng(n)
    assert codes(rng.standard_normal((n, 64)) @ rng.standard_normal((64, 64))) == set()


def test_heavy_tails():
    assert "heavy_tails" in codes(np.random.default_rng(1).standard_t(5, (3000, 16)))


def test_one_heavy_coordinate_among_many():
    x = np.random.default_rng(2).standard_normal((3000, 256))
    x[:, 3] = np.random.default_rng(3).standard_t(3, 3000)
    assert "heavy_tails" in codes(x)


def test_skew():
    assert "skew" in codes(np.random.default_rng(4).exponential(size=(3000, 16)))


def test_post_relu():
    found = diagnose(np.maximum(np.random.default_rng(5).standard_normal((3000, 16)), 0))
    relu = [f for f in found if f.code == "post_relu"]
    assert relu and "ReLU" in relu[0].message


def test_clusters():
    rng = np.random.default_rng(6)
    centres = np.zeros((10, 8))
    centres[:, 0] = 3.0 * np.arange(10)  # 10 clusters 3 sigma apart along one axis
    x = centres[rng.integers(0, 10, 3000)] + rng.standard_normal((3000, 8))
    assert "clusters" in codes(x)


def test_scale_mixture_via_norm_cv():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3000, 32)) * np.exp(0.5 * rng.standard_normal((3000, 1)))
    view = audit(x, views=("raw",), projections=8, subspaces=0).views["raw"]
    assert "scale_mixture" in {f.code for f in view.diagnosis}
    g = audit(rng.standard_normal((3000, 32)), views=("raw",), projections=8, subspaces=0)
    assert "scale_mixture" not in {f.code for f in g.views["raw"].diagnosis}


@pytest.mark.parametrize("grid", ["bfloat16", "float16"])
def test_quantised(grid):
    x = np.random.default_rng(8).standard_normal((2000, 16)).astype(np.float32)
    if grid == "bfloat16":
        x = (x.view(np.uint32) & np.uint32(0xFFFF0000)).view(np.float32)
    else:
        x = x.astype(np.float16).astype(np.float32)
    assert "quantised" in codes(x.astype(np.float64))
    assert "quantised" not in codes(np.random.default_rng(9).standard_normal((2000, 16)))


def test_finding_json_shape():
    f = diagnose(np.random.default_rng(10).standard_t(4, (3000, 8)))[0]
    assert set(f.to_dict()) == {"code", "message", "evidence"}


# ------------------------------------------------ clusters in several directions (issue 12)


def ten_clusters(n, seed, d=64):
    """10 Gaussian clusters with centres 3 sigma apart (benchmarks/power_table.py)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((10, d))
    centres *= 3.0 / np.sqrt(2.0) / np.linalg.norm(centres, axis=1, keepdims=True)
    return centres[rng.integers(0, 10, n)] + rng.standard_normal((n, d))


@pytest.mark.parametrize("view", ["raw", "normalized", "whitened", "zca"])
def test_clusters_fire_on_ten_clusters_three_sigma_apart_in_every_view(view):
    from gaussaudit.stats.views import make_view

    v = make_view(ten_clusters(5000, 0), view)
    found = {f.code: f for f in diagnose(v.matrix, leading=v.leading)}
    assert "clusters" in found
    assert found["clusters"].evidence["skewness_spread"] >= 3.0


def test_joint_skewness_rule_spares_one_skewed_factor_and_post_relu():
    rng = np.random.default_rng(11)
    f = np.exp(rng.standard_normal(5000))
    w = rng.standard_normal(64)
    factor = rng.standard_normal((5000, 64)) + np.outer((f - f.mean()) / f.std(), w / 8.0)
    assert "clusters" not in codes(factor)
    relu = np.maximum(rng.standard_normal((5000, 64)), 0.0)
    assert "clusters" not in codes(relu / np.linalg.norm(relu, axis=1, keepdims=True))


def test_subspace_shape_agrees_with_mardia_and_brute_force():
    from gaussaudit.stats.diagnosis import subspace_shape
    from gaussaudit.stats.multivariate import mardia

    rng = np.random.default_rng(12)
    y = np.column_stack([rng.exponential(size=800), rng.standard_normal(800)])
    y = y @ np.array([[1.0, 0.4], [0.3, 2.0]])
    shape = subspace_shape(y)
    m = mardia(y)  # an independent implementation of b1 and b2
    n, k = y.shape
    assert shape.b1 == pytest.approx(m.b1, rel=1e-10)
    b2_z = (m.b2 - k * (k + 2) * (n - 1) / (n + 1)) / np.sqrt(8 * k * (k + 2) / n)
    assert shape.kurtosis_z == pytest.approx(b2_z, rel=1e-9)
    # The most skewed direction, by brute force over the half circle of directions.
    c = y - y.mean(axis=0)
    z = c @ np.linalg.inv(np.linalg.cholesky(c.T @ c / n)).T
    angles = np.linspace(0.0, np.pi, 20001)
    u = np.column_stack([np.cos(angles), np.sin(angles)])
    proj = z @ u.T
    assert shape.max_direction_b1 == pytest.approx(np.max(np.mean(proj**3, axis=0) ** 2), rel=1e-6)
    assert shape.b1 >= shape.max_direction_b1


def test_diagnosis_ignores_a_column_the_constant_rule_drops():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((3000, 8))
    x[:, 2] = 1e-150 * rng.exponential(size=3000)  # skewed, but numerically constant
    assert codes(x) == set()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("n", "d", "reps"), [(200, 16, 20), (1000, 64, 20), (5000, 64, 20), (5000, 768, 10)]
)
def test_clusters_false_alarm_rate_on_gaussian_data(n, d, reps):
    """No rule fires on anisotropic Gaussian data, raw and zca views."""
    fired = []
    for rep in range(reps):
        rng = np.random.default_rng(1000 * d + rep)
        x = rng.standard_normal((n, d)) / np.sqrt(np.arange(1, d + 1))
        for view in ("raw", "zca"):
            from gaussaudit.stats.views import make_view

            v = make_view(x, view)
            fired += [f.code for f in diagnose(v.matrix, leading=v.leading, seed=rep)]
    assert fired == []
