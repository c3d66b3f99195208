"""report/tables/: the one paper-table builder, its model and its renderers.

The expected texts below were produced by the renderers this module replaced
(``reproduce.table1_markdown``, ``reproduce.render_table1/2``,
``report.compare.render_side_by_side``) on the same inputs.
"""

import copy
import io

import pytest
from rich.console import Console

from gaussaudit import paper
from gaussaudit.report import tables as T
from gaussaudit.stats.univariate import AD_THRESHOLD


def _console():
    return Console(file=io.StringIO(), width=200, record=True, color_system=None)


@pytest.fixture
def table1_result():
    columns = {
        "laplace_e0": {
            "cv": 0.058,
            "ad_mean": 0.39,
            "ad_pass_fraction": 0.938,
            "dp_mean_pvalue": 0.495,
            "dp_pass_fraction": 0.938,
            "gaussian": True,
            "epochs": 0,
            "n": 5000,
            "d": 256,
            "alignment": 0.461,
            "uniformity_std": 0.0701,
            "dataset": "synthetic:laplace",
            "layer": "lin",
        },
        "gmm": {
            "cv": 0.0441,
            "ad_mean": 80.1,
            "ad_pass_fraction": 0.0,
            "dp_mean_pvalue": 0.004,
            "dp_pass_fraction": 0.012,
            "gaussian": None,
            "epochs": 100,
            "n": 10000,
            "d": 256,
            "alignment": None,
            "uniformity_std": 0.204,
            "dataset": "g",
            "layer": "l",
        },
        "supervised": {"skipped": "image trainer not available (x)"},
    }
    cols = list(columns)
    return {
        "preset": {"name": "quick", "reductions": ["laplace: 30 epochs"]},
        "columns_requested": cols,
        "columns": columns,
        "paper": {c: copy.deepcopy(paper.TABLE1.get(c)) for c in cols},
        "settings": {"cnn": {"dataset_why": "Fashion-MNIST, because CIFAR-10 is not available"}},
        "seconds": 526.4,
    }


def test_formatters():
    assert T.fmt_paper_number(0.0701) == "0.07"
    assert T.fmt_paper_number(0.004) == "4.0e-03"
    assert T.fmt_paper_number(1234.5) == "1.23e+03"
    assert T.fmt_paper_number(0.0) == "0"
    assert T.fmt_number(5.84e-35) == "5.84e-35" and T.fmt_number(0.0701) == "0.0701"
    assert T.fmt_number(123456.0) == "1.23e+05"
    assert T.fmt_percent(0.9375) == "93.8%" and T.fmt_percent(1) == "100.0%"
    assert T.fmt_count(100.0) == "100"
    assert (T.fmt_flag(True), T.fmt_flag(False), T.fmt_flag(None)) == ("✓", "×", "–")
    assert (T.fmt_verdict(True), T.fmt_verdict(False), T.fmt_verdict(None)) == (
        "✓ yes",
        "× no",
        "n/a",
    )
    for fmt in (T.fmt_number, T.fmt_paper_number, T.fmt_percent, T.fmt_count, T.fmt_flag):
        assert fmt(None) == "–" and fmt("skipped") == "skipped"


def test_build_table_ours_beside_the_paper():
    rows = (T.RowSpec("ad_mean", "AD"), T.RowSpec("n", "n", T.fmt_count, compared=False))
    table = T.build_table(
        {"a": {"ad_mean": 0.39, "n": 10}, "b": {"skipped": "no data"}, "c": None},
        rows,
        paper={"a": {"ad_mean": 0.38}, "b": None, "c": {"n": 3}},
        title="t",
    )
    assert table.columns == ("a", "b", "c") and table.corner == "metric"
    ad, n = table.rows
    assert ad.ours == ("0.39", "skipped", "skipped")
    assert ad.paper == ("0.38", "–", "–")
    assert ad.status == ("", "na", "na")
    assert n.paper is None  # not compared
    no_ref = T.build_table({"a": {"ad_mean": 1.0}}, rows)
    assert all(r.paper is None for r in no_ref.rows)


