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


# ---------------------------------------------------------------- formats and sink


def test_render_every_builtin_format(report):
    from gaussaudit.report import format_names, render

    assert format_names()[:4] == ["terminal", "json", "html", "markdown"]
    assert json.loads(render(report, "json")) == json.loads(render_json(report))
    assert render(report, "markdown").startswith("## ")
    terminal = render(report, "terminal", width=100)
    assert "Gaussianity audit" in terminal and "Verdict" in terminal and "\x1b[" not in terminal
    assert max(len(line) for line in terminal.splitlines()) <= 100
    pytest.importorskip("jinja2")
    assert render(report, "html", plots=False).startswith("<!DOCTYPE html>")


def test_unknown_format_names_the_choices(report):
    from gaussaudit.errors import UnknownNameError
    from gaussaudit.report import render

    with pytest.raises(UnknownNameError, match=r"report format .jsn.\. Did you mean .json."):
        render(report, "jsn")


def test_a_format_is_one_registry_entry(report, monkeypatch):
    from gaussaudit.report import FORMATS, FormatSpec, render

    spec = FormatSpec("keys", "json:dumps", "top-level keys", ".txt")
    monkeypatch.setitem(FORMATS._specs, "keys", spec)
    assert render({"a": 1}, "keys", sort_keys=True) == '{"a": 1}'
    assert "keys" in FORMATS.names()


def test_formats_come_through_the_entry_point_group(monkeypatch):
    import importlib.metadata as md

    from gaussaudit.registry import Registry
    from gaussaudit.report.formats import FORMATS, FormatSpec

    assert FORMATS.group == "gaussaudit.formats"
    plugin = FormatSpec("csvish", "json:dumps")
    ep = md.EntryPoint("csvish", "x:y", "gaussaudit.formats")
    monkeypatch.setattr(md, "entry_points", lambda group: [ep] if group == FORMATS.group else [])
    original = md.EntryPoint.load
    monkeypatch.setattr(
        md.EntryPoint, "load", lambda self: plugin if self.name == "csvish" else original(self)
    )
    fresh = Registry("report format", FORMATS.group, builtins=FORMATS.builtins)
    assert fresh.resolve("csvish")[0] is plugin
    assert fresh.names()[:4] == ["terminal", "json", "html", "markdown"]


def test_sink_writes_stdout_file_and_summary(report, tmp_path, capsys, monkeypatch):
    from gaussaudit.report import append_summary, emit, render, write_text

    emit(report, "json")
    assert json.loads(capsys.readouterr().out)["schema_version"] == report["schema_version"]
    out = tmp_path / "r.md"
    emit(report, "markdown", out)
    assert capsys.readouterr().out == "" and out.read_text() == render(report, "markdown")
    out.write_text("old")
    emit(report, "terminal", out)  # a file gets the plain text, replaced whole
    assert out.read_text() == render(report, "terminal")
    write_text("hello\n")
    assert capsys.readouterr().out == "hello\n"
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert append_summary("### x") is None  # no file named, no CI: nothing written
    summary = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert append_summary("### a") == summary
    assert append_summary("### b", tmp_path / "other.md") == tmp_path / "other.md"
    assert summary.read_text() == "### a\n"


def test_sink_file_write_is_atomic(report, tmp_path, monkeypatch):
    import gaussaudit.io as gio
    from gaussaudit.report import emit

    out = tmp_path / "r.json"
    out.write_text("previous")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(gio.atomic.os, "replace", broken)
    with pytest.raises(OSError):
        emit(report, "json", out)
    assert out.read_text() == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no temp file left


def test_terminal_on_stdout_is_rich(report):
    import io

    from rich.console import Console

    from gaussaudit.report import emit

    console = Console(file=io.StringIO(), width=120, force_terminal=True, color_system="standard")
    emit(report, "terminal", console=console)
    assert "\x1b[" in console.file.getvalue() and "Verdict" in console.file.getvalue()


# ---------------------------------------------------------------- gates


