"""The verdict reads in ten seconds: one headline per view, no contradictions, thresholds in words.

Issue 14 ("a verdict a person reads in ten seconds") and issue 12 (departure and
diagnosis lead the reports): the terminal, Markdown and HTML reports open with
one line per view saying the verdict, what failed and by how much, the
departure with its 95 % interval and the diagnosis; the verdicts never show as
if they contradicted each other; every threshold is explained where it shows.
"""

import copy
import itertools
import re

import numpy as np
import pytest
from markupsafe import escape

from gaussaudit import audit, build_report
from gaussaudit.io import from_array
from gaussaudit.report._format import num
from gaussaudit.report._headline import ViewHeadline, humanise, view_headline, view_headlines
from gaussaudit.report._reasons import threshold_notes
from gaussaudit.report.markdown import render_markdown
from gaussaudit.report.terminal import render_terminal_text

FAST = {"projections": 16, "subspaces": 2, "subspace_dim": 3, "multivariate_max_rows": 300}
VIEWS = ("raw", "normalized", "whitened")


@pytest.fixture(scope="module")
def result():
    x = np.random.default_rng(14).standard_t(3, size=(600, 12))
    emb = from_array(x, source="t3.npy")
    return audit(emb, views=VIEWS, **FAST), emb


@pytest.fixture(scope="module")
def report(result):
    res, emb = result
    return build_report(res, emb)