def test_bands_and_status():
    spec = T.RowSpec("ad_pass_fraction", "AD % normal", T.fmt_percent)
    table = T.build_table(
        {
            "low": {"ad_pass_fraction": 0.5, "bands": {"ad_pass_fraction": (0.9, 0.99)}},
            "ok": {"ad_pass_fraction": 0.95, "bands": {"ad_pass_fraction": (0.9, 0.99)}},
        },
        [spec],
    )
    (row,) = table.rows
    assert row.ours == ("50.0%", "95.0%")
    assert row.notes == ("[90–99]", "[90–99]")
    assert row.status == ("fail", "")


def test_transposed_swaps_rows_and_columns():
    rows = (T.RowSpec("x", "X"), T.RowSpec("y", "Y"))
    table = T.build_table(
        {"a": {"x": 1, "y": 2}, "b": {"x": 3, "y": 4}},
        rows,
        paper={"a": {"x": 5, "y": 6}, "b": None},
    )
    flipped = table.transposed("col")
    assert flipped.columns == ("X", "Y") and flipped.corner == "col"
    assert [r.label for r in flipped.rows] == ["a", "b"]
    assert flipped.rows[0].ours == ("1", "2") and flipped.rows[0].paper == ("5", "6")
    assert flipped.rows[1].paper == ("–", "–")
    assert flipped.transposed("metric") == table
    mixed = T.build_table(
        {"a": {"x": 1}}, (T.RowSpec("x", "X"), T.RowSpec("x", "X'", compared=False)), paper={}
    )
    with pytest.raises(ValueError, match="only some rows"):
        mixed.transposed("col")


def test_markdown_table():
    table = T.build_table(
        {"a": {"cv": 0.1, "n": 7}},
        (T.RowSpec("cv", "CV"), T.RowSpec("n", "n", T.fmt_count, compared=False)),
        paper={"a": {"cv": 0.08}},
    )
    assert T.markdown_table(table) == [
        "| metric | a |",
        "|---|---|",
        "| CV | 0.1 (0.08) |",
        "| n | 7 |",
    ]


def test_table1_markdown_text_unchanged(table1_result):
    md = T.table1_markdown(table1_result)
    lines = md.splitlines()
    assert lines[0] == "# Table 1 reproduced (preset quick)"
    assert lines[4:14] == [
        "| metric | laplace_e0 | gmm | supervised |",
        "|---|---|---|---|",
        "| CV | 0.058 (–) | 0.044 (0.08) | skipped (0.5) |",
        f"| AD avg (< {AD_THRESHOLD}) | 0.39 (–) | 80.1 (0.39) | skipped (3.3) |",
        "| AD % normal | 93.8% (–) | 0.0% (100.0%) | skipped (6.2%) |",
        "| DP avg p (> 0.05) | 0.495 (–) | 4.0e-03 (0.46) | skipped (0.041) |",
        "| DP % normal | 93.8% (–) | 1.2% (100.0%) | skipped (3.9%) |",
        "| Gaussian? | ✓ (–) | – (✓) | skipped (×) |",
        "| alignment (pos. cos) | 0.461 | – | skipped |",
        "| neg. cos std | 0.07 | 0.204 | skipped |",
    ]
    assert "| epochs | 0 (–) | 100 (100) | skipped (100) |" in lines
    assert "- **supervised**: skipped: image trainer not available (x)" in lines
    assert "- **gmm**: g; l" in lines
    assert md.endswith("\n\nWall time: 526 s.\n")


def test_print_table1(table1_result):
    console = _console()
    T.print_table1(table1_result, console)
    text = console.export_text()
    assert "Table 1, reproduced (preset quick)" in text
    assert "│ DP avg p (> 0.05)    │      0.495 │ 4.0e-03 │    skipped │" in text
    assert "│   paper              │          – │    0.46 │      0.041 │" in text
    assert "supervised: skipped: image trainer not available (x)" in text
    assert "image pair dataset: Fashion-MNIST" in text
    assert "reduced: laplace: 30 epochs" in text and "wall time 526 s" in text


