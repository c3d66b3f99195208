"""Validation happens once: ValidatedMatrix is accepted everywhere and never rescanned."""

import numpy as np
import pytest

from gaussaudit.errors import InvalidEmbeddingsError
from gaussaudit.stats import (
    ValidatedMatrix,
    _validation,
    anderson_darling,
    audit,
    dagostino_pearson,
    jarque_bera,
    mardia_henze_zirkler,
    norm_concentration,
    validate,
)
from gaussaudit.stats.projections import projection_tests
from gaussaudit.stats.univariate import anderson_darling_dagostino_pearson


@pytest.fixture
def x(rng):
    data = rng.standard_normal((300, 6))
    data[:, 2] = 1.5  # a constant column
    return data


def test_validate_records_scale_and_constant_columns(x):
    valid = validate(x.astype(np.float32))
    assert valid.values.dtype == np.float64 and valid.values.flags.c_contiguous
    assert valid.check.constant_columns == (2,)
    assert valid.check.input_dtype == "float32"
    np.testing.assert_allclose(
        valid.column_scale, np.max(np.abs(valid.values), axis=0), rtol=0, atol=0
    )
    assert valid.shape == x.shape
    np.testing.assert_array_equal(np.asarray(valid), valid.values)


def test_validated_matrix_passes_through_untouched(x):
    valid = validate(x)
    assert validate(valid) is valid
    with pytest.raises(InvalidEmbeddingsError, match="at least 500"):
        validate(valid, min_rows=500)


@pytest.mark.parametrize(
    "func",
    [anderson_darling, dagostino_pearson, jarque_bera, norm_concentration, projection_tests],
)
def test_statistics_accept_validated_matrix_with_identical_results(x, func):
    plain, pre = func(x), func(validate(x))
    for field in ("statistics", "pvalues", "norms"):
        if hasattr(plain, field):
            np.testing.assert_array_equal(getattr(plain, field), getattr(pre, field))
    if hasattr(plain, "tests"):
        for name, res in plain.tests.items():
            np.testing.assert_array_equal(res.statistics, pre.tests[name].statistics)


def test_statistics_do_not_rescan_a_validated_matrix(x, monkeypatch):
    valid = validate(x)
    calls = []
    original = _validation._constant_from_range
    monkeypatch.setattr(
        _validation,
        "_constant_from_range",
        lambda *a, **k: calls.append(1) or original(*a, **k),
    )
    anderson_darling_dagostino_pearson(valid)
    jarque_bera(valid)
    norm_concentration(valid)
    assert calls == []
    anderson_darling(x)  # a plain array is validated
    assert calls == [1]


@pytest.fixture
def validations(monkeypatch):
    """Shapes of the plain arrays the statistics validate (ValidatedMatrix passes through)."""
    calls = []
    original = _validation.validate

    def counting(values, **kwargs):
        if not isinstance(values, ValidatedMatrix):
            calls.append(values.shape)
        return original(values, **kwargs)

    for module in ("battery", "univariate", "norms", "projections", "multivariate"):
        monkeypatch.setattr(f"gaussaudit.stats.{module}.validate", counting, raising=False)
    return calls


def test_audit_validates_each_view_once(rng, validations):
    data = rng.standard_normal((400, 12))
    audit(
        data,
        views=("raw", "normalized"),
        tests=("anderson_darling", "dagostino_pearson", "jarque_bera", "norms"),
    )
    assert validations == [(400, 12), (400, 12)]  # the input once, the normalized view once


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_found_without_a_full_scan_on_clean_data(x, bad):
    dirty = x.copy()
    dirty[123, 4] = bad
    with pytest.raises(
        InvalidEmbeddingsError, match=r"1 NaN/Inf value\(s\), first at row 123, column 4"
    ):
        validate(dirty)
    kept = validate(dirty, nan_policy="omit")
    assert kept.check.dropped_rows == 1 and kept.shape == (299, 6)
    np.testing.assert_array_equal(kept.column_scale, np.max(np.abs(kept.values), axis=0))


@pytest.mark.parametrize("scale", [2.0**600, 2.0**-600])
def test_multivariate_is_scale_free_at_extreme_magnitudes(rng, scale):
    data = rng.standard_normal((200, 4)) @ rng.standard_normal((4, 4))
    m0, h0 = mardia_henze_zirkler(data)
    m1, h1 = mardia_henze_zirkler(data * scale)
    assert m1.b1 == pytest.approx(m0.b1, rel=1e-9)
    assert m1.b2 == pytest.approx(m0.b2, rel=1e-9)
    assert h1.statistic == pytest.approx(h0.statistic, rel=1e-9)


def test_dead_dimension_is_treated_as_constant(rng):
    # all-MiniLM-L6-v2 has two coordinates whose values stay below 1e-31 while the
    # others are near 0.1: rounding residue, not a feature to test for normality.
    x = rng.standard_normal((500, 5)) * 0.1
    x[:, 3] = rng.standard_normal(500) * 1e-32
    valid = validate(x)
    assert valid.check.constant_columns == (3,)
    assert "numerically zero" in valid.check.notes[0]
    res = anderson_darling(valid)
    np.testing.assert_array_equal(res.columns, [0, 1, 2, 4])
    tiny = validate(x * 1e-200)  # the rule is relative: a uniformly tiny matrix is fine
    assert tiny.check.constant_columns == (3,)
    x[:3, 0] = 1e30  # one column of huge outliers does not make the others dead
    assert validate(x).check.constant_columns == (3,)


def test_audit_reuses_the_validation_done_on_loading(tmp_path, rng, validations):
    from gaussaudit.io import load_embeddings

    path = tmp_path / "emb.npy"
    np.save(path, rng.standard_normal((300, 10)))
    embeddings = load_embeddings(path)
    assert embeddings.validated.values is embeddings.matrix
    audit(embeddings, views=("raw",), tests=("anderson_darling", "dagostino_pearson", "norms"))
    assert validations == []


def test_covariance_overflow_in_blas_is_rescaled_silently(rng):
    # t(6) data times 2**600: the covariance product overflows and BLAS also flags
    # an invalid operation; both are detected on the result and the rows rescaled.
    x = rng.standard_t(6, (600, 20))
    with np.errstate(all="raise"):
        base = mardia_henze_zirkler(x)[1].statistic
    far = mardia_henze_zirkler(x * 2.0**600)[1].statistic
    assert far == pytest.approx(base, rel=1e-9)


@pytest.mark.parametrize("scale", [2.0**600, 2.0**-600])
def test_subspace_tests_are_scale_free_at_extreme_magnitudes(rng, scale):
    from gaussaudit.stats import subspace_tests

    x = rng.standard_t(6, (600, 20))
    base, far = subspace_tests(x, n_subspaces=4), subspace_tests(x * scale, n_subspaces=4)
    np.testing.assert_allclose(far.henze_zirkler_pvalues, base.henze_zirkler_pvalues, atol=1e-12)
    np.testing.assert_allclose(
        far.mardia_kurtosis_pvalues, base.mardia_kurtosis_pvalues, atol=1e-12
    )
