"""A row subsample taken while loading gives the audit it would give after loading all."""

import numpy as np
import pytest

from gaussaudit.errors import InvalidEmbeddingsError
from gaussaudit.io import load_embeddings
from gaussaudit.stats import AuditConfig, audit
from gaussaudit.workflows import audit_file

FAST = {"projections": 8, "subspaces": 2, "subspace_dim": 3, "multivariate_max_rows": 300}


@pytest.fixture
def big(tmp_path, rng):
    x = rng.standard_t(8, size=(3000, 6)).astype(np.float32)
    path = tmp_path / "big.npy"
    np.save(path, x)
    np.save(tmp_path / "big.labels.npy", np.arange(3000))
    return path, x


def test_same_rows_and_numbers_as_subsampling_after_loading(big):
    path, x = big
    config = AuditConfig(max_samples=500, seed=3, views=("raw",), **FAST)
    es = load_embeddings(path, max_rows=500, seed=3, mmap_threshold_bytes=0)
    assert es.matrix.shape == (500, 6) and es.selection["rows"] == {
        "kept": 500,
        "of": 3000,
        "seed": 3,
    }
    rows = np.sort(np.random.default_rng(3).choice(3000, 500, replace=False))
    np.testing.assert_array_equal(es.labels, rows)  # labels follow their rows
    report = audit_file(path, config)
    reference = audit(x, config)
    assert report["input"]["n"] == 3000 and report["input"]["n_audited"] == 500
    assert "audited 500 of 3000 rows (seeded subsample, seed 3)" in report["notes"]
    ad = report["views"]["raw"]["coordinates"]["anderson_darling"]["statistics"]
    expected = reference.views["raw"].coordinates["anderson_darling"].statistics
    np.testing.assert_array_equal(ad, expected)


def test_nan_outside_the_subsample_is_still_an_error(big, tmp_path):
    _, x = big
    x = x.copy()
    rows = set(np.random.default_rng(0).choice(3000, 500, replace=False).tolist())
    outside = next(i for i in range(3000) if i not in rows)
    x[outside, 2] = np.nan
    path = tmp_path / "nan.npy"
    np.save(path, x)
    with pytest.raises(InvalidEmbeddingsError, match=f"first at row {outside}, column 2"):
        load_embeddings(path, max_rows=500, seed=0)


def test_omit_subsamples_among_finite_rows_like_the_audit(big, tmp_path):
    _, x = big
    x = x.copy()
    x[[5, 70, 900], 1] = np.inf
    path = tmp_path / "inf.npy"
    np.save(path, x)
    es = load_embeddings(path, nan_policy="omit", max_rows=400, seed=1)
    assert es.check.dropped_rows == 3 and es.selection["rows"]["of"] == 2997
    assert "dropped 3 row(s) holding 3 NaN/Inf value(s)" in es.check.notes
    full = load_embeddings(path, nan_policy="omit")
    picked = np.sort(np.random.default_rng(1).choice(2997, 400, replace=False))
    np.testing.assert_array_equal(es.matrix, full.matrix[picked])


def test_small_files_are_not_subsampled(big):
    path, _ = big
    es = load_embeddings(path, max_rows=5000)
    assert es.matrix.shape[0] == 3000 and "rows" not in es.selection
