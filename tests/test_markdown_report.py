import json

import numpy as np
import pytest

from gaussaudit import audit, build_report
from gaussaudit.cli import main
from gaussaudit.io import from_array
from gaussaudit.report.markdown import failing_coordinates, md_escape, render_markdown

FAST = {"projections": 8, "subspaces": 2, "subspace_dim": 3, "multivariate_max_rows": 300}


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((400, 12))
    x[:, [2, 7]] = rng.exponential(size=(400, 2))  # two skewed coordinates
    emb = from_array(
        x, source="a|b_<img src=x>.npy", provenance={"encoder": "res|net", "layer": "fc"}
    )
    return build_report(audit(emb, views=("raw", "whitened"), **FAST), emb)


def test_verdict_and_reasons(report):
    md = render_markdown(report)
    assert md.startswith("## ❌ gaussaudit: not Gaussian\n")
    # every verdict's reasons, labelled with the verdict they belong to
    assert "- **raw** · paper rule (the headline verdict) ×: mean A^2" in md
    assert "- **raw** · calibrated (the stricter verdict) ×:" in md
    assert "**whitened**" in md
    # one headline row per view: verdict, what failed, departure, diagnosis
    assert "| view | verdict | what failed, by how much | departure | diagnosis |" in md
    assert md.count("| **raw** | ") == 1 and md.count("| **whitened** | ") == 1


def test_paper_table(report):
    md = render_markdown(report)
    lines = md.splitlines()
    header = lines.index("| metric | raw | whitened |")
    assert lines[header + 1] == "| --- | ---: | ---: |"
    labels = [row.split(" | ")[0].lstrip("| ") for row in lines[header + 2 : header + 10]]
    assert labels == [
        "n × d",
        "CV of norms",
        r"AD avg \(&lt; 0.752\)",
        "AD % normal",
        r"DP avg \(&gt; 0.05\)",
        "DP % normal",
        r"Gaussian? \(paper rule\)",
        r"Gaussian? \(calibrated\)",
    ]
    table = lines[header : header + 10]
    assert all(row.count("|") == 4 for row in table)  # no stray pipes
    ad_row = next(r for r in table if r.startswith("| AD % normal"))
    assert "%)" in ad_row  # the null band
    assert "❌ no" in next(r for r in table if r.startswith(r"| Gaussian? \(paper rule\)"))


def test_top_failing_coordinates(report):
    md = render_markdown(report)
    raw = report["views"]["raw"]
    failing = failing_coordinates(raw, 0.752)
    assert {f["column"] for f in failing[:2]} == {2, 7}
    assert [f["a2"] for f in failing] == sorted((f["a2"] for f in failing), reverse=True)
    section = md.split("**raw**: ", 2)[-1]
    assert "coordinates fail A² < 0.752" in section
    assert "| coordinate | A² | AD p | DP p |" in md
    assert "| principal direction | A² | AD p | DP p |" in md or "no principal direction" in md
    first_row = md.split("| ---: | ---: | ---: | ---: |\n", 1)[1].splitlines()[0]
    assert first_row.split(" | ")[0].strip("| ") in {"2", "7"}


def test_user_strings_are_escaped(report):
    md = render_markdown(report)
    assert "<img" not in md and "&lt;img src=x&gt;" in md
    assert r"a\|b\_" in md and r"res\|net" in md
    assert md_escape("x|y*z") == r"x\|y\*z"


def test_compact_and_no_plot_data(report):
    md = render_markdown(report)
    assert len(md) < 6000
    assert "plot_data" not in md and "<svg" not in md


def test_cli_markdown_to_stdout(tmp_path, capsys):
    path = tmp_path / "emb.npy"
    np.save(path, np.random.default_rng(0).standard_normal((200, 5)))
    args = ["--projections", "8", "--subspaces", "2", "--multivariate-max-rows", "200"]
    code = main(["test", str(path), "--report", "markdown", *args])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("## ") and "| metric | raw |" in out
    out_file = tmp_path / "summary.md"
    assert main(["test", str(path), "--report", "markdown", "--out", str(out_file), *args]) == 0
    assert out_file.read_text() == out
    json.dumps(out)  # plain text
