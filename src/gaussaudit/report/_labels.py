"""Every test name and label the renderers write out, in one place.

The renderers (terminal, HTML, Markdown, plots, comparison) read the tables
below instead of spelling test names themselves, and the tables are reads of
the declarative test registry (:mod:`gaussaudit.stats.tests`): a registered
test gets its labels and rows without any change here.
"""

from __future__ import annotations

from typing import NamedTuple

from ..stats.tests import REGISTRY, coordinate_tests, multivariate_tests, projection_tests
from ..stats.tests import label as registry_label

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


def _test_labels() -> dict[str, Label]:
    labels = {s.name: Label(s.label, s.short) for s in REGISTRY.specs() if s.family != "norms"}
    for name in projection_tests():
        labels.setdefault(name, Label(registry_label(name), registry_label(name, short=True)))
    return labels


#: JSON key -> labels, for every test a report can hold (read from the test registry).
TEST_LABELS: dict[str, Label] = _test_labels()

#: The per-coordinate tests of the paper's table (with their own rows).
PAPER_TESTS = ("anderson_darling", "dagostino_pearson")
#: Further per-coordinate tests, one "% normal" row each (shown when a report has them).
MORE_COORDINATE_TESTS = tuple(s.name for s in coordinate_tests() if s.name not in PAPER_TESTS)
#: Per-coordinate tests whose Holm rejections are counted.
HOLM_TESTS = PAPER_TESTS
#: Tests run on random 1-D projections.
PROJECTION_TESTS = projection_tests()
#: Full-view multivariate tests.
MULTIVARIATE_TESTS = tuple(s.name for s in multivariate_tests())


def _subspace_families() -> tuple[tuple[tuple[str, ...], str], ...]:
    out = []
    for spec in multivariate_tests():
        if not spec.subspaces:
            continue
        for pvalue_label, path in spec.pvalues:
            parts = tuple(path.split(".")[:-1])
            family = pvalue_label.replace(spec.name, spec.label).replace("mardia", "Mardia")
            out.append(((spec.name, *parts), family))
    return tuple(out)


#: p-value families of the random-subspace tests: (path in the report, label).
SUBSPACE_FAMILIES: tuple[tuple[tuple[str, ...], str], ...] = _subspace_families()


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
    for spec in coordinate_tests():
        name = spec.short if spec.name in PAPER_TESTS else spec.label
        labels[f"{spec.name}.pass_fraction"] = f"{name} % normal"
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
