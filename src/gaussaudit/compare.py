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

from ._values import finite_number
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


#: Largest JSON report :func:`load_report` reads (a report at d = 4096 is a few MiB).
MAX_REPORT_BYTES = 64 << 20


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
    allow_missing : bool
        Accept a gated metric that the base report has and the new one lacks
        (skipped, null or absent). By default that is a regression: a
        comparison fails closed. A value that is present but not a number (or,
        for a verdict, not true/false) is always a regression.
    """

    max_drop: float = 0.02
    max_cv_increase: float = 0.01
    verdict_flip: bool = True
    allow_missing: bool = False

    def __post_init__(self) -> None:
        if not (finite_number(self.max_drop) is not None and self.max_drop >= 0) or not (
            finite_number(self.max_cv_increase) is not None and self.max_cv_increase >= 0
        ):
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
        from ._values import clean

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
    import stat

    try:
        info = os.stat(path)
        if stat.S_ISREG(info.st_mode) is False and not stat.S_ISDIR(info.st_mode):
            raise InvalidReportError(f"{path}: not a regular file")
        if info.st_size > MAX_REPORT_BYTES:
            raise InvalidReportError(
                f"{path}: larger than {MAX_REPORT_BYTES >> 20} MiB, not a gaussaudit report"
            )
        with open(path, encoding="utf-8") as fh:
            data = json.loads(fh.read(MAX_REPORT_BYTES + 1))
    except InvalidReportError:
        raise
    except RecursionError:
        raise InvalidReportError(f"{path}: not a JSON report (nested too deeply)") from None
    except FileNotFoundError:
        raise InvalidReportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InvalidReportError(f"{path}: is a directory, not a JSON report") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InvalidReportError(f"{path}: not a JSON report ({err})") from None
    except ValueError as err:  # e.g. an integer beyond Python's digit limit
        raise InvalidReportError(f"{path}: not a JSON report ({str(err)[:80]})") from None
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


def _metrics(base: Mapping, new: Mapping) -> list[tuple[str, tuple[str, ...], str]]:
    """(metric name, path into the view, kind) for what either report holds.

    The metrics come from the test registry: every summary metric of the norms
    and of each per-coordinate test, the pass fraction of each projection test,
    then the verdicts.
    """
    from .stats.tests import coordinate_tests, projection_tests

    def either(*path: str) -> bool:
        return _present(base, path) or _present(new, path)

    out = [("cv", ("norms", "cv"), "cv")]
    for spec in coordinate_tests():
        out += [
            (f"{spec.name}.{m.key}", ("coordinates", spec.name, m.key), m.kind)
            for m in spec.metrics
        ]
    out += [
        (f"projections.{t}.pass_fraction", ("projections", t, "pass_fraction"), "fraction")
        for t in projection_tests()
    ]
    out = [m for m in out if either(*m[1])]
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
    gated = kind in ("fraction", "cv") or (kind == "verdict" and t.verdict_flip)
    if kind in ("verdict", "headline"):
        typed = all(v is None or isinstance(v, bool) for v in (b, n))
        if not typed:
            return MetricDelta(view, metric, b, n, None, "true/false", gated,
                               "not true/false in " + _which(b, n, bool))  # fmt: skip
        flipped = b is True and n is not True
        detail = f"{_fmt(b)} -> {'undecided' if n is None else _fmt(n)}" if flipped else ""
        return MetricDelta(
            view, metric, b, n, None, "stays Gaussian" if gated else None,
            bool(gated and flipped), detail,
        )  # fmt: skip
    fb, fn = finite_number(b), finite_number(n)
    if (b is not None and fb is None) or (n is not None and fn is None):
        # present but not a finite number (a string, a list, NaN, a huge integer)
        why = "not a finite number in " + _which(b, n, float)
        return MetricDelta(view, metric, b, n, None, None, gated, why)
    if fb is None or fn is None:
        side = "both" if fb is None and fn is None else "base" if fb is None else "new"
        why = f"missing or skipped in {side}"
        # fail closed: a gated metric the baseline has and the new report lacks
        regressed = gated and side == "new" and not t.allow_missing
        if regressed:
            why += " (a missing metric is a regression; allow_missing accepts it)"
        return MetricDelta(view, metric, b, n, None, None, regressed, why)
    d = fn - fb
    if kind == "fraction":
        bad = -d > t.max_drop + 1e-12
        detail = f"dropped {-d:.4g} > {t.max_drop}" if bad else ""
        return MetricDelta(view, metric, b, n, d, f"drop <= {t.max_drop}", bad, detail)
    if kind == "cv":
        bad = d > t.max_cv_increase + 1e-12
        detail = f"rose {d:.4g} > {t.max_cv_increase}" if bad else ""
        return MetricDelta(view, metric, b, n, d, f"rise <= {t.max_cv_increase}", bad, detail)
    return MetricDelta(view, metric, b, n, d, None, False, "")


def _which(b: Any, n: Any, kind: type) -> str:
    def bad(v: Any) -> bool:
        if v is None:
            return False
        return not isinstance(v, bool) if kind is bool else finite_number(v) is None

    return "both" if bad(b) and bad(n) else "base" if bad(b) else "new"


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
        :func:`gaussaudit.workflows.audit_file` results).
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
