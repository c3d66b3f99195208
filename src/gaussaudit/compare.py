"""Regression check between two JSON reports (e.g. yesterday's encoder and today's).

:func:`compare_reports` reads the same metrics from both report models, view by
view, and flags a regression when

- a pass fraction (per-coordinate tests and random-direction tests present in
  both reports) drops by more than ``max_drop`` (absolute),
- the CV of the row norms rises by more than ``max_cv_increase`` (absolute), or
- a verdict (paper rule or calibrated) goes from Gaussian (true) to not Gaussian
  (false) or undecided (null), unless ``verdict_flip`` is off.

The mean A² and the mean D'Agostino–Pearson p-value are shown but not gated.
Reports whose ``schema_version`` majors differ, or that lack a compared view,
are incompatible (:class:`IncompatibleReportsError`, exit code 2).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .errors import UsageError

__all__ = [
    "CompareThresholds",
    "Comparison",
    "IncompatibleReportsError",
    "InvalidReportError",
    "MetricDelta",
    "compare_reports",
    "load_report",
]


class InvalidReportError(UsageError):
    """A file is not a gaussaudit JSON report."""


class IncompatibleReportsError(UsageError):
    """Two reports cannot be compared (schema major version, missing views)."""


@dataclass(frozen=True)
class CompareThresholds:
    """What counts as a regression.

    Attributes
    ----------
    max_drop : float
        Largest allowed absolute drop of any pass fraction (0.02 = 2 points).
    max_cv_increase : float
        Largest allowed absolute rise of the CV of the row norms.
    verdict_flip : bool
        Whether a verdict going from Gaussian to not (or undecided) is a regression.
    """

    max_drop: float = 0.02
    max_cv_increase: float = 0.01
    verdict_flip: bool = True

    def __post_init__(self) -> None:
        if not self.max_drop >= 0 or not self.max_cv_increase >= 0:
            raise UsageError(
                f"max_drop and max_cv_increase must be >= 0, got {self.max_drop} "
                f"and {self.max_cv_increase}"
            )


@dataclass(frozen=True)
class MetricDelta:
    """One metric of one view in both reports.

    Attributes
    ----------
    view, metric : str
        ``metric`` is e.g. ``cv``, ``anderson_darling.pass_fraction``,
        ``projections.epps_pulley.pass_fraction``, ``verdict.paper_rule``.
    base, new : float, bool or None
        None when missing or skipped in that report.
    delta : float or None
        ``new - base`` for numbers.
    limit : str or None
        The regression rule applied, e.g. ``drop <= 0.02``; None when not gated.
    regressed : bool
    detail : str
    """

    view: str
    metric: str
    base: Any
    new: Any
    delta: float | None
    limit: str | None
    regressed: bool
    detail: str = ""


@dataclass(frozen=True)
class Comparison:
    """The outcome of :func:`compare_reports`.

    Attributes
    ----------
    base_source, new_source : str
        ``input.source`` of each report.
    views : tuple of str
        Views compared.
    deltas : tuple of MetricDelta
        View by view, in display order.
    thresholds : CompareThresholds
    notes : tuple of str
        Differences in settings that make numbers less comparable.
    """

    base_source: str
    new_source: str
    views: tuple[str, ...]
    deltas: tuple[MetricDelta, ...]
    thresholds: CompareThresholds
    notes: tuple[str, ...] = ()

    @property
    def regressions(self) -> list[MetricDelta]:
        """The metrics that regressed."""
        return [d for d in self.deltas if d.regressed]

    @property
    def regressed(self) -> bool:
        """True when any metric regressed."""
        return any(d.regressed for d in self.deltas)

    def to_dict(self) -> dict:
        """JSON-compatible form."""
        from .report.model import clean

        views: dict[str, dict] = {v: {} for v in self.views}
        for d in self.deltas:
            views[d.view][d.metric] = {
                k: v for k, v in asdict(d).items() if k not in ("view", "metric")
            }
        return clean(
            {
                "base": self.base_source,
                "new": self.new_source,
                "regressed": self.regressed,
                "thresholds": asdict(self.thresholds),
                "views": views,
                "regressions": [asdict(d) for d in self.regressions],
                "notes": list(self.notes),
            }
        )


def load_report(path: str | os.PathLike) -> dict:
    """Read a JSON report written by ``gaussaudit test/check --report json``.

    Raises
    ------
    InvalidReportError
        When the file cannot be read, is not JSON, or is not a report.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise InvalidReportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidReportError(f"{path}: is a directory, not a JSON report") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidReportError(f"{path}: not a JSON report ({err})") from None
    except OSError as err:
        raise InvalidReportError(f"{path}: cannot read ({err.strerror or err})") from None
    _validate(data, str(path))
    return data


