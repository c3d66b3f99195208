"""Side-by-side terminal table of several report models (one column each)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from .terminal import paper_rows

__all__ = ["render_side_by_side"]


def render_side_by_side(reports: dict[str, dict], console: Console, *, view: str = "raw") -> None:
    """Print the paper-style rows of one view for several reports.

    Parameters
    ----------
    reports : dict
        Report model per column label.
    console : rich.console.Console
    view : str
        Which view to show.
    """
    any_report = next(iter(reports.values()))
    thr = any_report["config"]["ad_threshold"]
    alpha = any_report["config"]["alpha"]
    table = Table(
        title=f"Gaussianity audit ({view} view)",
        box=box.SIMPLE_HEAVY,
        caption="pass fractions: [dim][99% null band][/dim]",
    )
    table.add_column("metric", style="bold")
    for label in reports:
        table.add_column(label, justify="right")
    views = [r["views"][view] for r in reports.values()]
    for label, cells in paper_rows(views, thr, alpha, norm_details=False):
        table.add_row(label, *cells)
    console.print(table)
