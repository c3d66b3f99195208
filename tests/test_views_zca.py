"""The ZCA view (Sigma^-1/2, opt-in), the whitened views' principal frame, and the
multivariate tests on subspaces (issue 12, items 2 and 6)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import linalg

from gaussaudit.stats import AuditConfig, audit
from gaussaudit.stats.config import ALL_VIEWS, VIEWS, parse_views
from gaussaudit.stats.doornik_hansen import doornik_hansen
from gaussaudit.stats.multivariate import subspace_tests
from gaussaudit.stats.projections import random_orthonormal_frames
from gaussaudit.stats.royston import royston
from gaussaudit.stats.views import make_view, zca_whiten


def test_zca_is_the_inverse_symmetric_square_root_of_the_covariance():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 5)) @ rng.standard_normal((5, 5)) + 3.0
    z, rank, vecs = zca_whiten(x)
    # Independent: scipy's matrix square root of the sample covariance.
    w = np.real(linalg.inv(linalg.sqrtm(np.cov(x, rowvar=False))))
    np.testing.assert_allclose(z, (x - x.mean(axis=0)) @ w, rtol=1e-9, atol=1e-9)
    assert rank == 5
    np.testing.assert_allclose(vecs.T @ vecs, np.eye(5), atol=1e-12)
    np.testing.assert_allclose(np.cov(z, rowvar=False), np.eye(5), atol=1e-10)


def test_zca_keeps_an_axis_aligned_departure_on_its_axis():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4000, 32))
    t = rng.standard_t(3, 4000)
    x[:, 0] = (t - t.mean()) / t.std()  # unit variance: near-isotropic data

    def kurt(m):
        c = m - m.mean(axis=0)
        return np.mean(c**4, axis=0) / np.mean(c**2, axis=0) ** 2 - 3.0

    zca, pca = kurt(make_view(x, "zca").matrix), kurt(make_view(x, "whitened").matrix)
    assert int(np.argmax(zca)) == 0 and zca[0] > 3.0
    assert np.max(pca) < zca[0] / 2  # PCA whitening spreads it over its directions


def test_zca_when_d_exceeds_n():
    x = np.random.default_rng(2).standard_normal((20, 50))
    view = make_view(x, "zca")
    assert view.matrix.shape == (20, 50)
    assert view.leading.shape == (50, 19)
    assert any("rank 19" in note for note in view.notes)
    cov = np.cov(view.matrix, rowvar=False)  # the projector onto the row space
    np.testing.assert_allclose(cov @ cov, cov, atol=1e-9)


def test_zca_is_opt_in():
    assert "zca" in VIEWS and "zca" not in ALL_VIEWS
    assert parse_views("all") == ("raw", "normalized", "whitened")
    assert parse_views("raw,zca") == ("raw", "zca")
    assert AuditConfig().views == ("raw",)


def test_whitened_views_carry_the_leading_principal_frame():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((500, 6)) * np.arange(6, 0, -1)
    assert make_view(x, "raw").leading is None
    white = make_view(x, "whitened")
    np.testing.assert_array_equal(white.leading, np.eye(6))
    zca = make_view(x, "zca")
    # ZCA coordinates on the leading frame are the PCA-whitened coordinates (up to sign).
    np.testing.assert_allclose(np.abs(zca.matrix @ zca.leading), np.abs(white.matrix), atol=1e-9)


def clusters(n, seed, d=64):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((10, d))
    centres *= 3.0 / np.sqrt(2.0) / np.linalg.norm(centres, axis=1, keepdims=True)
    return centres[rng.integers(0, 10, n)] + rng.standard_normal((n, d))


def test_principal_subspace_is_the_same_in_every_whitening():
    """Mardia is affine invariant: the principal subspace gives one p-value in all views."""
    x = clusters(1500, 4)
    pvalues = {}
    for name in ("raw", "whitened", "zca"):
        view = make_view(x, name)
        res = subspace_tests(view.matrix, k=8, n_subspaces=1, principal_frame=view.leading)
        pvalues[name] = res.mardia_skewness_pvalues[-1]
    assert pvalues["raw"] < 1e-20
    assert pvalues["whitened"] == pytest.approx(pvalues["raw"], rel=1e-6)
    assert pvalues["zca"] == pytest.approx(pvalues["raw"], rel=1e-6)


def test_calibrated_verdict_catches_ten_clusters_in_the_whitened_views():
    cfg = AuditConfig(
        views="whitened,zca", verdict="calibrated", tests="anderson_darling,mardia,henze_zirkler"
    )
    res = audit(clusters(2000, 5), cfg, projections=0)
    for name in ("whitened", "zca"):
        assert res.views[name].verdict.calibrated is False
        assert any("subspace mardia skewness" in r for r in res.views[name].verdict.reasons)


def test_other_multivariate_tests_on_subspaces_match_their_kernels():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 10))
    others = {
        "doornik_hansen": (doornik_hansen, ("pvalue",)),
        "royston": (lambda y: royston(y, francia=False), ("pvalue",)),
    }
    res = subspace_tests(x, k=4, n_subspaces=3, seed=2, others=others)
    frames = list(random_orthonormal_frames(10, 4, 3, seed=2))
    c = x - x.mean(axis=0)
    for i, frame in enumerate(frames):
        y = c @ frame
        assert res.other_pvalues["doornik_hansen"]["pvalue"][i] == doornik_hansen(y).pvalue
        assert res.other_pvalues["royston"]["pvalue"][i] == royston(y, francia=False).pvalue
    assert res.other_pvalues["royston"]["pvalue"].shape == (4,)  # 3 random + principal


def test_subspace_entries_in_the_json_and_the_verdict():
    from gaussaudit.report.model import build_report

    rng = np.random.default_rng(7)
    x = rng.standard_normal((400, 12))
    x[:, :3] = rng.exponential(size=(400, 3))  # skewed in a few directions
    cfg = AuditConfig(
        tests="anderson_darling,doornik_hansen,royston", verdict="calibrated", subspaces=4
    )
    res = audit(x, cfg, projections=0)
    sub = res.views["raw"].subspaces
    assert set(sub.other_pvalues) == {"doornik_hansen", "royston"}
    assert "mardia" not in sub.other_pvalues
    assert np.all(np.isnan(sub.mardia_skewness_pvalues))  # not asked for
    report = build_report(res)
    entry = report["views"]["raw"]["projections"]["subspaces"]["doornik_hansen"]
    assert set(entry) == {"pvalues", "rejection_fraction", "null_band"}
    assert len(entry["pvalues"]) == sub.n_subspaces
    reasons = " ".join(res.views["raw"].verdict.reasons)
    assert "subspace doornik_hansen" in reasons or "subspace royston" in reasons


def test_terminal_and_html_show_a_subspace_family_only_when_its_test_ran():
    from gaussaudit.report.html import render_html
    from gaussaudit.report.model import build_report
    from gaussaudit.report.terminal import render_terminal_text

    x = np.random.default_rng(8).standard_normal((300, 12))
    with_dh = build_report(
        audit(x, tests="anderson_darling,mardia,doornik_hansen", subspaces=2, projections=0)
    )
    default = build_report(audit(x, subspaces=2, projections=8))
    # the per-test table is a detail: shown with verbose=True
    assert "Doornik" in render_terminal_text(with_dh, verbose=True)
    assert "Doornik" not in render_terminal_text(default, verbose=True)
    assert "Royston" not in render_terminal_text(with_dh, verbose=True)
    html = render_html(with_dh, plots=False)
    assert "Doornik" in html and "Royston" not in html
