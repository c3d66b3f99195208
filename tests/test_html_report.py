import json
import re
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("jinja2")
from markupsafe import escape

pytest.importorskip("matplotlib")

from gaussaudit import audit, build_report
from gaussaudit.cli import main
from gaussaudit.io import from_array
from gaussaudit.report.html import render_html
from gaussaudit.report.json import render_json
from gaussaudit.report.plots import PLOT_KINDS

FAST = {"projections": 16, "subspaces": 4, "subspace_dim": 3, "multivariate_max_rows": 300}
EVIL = "<script>alert(1)</script>"


def _data(n: int, d: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    k = max(1, d // 3)
    x[:, :k] = rng.laplace(size=(n, k))  # a third of the coordinates heavy-tailed
    return x


@pytest.fixture(scope="module")
def small():
    x = _data(300, 10)
    x[:, 4] = 2.5  # a constant column
    emb = from_array(
        x,
        source=f"{EVIL}.npy",
        provenance={"encoder": EVIL, "layer": "avgpool", "dataset": "cifar10", "split": "test"},
    )
    result = audit(emb, views=("raw", "normalized", "whitened"), **FAST)
    report = build_report(result, emb, plot_data=True)
    return result, emb, report, render_html(report)


@pytest.fixture(scope="module")
def wide():
    x = _data(300, 4096)
    emb = from_array(x, source="wide.npy")
    # the tests behind the plots (the per-column loops of SW/JB/Lilliefors add nothing here)
    tests = ("norms", "anderson_darling", "dagostino_pearson", "mardia", "projections")
    result = audit(emb, views=("raw",), tests=tests, **FAST)
    report = build_report(result, emb, plot_data=True)
    return report, render_html(report)


def figure_ids(html: str) -> list[str]:
    return re.findall(r'<figure id="(plot-[^"]+)"', html)


def test_every_plot_is_present_per_view(small):
    html = small[3]
    ids = figure_ids(html)
    expected = {f"plot-{view}-{kind}" for view in ("raw", "whitened") for kind in PLOT_KINDS}
    # rows of the normalised view all have norm 1: no norm histogram there
    expected |= {f"plot-normalized-{kind}" for kind in PLOT_KINDS if kind != "norms"}
    assert set(ids) == expected
    assert len(ids) == len(set(ids))
    # every figure holds one inline SVG carrying the matching id
    for plot_id in ids:
        block = html.split(f'<figure id="{plot_id}"', 1)[1].split("</figure>", 1)[0]
        assert block.count("<svg") == 1
        assert f'id="svg-{plot_id}"' in block
        assert "<figcaption>" in block


def test_plots_carry_their_content(small):
    _, _, _, html = small

    def block(plot_id):
        return html.split(f'<figure id="{plot_id}"', 1)[1].split("</figure>", 1)[0]

    ad = block("plot-raw-ad")
    assert "pass threshold 0.752" in ad and "null: Gaussian, n=300" in ad
    assert "expected under H0 (uniform)" in block("plot-raw-dp")
    qq = block("plot-raw-qq")
    assert "worst: coord" in qq and "median: coord" in qq and "best: coord" in qq
    assert "isotropic" in block("plot-raw-norms") and "matched Gaussian" in block("plot-raw-norms")
    assert "Beta law" in block("plot-raw-mahalanobis")
    assert "random 1-D projections" in block("plot-raw-projections")
    assert "subspaces of dimension 3" in block("plot-raw-projections")
    cos = block("plot-raw-cosine")
    assert "negative pairs" in cos and "positive pairs: need paired views" in cos
    assert "direction" in block("plot-whitened-qq")


def test_svg_ids_are_unique_across_the_page(small):
    html = small[3]
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for ref in set(re.findall(r"url\(#([^)]+)\)", html)) | set(
        re.findall(r'href="#([^"]+)"', html)
    ):
        assert ref in ids  # every internal reference resolves (TOC anchors included)


def test_names_from_the_input_are_escaped(small):
    _, _, _, html = small
    assert EVIL not in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>gaussaudit: &lt;script&gt;" in html


def test_self_contained(small):
    html = small[3]
    lowered = html.lower()
    assert "<link" not in lowered and "<script" not in lowered and "@import" not in lowered
    assert "<img" not in lowered  # figures are inline svg
    # the only URLs are XML namespace names, which are never fetched
    urls = set(re.findall(r"https?://[^\s\"')<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "default-src 'none'" in html  # the CSP forbids any fetch or script


def test_verdict_table_and_provenance(small):
    _, _, report, html = small
    assert 'id="verdict" class="banner fail"' in html
    assert "Verdict: not Gaussian" in html
    for reason in report["views"]["raw"]["verdict"]["reasons"]:
        assert str(escape(reason)) in html
    for label in (
        "CV of norms",
        "AD avg (&lt; 0.752)",
        "AD % normal",
        "DP avg (&gt; 0.05)",
        "DP % normal",
        "Gaussian? (paper rule)",
        "Gaussian? (calibrated)",
    ):
        assert f"<td>{label}</td>" in html
    summary = html.split('id="summary"', 1)[1].split("</table>", 1)[0]
    assert summary.count("<th>") == 4  # metric + one column per view
    assert re.search(r'<td class="(pass|fail)">\d+\.\d%<span class="band">\[\d+–\d+%\]', summary)
    for text in ("avgpool", "cifar10", "numpy", "scipy", "statsmodels", "Worst coordinates by A²"):
        assert text in html
    assert 'id="view-raw"' in html and 'id="view-whitened"' in html


def test_plot_data_is_compact_and_strict_json(small):
    _, _, report, _ = small
    json.loads(render_json(report))
    pd = report["views"]["raw"]["plot_data"]
    assert set(pd) == {"anderson_darling_null", "qq", "norms", "mahalanobis", "cosine"}
    null = pd["anderson_darling_null"]
    assert null["n"] == 300 and null["replicates"] == 2000
    assert np.all(np.diff(null["quantiles"]) >= 0)
    assert 0.93 < null["pass_probability"] < 0.97  # A^2 < 0.752 is the 5 % point
    qq = pd["qq"]["coordinates"]
    assert [e["label"] for e in qq] == ["worst", "median", "best"]
    assert all(len(e["theoretical"]) == len(e["sample"]) == 100 for e in qq)
    assert qq[0]["column"] in range(3)  # a Laplace column is the worst
    assert 4 not in [e["column"] for e in qq]  # never the constant column
    assert pd["cosine"]["positive"] is None and pd["cosine"]["alignment"] is None
    assert sum(pd["cosine"]["negative"]["counts"]) == pd["cosine"]["negative"]["n_pairs"]
    assert pd["mahalanobis"]["df"] == 9  # the constant column drops out of the covariance
    assert "skipped" in report["views"]["normalized"]["plot_data"]["norms"]
    for view in report["views"].values():
        assert len(json.dumps(view["plot_data"])) < 50_000


def test_audit_keeps_its_matrix(small):
    result = small[0]
    assert result.matrix is not None and result.matrix.shape == (300, 10)
    assert "matrix" not in repr(result)


def test_without_matrix_only_number_plots(small):
    result, emb, _, _ = small
    report = build_report(replace(result, matrix=None), emb)
    assert all("plot_data" not in v for v in report["views"].values())
    ids = figure_ids(render_html(report))
    assert {"plot-raw-ad", "plot-raw-dp", "plot-raw-projections"} <= set(ids)
    assert "plot-raw-qq" not in ids


def test_4096_coordinates_summarised(wide):
    report, html = wide
    assert report["views"]["raw"]["d"] == 4096
    ids = figure_ids(html)
    assert set(ids) == {f"plot-raw-{k}" for k in PLOT_KINDS}  # 7 plots, not 4096
    assert html.count("<svg") == len(PLOT_KINDS)
    assert len(html.encode()) < 600_000
    assert len(json.dumps(report["views"]["raw"]["plot_data"])) < 50_000
    md = report["views"]["raw"]["plot_data"]["mahalanobis"]
    assert md["df"] == 150 and md["notes"]  # d > n: leading principal directions
    failing = html.split("Worst coordinates by A²", 1)[1].split("</table>", 1)[0]
    assert failing.count("<tr>") <= 11  # header + at most 10 rows


@pytest.mark.parametrize(("n", "d"), [(50, 1), (8, 4), (30, 80)])
def test_tiny_and_wide_inputs_render(n, d):
    x = np.random.default_rng(n + d).standard_normal((n, d))
    result = audit(x, views=("raw", "whitened"), projections=4, subspaces=2)
    report = build_report(result, plot_data=True)
    json.loads(render_json(report))
    html = render_html(report)
    assert 'id="plot-raw-ad"' in html and 'id="plot-raw-qq"' in html
    if d > n:  # whitened rows of a d > n matrix all have the same norm
        assert "skipped" in report["views"]["whitened"]["plot_data"]["norms"]


def test_plot_data_can_be_left_out(small):
    result, emb, _, _ = small
    report = build_report(result, emb, plot_data=False)
    assert all("plot_data" not in v for v in report["views"].values())


def test_plot_data_is_computed_only_when_html_draws_it(small, monkeypatch):
    result, emb, eager, eager_html = small
    import gaussaudit.stats.diagnostics as diagnostics
    from gaussaudit.report import render

    calls = []
    real = diagnostics.view_diagnostics
    monkeypatch.setattr(
        diagnostics, "view_diagnostics", lambda *a: calls.append(a[1].view) or real(*a)
    )
    lazy = build_report(result, emb)  # the default: no plot data in the dict
    assert all("plot_data" not in v for v in lazy["views"].values())
    for fmt in ("json", "markdown", "terminal"):
        render(lazy, fmt)
    assert calls == []  # a JSON, Markdown or terminal report computes no plot data
    html = render_html(lazy)
    assert calls == ["raw", "normalized", "whitened"]
    assert html == eager_html  # the same page as from eagerly computed plot data
    render_html(lazy)
    assert len(calls) == 3  # computed once, then kept
    assert all("plot_data" not in v for v in lazy["views"].values())  # the dict is unchanged
    stripped = json.loads(render_json(eager))
    for v in stripped["views"].values():
        v.pop("plot_data")
    assert json.loads(render_json(lazy)) == stripped


def test_tables_only_without_plots(small):
    html = render_html(small[2], plots=False)
    assert "<svg" not in html and "AD % normal" in html


def test_cli_html_to_file_and_stdout(tmp_path, capsys):
    path = tmp_path / "emb.npy"
    np.save(path, _data(200, 6).astype(np.float32))
    path.with_suffix(".json").write_text(json.dumps({"encoder": "toy", "layer": "head"}))
    out = tmp_path / "report.html"
    args = ["--projections", "8", "--subspaces", "2", "--multivariate-max-rows", "200"]
    code = main(["test", str(path), "--report", "html", "--out", str(out), *args])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out == ""
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>") and "plot-raw-ad" in html and "toy" in html
    args += ["--tests", "anderson_darling,dagostino_pearson"]
    code = main(["test", str(path), "--report", "html", *args])
    captured = capsys.readouterr()
    assert code == 0 and captured.out.startswith("<!DOCTYPE html>")
    assert 'id="plot-raw-qq"' in captured.out and 'id="plot-raw-norms"' in captured.out
