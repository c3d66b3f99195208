"""Matplotlib figures of one view of the report model, as inline SVG.

Every function reads the report dict only (a view's numbers and its
``plot_data``) and returns a :class:`Plot`, or None when the data it needs is
absent or skipped. Figures are built on :class:`matplotlib.figure.Figure`
directly (no pyplot, no global state), drawn with text as SVG ``<text>``
(small files, no embedded fonts), and their element ids are prefixed per plot
so several SVGs can live in one HTML page.

The number of figures per view is fixed (at most seven) whatever ``d`` is:
per-coordinate statistics are binned, and Q–Q plots show three coordinates.

Modules: :mod:`~gaussaudit.report.plots._draw` (style, figure, SVG
post-processing), :mod:`~gaussaudit.report.plots.coordinates` (A², DP, Q–Q)
and :mod:`~gaussaudit.report.plots.multivariate` (norms, Mahalanobis,
projections, cosines).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ._draw import Plot, _style
from .coordinates import _ad_plot, _dp_plot, _qq_plot
from .multivariate import _cosine_plot, _mahalanobis_plot, _norms_plot, _projections_plot

__all__ = ["PLOT_KINDS", "Plot", "view_plots"]

#: Plot kinds, in page order; a plot's HTML id is ``plot-<view>-<kind>``.
PLOT_KINDS = ("ad", "dp", "qq", "norms", "mahalanobis", "projections", "cosine")


_BUILDERS: dict[str, Callable[[dict, dict, str], Plot | None]] = {
    "ad": _ad_plot,
    "dp": _dp_plot,
    "qq": _qq_plot,
    "norms": _norms_plot,
    "mahalanobis": _mahalanobis_plot,
    "projections": _projections_plot,
    "cosine": _cosine_plot,
}


def _safe_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def view_plots(name: str, view: dict, config: dict) -> list[Plot]:
    """Every figure available for one view of the report model.

    Parameters
    ----------
    name : str
        The view's name (``raw``, ``normalized``, ``whitened``).
    view : dict
        ``report["views"][name]``.
    config : dict
        ``report["config"]`` (alpha and the A² threshold).

    Returns
    -------
    list of Plot
        In the order of :data:`PLOT_KINDS`; kinds without data are left out.
    """
    view = {**view, "name": name}
    out = []
    with _style():
        for kind, build in _BUILDERS.items():
            plot = build(view, config, f"plot-{_safe_id(name)}-{kind}")
            if plot is not None:
                out.append(plot)
    return out