def _headline_block(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Verdict: "))
    end = next(i for i, line in enumerate(lines) if i > start and not line.startswith(VIEWS))
    return lines[start + 1 : end]


def _negligible(report: dict, view: str = "whitened") -> dict:
    """A copy of ``report`` where ``view`` passes the paper rule, fails the calibrated
    verdict and its departure is within the margin: significant but negligible."""
    out = copy.deepcopy(report)
    v = out["views"][view]
    v["verdict"].update(gaussian=True, paper_rule=True, calibrated=False, practically_gaussian=True)
    v["departure"].update(value=0.004, ci_low=0.002, ci_high=0.006, margin=0.02)
    return out


# ---------------------------------------------------------------- terminal


def test_one_headline_line_per_view(report):
    text = render_terminal_text(report, width=400)
    block = _headline_block(text)
    assert [line.split()[0] for line in block] == list(VIEWS)  # one line each, in order
    for line, head in zip(block, view_headlines(report), strict=True):
        assert head.phrase in line
        dep = report["views"][head.view]["departure"]
        # the departure with its 95 % interval and the margin, as the JSON has them
        assert (
            f"departure W1 {dep['value']:.3f} [{dep['ci_low']:.3f}, {dep['ci_high']:.3f}]" in line
        )
        assert f"margin {num(dep['margin'])}" in line
        assert "needs " in line  # what failed, against what it needed
    # the raw view of t(3) data: heavy tails, diagnosed and said in words
    assert "heavy tails" in block[0]
    assert text.startswith("gaussaudit ")
    assert text.splitlines()[2].startswith("Verdict: not Gaussian")


def test_view_all_is_short_and_verbose_has_the_details(report):
    short = render_terminal_text(report, width=120)
    full = render_terminal_text(report, width=120, verbose=True)
    assert len(short.splitlines()) <= 45
    assert len(full.splitlines()) > len(short.splitlines()) + 20
    # the near-identical per-test reasons and the per-test table are details
    assert "binomial quantile for" not in short and "More tests" not in short
    assert "More tests" in full and "Why, per view" in full
    # in verbose the calibrated verdict's floor reasons collapse into one line per view
    collapsed = [line for line in full.splitlines() if "pass fractions below their floors" in line]
    failing = [v for v in report["views"].values() if v["verdict"]["calibrated"] is False]
    assert len(collapsed) == len(failing) >= 2


def test_significant_but_negligible_is_said_not_contradicted(report):
    text = render_terminal_text(_negligible(report), width=400)
    line = next(line for line in _headline_block(text) if line.startswith("whitened"))
    assert "Gaussian by the paper rule — significant but negligible: departure below margin" in line
    assert "calibrated: " in line  # the failures shown are the calibrated verdict's
    assert "≤ margin 0.02" in line


@pytest.mark.parametrize("rule", ["paper", "calibrated"])
def test_no_combination_of_verdicts_reads_as_a_contradiction(rule):
    flags = (True, False, None)
    for paper, calibrated, practical in itertools.product(flags, flags, flags):
        headline = paper if rule == "paper" else calibrated
        view = {
            "d": 8,
            "verdict": {
                "gaussian": headline,
                "paper_rule": paper,
                "calibrated": calibrated,
                "practically_gaussian": practical,
                "reasons": [],
            },
            "departure": {"value": 0.01, "ci_low": 0.0, "ci_high": 0.03, "margin": 0.02},
        }
        head = view_headline("raw", view, {"verdict": rule})
        word = {True: "Gaussian", False: "not Gaussian", None: "undecided"}[headline]
        assert head.phrase.startswith(word), (paper, calibrated, practical, head.phrase)
        disagree = (paper is not None and calibrated is not None and paper != calibrated) or (
            calibrated is not None and practical is not None and calibrated != practical
        )
        if headline is not None and disagree:
            # which verdict gives the headline, and why the others differ
            name = "the paper rule" if rule == "paper" else "the calibrated verdict"
            assert f"{word} by {name} — " in head.phrase, head.phrase
        if calibrated is False and practical is True:
            assert "significant but negligible" in head.phrase
        if calibrated is False and practical is None:  # detected, size not settled
            assert "significant, size undecided: interval straddles margin" in head.phrase
        elif headline is not None and not disagree:
            assert head.phrase == word
        assert head.status in {"pass", "fail", "na", "negligible"}


def test_thresholds_explained_where_they_show(report):
    short = render_terminal_text(report, width=400)
    full = render_terminal_text(report, width=400, verbose=True)
    alpha = report["config"]["alpha"]
    assert "mean A² < 0.752 (the 5% critical value of A² for one Gaussian coordinate)" in short
    # every Holm level the verdict used is said as a share of alpha
    levels = {
        float(m)
        for v in report["views"].values()
        for r in v["verdict"]["reasons"]
        for m in re.findall(r"after Holm at ([\d.]+)", r)
    }
    assert levels
    for level in levels:
        share = {alpha / 4: "a quarter", alpha / 2: "half"}[level]
        assert f"{share} ({num(level)}) for Holm" in short
        assert f"at level {num(level)} = {share} of alpha {alpha}" in full
    # the floors: their share of alpha and their tail
    assert "half (0.025) among the 8 pass-fraction floors" in short
    assert "“needs ≥ x%”: the lower 0.0031 quantile of a Gaussian's pass fraction" in short
    assert "negligible when the upper end ≤ margin 0.02" in short
    assert threshold_notes(report)[0] in short


def test_diagnosis_sentences_have_no_internal_keys(report):
    heads = view_headlines(report)
    assert heads[0].sentence and heads[0].diagnosis
    for head in heads:
        assert not re.search(r"\b[a-z_]+\.[a-z_]+\b", head.sentence), head.sentence
    assert humanise("by its size (departure.value) rather") == "by its size rather"


def test_effective_dimension_in_the_header(report):
    text = render_terminal_text(report, width=200)
    eff = report["views"]["raw"]["norms"]["effective_dimension"]
    assert f"effective dimension {num(eff)} of 12" in text.splitlines()[1]


def test_line_of_a_headline():
    head = ViewHeadline("raw", False, "fail", "not Gaussian", ("a", "b", "c"), "departure W1 0.1")
    assert head.line(failures=2) == "raw: not Gaussian; a, b (+1 more); departure W1 0.1"


# ---------------------------------------------------------------- markdown


def test_markdown_no_tick_above_failures(report):
    md = render_markdown(report)
    assert md.startswith("## ❌ gaussaudit: not Gaussian")
    assert md.count("| **raw** | ") == 1
    # a headline Gaussian with a failing stricter verdict is not a green tick
    mixed = copy.deepcopy(report)
    for v in mixed["views"].values():
        v["verdict"].update(gaussian=True, paper_rule=True, calibrated=False)
    mixed["verdict"]["gaussian"] = True
    md = render_markdown(mixed)
    assert not md.startswith("## ✅")
    assert md.startswith("## ⚠️ gaussaudit: Gaussian by the paper rule, with failures below")
    assert "· calibrated (the stricter verdict) ×:" in md
    # the tick shows only when no verdict fails anywhere
    clean = copy.deepcopy(mixed)
    for v in clean["views"].values():
        v["verdict"].update(calibrated=True, practically_gaussian=True)
    assert render_markdown(clean).startswith("## ✅")


def test_markdown_verbose_opens_the_reasons(report):
    assert "<details><summary>Why" in render_markdown(report)
    assert "<details>" not in render_markdown(report, verbose=True)


# ---------------------------------------------------------------- html


@pytest.fixture(scope="module")
def html(report):
    pytest.importorskip("jinja2")
    from gaussaudit.report.html import render_html

    return render_html(report, plots=False)


@pytest.fixture(scope="module")
def html_with_plots():
    """One small view with every figure (matplotlib is the slow part)."""
    pytest.importorskip("jinja2")
    pytest.importorskip("matplotlib")
    from gaussaudit.report.html import render_html

    x = np.random.default_rng(3).standard_t(3, size=(300, 6))
    return render_html(build_report(audit(x, views=("raw",), **FAST)))


def test_html_verdict_block_once_with_effective_dimension(html, report):
    assert html.count('id="verdict"') == 1
    assert html.count('class="banner') == 1  # the per-view sections do not repeat it
    assert html.count("Verdict: ") == 1
    banner = html.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    for name, view in report["views"].items():
        eff = view["norms"].get("effective_dimension")
        if eff is not None:
            assert f"{num(eff)} of {view['d']}" in banner
        assert f'<a href="#view-{name}">{name}</a>' in banner
    assert "effective dimension" in banner
    assert "What the thresholds mean" in banner
    # the departure with its interval, the diagnosis and the reconciled verdict lead
    for head in view_headlines(report):
        assert str(escape(head.phrase)) in banner
        assert ", ".join(head.diagnosis) in banner
    # every reason is still in the page, in its view's section (the details)
    section = html.split('id="view-raw"', 1)[1].split("</section>", 1)[0]
    for reason in report["views"]["raw"]["verdict"]["reasons"]:
        assert section.count(str(escape(reason))) == 1
        assert str(escape(reason)) not in banner


_DOTTED = re.compile(r"\b[a-z_]+\.[a-z_]+\.[a-z_]+\b|plot_data|\bnull here\b")


def _captions(html: str) -> list[str]:
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)
    captions += re.findall(r'<p class="caption">(.*?)</p>', html, re.S)
    return [re.sub(r"<[^>]+>", "", c) for c in captions]


def test_html_captions_have_no_internal_keys(html):
    captions = _captions(html)
    assert len(captions) >= 3
    for text in captions:
        assert not _DOTTED.search(text), text


@pytest.mark.slow
def test_html_figure_captions_and_subspace_legend(html_with_plots):
    from gaussaudit.report._labels import SUBSPACE_FAMILIES
    from gaussaudit.report.plots import PLOT_KINDS

    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html_with_plots, re.S)
    assert len(captions) == len(PLOT_KINDS)
    for text in _captions(html_with_plots):
        assert not _DOTTED.search(text), text
    figure = html_with_plots.split('id="plot-raw-projections"', 1)[1].split("</figure>", 1)[0]
    for _, family in SUBSPACE_FAMILIES:  # every family in the legend, none hidden
        assert family in figure, family
    assert "uniform (H0)" in figure and "alpha = 0.05" in figure
