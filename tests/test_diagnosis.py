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