def test_print_table2():
    rows = {r["key"]: r for r in paper.TABLE2}
    ref = rows["dino_coco"]
    ours = {
        v: {k: (x * s if isinstance(x, float) else x) for k, x in ref[v].items()}
        for v, s in (("unnormalized", 1.1), ("normalized", 0.9))
    }
    result = {
        "ran": ["dino_coco"],
        "rows": {"dino_coco": ours},
        "paper": {"dino_coco": ref},
        "skipped": {"clip_text_coco": "no data"},
    }
    model = T.table2_table(result)
    assert model.columns == ("AD avg", "AD % normal", "DP avg p", "DP % normal", "Gaussian?")
    assert model.corner == "row" and model.rows[0].label == "dino_coco"
    assert model.rows[0].ours[0] == "0.484 / 0.396" and model.rows[0].paper[0] == "0.44 / 0.44"
    console = _console()
    T.print_table2(result, console)
    text = console.export_text()
    assert "Table 2, reproduced: ours (paper); unnormalized / normalized" in text
    assert "0.484 / 0.396 (0.44 / 0.44)" in text and "✓ / ✓ (✓ / ✓)" in text
    assert "clip_text_coco: skipped: no data" in text
    console = _console()
    T.print_table2({"ran": [], "rows": {}, "paper": {}, "skipped": {}}, console)
    assert "Table 2: no row could run here." in console.export_text()


def test_side_by_side_of_demo_reports(tmp_path):
    result = paper.run_demo(tmp_path, n=600, d=16, mode="synthetic")
    model = T.side_by_side_table(result.reports)
    assert model.columns == ("gaussian", "post_relu")
    labels = [r.label for r in model.rows]
    assert labels == [
        "n × d",
        "CV of norms",
        f"AD avg (< {AD_THRESHOLD})",
        "AD % normal",
        "DP avg p (> 0.05)",
        "DP % normal",
        "Gaussian? (paper rule)",
        "Gaussian? (calibrated)",
    ]
    rows = {r.label: r for r in model.rows}
    assert rows["n × d"].ours == ("600 × 16", "600 × 16")
    assert rows["Gaussian? (paper rule)"].ours == ("✓ yes", "× no")
    assert rows["Gaussian? (paper rule)"].status == ("pass", "fail")
    assert rows["AD % normal"].notes[0].startswith("[") and rows["AD % normal"].status[1] == "fail"
    console = _console()
    T.print_side_by_side(result.reports, console)
    text = console.export_text()
    assert "Gaussianity audit (raw view)" in text and "pass fractions: [99% null band]" in text
    assert "0.0% [75–100]" in text


def test_history_table():
    epochs = {
        "0": {
            "cv": 0.05,
            "ad_mean": 23.9,
            "ad_pass_fraction": 0.0,
            "dp_mean_pvalue": 5.06e-5,
            "dp_pass_fraction": 0.0,
            "gaussian": False,
            "alignment": 0.964,
            "uniformity_std": 0.07,
            "train_loss": None,
        },
        "10": {
            "cv": 0.1,
            "ad_mean": 0.4,
            "ad_pass_fraction": 0.95,
            "dp_mean_pvalue": 0.5,
            "dp_pass_fraction": 0.94,
            "gaussian": True,
            "alignment": 0.5,
            "uniformity_std": 0.0625,
            "train_loss": 2.61,
        },
    }
    model = T.history_table(epochs, kind="binary", seconds=2.2)
    assert model.corner == "epoch" and [r.label for r in model.rows] == ["0", "10"]
    assert model.columns[:3] == ("CV", "AD", "AD pass")
    assert model.rows[0].ours == (
        "0.05",
        "23.9",
        "0.0%",
        "5.1e-05",
        "0.0%",
        "×",
        "0.964",
        "0.07",
        "–",
    )
    assert f"pass < {AD_THRESHOLD}" in model.caption
    console = _console()
    T.print_history(epochs, kind="binary", seconds=2.2, console=console)
    assert "synthetic binary: unnormalised test embeddings (2 s)" in console.export_text()