def test_gates_render_from_the_report_key():
    from gaussaudit.gate import GateConfig, check_array
    from gaussaudit.report import render
    from gaussaudit.report.gates import gates_markdown, gates_table
    from gaussaudit.report.terminal import renderables_text

    x = np.random.default_rng(5).laplace(size=(300, 5))
    model, result = check_array(x, GateConfig(max_cv=0.01, require_verdict="paper", **FAST))
    assert gates_markdown(result) == gates_markdown(model["gates"])  # object or its dict
    md = gates_markdown(model["gates"], source="emb.npy")
    assert md.startswith("### gaussaudit check: failed (2 of 2)")
    assert "Input: `emb.npy`" in md and "| `require_verdict` | raw | not Gaussian |" in md
    assert "| `max_cv` | raw |" in md and "<= 0.01" in md
    table = renderables_text([gates_table(model["gates"])])
    assert "Gates: 0 of 2 passed" in table and "FAIL" in table
    # a report with gates renders them after the audit, in text formats
    assert render(model, "markdown").endswith(gates_markdown(model["gates"]))
    terminal = render(model, "terminal")
    assert terminal.index("Verdict") < terminal.index("Gates: 0 of 2 passed")
    assert "gate config: defaults (no config file)" in terminal
    assert json.loads(render(model, "json"))["gates"]["n_failed"] == 2


# ---------------------------------------------------------------- shared helpers


def test_notes_are_shared_and_merge_reasons():
    from gaussaudit.report._notes import report_notes

    view = {
        "notes": ["subsampled"],
        "multivariate": {"mardia": {"skipped": "d > n"}, "henze_zirkler": {"skipped": "d > n"}},
        "projections": {
            "n_projections": 0,
            "directions_skipped": "d = 1",
            "subspaces": {"skipped": "k > d"},
        },
    }
    report = {"notes": ["global"], "views": {"raw": view, "whitened": {"notes": ["subsampled"]}}}
    assert report_notes(report) == [
        "global",
        "raw, whitened: subsampled",
        "raw: skipped mardia, henze_zirkler: d > n",
        "raw: skipped projections: d = 1",
        "raw: skipped subspaces: k > d",
    ]


def test_terminal_and_html_show_the_same_notes(report):
    pytest.importorskip("jinja2")
    from markupsafe import escape

    from gaussaudit.report import render
    from gaussaudit.report._notes import report_notes

    notes = report_notes(report)
    assert notes
    html = render(report, "html", plots=False)
    terminal = " ".join(render(report, "terminal", width=400).split())
    for note in notes:
        assert f"<li>{escape(note)}</li>" in html
        assert " ".join(note.split()) in terminal


def test_formatters():
    from gaussaudit.report import _format as f

    assert [f.num(v) for v in (None, 0.0, 0.5, 1e-4, 2e5)] == [
        "–",
        "0",
        "0.5",
        "1.00e-04",
        "2.00e+05",
    ]
    assert f.num(12345.0) == "1.23e+04" and f.num(12345.0, upper=1e6) == "1.23e+04"
    assert f.num(99999.0, upper=1e6) == "1e+05" and f.num(5000.0, upper=1e4) == "5e+03"
    assert f.pct(0.5) == "50.0%" and f.pct(None, missing="n/a") == "n/a"
    assert f.value_text(np.float64(0.25)) == "0.25" and f.value_text(False) == "no"
    assert f.signed(-0.5) == "-0.5" and f.signed_points(0.125) == "+12.5 pt"
    assert f.band_range(0.9012, 0.995) == "90–100%"
    assert [f.verdict_word(v) for v in (True, False, None)] == [
        "Gaussian",
        "not Gaussian",
        "undecided",
    ]


def test_test_labels_live_in_one_table():
    from gaussaudit.report import _labels

    for test in (
        *_labels.PAPER_TESTS,
        *_labels.MORE_COORDINATE_TESTS,
        *_labels.PROJECTION_TESTS,
        *_labels.MULTIVARIATE_TESTS,
    ):
        assert test in _labels.TEST_LABELS
    assert _labels.metric_label("shapiro_wilk.pass_fraction") == "Shapiro–Wilk % normal"
    assert _labels.metric_label("unknown.metric") == "unknown.metric"


def test_skipped_sections_serialise_as_skipped():
    # a view whose sphere reference cannot run (d = 1) writes {"skipped": reason}, as JSON
    import numpy as np

    from gaussaudit.report import render
    from gaussaudit.report.model import build_report
    from gaussaudit.stats import audit

    x = np.random.default_rng(0).standard_normal((50, 1))
    result = audit(x, views=("normalized",), sphere=True, subspaces=0, projections=0)
    report = build_report(result)
    assert report["views"]["normalized"]["sphere"] == {
        "skipped": "needs d >= 2, at least 20 rows and no zero row"
    }
    json.loads(render(report, "json"))
