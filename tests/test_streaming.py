"""The streaming engine equals the in-memory kernels, whatever the block sizes."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaussaudit.errors import InvalidEmbeddingsError, NotApplicableError, UsageError
from gaussaudit.stats import (
    audit,
    jarque_bera,
    mardia_henze_zirkler,
    norm_concentration,
    validate,
)
from gaussaudit.stats.config import AuditConfig
from gaussaudit.stats.engines import (
    ArraySource,
    NpyFileSource,
    audit_stream,
    epps_pulley_stream,
    mardia_henze_zirkler_stream,
    open_npy,
)
from gaussaudit.stats.engines.numpy_engine import column_moments
from gaussaudit.stats.engines.partials import ColumnMoments, CoMoments, merge_all
from gaussaudit.stats.epps_pulley import epps_pulley
from gaussaudit.stats.results import CoordinateTestResult, Skipped
from gaussaudit.stats.shapiro_lilliefors import lilliefors, shapiro_wilk
from gaussaudit.stats.univariate import anderson_darling, dagostino_pearson, moments

RTOL = 1e-10


def close(a, b, rtol: float = RTOL, atol: float = 0.0) -> None:
    """Assert equality to ``rtol`` relative (NaN equal to NaN)."""
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=atol)


def mixed(n: int = 400, d: int = 6, seed: int = 0, dtype=np.float64) -> np.ndarray:
    """Gaussian, heavy-tailed, skewed and offset columns."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    x[:, 1] = rng.standard_t(3, n)
    x[:, 2] = rng.exponential(size=n)
    if d > 3:
        x[:, 3] = 50.0 + 3.0 * x[:, 3]
    return x.astype(dtype)


def stream_coords(x, tests, **kw) -> dict:
    cfg = AuditConfig(tests=tests, projections=0, subspaces=0)
    return audit_stream(ArraySource(x), cfg, **kw).views["raw"].coordinates


def same_coordinate(a: CoordinateTestResult, b: CoordinateTestResult, rtol=RTOL) -> None:
    assert a.test == b.test
    np.testing.assert_array_equal(a.columns, b.columns)
    close(a.statistics, b.statistics, rtol)
    close(a.pvalues, b.pvalues, rtol, atol=1e-300)
    assert (a.n, a.n_input, a.d, a.method, a.threshold, a.seed, a.notes) == (
        b.n, b.n_input, b.d, b.method, b.threshold, b.seed, b.notes,
    )  # fmt: skip
    assert a.extra.keys() == b.extra.keys()
    for key in a.extra:
        close(a.extra[key], b.extra[key], rtol)


BLOCKS = [1, 7, 64, 399, 400, 10_000]  # one row, ragged, exact, larger than n


# ----------------------------------------------------------------------------- moments
@pytest.mark.parametrize("block_rows", BLOCKS)
def test_dagostino_pearson_and_jarque_bera_equal_in_memory(block_rows):
    x = mixed()
    got = stream_coords(x, "dagostino_pearson,jarque_bera", block_rows=block_rows)
    same_coordinate(got["dagostino_pearson"], dagostino_pearson(x))
    same_coordinate(got["jarque_bera"], jarque_bera(x))


@settings(max_examples=30, deadline=None)
@given(cuts=st.lists(st.integers(1, 299), max_size=12, unique=True))
def test_moment_merge_is_exact_for_any_split(cuts):
    x = mixed(300, 4, seed=3)
    pieces = np.split(x, sorted(cuts))
    merged = merge_all(ColumnMoments.of(p) for p in pieces)
    g1, g2 = merged.skewness_kurtosis()
    e1, e2 = moments(x)
    close(g1, e1)
    close(g2, e2)
    close(merged.mean, x.mean(axis=0), 1e-13)


def test_moments_keep_precision_far_from_zero():
    """Centred merging: 1e6 + z keeps the shape of z (raw power sums would not)."""
    z = mixed(2000, 4, seed=5)
    x = 1e6 + z
    g1, g2 = column_moments(x, block_rows=33).skewness_kurtosis()
    e1, e2 = moments(z)
    close(g1, e1, 0, atol=1e-6)
    close(g2, e2, 0, atol=1e-6)
    # what raw power sums give, for contrast: m2 from E[x^2] - E[x]^2 is rounding noise
    raw_m2 = np.mean(x * x, axis=0) - np.mean(x, axis=0) ** 2
    assert np.max(np.abs(raw_m2 / z.var(axis=0) - 1)) > 1e-4