def _validate(report: Any, label: str) -> int:
    """Check the shape of a report; return its schema major version."""
    if not isinstance(report, Mapping):
        raise InvalidReportError(f"{label}: not a gaussaudit report (expected a JSON object)")
    version = report.get("schema_version")
    if not isinstance(version, str):
        raise InvalidReportError(f"{label}: not a gaussaudit report (no schema_version)")
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise InvalidReportError(f"{label}: unreadable schema_version {version!r}") from None
    views = report.get("views")
    if not isinstance(views, Mapping) or not views:
        raise InvalidReportError(f"{label}: not a gaussaudit report (no views)")
    for name, view in views.items():
        if not isinstance(view, Mapping):
            raise InvalidReportError(f"{label}: view {name!r} is not an object")
    return major


def _get(view: Mapping, *path: str) -> Any:
    node: Any = view
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    if isinstance(node, Mapping):
        return None
    return node


_COORDINATE = ("anderson_darling", "dagostino_pearson", "shapiro_wilk", "jarque_bera", "lilliefors")
_PROJECTION = ("anderson_darling", "dagostino_pearson", "epps_pulley")


def _metrics(base: Mapping, new: Mapping) -> list[tuple[str, tuple[str, ...], str]]:
    """(metric name, path into the view, kind) for what either report holds."""

    def either(*path: str) -> bool:
        return _present(base, path) or _present(new, path)

    out = [
        ("cv", ("norms", "cv"), "cv"),
        ("anderson_darling.mean", ("coordinates", "anderson_darling", "mean"), "info"),
        (
            "anderson_darling.pass_fraction",
            ("coordinates", "anderson_darling", "pass_fraction"),
            "fraction",
        ),
        (
            "dagostino_pearson.mean_pvalue",
            ("coordinates", "dagostino_pearson", "mean_pvalue"),
            "info",
        ),
        (
            "dagostino_pearson.pass_fraction",
            ("coordinates", "dagostino_pearson", "pass_fraction"),
            "fraction",
        ),
    ]
    out = [m for m in out if either(*m[1])]
    for test in _COORDINATE[2:]:
        path = ("coordinates", test, "pass_fraction")
        if either(*path):
            out.append((f"{test}.pass_fraction", path, "fraction"))
    for test in _PROJECTION:
        path = ("projections", test, "pass_fraction")
        if either(*path):
            out.append((f"projections.{test}.pass_fraction", path, "fraction"))
    out += [
        ("verdict.paper_rule", ("verdict", "paper_rule"), "verdict"),
        ("verdict.calibrated", ("verdict", "calibrated"), "verdict"),
        ("verdict.gaussian", ("verdict", "gaussian"), "headline"),
    ]
    return out


def _present(view: Mapping, path: tuple[str, ...]) -> bool:
    node: Any = view
    for key in path[:-1]:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return isinstance(node, Mapping)


