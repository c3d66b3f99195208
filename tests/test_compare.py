import copy
import json

import numpy as np
import pytest

from gaussaudit.cli import main
from gaussaudit.compare import (
    CompareThresholds,
    IncompatibleReportsError,
    InvalidReportError,
    compare_reports,
    load_report,
)
from gaussaudit.gate import GateConfig, check_array

FAST = {"projections": 8, "subspaces": 2, "subspace_dim": 3, "multivariate_max_rows": 300}


@pytest.fixture(scope="module")
def reports():
    rng = np.random.default_rng(11)
    cfg = GateConfig(views=("raw", "whitened"), **FAST)
    gauss = check_array(rng.standard_normal((400, 8)), cfg)[0]
    laplace = check_array(rng.laplace(size=(400, 8)), cfg)[0]
    return {"gauss": gauss, "laplace": laplace}


@pytest.fixture
def write(tmp_path):
    def _write(report, name):
        path = tmp_path / name
        path.write_text(json.dumps(report) if not isinstance(report, str) else report)
        return path

    return _write


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _set(report, view, path, value):
    node = report["views"][view]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def test_same_report_has_no_regression(reports):
    c = compare_reports(reports["gauss"], reports["gauss"])
    assert not c.regressed and c.regressions == [] and c.views == ("raw", "whitened")
    metrics = {d.metric for d in c.deltas if d.view == "raw"}
    assert {
        "cv",
        "anderson_darling.mean",
        "anderson_darling.pass_fraction",
        "dagostino_pearson.mean_pvalue",
        "dagostino_pearson.pass_fraction",
        "verdict.paper_rule",
        "verdict.calibrated",
        "projections.epps_pulley.pass_fraction",
    } <= metrics
    assert all(d.delta in (None, 0.0) for d in c.deltas)


def test_regression_and_improvement(reports):
    worse = compare_reports(reports["gauss"], reports["laplace"])
    assert worse.regressed
    hit = {(d.view, d.metric) for d in worse.regressions}
    assert {
        ("raw", "cv"),
        ("raw", "anderson_darling.pass_fraction"),
        ("raw", "dagostino_pearson.pass_fraction"),
        ("raw", "verdict.paper_rule"),
    } <= hit
    # informational rows never regress
    assert not any(d.metric.endswith((".mean", ".mean_pvalue")) for d in worse.regressions)
    better = compare_reports(reports["laplace"], reports["gauss"])
    assert not better.regressed


def test_thresholds_are_absolute(reports):
    base = copy.deepcopy(reports["gauss"])
    new = copy.deepcopy(reports["gauss"])
    ad = ("coordinates", "anderson_darling", "pass_fraction")
    _set(base, "raw", ad, 0.90)
    _set(new, "raw", ad, 0.885)
    assert not compare_reports(base, new).regressed  # 1.5 points <= 2
    strict = compare_reports(base, new, CompareThresholds(max_drop=0.01))
    [d] = strict.regressions
    assert d.metric == "anderson_darling.pass_fraction" and d.delta == pytest.approx(-0.015)
    _set(new, "raw", ad, 0.90)
    cv = base["views"]["raw"]["norms"]["cv"]
    _set(new, "raw", ("norms", "cv"), cv + 0.005)
    assert not compare_reports(base, new).regressed
    _set(new, "raw", ("norms", "cv"), cv + 0.02)
    [d] = compare_reports(base, new).regressions
    assert d.metric == "cv" and "rose" in d.detail
    assert not compare_reports(base, new, CompareThresholds(max_cv_increase=0.05)).regressed


def test_verdict_flip(reports):
    base = copy.deepcopy(reports["gauss"])
    new = copy.deepcopy(reports["gauss"])
    assert base["views"]["raw"]["verdict"]["paper_rule"] is True
    _set(new, "raw", ("verdict", "paper_rule"), None)  # undecided counts as a flip
    [d] = compare_reports(base, new).regressions
    assert d.metric == "verdict.paper_rule" and "undecided" in d.detail
    assert not compare_reports(base, new, CompareThresholds(verdict_flip=False)).regressed
    # not Gaussian -> Gaussian is no regression
    assert not compare_reports(new, base).regressed


def test_missing_metric_fails_closed_unless_allowed(reports):
    # Issue 13: a metric the baseline has and the new report lacks is a
    # regression (a gate that passes on garbage is worse than none) ...
    new = copy.deepcopy(reports["gauss"])
    _set(new, "raw", ("coordinates", "dagostino_pearson"), {"skipped": "too few rows"})
    c = compare_reports(reports["gauss"], new)
    d = next(d for d in c.deltas if d.metric == "dagostino_pearson.pass_fraction")
    assert d.new is None and d.regressed and "skipped in new" in d.detail
    assert c.regressed
    # ... unless explicitly allowed, when it is noted and not failed.
    c = compare_reports(reports["gauss"], new, CompareThresholds(allow_missing=True))
    d = next(d for d in c.deltas if d.metric == "dagostino_pearson.pass_fraction")
    assert d.new is None and not d.regressed and "skipped in new" in d.detail


