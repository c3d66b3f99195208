"""Plot data on demand: the report model asks the statistics layer only when a plot is drawn.

A report model built from an audit that kept its matrix carries a
:class:`LazyPlotData` (attribute ``plot_source`` of
:class:`gaussaudit.report.model.ReportModel`). It
is not part of the dict, so a JSON, terminal or Markdown report neither
computes nor writes plot data; the HTML renderer calls :func:`view_plot_data`,
which computes a view's diagnostics (:func:`gaussaudit.stats.diagnostics.view_diagnostics`)
the first time they are needed and keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LazyPlotData", "view_plot_data"]


class LazyPlotData:
    """The plot diagnostics of an audit's views, computed on first use and kept.

    Parameters
    ----------
    matrix : ndarray, shape (n, d)
        The audited matrix (``AuditResult.matrix``).
    views : mapping
        ``AuditResult.views`` (name -> ``ViewAudit``).
    config : AuditConfig
        The audit's settings (seed, A² threshold).
    """

    def __init__(self, matrix: Any, views: Mapping[str, Any], config: Any) -> None:
        self.matrix = matrix
        self.views = dict(views)
        self.config = config
        self._cache: dict[str, dict] = {}

    def __contains__(self, name: object) -> bool:
        return name in self.views

    def __repr__(self) -> str:
        return f"LazyPlotData(views={list(self.views)}, computed={list(self._cache)})"

    def get(self, name: str) -> dict:
        """Return the plot data of view ``name`` (as in ``views.<view>.plot_data``)."""
        if name not in self._cache:
            from .._values import clean
            from ..stats.diagnostics import view_diagnostics

            self._cache[name] = clean(view_diagnostics(self.matrix, self.views[name], self.config))
        return self._cache[name]


def view_plot_data(report: Mapping, name: str) -> dict | None:
    """Plot data of one view: the ``plot_data`` key when present, else computed on demand.

    Parameters
    ----------
    report : dict
        The report model.
    name : str
        The view.

    Returns
    -------
    dict or None
        None when the report has neither the key nor an audited matrix (a
        JSON report read back, or an audit that did not keep its matrix).
    """
    view = report["views"][name]
    if "plot_data" in view:
        return view["plot_data"]
    source = getattr(report, "plot_source", None)
    if source is None or name not in source:
        return None
    return source.get(name)
