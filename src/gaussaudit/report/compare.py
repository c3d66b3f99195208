"""Side-by-side terminal table of several report models (one column each)."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from .terminal import _flag, _frac_cell, _num

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

    def coord(v: dict, test: str) -> dict:
        return v.get("coordinates", {}).get(test) or {}

    table.add_row("n × d", *[f"{v['n']} × {v['d']}" for v in views])
    table.add_row("CV of norms", *[_num((v.get("norms") or {}).get("cv")) for v in views])
    table.add_row(
        f"AD avg (< {thr})", *[_num(coord(v, "anderson_darling").get("mean")) for v in views]
    )
    table.add_row("AD % normal", *[_frac_cell(coord(v, "anderson_darling")) for v in views])
    table.add_row(
        f"DP avg p (> {alpha})",
        *[_num(coord(v, "dagostino_pearson").get("mean_pvalue")) for v in views],
    )
    table.add_row("DP % normal", *[_frac_cell(coord(v, "dagostino_pearson")) for v in views])
    table.add_row("Gaussian? (paper rule)", *[_flag(v["verdict"]["paper_rule"]) for v in views])
    table.add_row("Gaussian? (calibrated)", *[_flag(v["verdict"]["calibrated"]) for v in views])
    console.print(table)