@pytest.mark.parametrize(
    "value",
    [float("nan"), None, "0.99", [0.9], 10**5000, True],
    ids=["nan", "null", "string", "list", "huge-int", "bool"],
)
def test_garbage_metric_is_a_regression(reports, value):
    new = copy.deepcopy(reports["gauss"])
    _set(new, "raw", ("coordinates", "anderson_darling", "pass_fraction"), value)
    c = compare_reports(reports["gauss"], new)
    d = next(d for d in c.deltas if d.metric == "anderson_darling.pass_fraction")
    assert d.regressed and c.regressed


def test_missing_section_is_a_regression(reports):
    new = copy.deepcopy(reports["gauss"])
    del new["views"]["raw"]["coordinates"]
    assert compare_reports(reports["gauss"], new).regressed


def test_garbage_verdict_is_a_regression(reports):
    new = copy.deepcopy(reports["gauss"])
    _set(new, "raw", ("verdict", "paper_rule"), "yes")
    assert compare_reports(reports["gauss"], new).regressed


def test_incompatible_reports(reports):
    other = copy.deepcopy(reports["gauss"])
    other["schema_version"] = "2.0"
    with pytest.raises(IncompatibleReportsError, match="major"):
        compare_reports(reports["gauss"], other)
    minor = copy.deepcopy(reports["gauss"])
    minor["schema_version"] = "1.3"
    assert not compare_reports(reports["gauss"], minor).regressed
    raw_only = copy.deepcopy(reports["gauss"])
    del raw_only["views"]["whitened"]
    with pytest.raises(IncompatibleReportsError, match="new report has no view whitened"):
        compare_reports(reports["gauss"], raw_only)
    assert compare_reports(reports["gauss"], raw_only, views=["raw"]).views == ("raw",)
    with pytest.raises(InvalidReportError):
        compare_reports({"views": {}}, reports["gauss"])


def test_config_differences_are_noted(reports):
    new = copy.deepcopy(reports["gauss"])
    new["config"]["alpha"] = 0.01
    notes = compare_reports(reports["gauss"], new).notes
    assert any("config.alpha differs" in n for n in notes)


def test_to_dict_is_json(reports):
    d = compare_reports(reports["gauss"], reports["laplace"]).to_dict()
    d = json.loads(json.dumps(d))
    assert d["regressed"] is True and d["thresholds"]["max_drop"] == 0.02
    assert d["views"]["raw"]["cv"]["regressed"] is True
    assert any(r["metric"] == "cv" for r in d["regressions"])


# --------------------------------------------------------------------------- command line


def test_cli_compare_pass_and_regression(reports, write, tmp_path, capsys):
    base = write(reports["gauss"], "base.json")
    new = write(reports["laplace"], "new.json")
    code, out, err = run(["compare", base, base], capsys)
    assert code == 0, err
    assert "compare (raw view)" in out and "AD % normal" in out and "REGRESSED" not in out
    code, out, err = run(["compare", base, new], capsys)
    assert code == 1
    assert "REGRESSED" in out and "regression: cv [raw]" in err
    code, _, _ = run(["compare", new, base], capsys)
    assert code == 0
    summary = tmp_path / "summary.md"
    code, out, _ = run(
        ["compare", base, new, "--report", "json", "--max-drop", "1", "--max-cv-increase", "1",
         "--allow-verdict-flip", "--summary", summary],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert json.loads(out)["regressed"] is False
    assert "gaussaudit compare: no regression" in summary.read_text()


def test_cli_compare_view_option(reports, write, capsys):
    raw_only = copy.deepcopy(reports["laplace"])
    del raw_only["views"]["whitened"]
    base, new = write(reports["gauss"], "base.json"), write(raw_only, "new.json")
    code, _, err = run(["compare", base, new], capsys)
    assert code == 2 and "no view whitened" in err
    code, out, _ = run(["compare", base, new, "--view", "raw", "--report", "json"], capsys)
    assert code == 1 and list(json.loads(out)["views"]) == ["raw"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not a JSON report"),
        ("[1, 2]", "expected a JSON object"),
        ('{"views": {"raw": {}}}', "no schema_version"),
        ('{"schema_version": "x.y", "views": {"raw": {}}}', "unreadable schema_version"),
        ('{"schema_version": "1.0", "views": {}}', "no views"),
        ('{"schema_version": "2.0", "views": {"raw": {}}}', "different major versions"),
    ],
)
def test_cli_invalid_inputs_exit_2(reports, write, capsys, content, match):
    good = write(reports["gauss"], "good.json")
    bad = write(content, "bad.json")
    code, out, err = run(["compare", good, bad], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("gaussaudit: error: ") and match in err


def test_load_report_errors(tmp_path):
    with pytest.raises(InvalidReportError, match="no such file"):
        load_report(tmp_path / "missing.json")
    with pytest.raises(InvalidReportError, match="directory"):
        load_report(tmp_path)
