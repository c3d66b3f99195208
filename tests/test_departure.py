"""Departure measure: exact W1, bias correction, interval, margin."""

import numpy as np
import pytest
from scipy import stats

from gaussaudit import audit
from gaussaudit.stats.departure import DEFAULT_MARGIN, departure, null_w1, wasserstein_normal


def test_w1_matches_scipy_on_a_fine_grid():
    z = np.random.default_rng(1).standard_normal((40, 1)) ** 3
    zz = (z - z.mean()) / z.std()
    grid = stats.norm.ppf((np.arange(400_000) + 0.5) / 400_000)
    assert wasserstein_normal(z)[0] == pytest.approx(
        stats.wasserstein_distance(zz[:, 0], grid), rel=1e-4
    )


def test_w1_is_scale_and_shift_free():
    z = np.random.default_rng(2).standard_normal((500, 3))
    assert np.allclose(wasserstein_normal(z), wasserstein_normal(5.0 + 1e3 * z))


def test_null_expectation_shrinks_like_root_n():
    m200, _ = null_w1(200)
    m2000, _ = null_w1(2000)
    assert m200 / m2000 == pytest.approx(np.sqrt(10), rel=0.25)


@pytest.mark.parametrize("n", [200, 2000, 10000])
def test_gaussian_is_within_the_margin_at_every_n(n):
    dep = departure(np.random.default_rng(n).standard_normal((n, 32)))
    assert dep.value < 0.005 and dep.ci_high < DEFAULT_MARGIN
    assert dep.within_margin is True


def test_t10_and_relu_outside_t200_inside():
    rng = np.random.default_rng(4)
    assert departure(rng.standard_t(10, (4000, 32))).within_margin is False
    assert departure(np.maximum(rng.standard_normal((4000, 32)), 0)).within_margin is False
    assert departure(rng.standard_t(200, (4000, 32))).within_margin is True


def test_value_does_not_grow_with_n():
    rng = np.random.default_rng(5)
    small = departure(rng.standard_t(10, (2000, 32))).value
    large = departure(rng.standard_t(10, (20000, 32))).value
    assert large == pytest.approx(small, abs=0.01)


def test_json_shape_and_significant_but_negligible():
    rng = np.random.default_rng(6)
    x = rng.standard_t(60, (20000, 8))
    view = audit(x, views=("raw",), projections=16, subspaces=0).views["raw"]
    d = view.departure.to_dict()
    assert {"measure", "value", "ci_low", "ci_high", "margin"} <= set(d)
    assert d["measure"] == "mean_w1"
    assert view.verdict.practically_gaussian is True
    assert view.verdict.to_dict()["practically_gaussian"] is True
    assert any(r.startswith("practical: negligible") for r in view.verdict.reasons)


def test_margin_setting_reaches_the_verdict():
    x = np.random.default_rng(7).standard_t(10, (3000, 8))
    strict = audit(x, views=("raw",), projections=8, subspaces=0, margin=0.01)
    loose = audit(x, views=("raw",), projections=8, subspaces=0, margin=0.2)
    assert strict.views["raw"].verdict.practically_gaussian is False
    assert loose.views["raw"].verdict.practically_gaussian is True