def _fmt(x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "Gaussian" if x else "not Gaussian"
    return f"{x:.4g}"


def _delta(view: str, metric: str, kind: str, b: Any, n: Any, t: CompareThresholds):
    if kind in ("verdict", "headline"):
        gated = kind == "verdict" and t.verdict_flip
        flipped = b is True and n is not True
        detail = f"{_fmt(b)} -> {'undecided' if n is None else _fmt(n)}" if flipped else ""
        return MetricDelta(
            view,
            metric,
            b,
            n,
            None,
            "stays Gaussian" if gated else None,
            bool(gated and flipped),
            detail,
        )
    if b is None or n is None:
        why = "missing or skipped in " + ("both" if b is None and n is None else
                                          "base" if b is None else "new")  # fmt: skip
        return MetricDelta(view, metric, b, n, None, None, False, why)
    d = float(n) - float(b)
    if kind == "fraction":
        bad = -d > t.max_drop + 1e-12
        detail = f"dropped {-d:.4g} > {t.max_drop}" if bad else ""
        return MetricDelta(view, metric, b, n, d, f"drop <= {t.max_drop}", bad, detail)
    if kind == "cv":
        bad = d > t.max_cv_increase + 1e-12
        detail = f"rose {d:.4g} > {t.max_cv_increase}" if bad else ""
        return MetricDelta(view, metric, b, n, d, f"rise <= {t.max_cv_increase}", bad, detail)
    return MetricDelta(view, metric, b, n, d, None, False, "")


def compare_reports(
    base: Mapping[str, Any],
    new: Mapping[str, Any],
    thresholds: CompareThresholds | None = None,
    *,
    views: Sequence[str] | None = None,
) -> Comparison:
    """Compare two report models and flag regressions from ``base`` to ``new``.

    Parameters
    ----------
    base, new : dict
        Report models (``json.load`` of two JSON reports, or
        :func:`gaussaudit.api.audit_file` results).
    thresholds : CompareThresholds, optional
        Defaults: ``max_drop=0.02``, ``max_cv_increase=0.01``, verdict flips count.
    views : sequence of str, optional
        Views to compare (default: every view of ``base``); each must be in both.

    Returns
    -------
    Comparison

    Raises
    ------
    InvalidReportError
        When either is not a report.
    IncompatibleReportsError
        Different schema major versions, or a compared view missing.
    """
    t = thresholds or CompareThresholds()
    major_b, major_n = _validate(base, "base report"), _validate(new, "new report")
    if major_b != major_n:
        raise IncompatibleReportsError(
            f"schema_version {base['schema_version']} (base) and {new['schema_version']} (new) "
            "have different major versions; re-run the older audit with this gaussaudit"
        )
    wanted = list(views) if views is not None else list(base["views"])
    for label, rep in (("base", base), ("new", new)):
        missing = [v for v in wanted if v not in rep["views"]]
        if missing:
            raise IncompatibleReportsError(
                f"the {label} report has no view {', '.join(missing)} "
                f"(it has {', '.join(rep['views'])}); audit both with the same views=... setting",
                option="views",
            )
    deltas: list[MetricDelta] = []
    for view in wanted:
        vb, vn = base["views"][view], new["views"][view]
        for metric, path, kind in _metrics(vb, vn):
            deltas.append(_delta(view, metric, kind, _get(vb, *path), _get(vn, *path), t))
    notes = []
    cb, cn = base.get("config") or {}, new.get("config") or {}
    for key in ("alpha", "seed", "max_samples", "projections", "subspaces", "ad_threshold"):
        if key in cb and key in cn and cb[key] != cn[key]:
            notes.append(f"config.{key} differs: {cb[key]} (base) vs {cn[key]} (new)")
    ib, inew = base.get("input") or {}, new.get("input") or {}
    for key in ("d", "n_audited"):
        if key in ib and key in inew and ib[key] != inew[key]:
            notes.append(f"input.{key} differs: {ib[key]} (base) vs {inew[key]} (new)")
    return Comparison(
        base_source=str(ib.get("source", "<base>")),
        new_source=str(inew.get("source", "<new>")),
        views=tuple(wanted),
        deltas=tuple(deltas),
        thresholds=t,
        notes=tuple(notes),
    )