def test_covariance_merge_equals_numpy():
    x = mixed(300, 5, seed=2)
    merged = merge_all(CoMoments.of(p) for p in np.array_split(x, 17))
    close(merged.covariance(), np.cov(x.T, ddof=0), 1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- sorted tests
@pytest.mark.parametrize(("block_rows", "col_block"), [(1, 1), (7, 2), (64, 4), (10_000, 128)])
def test_sorted_tests_equal_in_memory(block_rows, col_block):
    x = mixed(dtype=np.float32)
    got = stream_coords(
        x, "anderson_darling,shapiro_wilk,lilliefors", block_rows=block_rows, col_block=col_block
    )
    same_coordinate(got["anderson_darling"], anderson_darling(x))
    same_coordinate(got["shapiro_wilk"], shapiro_wilk(x))
    same_coordinate(got["lilliefors"], lilliefors(x))


def test_shapiro_wilk_subsample_and_constant_columns_follow_the_kernel():
    x = mixed(5100, 5, seed=4)
    x[:, 0] = 2.0  # constant
    x[:5050, 4] = 1.0  # constant on most rows: flat on the subsample?
    got = stream_coords(x, "shapiro_wilk", col_block=2)["shapiro_wilk"]
    same_coordinate(got, shapiro_wilk(x))


def test_column_gathering_in_several_passes():
    x = mixed(300, 9, seed=6, dtype=np.float32)
    src = ArraySource(x, column_buffer_bytes=300 * 4 * 3)  # 3 columns per pass
    seen = [(cols.tolist(), b.dtype) for cols, b in src.iter_columns(2)]
    assert [c for c, _ in seen] == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    assert {dt for _, dt in seen} == {np.dtype(np.float64)}
    for cols, block in src.iter_columns(2):
        np.testing.assert_array_equal(block, x[:, cols].astype(np.float64))


# ----------------------------------------------------------------------------- norms
@pytest.mark.parametrize("block_rows", BLOCKS)
def test_norms_equal_in_memory(block_rows):
    x = mixed(dtype=np.float32)
    cfg = AuditConfig(tests="norms", projections=0, subspaces=0)
    got = audit_stream(x, cfg, block_rows=block_rows).views["raw"].norms
    want = norm_concentration(x)
    for key in ("mean", "std", "cv", "cv_matched_gaussian", "effective_dimension"):
        close(getattr(got, key), getattr(want, key))
    close(got.effective_rank, want.effective_rank, 1e-9)  # log of small eigenvalues
    assert got.cv_isotropic_gaussian == want.cv_isotropic_gaussian
    close(got.norms, want.norms, 1e-13)


def test_norms_of_extreme_values_are_rescaled_like_in_memory():
    x = mixed(200, 4) * 1e250
    got = audit_stream(x, tests="norms", projections=0, subspaces=0, block_rows=9).views["raw"]
    want = norm_concentration(x)
    close(got.norms.cv, want.cv)
    close(got.norms.mean, want.mean)
    close(got.norms.effective_dimension, want.effective_dimension)


# ----------------------------------------------------------------------------- Gram tiles
@pytest.mark.parametrize(
    ("n", "p", "block_rows", "outer_rows"),
    [(120, 3, 1, 1), (120, 3, 7, 20), (150, 13, 16, 40), (150, 13, 1000, 1000), (90, 13, 1, 5)],
)
def test_mardia_and_henze_zirkler_equal_in_memory(n, p, block_rows, outer_rows):
    """Tensor path (p^2 < n) and Gram-tile cube path (p^2 >= n), any tiling."""
    x = mixed(n, p, seed=p)
    m, h = mardia_henze_zirkler_stream(x, block_rows=block_rows, outer_rows=outer_rows, workers=1)
    em, eh = mardia_henze_zirkler(x)
    for key in ("b1", "b2"):
        close(getattr(m, key), getattr(em, key))
    close(m.skewness.statistic, em.skewness.statistic)
    close(m.kurtosis.statistic, em.kurtosis.statistic)
    close(m.skewness.pvalue, em.skewness.pvalue, 1e-9, atol=1e-300)
    close(m.kurtosis.pvalue, em.kurtosis.pvalue, 1e-9, atol=1e-300)
    close(h.statistic, eh.statistic)
    close(h.pvalue, eh.pvalue, 1e-9, atol=1e-300)
    assert (m.n, m.p, h.beta) == (em.n, em.p, eh.beta)


def test_gram_stream_refuses_what_memory_refuses():
    x = mixed(100, 4)
    x[:, 3] = x[:, 2]  # rank-deficient
    with pytest.raises(NotApplicableError, match="rank"):
        mardia_henze_zirkler_stream(x)
    with pytest.raises(NotApplicableError, match="degenerates"):
        mardia_henze_zirkler_stream(np.random.default_rng(0).standard_normal((300, 256)))


# ----------------------------------------------------------------------------- Epps-Pulley
@pytest.mark.parametrize("block_rows", [1, 13, 600, 5000])
def test_epps_pulley_equals_in_memory(block_rows):
    x = mixed(600, 5, seed=8)
    x[:, 4] = np.random.default_rng(1).standard_t(2, 600)  # many |z| > 4 tail points
    got = epps_pulley_stream(x, block_rows=block_rows, workers=2)
    want = epps_pulley(x)
    same_coordinate(got, want)


# ----------------------------------------------------------------------------- audit_stream
def same_audit(a, b, rtol=RTOL, view="raw") -> None:
    """Every number of one view (raw by default) of two AuditResults agrees."""
    va, vb = a.views[view], b.views[view]
    assert (va.n, va.d, va.notes) == (vb.n, vb.d, vb.notes)
    assert a.check == b.check and a.n_input == b.n_input and a.notes == b.notes
    # The streaming engine decides the paper and calibrated verdicts as audit() does;
    # departure, diagnosis and the practical verdict are not computed there yet.
    for flag in ("gaussian", "paper_rule", "calibrated"):
        assert getattr(va.verdict, flag) == getattr(vb.verdict, flag)
    assert list(va.coordinates) == list(vb.coordinates)
    for key in va.coordinates:
        ca, cb = va.coordinates[key], vb.coordinates[key]
        if isinstance(ca, Skipped):
            assert ca == cb
        else:
            same_coordinate(ca, cb, rtol)
    if va.norms is not None:
        close(va.norms.cv, vb.norms.cv, rtol, atol=1e-14)  # normalized view: cv is rounding
        close(va.norms.effective_dimension, vb.norms.effective_dimension, rtol)
    assert list(va.multivariate) == list(vb.multivariate)
    for key, ra in va.multivariate.items():
        rb = vb.multivariate[key]
        if isinstance(ra, Skipped):
            assert ra == rb
        else:
            close(list(ra) and [ra.statistic if key == "henze_zirkler" else ra.b1],
                  [rb.statistic if key == "henze_zirkler" else rb.b1], rtol)  # fmt: skip
    if va.subspaces is not None and not isinstance(va.subspaces, Skipped):
        close(va.subspaces.henze_zirkler_pvalues, vb.subspaces.henze_zirkler_pvalues, rtol)
        close(va.subspaces.mardia_skewness_pvalues, vb.subspaces.mardia_skewness_pvalues, rtol)
    else:
        assert va.subspaces == vb.subspaces
    if va.projections is not None:
        for key, pa in va.projections.tests.items():
            same_coordinate(pa, vb.projections.tests[key], rtol)
        np.testing.assert_array_equal(va.projections.directions, vb.projections.directions)


@pytest.mark.parametrize(
    ("block_rows", "workers", "memory_limit"),
    [(1, 1, 2**29), (37, 3, 2**29), (4096, 2, 2**29), (50, 2, 400 * 8 * 6 * 5)],
)
def test_audit_stream_equals_audit(block_rows, workers, memory_limit):
    """The last case projects 5 directions per pass over the rows (3 groups)."""
    x = mixed(400, 6, dtype=np.float32)
    cfg = AuditConfig(projections=12, subspaces=3, multivariate_max_rows=300)
    got = audit_stream(
        x, cfg, block_rows=block_rows, col_block=4, workers=workers, memory_limit=memory_limit
    )
    same_audit(got, audit(x, cfg))
    assert got.matrix is None


def test_audit_stream_full_view_by_gram_tiles_when_rows_do_not_fit():
    x = mixed(300, 5, seed=9)
    x[:, 0] = 1.0  # constant column: left out of the full view as in memory
    cfg = AuditConfig(tests="mardia,henze_zirkler,anderson_darling", subspaces=0, projections=0)
    got = audit_stream(x, cfg, memory_limit=10_000, block_rows=32)
    same_audit(got, audit(x, cfg))
    assert "constant column(s) left out" in got.views["raw"].notes[0]


def test_results_do_not_depend_on_threads():
    x = mixed(500, 5, seed=10)
    cfg = AuditConfig(projections=4, subspaces=0)
    a = audit_stream(x, cfg, block_rows=23, workers=1).views["raw"]
    b = audit_stream(x, cfg, block_rows=23, workers=4).views["raw"]
    for key in a.coordinates:
        np.testing.assert_array_equal(a.coordinates[key].statistics, b.coordinates[key].statistics)
    assert a.norms.cv == b.norms.cv


def test_audit_stream_max_samples_and_notes_match_audit():
    x = mixed(600, 4)
    x[:, 2] = 0.0
    cfg = AuditConfig(max_samples=300, projections=4, subspaces=2)
    same_audit(audit_stream(x, cfg, block_rows=50), audit(x, cfg))


def test_audit_stream_reads_a_npy_file_without_mapping_it(tmp_path):
    x = mixed(500, 6, dtype=np.float32)
    path = tmp_path / "x.npy"
    np.save(path, x)
    cfg = AuditConfig(projections=8, subspaces=2)
    with open_npy(path) as src:
        assert isinstance(src, NpyFileSource) and (src.n, src.d) == (500, 6)
        np.testing.assert_array_equal(src.read_rows(3, 9), x[3:9])
        np.testing.assert_array_equal(src.take(np.array([0, 7, 499])), x[[0, 7, 499]])
        same_audit(audit_stream(src, cfg, block_rows=64), audit(x, cfg))
    same_audit(audit_stream(str(path), cfg), audit(x, cfg))


def test_float32_is_converted_per_block_never_whole(tmp_path):
    """Peak traced allocation stays far below one float64 copy of the matrix."""
    n, d = 40_000, 64
    path = tmp_path / "big.npy"
    np.save(path, np.random.default_rng(0).standard_normal((n, d)).astype(np.float32))
    whole64 = n * d * 8
    mm = np.load(path, mmap_mode="r")
    cfg = AuditConfig(tests="anderson_darling,dagostino_pearson,norms", projections=0)
    for source in (ArraySource(mm), NpyFileSource(path)):
        tracemalloc.start()
        audit_stream(
            source, cfg, block_rows=1024, col_block=2, keep_norms=False, workers=1,
            memory_limit=whole64 // 8, subsample_steps=False,
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < whole64 / 4, (type(source).__name__, peak, whole64)


def test_errors_speak_like_validate():
    x = mixed(50, 3)
    x[10, 2] = np.nan
    with pytest.raises(InvalidEmbeddingsError) as streamed:
        audit_stream(x, block_rows=7)
    with pytest.raises(InvalidEmbeddingsError) as in_memory:
        validate(x)
    assert str(streamed.value) == str(in_memory.value)
    with pytest.raises(InvalidEmbeddingsError, match="at least 8"):
        audit_stream(np.ones((3, 2)))
    with pytest.raises(InvalidEmbeddingsError, match="row 3 is all zeros"):
        zero = mixed()
        zero[3] = 0.0
        audit_stream(zero, views="normalized", block_rows=2)
    with pytest.raises(InvalidEmbeddingsError, match="2-D"):
        ArraySource(np.ones(5))
    with pytest.raises(UsageError, match="block_rows"):
        audit_stream(mixed(), block_rows=0)
    with pytest.raises(UsageError, match="memory_limit"):
        audit_stream(mixed(), memory_limit=0)
    with pytest.raises(UsageError, match="col_block"):
        list(ArraySource(mixed()).iter_columns(0))


def test_progress_reports_the_same_steps_as_audit():
    x = mixed(200, 4)
    seen_a, seen_b = [], []
    audit(x, projections=4, subspaces=2, progress=lambda *a: seen_a.append(a))
    audit_stream(x, projections=4, subspaces=2, progress=lambda *a: seen_b.append(a))
    assert seen_a == seen_b


def _same_tree(a, b, path="") -> None:
    """Recursive equality of two report models, floats to 1e-10 relative."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), path
        for key in a:
            _same_tree(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            _same_tree(u, v, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        np.testing.assert_allclose(b, a, rtol=RTOL, atol=1e-300, err_msg=path)
    else:
        assert a == b, path


def test_json_report_model_equals_audit():
    from gaussaudit.report.model import build_report

    x = mixed(300, 5, dtype=np.float32)
    x[:, 4] = 3.0
    cfg = AuditConfig(projections=6, subspaces=2, full_multivariate="always")
    want = build_report(audit(x, cfg), plot_data=False)
    got = build_report(audit_stream(x, cfg, block_rows=41), plot_data=False)
    # how it ran differs by design; every result is the same
    for model in (want, got):
        model.pop("execution", None)
    assert got["input"].pop("streamed") and not want["input"].pop("streamed")
    _same_tree(want, got)


def test_subspaces_that_do_not_fit_are_skipped_with_the_reason():
    x = mixed(300, 12, seed=11)
    cfg = AuditConfig(tests="mardia,henze_zirkler", subspaces=2, projections=0)
    view = audit_stream(x, cfg, memory_limit=20_000).views["raw"]
    assert isinstance(view.subspaces, Skipped) and "memory_limit" in view.subspaces.reason
    assert audit_stream(x, cfg).views["raw"].subspaces.n == 300  # fits by default


def same_finish(va, vb, rtol=RTOL) -> None:
    """Calibration, departure, sphere and diagnosis of two ViewAudits agree."""
    assert (va.departure is None) == (vb.departure is None)
    if va.departure is not None:
        close(va.departure.value, vb.departure.value, rtol)
        close(va.departure.ci_low, vb.departure.ci_low, rtol)
    assert [f.code for f in va.diagnosis] == [f.code for f in vb.diagnosis]
    assert type(va.sphere) is type(vb.sphere)
    if va.calibration is not None:
        assert sorted(va.calibration.inflation) == sorted(vb.calibration.inflation)
        for key, value in va.calibration.inflation.items():
            close(value, vb.calibration.inflation[key], 1e-8)
    assert va.verdict.practically_gaussian == vb.verdict.practically_gaussian


@pytest.mark.parametrize("block_rows", [1, 37, 4096])
def test_every_view_streams_and_equals_audit(block_rows):
    """normalized (row-wise per block) and whitened (a co-moment pass, then per block)."""
    x = mixed(300, 6, dtype=np.float32)
    cfg = AuditConfig(views="all", projections=8, subspaces=2, multivariate_max_rows=200)
    streamed = audit_stream(x, cfg, block_rows=block_rows, workers=2)
    in_memory = audit(x, cfg)
    assert list(streamed.views) == ["raw", "normalized", "whitened"]
    for view in streamed.views:
        same_audit(streamed, in_memory, view=view, rtol=1e-9 if view == "whitened" else RTOL)
        same_finish(streamed.views[view], in_memory.views[view])


def test_subsample_steps_equal_audit_above_their_subsample():
    """Departure, sphere and diagnosis read the same 5,000 seeded rows as in memory."""
    rng = np.random.default_rng(3)
    x = np.maximum(rng.standard_normal((6000, 5)), 0.0) + 0.1 * rng.standard_normal((6000, 5))
    cfg = AuditConfig(tests="anderson_darling,dagostino_pearson,norms", projections=0)
    streamed = audit_stream(x.astype(np.float32), cfg, block_rows=512)
    in_memory = audit(x.astype(np.float32), cfg)
    same_audit(streamed, in_memory)
    same_finish(streamed.views["raw"], in_memory.views["raw"])
    assert streamed.views["raw"].diagnosis  # something was found, the same thing
    assert streamed.execution["streamed"] and streamed.execution["rows_audited"] == 6000
    assert not in_memory.execution["streamed"]


def test_sphere_reference_is_switched_on_by_all_rows_norms():
    g = np.random.default_rng(1).standard_normal((400, 6))
    u = g / np.linalg.norm(g, axis=1, keepdims=True)
    cfg = AuditConfig(tests="anderson_darling", projections=0)
    streamed = audit_stream(u, cfg, block_rows=50)
    in_memory = audit(u, cfg)
    assert streamed.views["raw"].sphere is not None
    close(streamed.views["raw"].sphere.statistic, in_memory.views["raw"].sphere.statistic, RTOL)


def test_memory_of_the_subsample_steps_does_not_grow_with_rows(tmp_path):
    """With every step on, the traced peak at 4x the rows grows by far less than the data."""
    d = 32
    cfg = AuditConfig(tests="anderson_darling,dagostino_pearson,norms", projections=0)
    peaks = []
    for n in (20_000, 80_000):
        path = tmp_path / f"x{n}.npy"
        np.save(path, np.random.default_rng(0).standard_normal((n, d)).astype(np.float32))
        tracemalloc.start()
        with open_npy(path) as src:
            audit_stream(src, cfg, block_rows=1024, col_block=2, keep_norms=False, workers=1,
                         memory_limit=2**22)  # fmt: skip
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    growth = peaks[1] - peaks[0]
    assert growth < 60_000 * d * 8 / 4, peaks  # a float64 copy of the extra rows is 15 MB
