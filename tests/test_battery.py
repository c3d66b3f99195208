import numpy as np
import pytest

from gaussaudit import AuditConfig, audit
from gaussaudit.errors import InvalidEmbeddingsError, UnknownNameError, UsageError
from gaussaudit.stats import CoordinateTestResult, Skipped
from gaussaudit.stats.battery import parse_tests, parse_views

FAST = {"projections": 16, "subspaces": 4, "subspace_dim": 3, "multivariate_max_rows": 500}


def test_gaussian_passes_both_verdicts(rng):
    x = rng.standard_normal((3000, 32)) @ rng.standard_normal((32, 32))
    res = audit(x, views=("raw", "whitened"), **FAST)
    for view in res.views.values():
        assert view.verdict.paper_rule is True
        assert view.verdict.calibrated is True
    assert res.gaussian is True


def test_post_relu_fails_both_verdicts(rng):
    x = np.maximum(rng.standard_normal((3000, 32)), 0)
    res = audit(x, views=("raw",), **FAST)
    v = res.views["raw"].verdict
    assert v.paper_rule is False and v.calibrated is False and v.gaussian is False
    assert any("binomial quantile" in r for r in v.reasons)


def test_headline_verdict_follows_config(rng):
    x = rng.standard_normal((500, 8))
    res = audit(x, views=("raw",), verdict="calibrated", **FAST)
    assert res.views["raw"].verdict.gaussian == res.views["raw"].verdict.calibrated


def test_small_d_runs_full_view_multivariate(rng):
    res = audit(rng.standard_normal((400, 5)), views=("raw",), **FAST)
    mv = res.views["raw"].multivariate
    assert 0 < mv["mardia"].skewness.pvalue <= 1
    assert 0 < mv["henze_zirkler"].pvalue <= 1


def test_large_d_skips_full_view_with_reason_and_runs_subspaces(rng):
    res = audit(rng.standard_normal((400, 64)), views=("raw",), **FAST)
    view = res.views["raw"]
    assert isinstance(view.multivariate["mardia"], Skipped)
    assert "d = 64 > 10" in view.multivariate["henze_zirkler"].reason
    assert view.subspaces.n_subspaces == 5  # 4 random + the principal subspace
    assert np.all(np.isfinite(view.subspaces.henze_zirkler_pvalues))


def test_forced_full_view_on_singular_data_is_skipped(rng):
    x = rng.standard_normal((300, 6))
    x = np.column_stack([x, x[:, :2]])
    res = audit(x, views=("raw",), full_multivariate="always", **FAST)
    assert "rank" in res.views["raw"].multivariate["mardia"].reason
    res_pca = audit(x, views=("raw",), full_multivariate="always", pca=True, **FAST)
    assert res_pca.views["raw"].multivariate["mardia"].p == 6


def test_d_greater_than_n(rng):
    res = audit(rng.standard_normal((30, 50)), views=("raw", "whitened"), **FAST)
    raw = res.views["raw"]
    assert raw.coordinates["anderson_darling"].n_tested == 50
    assert res.views["whitened"].d == 29  # covariance rank n - 1


def test_constant_columns_listed_and_excluded(rng):
    x = rng.standard_normal((200, 6))
    x[:, [1, 4]] = 2.5
    res = audit(x, views=("raw",), **FAST)
    assert res.check.constant_columns == (1, 4)
    assert res.views["raw"].coordinates["anderson_darling"].n_tested == 4
    assert any("constant or numerically zero column" in n for n in res.notes)


def test_dp_skipped_below_20_rows(rng):
    res = audit(rng.standard_normal((12, 3)), views=("raw",), **FAST)
    dp = res.views["raw"].coordinates["dagostino_pearson"]
    assert isinstance(dp, Skipped) and "20 rows" in dp.reason
    assert res.views["raw"].verdict.paper_rule is None


def test_subsample_is_seeded_and_recorded(rng):
    x = rng.standard_normal((5000, 4))
    a = audit(x, views=("raw",), max_samples=1000, seed=3, **FAST)
    b = audit(x, views=("raw",), max_samples=1000, seed=3, **FAST)
    assert a.views["raw"].n == 1000 and a.n_input == 5000
    assert "1000 of 5000 rows" in a.notes[0]
    np.testing.assert_array_equal(
        a.views["raw"].coordinates["anderson_darling"].statistics,
        b.views["raw"].coordinates["anderson_darling"].statistics,
    )


def test_selected_tests_only(rng):
    res = audit(
        rng.standard_normal((300, 4)), views=("raw",), tests=("anderson_darling", "norms"), **FAST
    )
    view = res.views["raw"]
    assert set(view.coordinates) == {"anderson_darling"}
    assert view.multivariate == {} and view.subspaces is None and view.projections is None
    assert isinstance(view.coordinates["anderson_darling"], CoordinateTestResult)


def test_config_validation():
    with pytest.raises(UnknownNameError, match="Did you mean 'whitened'"):
        AuditConfig(views=("whitend",))
    with pytest.raises(UnknownNameError):
        AuditConfig(tests=("anderson",))
    with pytest.raises(UsageError):
        AuditConfig(alpha=1.5)
    assert parse_views("all") == ("raw", "normalized", "whitened")
    assert parse_tests("mardia,norms") == ("mardia", "norms")


def test_bad_input_errors(rng):
    with pytest.raises(InvalidEmbeddingsError, match="2 NaN"):
        x = rng.standard_normal((50, 3))
        x[4, 1] = np.nan
        x[7, 2] = np.inf
        audit(x)
    with pytest.raises(InvalidEmbeddingsError, match="2-D"):
        audit(np.zeros(10))
    with pytest.raises(InvalidEmbeddingsError, match="numeric"):
        audit(np.array([["a", "b"]] * 10))


def test_normalized_view_zero_row_is_clear(rng):
    x = rng.standard_normal((50, 3))
    x[3] = 0
    with pytest.raises(InvalidEmbeddingsError, match="row 3 is all zeros"):
        audit(x, views=("normalized",), **FAST)
