"""One output sink for the commands: render a report model to a format and place."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import UnknownNameError

__all__ = ["REPORT_FORMATS", "audit_progress", "emit_report"]

REPORT_FORMATS = ("terminal", "json", "html", "markdown")


@contextmanager
def audit_progress(console: Any = None) -> Iterator[Callable[[str, int, int], None] | None]:
    """Yield a ``progress(label, done, total)`` callback that draws a bar on stderr.

    Parameters
    ----------
    console : rich.console.Console, optional
        Where to draw (default: standard error). Nothing is drawn, and None is
        yielded, when it is not a terminal (CI logs, pipes); the bar is removed
        when the audit ends, leaving only the report.
    """
    from rich.console import Console

    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("loading embeddings", total=None)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=f"auditing {label}", completed=done, total=total)

        yield update


def emit_report(report: dict, fmt: str, out: Path | None) -> None:
    """Render ``report`` as ``fmt`` to ``out`` (atomically) or standard output.

    Parameters
    ----------
    report : dict
        The report model.
    fmt : {"terminal", "json", "html", "markdown"}
        ``html`` is one self-contained page (inline styles and SVG plots);
        ``markdown`` a compact summary for PR comments and CI step summaries.
    out : Path or None
        Destination file; written atomically, so an interrupted run leaves no
        partial file. Without it the report goes to standard output.
    """
    if fmt not in REPORT_FORMATS:
        raise UnknownNameError("report format", fmt, REPORT_FORMATS)
    if fmt in ("json", "html", "markdown"):
        if fmt == "json":
            from ..report.json import render_json

            text = render_json(report)
        elif fmt == "html":
            from ..report.html import render_html

            text = render_html(report)
        else:
            from ..report.markdown import render_markdown

            text = render_markdown(report)
        if out is None:
            sys.stdout.write(text)
            return
        from ..io import atomic_write_text

        atomic_write_text(out, text)
        return
    from rich.console import Console

    from ..report.terminal import render_terminal

    if out is None:
        render_terminal(report, Console())
        return
    console = Console(record=True, width=120, file=io.StringIO())
    render_terminal(report, console)
    from ..io import atomic_write_text

    atomic_write_text(out, console.export_text())
