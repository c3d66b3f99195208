"""``gaussaudit compare``: regression check between two JSON reports (exit 1 on a regression)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["compare", "comparison_markdown", "comparison_tables"]

_LABELS = {
    "cv": "CV of norms",
    "anderson_darling.mean": "AD avg",
    "anderson_darling.pass_fraction": "AD % normal",
    "dagostino_pearson.mean_pvalue": "DP avg p",
    "dagostino_pearson.pass_fraction": "DP % normal",
    "shapiro_wilk.pass_fraction": "Shapiro–Wilk % normal",
    "jarque_bera.pass_fraction": "Jarque–Bera % normal",
    "lilliefors.pass_fraction": "Lilliefors % normal",
    "projections.anderson_darling.pass_fraction": "directions AD % normal",
    "projections.dagostino_pearson.pass_fraction": "directions DP % normal",
    "projections.epps_pulley.pass_fraction": "directions EP % normal",
    "verdict.paper_rule": "Gaussian? (paper rule)",
    "verdict.calibrated": "Gaussian? (calibrated)",
    "verdict.gaussian": "Gaussian? (headline)",
}


def _value(metric: str, x: Any) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if metric.endswith("pass_fraction"):
        return f"{100 * x:.1f}%"
    return f"{x:.4g}"


def _delta(metric: str, d: float | None) -> str:
    if d is None:
        return ""
    if metric.endswith("pass_fraction"):
        return f"{100 * d:+.1f} pt"
    return f"{d:+.3g}"


def comparison_tables(comparison: Any) -> list:
    """One rich table per view: metric, base, new, delta, rule, result."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    tables = []
    for view in comparison.views:
        table = Table(title=f"compare ({view} view)", box=box.SIMPLE_HEAVY, title_style="bold")
        for col, justify in (
            ("metric", "left"),
            ("base", "right"),
            ("new", "right"),
            ("delta", "right"),
            ("rule", "left"),
            ("result", "left"),
        ):
            table.add_column(col, justify=justify)  # type: ignore[arg-type]
        for d in comparison.deltas:
            if d.view != view:
                continue
            if d.regressed:
                flag = Text("REGRESSED", style="bold red")
            elif d.limit is None:
                flag = Text("–", style="dim")
            else:
                flag = Text("ok", style="green")
            table.add_row(
                _LABELS.get(d.metric, d.metric),
                _value(d.metric, d.base),
                _value(d.metric, d.new),
                _delta(d.metric, d.delta),
                d.limit or "",
                flag,
            )
        tables.append(table)
    return tables


def comparison_markdown(comparison: Any) -> str:
    """Render the comparison as Markdown (for a CI step summary)."""
    status = "regressed" if comparison.regressed else "no regression"
    lines = [
        f"### gaussaudit compare: {status}",
        "",
        f"Base `{comparison.base_source}`, new `{comparison.new_source}`.",
        "",
        "| view | metric | base | new | delta | result |",
        "| --- | --- | ---: | ---: | ---: | --- |",
    ]
    for d in comparison.deltas:
        result = "❌ **regressed**" if d.regressed else ("✅ ok" if d.limit else "")
        lines.append(
            f"| {d.view} | {_LABELS.get(d.metric, d.metric)} | {_value(d.metric, d.base)} "
            f"| {_value(d.metric, d.new)} | {_delta(d.metric, d.delta)} | {result} |"
        )
    lines.append("")
    lines += [f"- {note}" for note in comparison.notes]
    return "\n".join(lines) + "\n"


def compare(
    base: Annotated[Path, typer.Argument(help="Baseline JSON report.", show_default=False)],
    new: Annotated[Path, typer.Argument(help="New JSON report.", show_default=False)],
    max_drop: Annotated[
        float, typer.Option(help="Largest allowed absolute drop of any pass fraction.")
    ] = 0.02,
    max_cv_increase: Annotated[
        float, typer.Option(help="Largest allowed absolute rise of the CV of the norms.")
    ] = 0.01,
    allow_verdict_flip: Annotated[
        bool,
        typer.Option(
            "--allow-verdict-flip", help="Do not fail when a verdict goes from Gaussian to not."
        ),
    ] = False,
    view: Annotated[
        str | None,
        typer.Option(
            help="Views to compare, comma-separated (default: all of BASE's).", show_default=False
        ),
    ] = None,
    report: Annotated[str, typer.Option(help="Output format: terminal or json.")] = "terminal",
    out: Annotated[
        Path | None, typer.Option(help="Write the output here (atomically).", show_default=False)
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            help="Append a Markdown table to this file (e.g. $GITHUB_STEP_SUMMARY).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Compare two JSON reports: exit 1 on a regression, 2 if they cannot be compared.

    A regression is a pass fraction dropping by more than --max-drop, the CV of the
    norms rising by more than --max-cv-increase, or a verdict going from Gaussian
    to not (or undecided).
    """
    import sys

    from ..compare import CompareThresholds, compare_reports, load_report

    if report not in ("terminal", "json"):
        from ..errors import UnknownNameError

        raise UnknownNameError("report format", report, ("terminal", "json"))
    thresholds = CompareThresholds(
        max_drop=max_drop, max_cv_increase=max_cv_increase, verdict_flip=not allow_verdict_flip
    )
    views = [v.strip() for v in view.split(",") if v.strip()] if view else None
    comparison = compare_reports(load_report(base), load_report(new), thresholds, views=views)
    if report == "json":
        from ..report.json import render_json

        text = render_json(comparison.to_dict())
        if out is None:
            sys.stdout.write(text)
        else:
            from ..io import atomic_write_text

            atomic_write_text(out, text)
    else:
        import io

        from rich.console import Console
        from rich.text import Text

        parts: list[Any] = comparison_tables(comparison)
        parts += [Text(f"• {note}", style="dim") for note in comparison.notes]
        if out is None:
            console = Console()
            for part in parts:
                console.print(part)
        else:
            from ..io import atomic_write_text

            console = Console(record=True, width=120, file=io.StringIO())
            for part in parts:
                console.print(part)
            atomic_write_text(out, console.export_text())
    if summary is not None:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(comparison_markdown(comparison) + "\n")
    if comparison.regressed:
        for d in comparison.regressions:
            print(f"gaussaudit: regression: {d.metric} [{d.view}]: {d.detail}", file=sys.stderr)
        raise typer.Exit(code=1)
