"""``gaussaudit compare``: regression check between two JSON reports (exit 1 on a regression)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._options import Quiet, Verbose, report_option

__all__ = ["compare"]


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
    report: Annotated[str | None, report_option("terminal, json or markdown")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the output here (atomically); its extension picks the format.",
            show_default=False,
        ),
    ] = None,
    summary: Annotated[
        Path | None,
        typer.Option(
            help="Append a Markdown table to this file (e.g. $GITHUB_STEP_SUMMARY).",
            show_default=False,
        ),
    ] = None,
    allow_missing: Annotated[
        bool,
        typer.Option(
            "--allow-missing",
            help="Accept a gated metric the base has and the new report lacks (skipped, null). "
            "Without it that is a regression; a value that is not a number always is.",
        ),
    ] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
) -> None:
    """Compare two JSON reports: exit 1 on a regression, 2 if they cannot be compared.

    A regression is a pass fraction dropping by more than --max-drop, the CV of the
    norms rising by more than --max-cv-increase, or a verdict going from Gaussian
    to not (or undecided). Comparisons fail closed: a metric the base report has
    and the new one lacks is a regression unless --allow-missing.
    """
    import sys

    from ..compare import CompareThresholds, compare_reports, load_report
    from ..report.comparison import (
        COMPARISON_FORMATS,
        comparison_markdown,
        comparison_renderables,
        render_comparison,
    )
    from ..report.sink import append_summary, check_outputs, print_renderables, write_text
    from ._output import Voice, report_format

    voice = Voice.of(quiet, verbose)
    report = report_format(report, out, voice, choices=COMPARISON_FORMATS)
    check_outputs([out], inputs=[base, new])
    check_outputs([summary], inputs=[base, new], what="step summary")
    thresholds = CompareThresholds(
        max_drop=max_drop,
        max_cv_increase=max_cv_increase,
        verdict_flip=not allow_verdict_flip,
        allow_missing=allow_missing,
    )
    views = [v.strip() for v in view.split(",") if v.strip()] if view else None
    comparison = compare_reports(load_report(base), load_report(new), thresholds, views=views)
    if report == "terminal" and out is None:
        print_renderables(comparison_renderables(comparison))
    else:
        write_text(render_comparison(comparison, report), out, inputs=[base, new])
        voice.wrote(out)
    if summary is not None:
        append_summary(comparison_markdown(comparison), summary, inputs=[base, new])
        voice.wrote(summary, verb="appended the comparison to")
    if comparison.regressed:
        for d in comparison.regressions:
            print(f"gaussaudit: regression: {d.metric} [{d.view}]: {d.detail}", file=sys.stderr)
        raise typer.Exit(code=1)
