import numpy as np
import pytest
from scipy import stats

from gaussaudit.stats import binomial_null_band, reject


def test_band_is_central_binomial_interval():
    band = binomial_null_band(768, 0.95, coverage=0.99)
    assert band.low == stats.binom.ppf(0.005, 768, 0.95) / 768
    assert band.high == stats.binom.ppf(0.995, 768, 0.95) / 768
    assert band.contains(0.95) and not band.contains(0.90)


def test_band_coverage_by_simulation():
    rng = np.random.default_rng(1)
    band = binomial_null_band(256, 0.95)
    draws = rng.binomial(256, 0.95, size=20_000) / 256
    inside = np.mean((draws >= band.low) & (draws <= band.high))
    assert inside >= 0.99


def test_empty_band():
    assert np.isnan(binomial_null_band(0, 0.95).low)


def test_reject_ignores_nan():
    p = np.array([1e-6, np.nan, 0.5, 0.01])
    assert reject(p, 0.05, method="holm").tolist() == [True, False, False, True]
    with pytest.raises(ValueError):
        reject(p, 0.05, method="no-such-method")
