"""Every test name and label the renderers write out, in one place.

The renderers (terminal, HTML, Markdown, plots, comparison) read the tables
below instead of spelling test names themselves. When the declarative test
registry (``gaussaudit.stats.tests``) exists, :data:`TEST_LABELS` and the
tuples become reads of it, in this file only.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "COMPARE_METRIC_LABELS",
    "HOLM_TESTS",
    "MORE_COORDINATE_TESTS",
    "MULTIVARIATE_TESTS",
    "PAPER_TESTS",
    "PROJECTION_TESTS",
    "SUBSPACE_FAMILIES",
    "TEST_LABELS",
    "Label",
    "label",
    "metric_label",
    "short",
]


class Label(NamedTuple):
    """How a test is named in reports: a full label and a short one."""

    label: str
    short: str


#: JSON key -> labels, for every test a report can hold.
TEST_LABELS: dict[str, Label] = {
    "anderson_darling": Label("Anderson–Darling", "AD"),
    "dagostino_pearson": Label("D'Agostino–Pearson", "DP"),
    "shapiro_wilk": Label("Shapiro–Wilk", "SW"),
    "jarque_bera": Label("Jarque–Bera", "JB"),
    "lilliefors": Label("Lilliefors", "Lilliefors"),
    "epps_pulley": Label("Epps–Pulley", "EP"),
    "mardia": Label("Mardia", "Mardia"),
    "henze_zirkler": Label("Henze–Zirkler", "HZ"),
}

#: The per-coordinate tests of the paper's table (with their own rows).
PAPER_TESTS = ("anderson_darling", "dagostino_pearson")
#: Further per-coordinate tests, one "% normal" row each.
MORE_COORDINATE_TESTS = ("shapiro_wilk", "jarque_bera", "lilliefors")
#: Per-coordinate tests whose Holm rejections are counted.
HOLM_TESTS = PAPER_TESTS
#: Tests run on random 1-D projections.
PROJECTION_TESTS = ("anderson_darling", "dagostino_pearson", "epps_pulley")
#: Full-view multivariate tests.
MULTIVARIATE_TESTS = ("mardia", "henze_zirkler")
#: p-value families of the random-subspace tests: (path in the report, label).
SUBSPACE_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("mardia", "skewness"), "Mardia skewness"),
    (("mardia", "kurtosis"), "Mardia kurtosis"),
    (("henze_zirkler",), "Henze–Zirkler"),
)


def label(test: str) -> str:
    """Full label of a test (its key when unknown).

    Examples
    --------
    >>> label("jarque_bera"), label("my_test")
    ('Jarque–Bera', 'my_test')
    """
    entry = TEST_LABELS.get(test)
    return entry.label if entry else test


def short(test: str) -> str:
    """Short label of a test (its key when unknown).

    Examples
    --------
    >>> short("anderson_darling")
    'AD'
    """
    entry = TEST_LABELS.get(test)
    return entry.short if entry else test


def _compare_labels() -> dict[str, str]:
    labels = {
        "cv": "CV of norms",
        "anderson_darling.mean": "AD avg",
        "dagostino_pearson.mean_pvalue": "DP avg p",
    }
    for test in (*PAPER_TESTS, *MORE_COORDINATE_TESTS):
        name = short(test) if test in PAPER_TESTS else label(test)
        labels[f"{test}.pass_fraction"] = f"{name} % normal"
    for test in PROJECTION_TESTS:
        labels[f"projections.{test}.pass_fraction"] = f"directions {short(test)} % normal"
    labels["verdict.paper_rule"] = "Gaussian? (paper rule)"
    labels["verdict.calibrated"] = "Gaussian? (calibrated)"
    labels["verdict.gaussian"] = "Gaussian? (headline)"
    return labels


#: Row labels of ``gaussaudit compare`` per metric path.
COMPARE_METRIC_LABELS: dict[str, str] = _compare_labels()


def metric_label(metric: str) -> str:
    """Row label of a compared metric (the metric path when unknown).

    Examples
    --------
    >>> metric_label("projections.epps_pulley.pass_fraction")
    'directions EP % normal'
    """
    return COMPARE_METRIC_LABELS.get(metric, metric)
