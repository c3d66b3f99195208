import json
import math

import numpy as np
import pytest

from gaussaudit import audit, build_report
from gaussaudit.io import from_array
from gaussaudit.report.json import render_json

FAST = {"projections": 16, "subspaces": 4, "subspace_dim": 3, "multivariate_max_rows": 500}

# DESIGN.md §3: the stable key paths of the JSON contract.
TOP = [
    "schema_version",
    "tool.version",
    "input.source",
    "input.n",
    "input.d",
    "input.dtype",
    "input.provenance",
    "config.alpha",
    "config.seed",
    "config.views",
    "config.tests",
]
VIEW = [
    "norms.mean",
    "norms.std",
    "norms.cv",
    "norms.cv_isotropic_gaussian",
    "norms.effective_dimension",
    "coordinates.anderson_darling.statistics",
    "coordinates.anderson_darling.pvalues",
    "coordinates.anderson_darling.mean",
    "coordinates.anderson_darling.pass_fraction",
    "coordinates.anderson_darling.threshold",
    "coordinates.dagostino_pearson.statistics",
    "coordinates.dagostino_pearson.pvalues",
    "coordinates.dagostino_pearson.mean_pvalue",
    "coordinates.dagostino_pearson.pass_fraction",
    "coordinates.shapiro_wilk.statistics",
    "coordinates.shapiro_wilk.pvalues",
    "coordinates.shapiro_wilk.pass_fraction",
    "coordinates.jarque_bera.pass_fraction",
    "coordinates.lilliefors.pass_fraction",
    "coordinates.anderson_darling.null_band.expected",
    "coordinates.anderson_darling.null_band.low",
    "coordinates.anderson_darling.null_band.high",
    "coordinates.dagostino_pearson.null_band.expected",
    "multivariate.mardia.skewness.statistic",
    "multivariate.mardia.skewness.pvalue",
    "multivariate.mardia.kurtosis.statistic",
    "multivariate.mardia.kurtosis.pvalue",
    "multivariate.henze_zirkler.statistic",
    "multivariate.henze_zirkler.pvalue",
    "projections.n_projections",
    "projections.seed",
    "projections.anderson_darling.pass_fraction",
    "projections.dagostino_pearson.pass_fraction",
    "projections.epps_pulley.pass_fraction",
    "projections.subspaces.k",
    "projections.subspaces.n_subspaces",
    "projections.subspaces.seed",
    "projections.subspaces.mardia",
    "projections.subspaces.henze_zirkler.pvalues",
    "projections.subspaces.henze_zirkler.rejection_fraction",
    "projections.subspaces.henze_zirkler.null_band",
    "verdict.gaussian",
    "verdict.paper_rule",
    "verdict.calibrated",
    "verdict.reasons",
]


def get(d, path):
    for key in path.split("."):
        d = d[key]
    return d


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 6))
    x[:, 3] = 1.0  # a constant column
    emb = from_array(x, source="demo.npy", provenance={"encoder": "<script>x</script>"})
    return build_report(audit(emb, views=("raw", "normalized", "whitened"), **FAST), emb)


def test_stable_keys_present(report):
    for path in TOP:
        get(report, path)
    for view in ("raw", "normalized", "whitened"):
        for path in VIEW:
            get(report["views"][view], path)


def test_strict_json_roundtrip(report):
    text = render_json(report)
    assert json.loads(text) == report  # no NaN: strict JSON


def test_per_coordinate_arrays_have_length_d_with_null_for_constant(report):
    ad = report["views"]["raw"]["coordinates"]["anderson_darling"]
    assert len(ad["statistics"]) == 6
    assert ad["statistics"][3] is None and ad["excluded_columns"] == [3]
    assert ad["n_tested"] == 5


def test_skipped_tests_are_marked(rng):
    emb = from_array(rng.standard_normal((15, 3)))
    rep = build_report(audit(emb, views=("raw",), **FAST), emb)
    assert "skipped" in rep["views"]["raw"]["coordinates"]["dagostino_pearson"]
    assert rep["views"]["raw"]["verdict"]["paper_rule"] is None


def test_provenance_and_config_recorded(report):
    assert report["input"]["provenance"] == {"encoder": "<script>x</script>"}
    assert report["config"]["views"] == ["raw", "normalized", "whitened"]
    assert report["schema_version"] == "1.0"


def test_no_nan_anywhere(report):
    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, float):
            assert math.isfinite(v)

    walk(report)


def test_dropped_rows_recorded(rng):
    x = rng.standard_normal((100, 3))
    x[[5, 9], 1] = np.nan
    emb = from_array(x, nan_policy="omit")
    rep = build_report(audit(emb, **FAST), emb)
    assert rep["input"]["dropped_rows"] == 2 and rep["input"]["n"] == 98
    assert any("dropped 2 row" in n for n in rep["notes"])


def test_verdict_false_beats_undecided(rng):
    from dataclasses import replace

    from gaussaudit.stats import Verdict

    result = audit(rng.standard_normal((100, 3)), views=("raw", "normalized"), **FAST)
    raw, norm = result.views["raw"], result.views["normalized"]
    undecided = replace(raw, verdict=Verdict(None, None, None, ()))
    failed = replace(norm, verdict=Verdict(False, False, False, ()))
    mixed = replace(result, views={"raw": undecided, "normalized": failed})
    assert mixed.gaussian is False
    assert replace(result, views={"raw": undecided}).gaussian is None
